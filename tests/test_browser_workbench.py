"""The page as a researcher's workbench (issue 13), in Debian's headless Chromium, on real records.

The index holds the bundled listing plus real exports that cover what a card must handle: arXiv records
(tests/data/refs/arxiv_api.jsonl, and arXiv RSS items whose titles carry math and `&amp;`:
tests/data/web/arxiv_rss_excerpt.jsonl), a DOI-only BibTeX entry (tests/data/ingest/library.bib) and
url-only / DOI+url Zotero entries (tests/data/fetch/fairpub_zotero_excerpt.bib).
`RECOMMENDER_SCREENSHOTS=docs pytest tests/test_browser_workbench.py` writes the README's screenshots.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from test_browser import browser, running_server  # noqa: F401  (browser: a fixture)

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (the test extra)")
expect = sync_api.expect

DATA = Path(__file__).parent / "data"
CORPUS = [DATA / "web" / "arxiv_rss_excerpt.jsonl", DATA / "refs" / "arxiv_api.jsonl", DATA / "ingest" / "library.bib",
          DATA / "fetch" / "fairpub_zotero_excerpt.bib"]
ATTENTION = "Attention is All you Need"  # arXiv id only
BERT_DE = "Über die BERT-Modelle"  # DOI only
STM = "The STM report"  # url only
SCREENSHOTS = os.environ.get("RECOMMENDER_SCREENSHOTS")


@pytest.fixture(scope="module")
def workbench_index(tmp_path_factory, seed_listing):
    from recommender.index.build import build_index

    folder = tmp_path_factory.mktemp("indexes") / "workbench"
    build_index([*CORPUS, seed_listing], folder, progress=False)
    return folder


@pytest.fixture(scope="module")
def server(workbench_index, tmp_path_factory):
    with running_server(workbench_index, tmp_path_factory.mktemp("server")) as url:
        yield url


@pytest.fixture
def page(browser, server):  # noqa: F811
    """A fresh tab; fails the test on a script error or on any request that leaves the page's own server."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server)
    context.set_default_timeout(15_000)
    tab = context.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    tab.on("console", lambda msg: problems.append(f"console: {msg.text}") if msg.type == "error" else None)
    tab.on("request", lambda req: None if req.url.startswith((server, "data:", "blob:"))
           else problems.append(f"request outside the server: {req.url}"))
    tab.requests = []
    tab.on("request", lambda req: tab.requests.append(req))
    tab.goto(server)
    yield tab
    context.close()
    assert not problems, problems


def shot(page, name: str, locator=None) -> None:
    if SCREENSHOTS:
        (locator or page).screenshot(path=str(Path(SCREENSHOTS) / name))


def search(page, text: str) -> None:
    page.get_by_label("Search papers").fill(text)
    page.keyboard.press("Enter")
    expect(page.locator("#results-heading")).to_have_text(f"Results for “{text}”")
    expect(page.locator("#status")).to_contain_text("papers in")


def card(page, title: str, list_id: str = "result-list"):
    return page.locator(f"#{list_id} .card").filter(has=page.locator(".card-title", has_text=title)).first


def test_every_card_links_to_its_paper_and_shows_a_copyable_id(page):
    search(page, "attention transformer BERT STM report")
    attention = card(page, ATTENTION)
    expect(attention.get_by_role("link", name=f"arXiv: {ATTENTION}")).to_have_attribute("href", "https://arxiv.org/abs/1706.03762")
    expect(attention.get_by_role("link", name=f"PDF: {ATTENTION}")).to_have_attribute("href", "https://arxiv.org/pdf/1706.03762")
    bert = card(page, BERT_DE)
    expect(bert.get_by_role("link", name=re.compile("^DOI:"))).to_have_attribute("href", "https://doi.org/10.1000/abc.123")
    expect(bert.get_by_role("link", name=re.compile("^arXiv:"))).to_have_count(0)
    stm = card(page, STM)
    expect(stm.get_by_role("link", name=re.compile("^Link:"))).to_have_attribute(
        "href", re.compile(r"^https://policycommons\.net/artifacts/1575771/"))
    expect(stm.locator(".paper-id")).to_have_text("johnson_stm_2018")
    copy = stm.get_by_role("button", name=f"Copy the id of {STM}")
    copy.click()
    expect(copy).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == "johnson_stm_2018"
    shot(page, "web-links.png", attention)


def test_more_like_this_from_a_lower_card_shows_the_new_list_from_its_top(page):
    search(page, "software testing")
    cards = page.locator("#result-list .card")
    expect(cards).to_have_count(20)
    last = cards.nth(19)
    last.scroll_into_view_if_needed()
    assert page.evaluate("window.scrollY") > 1000  # the reader is far down the list
    title = last.locator(".card-title").inner_text()
    last.get_by_role("button", name=re.compile("^More like this:")).press("Enter")
    expect(page.locator("#results-heading")).to_have_text(f"Papers like “{title}”")
    heading = page.locator("#results-heading").bounding_box()
    assert 0 <= heading["y"] < 200, heading  # the new list's heading is at the top of the view
    expect(page.locator("#results")).to_be_focused()
    shot(page, "web-more-like-this.png")


