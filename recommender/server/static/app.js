// The page: search, "more like this", likes/dislikes that drive live recommendations, and a reading list.
// Everything the reader marks lives in localStorage (one key per index); the server keeps no state.
// Corpus text is only ever set with textContent, never parsed as HTML.
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
  };
  const RESULTS_K = 20;
  const RECS_K = 10;
  const state = {
    storageKey: "recommender",
    ratings: {},   // id -> {vote: 1 | -1, paper: brief paper}
    reading: [],   // brief papers, in reading order
    view: null,    // what the results panel shows, re-run when a filter changes
    seq: {results: 0, recs: 0},
    exportUrl: null,
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
                         year: p.year ?? null, categories: p.categories || [], url: p.url || null});

  function loadMarks() {
    try {
      const data = JSON.parse(localStorage.getItem(state.storageKey) || "{}");
      state.ratings = data.ratings && typeof data.ratings === "object" ? data.ratings : {};
      state.reading = Array.isArray(data.reading) ? data.reading.filter((p) => p && p.id) : [];
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

  function makeCard(result) {
    const node = els.template.content.firstElementChild.cloneNode(true);
    node.dataset.id = result.id;
    const title = node.querySelector(".card-title");
    const url = safeUrl(result.url);
    if (url) {
      const link = document.createElement("a");
      link.href = url;
      link.rel = "noopener noreferrer";
      link.textContent = result.title;
      title.append(link);
    } else {
      title.textContent = result.title;
    }
    node.querySelector(".authors").textContent = authorsText(result.authors, result.authors_truncated);
    node.querySelector(".year").textContent = result.year ? String(result.year) : "year unknown";
    node.querySelector(".cats").textContent = (result.categories || []).join(", ");
    const score = node.querySelector(".score");
    if (typeof result.score === "number" && result.score > 0) {
      score.textContent = `score ${result.score.toFixed(3)}`;
      score.title = "similarity to your query (higher is closer)";
    }
    if (result.reason) {
      const reason = node.querySelector(".reason");
      reason.textContent = result.reason;
      reason.hidden = false;
    }
    const abstract = node.querySelector(".abstract");
    if (result.abstract) node.querySelector(".abstract-text").textContent = result.abstract;
    else abstract.remove();

    const label = (text) => `${text}: ${result.title}`;
    const more = node.querySelector(".more");
    more.setAttribute("aria-label", label("More like this"));
    more.addEventListener("click", () => showSimilar(result));
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

  function fillList(list, results) {
    list.replaceChildren(...results.map(makeCard));
  }

  // --- the results panel: a search, papers like one paper, or suggested reading -------------------
  async function showResults(view, load) {
    const seq = ++state.seq.results;
    state.view = view;
    els.status.classList.remove("error");
    els.status.textContent = "Searching…";
    try {
      const data = await load();
      if (seq !== state.seq.results) return; // a newer request took over
      const results = data.results || data.items || [];
      els.resultsHeading.textContent = view.heading;
      fillList(els.resultList, results);
      const took = data.took_ms !== undefined ? ` in ${Math.round(data.took_ms)} ms` : "";
      els.status.textContent = results.length ? `${results.length} papers${took}.` : "No paper matches; loosen the filters or try other words.";
      return true;
    } catch (error) {
      if (seq !== state.seq.results) return;
      els.status.textContent = error.message;
      els.status.classList.add("error");
      return false;
    }
  }

  function search(q) {
    history.replaceState(null, "", `?q=${encodeURIComponent(q)}`);
    return showResults({kind: "search", q, heading: `Results for “${q}”`},
      () => api(`/api/search?${queryString({q, k: RESULTS_K})}`));
  }

  // `focus`: move the keyboard to the new results (a click on a card's button), not when a filter re-runs it.
  async function showSimilar(paper, focus = true) {
    const shown = await showResults({kind: "similar", paper: brief(paper), heading: `Papers like “${paper.title}”`},
      () => api(`/api/similar?${queryString({paper: paper.id, k: RESULTS_K})}`));
    if (shown && focus) els.results.focus();
  }

  async function suggestReading(focus = true) {
    const like = idsWithVote(1);
    const q = els.q.value.trim();
    if (!like.length && !q) {
      els.status.textContent = "Search for a topic or like some papers first; suggestions start from them.";
      return;
    }
    const filters = filterValues();
    delete filters.mode;
    const body = {query: q || null, like, unlike: idsWithVote(-1), bib_ids: state.reading.map((p) => p.id),
                  n: RESULTS_K, ...filters};
    const shown = await showResults({kind: "suggest", heading: "Suggested reading"}, () => api("/api/reading-list", body));
    if (shown && focus) els.results.focus();
  }

  function rerunView() {
    const view = state.view;
    if (!view) return;
    if (view.kind === "search") search(view.q);
    else if (view.kind === "similar") showSimilar(view.paper, false);
    else if (view.kind === "suggest") suggestReading(false);
  }

  // --- likes, dislikes and the recommendations they drive -----------------------------------------
  function rate(paper, vote) {
    const current = state.ratings[paper.id];
    if (current && current.vote === vote) delete state.ratings[paper.id];
    else state.ratings[paper.id] = {vote, paper: brief(paper)};
    saveMarks();
    renderRatings();
    syncAllCards();
    refreshRecommendations();
  }

  function renderRatings() {
    const items = Object.values(state.ratings).map(({vote, paper}) => {
      const li = document.createElement("li");
      li.className = vote === 1 ? "liked" : "disliked";
      const title = document.createElement("span");
      title.className = "chip-title";
      title.textContent = `${vote === 1 ? "Liked" : "Disliked"}: ${paper.title}`;
      title.title = paper.title;
      const remove = document.createElement("button");
      remove.type = "button";
      remove.textContent = "×";
      remove.setAttribute("aria-label", `Forget your ${vote === 1 ? "like" : "dislike"} of ${paper.title}`);
      remove.addEventListener("click", () => rate(paper, vote));
      li.append(title, remove);
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
      const data = await api("/api/recommend", {like, unlike, k: RECS_K, ...filters});
      if (seq !== state.seq.recs) return;
      fillList(els.recList, data.results);
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
      title.textContent = paper.title;
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

  async function exportReading(format) {
    if (!state.reading.length) {
      els.exportBox.hidden = false;
      els.exportLabel.textContent = "Nothing to export yet: add papers to the reading list.";
      els.exportOutput.value = "";
      return;
    }
    const names = {bibtex: ["BibTeX", "reading-list.bib", "application/x-bibtex"],
                   markdown: ["Markdown", "reading-list.md", "text/markdown"]};
    const [label, filename, type] = names[format];
    try {
      const text = await api("/api/export", {ids: state.reading.map((p) => p.id), format});
      els.exportBox.hidden = false;
      els.exportLabel.textContent = `Reading list as ${label} (${state.reading.length} papers)`;
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
    renderRatings();
    renderReading();
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
