// The page: search, "more like this", likes/dislikes that drive live recommendations, and a reading list.
// Everything the reader marks lives in localStorage (one key per index); the server keeps no state.
// Corpus text is only ever set with textContent, never parsed as HTML: entities are decoded one by one in an
// inert <textarea>, math is typeset by the vendored KaTeX (offline), query words are wrapped in <mark> nodes.
// A .bib file the reader drops stays in this tab (sessionStorage); its text goes out only inside a JSON request.
"use strict";

(() => {
  const $ = (selector) => document.querySelector(selector);
  const els = {
    form: $("#search-form"), q: $("#q"), yearFrom: $("#year-from"), yearTo: $("#year-to"),
    category: $("#category"), mode: $("#mode"), info: $("#index-info"),
    results: $("#results"), resultsHeading: $("#results-heading"), status: $("#status"), resultList: $("#result-list"),
    recStatus: $("#recs-status"), recList: $("#rec-list"), ratings: $("#ratings"),
    readingList: $("#reading-list"), readingCount: $("#reading-count"), readingEmpty: $("#reading-empty"),
    exportBox: $("#export-box"), exportLabel: $("#export-label"), exportOutput: $("#export-output"),
    exportDownload: $("#export-download"), template: $("#card-template"),
    scoreLegend: $("#score-legend"), moreResults: $("#more-results"), showAbstracts: $("#show-abstracts"),
    listExport: $("#list-export"), suggestUseQuery: $("#suggest-use-query"), suggestFrom: $("#suggest-from"),
    libraryStatus: $("#library-status"), libraryGaps: $("#library-gaps"), libraryForget: $("#library-forget"),
    bibFile: $("#bib-file"), dropZone: $("#drop-zone"),
    pictureBox: $("#picture-box"), pictureStatus: $("#picture-status"), pictureTitle: $("#picture-title"),
    picture: $("#picture"), pictureHover: $("#picture-hover"), pictureLegend: $("#picture-legend"),
    pictureNote: $("#picture-note"), pictureNodes: $("#picture-nodes"), pictureCard: $("#picture-card"),
    hidePicture: $("#hide-picture"),
  };
  const PAGE = 20;
  const MAX_K = 200;
  const SCORE_LEGEND = {
    hybrid: "Score: the mean of the z-scored word (BM25) and meaning (cosine) scores among each one's top 1,000: 0 is an average candidate, 2 stands out.",
    dense: "Score: cosine similarity of meaning (1 = the same direction, 0 = unrelated).",
    lexical: "Score: BM25 of the shared words (higher = more rare words shared; no upper bound).",
  };
  const RECS_K = 10;
  const state = {
    storageKey: "recommender",
    ratings: {},   // id -> {vote: 1 | -1, paper: brief paper}
    reading: [],   // brief papers, in reading order
    view: null,    // what the results panel shows, re-run when a filter changes
    seq: {results: 0, recs: 0, picture: 0},
    exportUrl: null,
    shown: [],     // the results panel's papers, for highlighting them on the map
    terms: [],     // the query's words, highlighted on cards
    library: null, // {name, text, entries}: the reader's .bib, in this tab only
    map: null,     // {view, scene, kind}
  };

  // --- talking to the API -----------------------------------------------------------------------
  async function api(path, body) {
    const options = body === undefined ? {} :
      {method: "POST", headers: {"content-type": "application/json"}, body: JSON.stringify(body)};
    const response = await fetch(path, options);
    const isJson = (response.headers.get("content-type") || "").includes("json");
    const data = isJson ? await response.json() : await response.text();
    if (!response.ok) {
      throw new Error(data && data.error ? data.error.message : `the server answered ${response.status}`);
    }
    return data;
  }

  function filterValues() {
    const values = {mode: els.mode.value};
    if (els.yearFrom.value) values.year_from = Number(els.yearFrom.value);
    if (els.yearTo.value) values.year_to = Number(els.yearTo.value);
    if (els.category.value) values.category = [els.category.value];
    return values;
  }

  function queryString(extra) {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries({...filterValues(), ...extra})) {
      for (const item of [].concat(value)) params.append(key, item);
    }
    return params.toString();
  }

  // --- what the reader marked, kept in localStorage ----------------------------------------------
  const brief = (p) => ({id: p.id, title: p.title, authors: (p.authors || []).slice(0, 6),
                         year: p.year ?? null, categories: p.categories || [], url: p.url || null,
                         arxiv_id: p.arxiv_id || null, doi: p.doi || null});

  function loadMarks() {
    try {
      const data = JSON.parse(localStorage.getItem(state.storageKey) || "{}");
      state.ratings = data.ratings && typeof data.ratings === "object" ? data.ratings : {};
      state.reading = Array.isArray(data.reading) ? data.reading.filter((p) => p && p.id) : [];
      for (const id of Object.keys(state.ratings)) {
        const weight = Number(state.ratings[id].weight);
        state.ratings[id].weight = weight > 0 && weight <= 10 ? weight : 1;
      }
    } catch (error) {
      state.ratings = {};
      state.reading = [];
    }
  }

  function saveMarks() {
    try {
      localStorage.setItem(state.storageKey, JSON.stringify({ratings: state.ratings, reading: state.reading}));
    } catch (error) { /* private mode or full storage: the page still works for this visit */ }
  }

  const idsWithVote = (vote) => Object.keys(state.ratings).filter((id) => state.ratings[id].vote === vote);
  const inReading = (id) => state.reading.some((p) => p.id === id);

  // --- cards -------------------------------------------------------------------------------------
  function authorsText(authors, truncated) {
    if (!authors || !authors.length) return "Unknown authors";
    const shown = authors.slice(0, 3).join(", ");
    return authors.length > 3 || truncated ? `${shown} et al.` : shown;
  }

  function safeUrl(url) {
    return typeof url === "string" && /^https?:\/\//i.test(url) ? url : null;
  }

  // --- text: entities decoded, math typeset, the query's words marked -----------------------------
  const entityBox = document.createElement("textarea");  // RCDATA: decoding an entity here never makes an element
  function decodeEntities(text) {
    return String(text || "").replace(/&(#\d{1,7}|#x[0-9a-f]{1,6}|[a-z][a-z0-9]{1,31});/gi, (entity) => {
      entityBox.innerHTML = entity;
      return entityBox.value;
    });
  }

  const MATH = /\$\$([^$]+?)\$\$|\$([^$\n]+?)\$|\\\((.+?)\\\)/g;
  const STOP = new Set(("a an and are as at be by for from has have in is it its of on or that the this to was were " +
                        "with we our via using based towards toward into over under new paper").split(" "));

  function queryTerms(text) {
    const words = String(text || "").toLowerCase().match(/[\p{L}\p{N}]+/gu) || [];
    return [...new Set(words.filter((w) => w.length > 2 && !STOP.has(w)))];
  }

  // A term matches a word that starts with it, or with its stem ("attacks" marks "attack" and "attacked").
  function termPattern(terms) {
    if (!terms.length) return null;
    const stems = terms.map((t) => t.replace(/(ing|ed|es|s)$/u, "")).filter((t) => t.length > 2);
    const escaped = [...new Set(stems)].map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
    return escaped.length ? new RegExp(`(?<![\\p{L}\\p{N}])(${escaped.join("|")})[\\p{L}\\p{N}]*`, "giu") : null;
  }

  function markTerms(parent, raw, pattern) {
    const text = texEscapes(raw);
    if (!pattern) { parent.append(text); return; }
    let at = 0;
    for (const match of text.matchAll(pattern)) {
      parent.append(text.slice(at, match.index));
      const mark = document.createElement("mark");
      mark.textContent = match[0];
      parent.append(mark);
      at = match.index + match[0].length;
    }
    parent.append(text.slice(at));
  }

  // Outside math, TeX's escaped characters (\& in "Attributes \& Preferences") are the characters themselves.
  const texEscapes = (text) => text.replace(/\\([&%_#])/g, "$1");

  function richText(parent, raw, terms) {
    const text = decodeEntities(raw);
    const pattern = termPattern(terms || []);
    let at = 0;
    for (const match of text.matchAll(MATH)) {
      markTerms(parent, text.slice(at, match.index), pattern);
      const tex = match[1] || match[2] || match[3];
      const span = document.createElement("span");
      span.className = "math";
      if (window.katex) {
        try {
          window.katex.render(tex, span, {throwOnError: false, displayMode: false, output: "html", trust: false});
        } catch (error) { span.textContent = match[0]; }
      } else span.textContent = match[0];
      parent.append(span);
      at = match.index + match[0].length;
    }
    markTerms(parent, text.slice(at), pattern);
  }

  const plainText = (raw) => texEscapes(decodeEntities(raw).replace(MATH, (m, a, b, c) => a || b || c));

  // --- links and ids -------------------------------------------------------------------------------
  function paperLinks(p) {
    const links = [];
    const arxiv = p.arxiv_id || (/^(\d{4}\.\d{4,5}|[a-z-]+(\.[A-Z]{2})?\/\d{7})(v\d+)?$/i.test(p.id || "") ? p.id : null);
    if (arxiv) {
      links.push(["arXiv", `https://arxiv.org/abs/${encodeURIComponent(arxiv).replace(/%2F/g, "/")}`]);
      links.push(["PDF", `https://arxiv.org/pdf/${encodeURIComponent(arxiv).replace(/%2F/g, "/")}`]);
    }
    const doi = p.doi ? String(p.doi).replace(/^(https?:\/\/(dx\.)?doi\.org\/|doi:)/i, "") : null;
    if (doi) links.push(["DOI", `https://doi.org/${encodeURI(doi)}`]);
    const url = safeUrl(p.url);
    if (url && !links.some(([, href]) => href === url)) links.push(["Link", url]);
    return links;
  }

  function fillLinks(node, p) {
    const box = node.querySelector(".links");
    for (const [label, href] of paperLinks(p)) {
      const a = document.createElement("a");
      a.href = href;
      a.rel = "noopener noreferrer";
      a.target = "_blank";
      a.textContent = label;
      a.setAttribute("aria-label", `${label}: ${p.title}`);
      box.append(a);
    }
    const id = document.createElement("code");
    id.className = "paper-id";
    id.textContent = p.id;
    id.title = "The paper's id, as the CLI and the API take it";
    const copy = document.createElement("button");
    copy.type = "button";
    copy.className = "copy-id quiet";
    copy.textContent = "Copy id";
    copy.setAttribute("aria-label", `Copy the id of ${p.title}`);
    copy.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(p.id);
        copy.textContent = "Copied";
      } catch (error) {
        const range = document.createRange();  // no clipboard (plain http on another host): select it to copy by hand
        range.selectNodeContents(id);
        getSelection().removeAllRanges();
        getSelection().addRange(range);
        copy.textContent = "Selected: press Ctrl+C";
      }
    });
    box.append(id, copy);
  }

  // --- why a paper is there ------------------------------------------------------------------------
  function whyText(result, context) {
    const parts = [];
    const why = result.why;
    if (why && typeof why === "object") {
      // The ranking's own account (Result.why): each retriever's rank, the shared words, what it is closest to.
      const ranks = why.ranks || {};
      const named = {dense: "meaning", lexical: "words"};
      const unranked = why.unranked || {};
      const shared = why.shared_words || why.shared_terms || [];
      // A run without the paper: "no word in common" is said below ("no shared word"), a depth is said here.
      const placed = Object.entries(ranks)
        .filter(([run, rank]) => (rank !== null && rank !== undefined) || unranked[run] !== "no word in common")
        .map(([run, rank]) => rank === null || rank === undefined
          ? `${(unranked[run] || "not in the run").replace(/^below its top/, "not in the top")} by ${named[run] || run}`
          : `#${rank} by ${named[run] || run}`);
      if (placed.length) parts.push(`ranked ${placed.join(", ")}`);
      if (shared.length) parts.push(`shares: ${shared.join(", ")}`);
      else if (ranks.dense && !ranks.lexical) parts.push("no shared word: found by meaning");
      const closest = why.closest_to;
      if (closest && !result.closest_like && closest.kind !== "query" && closest.label) {
        parts.push(`closest to “${plainText(closest.label)}”` +
                   (typeof closest.cosine === "number" ? ` (cosine ${closest.cosine.toFixed(2)})` : ""));
      }
    } else if (typeof why === "string") {
      parts.push(why);
    } else if (context.terms && context.terms.length) {
      const text = `${result.title} ${result.abstract || ""}`;
      const pattern = termPattern(context.terms);
      const found = pattern ? [...new Set([...text.matchAll(pattern)].map((m) => m[0].toLowerCase()))] : [];
      const mode = context.mode || "hybrid";
      if (found.length) parts.push(`shares the query's words: ${found.slice(0, 6).join(", ")}` +
                                   (mode === "hybrid" ? " (words and meaning both count)" : ""));
      else if (mode !== "lexical") parts.push("none of the query's words: found by meaning alone");
    }
    if (result.closest_like) {
      parts.push(`from your like “${plainText(result.closest_like.title)}” (cosine ${Number(result.closest_like.cosine).toFixed(2)})`);
    }
    return parts.join(" · ");
  }

  function makeCard(result, context = {}) {
    const node = els.template.content.firstElementChild.cloneNode(true);
    node.dataset.id = result.id;
    const title = node.querySelector(".card-title");
    richText(title, result.title, context.terms);
    node.querySelector(".authors").textContent = authorsText(result.authors, result.authors_truncated);
    node.querySelector(".year").textContent = result.year ? String(result.year) : "year unknown";
    node.querySelector(".cats").textContent = [...new Set(result.categories || [])].join(", ");
    const score = node.querySelector(".score");
    if (typeof result.score === "number" && result.score !== 0 && context.mode !== "list") {
      score.textContent = `score ${result.score.toFixed(2)}`;
      score.title = SCORE_LEGEND[context.mode || "hybrid"] || SCORE_LEGEND.hybrid;
    }
    fillLinks(node, result);
    if (result.reason) {
      const reason = node.querySelector(".reason");
      reason.textContent = result.reason;
      reason.hidden = false;
    }
    const why = whyText(result, context);
    if (why) {
      const line = node.querySelector(".why");
      line.textContent = `Why: ${why}`;
      line.hidden = false;
    }
    const abstract = node.querySelector(".abstract");
    if (result.abstract) {
      richText(node.querySelector(".abstract-text"), result.abstract, context.terms);
      abstract.open = els.showAbstracts.checked;
    } else abstract.remove();

    const label = (text) => `${text}: ${plainText(result.title)}`;
    const more = node.querySelector(".more");
    more.setAttribute("aria-label", label("More like this"));
    more.addEventListener("click", () => showSimilar(result));
    const around = node.querySelector(".neighbourhood");
    around.setAttribute("aria-label", label("Neighbourhood"));
    around.addEventListener("click", () => showNeighbourhood(result));
    const like = node.querySelector(".like");
    like.setAttribute("aria-label", label("Like"));
    like.addEventListener("click", () => rate(result, 1));
    const dislike = node.querySelector(".dislike");
    dislike.setAttribute("aria-label", label("Dislike"));
    dislike.addEventListener("click", () => rate(result, -1));
    const add = node.querySelector(".add");
    add.setAttribute("aria-label", label("Add to reading list"));
    add.addEventListener("click", () => toggleReading(result));
    syncCard(node);
    return node;
  }

  function syncCard(node) {
    const id = node.dataset.id;
    const vote = state.ratings[id] ? state.ratings[id].vote : 0;
    // Toggle buttons keep their name; aria-pressed (and a check mark drawn by the CSS) shows the state.
    node.querySelector(".like").setAttribute("aria-pressed", String(vote === 1));
    node.querySelector(".dislike").setAttribute("aria-pressed", String(vote === -1));
    node.querySelector(".add").setAttribute("aria-pressed", String(inReading(id)));
  }

  const syncAllCards = () => document.querySelectorAll(".card").forEach(syncCard);

  function fillList(list, results, context = {}) {
    list.replaceChildren(...results.map((r) => makeCard(r, context)));
  }

  // A reading list's papers under their themes' names, in reading order.
  function fillThemes(list, data, context) {
    const nodes = [];
    let theme = null;
    for (const item of data.items || []) {
      if (item.theme && item.theme !== theme) {
        theme = item.theme;
        const heading = document.createElement("li");
        heading.className = "theme";
        const h = document.createElement("h3");
        const info = (data.themes || []).find((t) => t.name === theme);
        h.textContent = `Theme: ${theme}`;
        heading.append(h);
        if (info && info.terms) {
          const terms = document.createElement("p");
          terms.className = "muted small";
          terms.textContent = `Characteristic terms: ${info.terms.join(", ")}`;
          heading.append(terms);
        }
        nodes.push(heading);
      }
      nodes.push(makeCard(item, context));
    }
    list.replaceChildren(...nodes);
  }

  // --- the results panel: a search, papers like one paper, suggested reading, a library's gaps ------
  // view: {kind, heading, k, load(k), terms, mode, list: true for a reading list}
  async function showResults(view, {focus = false, keepScroll = false} = {}) {
    const seq = ++state.seq.results;
    state.view = view;
    els.status.classList.remove("error");
    els.status.textContent = view.list ? "Making the list…" : "Searching…";
    try {
      const data = await view.load(view.k);
      if (seq !== state.seq.results) return; // a newer request took over
      const results = data.results || data.items || [];
      els.resultsHeading.textContent = view.heading;
      const context = {terms: view.terms || [], mode: view.list ? "list" : view.mode};
      if (view.list) fillThemes(els.resultList, data, context);
      else fillList(els.resultList, results, context);
      state.shown = results.map((r) => r.id);
      const took = data.took_ms !== undefined ? ` in ${Math.round(data.took_ms)} ms` : "";
      const themes = view.list && data.themes ? ` in ${data.themes.length} theme${data.themes.length === 1 ? "" : "s"}` : "";
      els.status.textContent = results.length ? `${results.length} papers${themes}${took}.` + (view.note ? ` ${view.note}` : "")
        : "No paper matches; loosen the filters or try other words.";
      els.scoreLegend.hidden = view.list || !results.length;
      els.scoreLegend.textContent = SCORE_LEGEND[view.mode] || SCORE_LEGEND.hybrid;
      els.moreResults.hidden = view.list || results.length < view.k || view.k >= MAX_K;
      els.listExport.hidden = !(view.list && results.length);
      updateMapMarks();
      if (focus && !keepScroll) {
        // The new list starts at the top of the view, its heading visible: it must not look like the old one.
        els.results.focus({preventScroll: true});
        els.results.scrollIntoView({block: "start"});
      }
      return true;
    } catch (error) {
      if (seq !== state.seq.results) return;
      els.status.textContent = error.message;
      els.status.classList.add("error");
      return false;
    }
  }

  async function showMore() {
    const view = state.view;
    if (!view) return;
    const before = els.resultList.querySelectorAll(".card").length;
    view.k = Math.min(MAX_K, view.k + PAGE);
    const shown = await showResults(view, {keepScroll: true});
    const first = els.resultList.querySelectorAll(".card")[before];
    if (shown && first) first.querySelector("button").focus();  // the keyboard goes on to the first new paper
  }

  function search(q) {
    history.replaceState(null, "", `?q=${encodeURIComponent(q)}`);
    const mode = els.mode.value;
    return showResults({kind: "search", q, heading: `Results for “${q}”`, k: PAGE, terms: queryTerms(q), mode,
                        load: (k) => api(`/api/search?${queryString({q, k})}`)});
  }

  // `focus`: move the keyboard and the view to the new results (a click on a card's button), not when a filter re-runs it.
  function showSimilar(paper, focus = true) {
    const mode = els.mode.value;
    return showResults({kind: "similar", paper: brief(paper), heading: `Papers like “${plainText(paper.title)}”`, k: PAGE,
                        terms: [], mode, load: (k) => api(`/api/similar?${queryString({paper: paper.id, k})}`)}, {focus});
  }

  function suggestionSeeds() {
    const like = idsWithVote(1);
    const q = els.suggestUseQuery.checked ? els.q.value.trim() : "";
    return {like, q, reading: state.reading.map((p) => p.id)};
  }

  function describeSeeds() {
    const {like, q, reading} = suggestionSeeds();
    const parts = [];
    if (reading.length) parts.push(`${reading.length} paper${reading.length === 1 ? "" : "s"} of your reading list`);
    if (like.length) parts.push(`${like.length} liked paper${like.length === 1 ? "" : "s"}`);
    if (q) parts.push(`the search text “${q}”`);
    els.suggestFrom.textContent = parts.length ? `Suggestions start from ${parts.join(", ")}.`
      : "Suggestions start from your reading list and liked papers: add or like some first.";
    return parts;
  }

  async function suggestReading(focus = true) {
    const {like, q, reading} = suggestionSeeds();
    const seeds = describeSeeds();
    if (!seeds.length) {
      els.status.textContent = "Add papers to the reading list or like some first; suggestions start from them.";
      return;
    }
    const filters = filterValues();
    delete filters.mode;
    const body = {query: q || null, like, unlike: idsWithVote(-1), bib_ids: reading, ...filters};
    await showResults({kind: "suggest", heading: "Suggested reading", k: PAGE, list: true, terms: queryTerms(q),
                       note: `From ${seeds.join(", ")}.`, exportTitle: "Suggested reading",
                       load: (n, extra = {}) => api("/api/reading-list", {...body, n, ...extra})}, {focus});
  }

  async function libraryGaps(focus = true) {
    if (!state.library) return;
    const filters = filterValues();
    delete filters.mode;
    const body = {bibtex: state.library.text, ...filters};
    await showResults({kind: "gaps", heading: `What your library is missing (${state.library.name})`, k: PAGE, list: true,
                       terms: [], exportTitle: `What ${state.library.name} is missing`,
                       load: async (n, extra) => {
                         if (extra) return api("/api/reading-list", {...body, n, ...extra});
                         const data = await api("/api/reading-list", {...body, n});
                         const lib = data.query && data.query.library;
                         if (lib) {
                           els.libraryStatus.textContent = `${state.library.name}: ${lib.entries} entries, ${lib.in_index} of them in this index` +
                             (lib.skipped && lib.skipped.length ? `; ${lib.skipped.length} could not be read (first: ${lib.skipped[0].replace(/^bibtex:/, `${state.library.name}:`)})` : "") + ".";
                         }
                         return data;
                       }}, {focus});
  }

  function rerunView() {
    const view = state.view;
    if (!view) return;
    if (view.kind === "search") search(view.q);
    else if (view.kind === "similar") showSimilar(view.paper, false);
    else if (view.kind === "suggest") suggestReading(false);
    else if (view.kind === "gaps") libraryGaps(false);
  }

  // --- the reader's library: a .bib read in the browser, kept in this tab -----------------------------
  const LIBRARY_KEY = "recommender:library";
  const MAX_LIBRARY_CHARS = 200000;  // what the API takes in one request

  function setLibrary(library) {
    state.library = library;
    try {
      if (library) sessionStorage.setItem(LIBRARY_KEY, JSON.stringify(library));
      else sessionStorage.removeItem(LIBRARY_KEY);
    } catch (error) { /* the library still works for this page */ }
    els.libraryGaps.disabled = !library;
    els.libraryForget.hidden = !library;
    els.libraryStatus.classList.remove("error");
    els.libraryStatus.textContent = library ? `${library.name}: ${library.entries} BibTeX entries, kept in this tab.` : "";
  }

  async function readLibrary(file) {
    if (!file) return;
    if (!/\.(bib|bibtex|txt)$/i.test(file.name)) {
      els.libraryStatus.textContent = `${file.name}: not a .bib file; export your library as BibTeX (Zotero: File › Export Library › BibTeX).`;
      els.libraryStatus.classList.add("error");
      return;
    }
    const text = await file.text();
    if (text.length > MAX_LIBRARY_CHARS) {
      els.libraryStatus.textContent = `${file.name}: ${text.length.toLocaleString()} characters, more than the ${MAX_LIBRARY_CHARS.toLocaleString()} one request takes; export a collection of it instead.`;
      els.libraryStatus.classList.add("error");
      return;
    }
    const entries = (text.match(/^\s*@(?!comment|string|preamble)\w+\s*[{(]/gim) || []).length;
    if (!entries) {
      els.libraryStatus.textContent = `${file.name}: no BibTeX entry found (an entry starts with @article{ or similar).`;
      els.libraryStatus.classList.add("error");
      return;
    }
    setLibrary({name: file.name, text, entries});
    libraryGaps();
  }

  // A reading list exports with its themes and reasons: the same request again, in that format.
  async function exportView(format) {
    const view = state.view;
    if (!view || !state.shown.length) return;
    await exportText(() => view.load(view.k, {format, title: view.exportTitle}), format, view.exportTitle,
                     `${view.exportTitle} as ${format === "bibtex" ? "BibTeX" : "Markdown"} (${state.shown.length} papers)`,
                     view.kind === "gaps" ? "missing" : "suggested");
  }

  // --- likes, dislikes and the recommendations they drive -----------------------------------------
  function rate(paper, vote) {
    const current = state.ratings[paper.id];
    if (current && current.vote === vote) delete state.ratings[paper.id];
    else state.ratings[paper.id] = {vote, weight: 1, paper: brief(paper)};
    saveMarks();
    renderRatings();
    syncAllCards();
    describeSeeds();
    refreshRecommendations();
  }

  const WEIGHTS = [["0.5", "½×"], ["1", "1×"], ["2", "2×"], ["3", "3×"]];

  function setWeight(id, weight) {
    if (!state.ratings[id]) return;
    state.ratings[id].weight = weight;
    saveMarks();
    refreshRecommendations();
  }

  function renderRatings() {
    const items = Object.values(state.ratings).map(({vote, weight, paper}) => {
      const li = document.createElement("li");
      li.className = vote === 1 ? "liked" : "disliked";
      const title = document.createElement("span");
      title.className = "chip-title";
      title.textContent = `${vote === 1 ? "Liked" : "Disliked"}: ${plainText(paper.title)}`;
      title.title = plainText(paper.title);
      li.append(title);
      if (vote === 1) {  // how much this like counts: the recommendations drift less when one topic is weighed down
        const select = document.createElement("select");
        select.className = "weight";
        select.setAttribute("aria-label", `Weight of your like of ${plainText(paper.title)}`);
        for (const [value, text] of WEIGHTS) {
          const option = document.createElement("option");
          option.value = value;
          option.textContent = text;
          select.append(option);
        }
        select.value = String(weight || 1);
        select.addEventListener("change", () => setWeight(paper.id, Number(select.value)));
        li.append(select);
      }
      const remove = document.createElement("button");
      remove.type = "button";
      remove.textContent = "×";
      remove.setAttribute("aria-label", `Forget your ${vote === 1 ? "like" : "dislike"} of ${plainText(paper.title)}`);
      remove.addEventListener("click", () => rate(paper, vote));
      li.append(remove);
      return li;
    });
    els.ratings.replaceChildren(...items);
  }

  async function refreshRecommendations() {
    const seq = ++state.seq.recs;
    const like = idsWithVote(1);
    const unlike = idsWithVote(-1);
    if (!like.length) {
      els.recList.replaceChildren();
      els.recStatus.textContent = unlike.length
        ? "Like at least one paper: dislikes only steer recommendations away."
        : "Like papers to get recommendations here; dislike papers to steer away from them.";
      return;
    }
    els.recStatus.textContent = "Updating recommendations…";
    const filters = filterValues();
    delete filters.mode;
    try {
      const weights = like.map((id) => state.ratings[id].weight || 1);
      const body = {like, unlike, k: RECS_K, ...filters};
      if (weights.some((w) => w !== 1)) body.like_weights = weights;
      const data = await api("/api/recommend", body);
      if (seq !== state.seq.recs) return;
      fillList(els.recList, data.results, {mode: "dense"});
      els.recStatus.textContent = `${data.results.length} papers from ${like.length} liked` +
        (unlike.length ? ` and ${unlike.length} disliked` : "") + ` (${Math.round(data.took_ms)} ms).`;
    } catch (error) {
      if (seq !== state.seq.recs) return;
      els.recStatus.textContent = error.message;
    }
  }

  // --- the reading list ----------------------------------------------------------------------------
  function toggleReading(paper) {
    if (inReading(paper.id)) state.reading = state.reading.filter((p) => p.id !== paper.id);
    else state.reading.push(brief(paper));
    saveMarks();
    renderReading();
    syncAllCards();
    describeSeeds();
    updateMapMarks();
  }

  function moveReading(index, step) {
    const target = index + step;
    if (target < 0 || target >= state.reading.length) return;
    const [item] = state.reading.splice(index, 1);
    state.reading.splice(target, 0, item);
    saveMarks();
    renderReading();
    const buttons = els.readingList.children[target].querySelectorAll("button");
    buttons[step < 0 ? 0 : 1].focus(); // keep the keyboard on the item that moved
  }

  function renderReading() {
    const items = state.reading.map((paper, index) => {
      const li = document.createElement("li");
      const title = document.createElement("div");
      richText(title, paper.title);
      const meta = document.createElement("div");
      meta.className = "muted small";
      meta.textContent = `${authorsText(paper.authors)} · ${paper.year || "year unknown"}`;
      const actions = document.createElement("div");
      actions.className = "item-actions";
      const button = (text, aria, onClick, disabled) => {
        const b = document.createElement("button");
        b.type = "button";
        b.textContent = text;
        b.setAttribute("aria-label", `${aria}: ${paper.title}`);
        b.disabled = disabled;
        b.addEventListener("click", onClick);
        return b;
      };
      actions.append(
        button("↑", "Move up", () => moveReading(index, -1), index === 0),
        button("↓", "Move down", () => moveReading(index, 1), index === state.reading.length - 1),
        button("Remove", "Remove from reading list", () => toggleReading(paper), false),
      );
      li.append(title, meta, actions);
      return li;
    });
    els.readingList.replaceChildren(...items);
    els.readingCount.textContent = state.reading.length ? `(${state.reading.length})` : "";
    els.readingEmpty.hidden = state.reading.length > 0;
  }

  function exportReading(format) {
    if (!state.reading.length) {
      els.exportBox.hidden = false;
      els.exportLabel.textContent = "Nothing to export yet: add papers to the reading list.";
      els.exportOutput.value = "";
      return;
    }
    return exportIds(state.reading.map((p) => p.id), format, "Reading list", "reading list");
  }

  function exportIds(ids, format, title, what) {
    const label = format === "bibtex" ? "BibTeX" : "Markdown";
    return exportText(() => api("/api/export", {ids, format, title}), format, title,
                      `Reading list as ${label} (${ids.length} papers)`, "reading-list");
  }

  async function exportText(load, format, title, heading, stem) {
    const [extension, type] = format === "bibtex" ? ["bib", "application/x-bibtex"] : ["md", "text/markdown"];
    const filename = `${stem}.${extension}`;
    try {
      const text = await load();
      els.exportBox.hidden = false;
      els.exportLabel.textContent = heading;
      els.exportOutput.value = text;
      if (state.exportUrl) URL.revokeObjectURL(state.exportUrl);
      state.exportUrl = URL.createObjectURL(new Blob([text], {type}));
      els.exportDownload.href = state.exportUrl;
      els.exportDownload.download = filename;
      els.exportDownload.textContent = `Download ${filename}`;
      els.exportOutput.focus();
    } catch (error) {
      els.exportBox.hidden = false;
      els.exportLabel.textContent = error.message;
    }
  }

  // --- the pictures: a paper's neighbourhood, the map of the collection ------------------------------
  function showPicture(scene, kind) {
    els.pictureBox.hidden = false;
    els.hidePicture.hidden = false;
    els.pictureTitle.textContent = plainText(scene.title);
    els.pictureNote.textContent = scene.note;
    els.pictureHover.textContent = "Hover a point for its title, click it for its card.";
    els.pictureCard.replaceChildren();
    els.pictureLegend.replaceChildren(...scene.legend.map(({label, color}) => {
      const li = document.createElement("li");
      const dot = document.createElement("span");
      dot.className = "dot";
      dot.style.background = color;
      li.append(dot, label);
      return li;
    }));
    if (kind === "collection") {
      for (const [label, cls] of [["results", "ring"], ["reading list", "square"]]) {
        const li = document.createElement("li");
        const dot = document.createElement("span");
        dot.className = `dot ${cls}`;
        li.append(dot, label);
        els.pictureLegend.append(li);
      }
    }
    // Without a pointer, every point of a neighbourhood is a button here (a collection's are its result cards).
    const listed = kind === "neighbourhood" ? scene.ids.map((id, i) => {
      const li = document.createElement("li");
      const b = document.createElement("button");
      b.type = "button";
      b.className = "quiet";
      b.textContent = plainText(scene.titles[i]);
      b.addEventListener("click", () => state.map.view.pick(i));
      li.append(b);
      return li;
    }) : [];
    els.pictureNodes.replaceChildren(...listed);
    $("#picture-nodes-box").hidden = !listed.length;
    const handlers = {hover: (i) => hoverPoint(i), click: (i) => pickPoint(i)};
    if (state.map && state.map.view) {
      state.map.view.handlers = handlers;
      state.map.view.setScene(scene);
    } else {
      state.map = {view: new MapView(els.picture, scene, handlers)};
    }
    state.map.scene = scene;
    state.map.kind = kind;
    state.map.view.resize();
    window.__mapView = state.map.view;  // for the browser tests: where a point is drawn
  }

  const pointCache = new Map();
  async function pointPaper(i) {
    const scene = state.map.scene;
    if (scene.ids) return {id: scene.ids[i], title: scene.titles[i], year: scene.years ? scene.years[i] : null};
    if (!pointCache.has(i)) pointCache.set(i, api(`/api/map/point/${i}`));
    return pointCache.get(i);
  }

  async function hoverPoint(i) {
    if (i === null) return;
    const paper = await pointPaper(i);
    if (state.map.view.hovered !== i) return;
    els.pictureHover.textContent = `${plainText(paper.title)}${paper.year ? ` (${paper.year})` : ""}`;
  }

  async function pickPoint(i) {
    const seq = ++state.seq.picture;
    try {
      const brief = await pointPaper(i);
      const paper = await api(`/api/papers/${encodeURIComponent(brief.id)}`);
      if (seq !== state.seq.picture) return;
      const card = makeCard(paper, {mode: "list"});
      els.pictureCard.replaceChildren(card);
      card.querySelector(".card-title").scrollIntoView({block: "nearest"});
    } catch (error) {
      els.pictureStatus.textContent = error.message;
    }
  }

  async function showNeighbourhood(paper) {
    els.pictureStatus.textContent = `Drawing the neighbourhood of “${plainText(paper.title)}”…`;
    try {
      const scene = await api(`/api/map/neighbourhood?paper=${encodeURIComponent(paper.id)}`);
      showPicture(scene, "neighbourhood");
      els.pictureStatus.textContent = `${scene.x.length - 1} nearest papers around the ringed one; click a point for its card.`;
      $("#pictures").scrollIntoView({block: "start"});
      els.picture.focus({preventScroll: true});
    } catch (error) {
      els.pictureStatus.textContent = error.message;
    }
  }

  async function showCollectionMap() {
    els.pictureStatus.textContent = "Drawing the map of the collection…";
    try {
      if (!state.collectionScene) state.collectionScene = await api("/api/map/collection");
      showPicture(state.collectionScene, "collection");
      els.pictureStatus.textContent = `${state.collectionScene.x.length.toLocaleString()} papers; your results are ringed, your reading list boxed.`;
      await updateMapMarks();
    } catch (error) {
      els.pictureStatus.textContent = error.message;
    }
  }

  async function updateMapMarks() {
    if (!state.map || state.map.kind !== "collection") return;
    const readingIds = state.reading.map((p) => p.id);
    try {
      const [shown, reading] = await Promise.all([
        state.shown.length ? api("/api/map/rows", {ids: state.shown}) : {rows: []},
        readingIds.length ? api("/api/map/rows", {ids: readingIds}) : {rows: []},
      ]);
      if (state.map.kind !== "collection") return;
      state.map.view.setMarks(shown.rows, reading.rows);
      els.picture.dataset.highlighted = String(shown.rows.length);
      els.picture.dataset.reading = String(reading.rows.length);
    } catch (error) {
      els.pictureStatus.textContent = error.message;
    }
  }

  function hidePicture() {
    els.pictureBox.hidden = true;
    els.hidePicture.hidden = true;
    if (state.map) state.map.kind = null;
    els.pictureStatus.textContent = "See the whole collection as a map, or a paper's neighbourhood with “Neighbourhood” on its card.";
  }

  // --- start ------------------------------------------------------------------------------------------
  async function loadInfo() {
    try {
      const info = await api("/api/info");
      state.storageKey = `recommender:${info.index_id}`;
      const built = (info.created || "").slice(0, 10);
      els.info.textContent = `${info.counts.papers} papers · ${info.model.name}`;
      els.info.title = `index ${info.path}, built ${built}`;
      const facets = info.facets || {};
      for (const {name, papers} of facets.categories || []) {
        const option = document.createElement("option");
        option.value = name;
        option.textContent = `${name} (${papers})`;
        els.category.append(option);
      }
      if (facets.years) {
        [els.yearFrom.placeholder, els.yearTo.placeholder] = facets.years.map(String);
      }
    } catch (error) {
      els.info.textContent = `The index could not be described: ${error.message}`;
    }
  }

  function wire() {
    els.form.addEventListener("submit", (event) => {
      event.preventDefault();
      const q = els.q.value.trim();
      if (!q) {
        els.status.textContent = "Type some words to search for.";
        els.q.focus();
        return;
      }
      search(q);
    });
    for (const input of [els.yearFrom, els.yearTo, els.category, els.mode]) {
      input.addEventListener("change", () => {
        rerunView();
        if (input !== els.mode) refreshRecommendations();
      });
    }
    $("#suggest").addEventListener("click", () => suggestReading());
    els.suggestUseQuery.addEventListener("change", describeSeeds);
    els.q.addEventListener("input", () => { if (els.suggestUseQuery.checked) describeSeeds(); });
    els.moreResults.addEventListener("click", showMore);
    els.showAbstracts.addEventListener("change", () => {
      for (const details of document.querySelectorAll("#result-list details.abstract")) details.open = els.showAbstracts.checked;
      try { localStorage.setItem("recommender:show-abstracts", els.showAbstracts.checked ? "1" : ""); } catch (error) { /* ok */ }
    });
    $("#list-export-bibtex").addEventListener("click", () => exportView("bibtex"));
    $("#list-export-markdown").addEventListener("click", () => exportView("markdown"));
    $("#show-map").addEventListener("click", showCollectionMap);
    els.hidePicture.addEventListener("click", hidePicture);
    els.libraryGaps.addEventListener("click", () => libraryGaps());
    els.libraryForget.addEventListener("click", () => setLibrary(null));
    els.bibFile.addEventListener("change", () => { readLibrary(els.bibFile.files[0]); els.bibFile.value = ""; });
    for (const name of ["dragenter", "dragover"]) {
      els.dropZone.addEventListener(name, (event) => { event.preventDefault(); els.dropZone.classList.add("over"); });
    }
    els.dropZone.addEventListener("dragleave", () => els.dropZone.classList.remove("over"));
    els.dropZone.addEventListener("drop", (event) => {
      event.preventDefault();
      els.dropZone.classList.remove("over");
      readLibrary(event.dataTransfer.files[0]);
    });
    $("#export-bibtex").addEventListener("click", () => exportReading("bibtex"));
    $("#export-markdown").addEventListener("click", () => exportReading("markdown"));
    $("#export-copy").addEventListener("click", () => navigator.clipboard && navigator.clipboard.writeText(els.exportOutput.value));
    $("#clear-reading").addEventListener("click", () => {
      if (state.reading.length && !window.confirm(`Remove all ${state.reading.length} papers from the reading list?`)) return;
      state.reading = [];
      saveMarks();
      renderReading();
      syncAllCards();
    });
    document.addEventListener("keydown", (event) => {
      const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(event.target.tagName);
      if (event.key === "/" && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
        event.preventDefault();
        els.q.focus();
        els.q.select();
      }
    });
  }

  async function start() {
    wire();
    await loadInfo();
    loadMarks();
    try { els.showAbstracts.checked = localStorage.getItem("recommender:show-abstracts") === "1"; } catch (error) { /* ok */ }
    try {
      const library = JSON.parse(sessionStorage.getItem(LIBRARY_KEY) || "null");
      if (library && typeof library.text === "string") setLibrary(library);
    } catch (error) { /* no library kept */ }
    renderRatings();
    renderReading();
    describeSeeds();
    refreshRecommendations();
    const q = new URLSearchParams(location.search).get("q");
    if (q) {
      els.q.value = q;
      search(q);
    } else {
      els.q.focus();
    }
  }

  start();
})();