def test_paging_highlight_and_show_abstracts(page):
    search(page, "testing")
    cards = page.locator("#result-list .card")
    expect(cards).to_have_count(20)
    shot(page, "screenshot.png")
    first_titles = cards.locator(".card-title").all_inner_texts()
    page.get_by_role("button", name="Show 20 more").click()
    expect(cards).to_have_count(40)
    assert cards.locator(".card-title").all_inner_texts()[:20] == first_titles  # the first page stays, in order
    expect(cards.nth(20).locator("button").first).to_be_focused()  # the keyboard goes on to the first new paper
    marks = page.locator("#result-list .card-title mark").all_inner_texts()
    assert marks and all(m.lower().startswith("test") for m in marks)
    page.get_by_label("Show abstracts").check()
    expect(cards.nth(0).locator(".abstract-text")).to_be_visible()
    expect(cards.nth(0).locator(".abstract-text mark").first).to_be_visible()


def test_math_is_typeset_and_entities_decoded(page):
    search(page, "Fusion aligned LLMs; divider JUNO PMT")
    fusion = card(page, "Fusion: Helpful, Harmless")
    expect(fusion.locator(".card-title .katex")).to_have_count(1)
    assert "$" not in fusion.locator(".card-title").inner_text()
    divider = card(page, "Optimization of the HV divider")
    expect(divider.locator(".card-title")).to_have_text(re.compile(r"^Design & Optimization of the HV divider"))
    page.get_by_label("Show abstracts").check()
    expect(fusion.locator(".abstract-text")).to_be_visible()
    shot(page, "web-math.png", fusion)


def test_a_dropped_bib_gives_the_gap_list_and_never_reaches_a_file(page, workbench_index):
    before = sorted(p.name for p in workbench_index.iterdir())
    bib = (DATA / "ingest" / "library.bib").read_text(encoding="utf-8")
    transfer = page.evaluate_handle("""(text) => {
        const transfer = new DataTransfer();
        transfer.items.add(new File([text], "library.bib", {type: "text/x-bibtex"}));
        return transfer;
    }""", bib)
    page.dispatch_event("#drop-zone", "drop", {"dataTransfer": transfer})
    expect(page.locator("#results-heading")).to_have_text("What your library is missing (library.bib)")
    # The file's 6 entries: those read are all in this index (it was built from the same file); the others are
    # named by file and line (how many the BibTeX reader recovers is its business).
    status = page.locator("#library-status")
    expect(status).to_contain_text(re.compile(r"could not be read \(first: library\.bib:32: entry 'notitle2021': no title\)"))
    read, in_index, skipped = map(int, re.match(r"library\.bib: (\d+) entries, (\d+) of them in this index; (\d+) could",
                                                status.inner_text()).groups())
    assert read == in_index and read + skipped == 6
    expect(page.locator("#result-list .theme h3").first).to_contain_text("Theme: ")
    expect(page.locator("#result-list .reason").first).to_be_visible()
    titles = page.locator("#result-list .card-title").all_inner_texts()
    assert titles and ATTENTION not in titles and not any(t.startswith("Über") for t in titles)  # never what one has
    carried = [r for r in page.requests if r.post_data and "vaswani2017attention" in r.post_data]
    assert carried and all(r.url.endswith("/api/reading-list") and r.method == "POST"
                           and r.headers["content-type"] == "application/json" for r in carried)
    assert all(json.loads(r.post_data)["bibtex"] == bib for r in carried)  # text inside JSON, not an upload
    assert sorted(p.name for p in workbench_index.iterdir()) == before
    page.get_by_role("button", name="Export these as Markdown").click()
    output = page.get_by_label(re.compile("as Markdown"))
    expect(output).to_have_value(re.compile(r"^# What library\.bib is missing\n(.|\n)*## 1\. "))  # themes kept
    assert "*Characteristic terms:" in output.input_value()
    shot(page, "web-library-gaps.png")
    page.reload()  # kept in this tab
    expect(page.locator("#library-status")).to_contain_text("library.bib: 6 BibTeX entries")


def test_likes_say_where_each_recommendation_comes_from_and_can_be_weighed(page):
    search(page, "software testing")
    first = page.locator("#result-list .card").nth(0)
    liked = first.locator(".card-title").inner_text()
    first.get_by_role("button", name=re.compile("^Like:")).click()
    search(page, "backdoor attacks")
    second = page.locator("#result-list .card").nth(0)
    second_title = second.locator(".card-title").inner_text()
    second.get_by_role("button", name=re.compile("^Like:")).click()
    expect(page.locator("#recs-status")).to_contain_text("from 2 liked")
    whys = page.locator("#rec-list .why").all_inner_texts()
    assert whys and all(re.search(r"from your like “(.+)” \(cosine", w) for w in whys)
    sources = {re.search(r"from your like “(.+)” \(cosine", w).group(1) for w in whys}
    assert sources <= {liked, second_title}
    with page.expect_request(lambda r: r.url.endswith("/api/recommend")) as request:
        page.get_by_label(f"Weight of your like of {liked}").select_option("3")
    assert json.loads(request.value.post_data)["like_weights"] == [3, 1]
    expect(page.locator("#recs-status")).to_contain_text("from 2 liked")
    from_testing = sum(liked in w for w in page.locator("#rec-list .why").all_inner_texts())
    assert from_testing >= sum(liked in w for w in whys)  # weighing a like up pulls more of its side in
    page.get_by_role("button", name=f"Forget your like of {second_title}").click()
    expect(page.locator("#recs-status")).to_contain_text("from 1 liked")
    page.locator("#recommendations").scroll_into_view_if_needed()
    shot(page, "web-likes.png")  # the viewport: the side column scrolls on its own, an element shot of it would not


def test_suggestions_say_what_they_start_from(page):
    search(page, "backdoor attacks")
    page.get_by_role("button", name="Suggest papers").click()  # the search box alone is not used silently
    expect(page.locator("#status")).to_have_text(re.compile("^Add papers to the reading list or like some first"))
    page.get_by_label("Also use the search text").check()
    expect(page.locator("#suggest-from")).to_have_text("Suggestions start from the search text “backdoor attacks”.")
    page.get_by_role("button", name="Suggest papers").click()
    expect(page.locator("#results-heading")).to_have_text("Suggested reading")
    expect(page.locator("#status")).to_contain_text("From the search text “backdoor attacks”.")
    expect(page.locator("#result-list .theme").first).to_be_visible()
    card(page, "Backdoor").get_by_role("button", name=re.compile("^Add to reading list:")).click()
    page.get_by_role("button", name="Export Markdown").click()
    expect(page.get_by_label(re.compile("^Reading list as Markdown"))).to_have_value(re.compile(r"^# Reading list\n"))


def test_neighbourhood_click_a_node_shows_its_card_then_more_like_this(page):
    search(page, "KO codes")
    card(page, "KO codes").get_by_role("button", name=re.compile("^Neighbourhood:")).click()
    expect(page.locator("#picture-title")).to_have_text(re.compile("^Papers around “KO codes"))
    scene = page.evaluate("({titles: window.__mapView.scene.titles, edges: window.__mapView.scene.edges.length})")
    assert len(scene["titles"]) == 31 and scene["edges"] > 0
    point = page.evaluate("window.__mapView.clientPosition(1)")
    page.mouse.move(point["x"], point["y"])
    expect(page.locator("#picture-hover")).to_contain_text(scene["titles"][1][:40])
    page.mouse.click(point["x"], point["y"])
    picked = page.locator("#picture-card .card")
    expect(picked.locator(".card-title")).to_have_text(scene["titles"][1])
    shot(page, "web-neighbourhood.png", page.locator("#pictures"))
    picked.get_by_role("button", name=re.compile("^More like this:")).click()
    expect(page.locator("#results-heading")).to_have_text(f"Papers like “{scene['titles'][1]}”")
    # From the keyboard: n and p step through the neighbours on the picture, and its papers are buttons too.
    page.locator("#picture").focus()
    page.keyboard.press("n")  # from the clicked point 1 to the next nearest
    expect(picked.locator(".card-title")).to_have_text(scene["titles"][2])
    expect(page.locator("#picture-hover")).to_contain_text(scene["titles"][2][:40])
    page.keyboard.press("p")
    expect(picked.locator(".card-title")).to_have_text(scene["titles"][1])
    page.locator("#picture-nodes-box summary").click()
    page.locator("#picture-nodes button").nth(3).focus()
    page.keyboard.press("Enter")
    expect(picked.locator(".card-title")).to_have_text(scene["titles"][3])


def test_collection_map_hover_shows_the_title_and_the_reading_list_is_highlighted(page):
    search(page, "backdoor attacks")
    reading = [t for t in page.locator("#result-list .card-title").all_inner_texts()[:2]]
    for title in reading:
        card(page, title).get_by_role("button", name=re.compile("^Add to reading list:")).click()
    page.get_by_role("button", name="Map of the collection").click()
    canvas = page.locator("#picture")
    expect(canvas).to_have_attribute("data-reading", "2")
    expect(canvas).to_have_attribute("data-highlighted", "20")
    state = page.evaluate("""() => {
        const view = window.__mapView;
        const rows = [...view.reading];
        return {rows, titles: rows.map((i) => view.scene.titles[i]), labels: view.scene.labels.length,
                at: rows.map((i) => view.clientPosition(i))};
    }""")
    assert sorted(state["titles"]) == sorted(reading) and state["labels"] >= 1
    page.mouse.move(state["at"][0]["x"], state["at"][0]["y"])
    expect(page.locator("#picture-hover")).to_contain_text(state["titles"][0][:40])
    shot(page, "web-map.png", page.locator("#pictures"))
    at = page.evaluate(f"window.__mapView.clientPosition({state['rows'][0]})")  # a screenshot may scroll the page
    page.mouse.click(at["x"], at["y"])
    expect(page.locator("#picture-card .card-title")).to_have_text(state["titles"][0])


def test_the_map_stays_smooth_with_100k_points(page):
    """The drawing code itself on 100,000 points: a full repaint and a hover hit test, timed in the page."""
    timing = page.evaluate("""() => {
        const n = 100000;
        let seed = 1;
        const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
        const scene = {kind: "collection", title: "", x: [], y: [], color: [], size: [], palette: ["#440154", "#22a884"],
                       legend: [], edges: [], labels: [], highlight: [1, 2, 3], reading: [4], center: null, note: ""};
        for (let i = 0; i < n; i++) {
            scene.x.push(random() * 2 - 1); scene.y.push(random() * 2 - 1);
            scene.color.push(i % 2); scene.size.push(2);
        }
        const canvas = document.createElement("canvas");
        canvas.style.width = "1000px"; canvas.style.height = "700px";
        document.body.append(canvas);
        const view = new MapView(canvas, scene, {});
        const paints = [];
        for (let k = 0; k < 5; k++) { view.zoomBy(1.1); paints.push(view.drawMs); }
        const started = performance.now();
        for (let k = 0; k < 200; k++) view.pointAt(100 + k * 4, 300);
        const hit = (performance.now() - started) / 200;
        canvas.remove();
        return {paint: paints.sort((a, b) => a - b)[2], hit};
    }""")
    assert timing["paint"] < 150, timing  # a repaint (pan or zoom) well under a frame budget of a few frames
    assert timing["hit"] < 2, timing  # hover: the grid looks at the points near the pointer only


def test_the_rankings_own_why_is_shown_when_the_api_gives_it(page):
    """Result.why (retriever ranks, shared words, closest seed), in the shape recommender.search.why gives it."""
    def add_why(route):
        data = route.fetch().json()
        data["results"][0]["why"] = {"ranks": {"dense": 3, "lexical": None}, "shared_words": [],
                                     "unranked": {"lexical": "no word in common"},
                                     "closest_to": {"label": "KO codes", "kind": "paper", "id": "x", "cosine": 0.61}}
        data["results"][1]["why"] = {"ranks": {"dense": 1, "lexical": 2}, "shared_words": ["polar", "codes"],
                                     "closest_to": {"label": "polar codes", "kind": "query", "cosine": 0.5}}
        data["results"][2]["why"] = {"ranks": {"dense": 5, "lexical": None}, "shared_words": ["codes"],
                                     "unranked": {"lexical": "below its top 200"}}
        route.fulfill(json=data)

    page.route(re.compile(r"/api/search\?"), add_why)
    search(page, "polar codes")
    whys = page.locator("#result-list .why").all_inner_texts()
    assert whys[0] == "Why: ranked #3 by meaning · no shared word: found by meaning · closest to “KO codes” (cosine 0.61)"
    assert whys[1] == "Why: ranked #1 by meaning, #2 by words · shares: polar, codes"
    assert whys[2] == "Why: ranked #5 by meaning, not in the top 200 by words · shares: codes"


def test_on_a_big_collection_hover_asks_the_server_for_the_title(page):
    """Above 20,000 papers the collection scene has no titles (recommender.maps.collection.MAX_INLINE_TITLES):
    the scene is given that shape here, and hover and click go through /api/map/point."""
    def without_titles(route):
        scene = route.fetch().json()
        scene["ids"] = scene["titles"] = scene["years"] = None
        route.fulfill(json=scene)

    page.route(re.compile(r"/api/map/collection$"), without_titles)
    page.get_by_role("button", name="Map of the collection").click()
    expect(page.locator("#picture-status")).to_contain_text("papers; your results are ringed")
    at = page.evaluate("window.__mapView.clientPosition(5)")
    with page.expect_response(re.compile(r"/api/map/point/5$")) as answer:
        page.mouse.move(at["x"], at["y"])
    title = answer.value.json()["title"]
    expect(page.locator("#picture-hover")).to_contain_text(title[:40])
    page.mouse.click(at["x"], at["y"])
    expect(page.locator("#picture-card .card-title")).to_have_text(title)
