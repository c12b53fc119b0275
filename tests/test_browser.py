"""The web page end to end: `recommender serve` on the bundled listing, driven in Debian's headless Chromium.

Playwright drives /usr/bin/chromium (the `chromium` package, installed by scripts/test.sh); nothing
downloads a browser. Without it these tests skip.
"""
from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (the test extra)")
expect = sync_api.expect

CHROMIUM = os.environ.get("RECOMMENDER_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
FEW_SHOT = "Few-shot Backdoor Attacks via Neural Tangent Kernels"
CODING_TITLES = {
    "CRISP: Curriculum based Sequential Neural Decoders for Polar Code Family",
    "Machine Learning-Aided Efficient Decoding of Reed-Muller Subcodes",
    "DeepPolar: Inventing Nonlinear Large-Kernel Polar Codes via Deep Learning",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_server(index: Path, folder: Path):
    """`recommender serve` in a subprocess, as a user starts it (working folder `folder`); its URL once it answers."""
    import httpx

    port = free_port()
    log = folder / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "recommender", "serve", "--index", str(index),
                                 "--port", str(port)], stdout=out, stderr=subprocess.STDOUT, cwd=folder)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the server exited with {proc.returncode}: {Path(log).read_text()}")
            try:
                if httpx.get(f"{url}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the server did not answer within 180 s: {Path(log).read_text()}")
            time.sleep(0.25)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def server(seed_index, tmp_path_factory):
    with running_server(seed_index, tmp_path_factory.mktemp("server")) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: apt-get install chromium (scripts/test.sh does)")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, server):
    """A fresh browser context (empty localStorage) on the page; fails the test on any script error."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    context.set_default_timeout(15_000)
    tab = context.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    # A 400 is a request the page made bad on purpose (a test's bad filter), and shows as a message.
    tab.on("console", lambda msg: problems.append(f"console: {msg.text}")
           if msg.type == "error" and "status of 400" not in msg.text else None)
    tab.goto(server)
    yield tab
    context.close()
    assert not problems, problems


def search(page, text: str) -> None:
    page.get_by_label("Search papers").fill(text)
    page.keyboard.press("Enter")
    expect(page.locator("#results-heading")).to_have_text(f"Results for “{text}”")
    expect(page.locator("#status")).to_contain_text("papers in")


def titles(page, list_id: str) -> list[str]:
    return page.locator(f"#{list_id} .card-title").all_inner_texts()


def card(page, title: str, list_id: str = "result-list"):
    return page.locator(f"#{list_id} .card").filter(has=page.locator(".card-title", has_text=title))


def test_search_shows_the_expected_paper_with_a_collapsed_abstract(page):
    expect(page.get_by_label("Search papers")).to_be_focused()  # typing can start at once
    search(page, "backdoor attacks")
    assert FEW_SHOT in titles(page, "result-list")[:4]
    few_shot = card(page, FEW_SHOT)
    expect(few_shot.locator(".meta")).to_contain_text("2022")
    expect(few_shot.locator(".meta")).to_contain_text("LG")
    expect(few_shot.locator(".meta")).to_contain_text(re.compile(r"score \d\.\d{2}"))
    abstract = few_shot.locator(".abstract-text")
    expect(abstract).to_be_hidden()
    few_shot.get_by_text("Abstract", exact=True).click()
    expect(abstract).to_be_visible()
    expect(abstract).to_contain_text("neural tangent kernels")


def test_more_like_this_from_the_keyboard(page):
    search(page, "KO codes nonlinear encoding")
    button = page.get_by_role("button", name=re.compile(r"^More like this: KO codes"))
    button.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#results-heading")).to_have_text(re.compile(r"^Papers like “KO codes"))
    expect(page.locator("#results")).to_be_focused()  # the keyboard lands on the new results
    assert set(titles(page, "result-list")[:3]) == CODING_TITLES


def test_liking_two_papers_changes_the_recommendations_and_survives_a_reload(page, server):
    recs_status = page.locator("#recs-status")
    search(page, "backdoor attacks")
    card(page, FEW_SHOT).get_by_role("button", name=re.compile("^Like:")).click()
    expect(recs_status).to_contain_text("from 1 liked")
    after_one = titles(page, "rec-list")
    assert after_one and FEW_SHOT not in after_one

    search(page, "differential privacy")
    private = titles(page, "result-list")[0]
    card(page, private).get_by_role("button", name=re.compile("^Like:")).click()
    expect(recs_status).to_contain_text("from 2 liked")
    after_two = titles(page, "rec-list")
    assert after_two != after_one and not {FEW_SHOT, private} & set(after_two)
    assert any("rivacy" in t or "Private" in t for t in after_two[:5])  # the new like pulls its topic in

    disliked = after_two[0]
    card(page, disliked, "rec-list").get_by_role("button", name=re.compile("^Dislike:")).click()
    expect(recs_status).to_contain_text("and 1 disliked")
    assert disliked not in titles(page, "rec-list")

    page.reload()  # likes and dislikes are kept in localStorage
    expect(recs_status).to_contain_text("from 2 liked and 1 disliked")
    expect(page.locator("#ratings li")).to_have_count(3)
    search(page, "backdoor attacks")
    expect(card(page, FEW_SHOT).get_by_role("button", name=re.compile("^Like:"))).to_have_attribute("aria-pressed", "true")


def test_reading_list_exports_bibtex_and_markdown(page):
    search(page, "backdoor attacks")
    for title in (FEW_SHOT, "Label Poisoning is All You Need"):
        card(page, title).get_by_role("button", name=re.compile("^Add to reading list:")).click()
    expect(page.locator("#reading-list li")).to_have_count(2)
    expect(page.locator("#reading-count")).to_have_text("(2)")

    page.get_by_role("button", name="Export BibTeX").click()
    output = page.get_by_label(re.compile("^Reading list as BibTeX"))
    expect(output).to_have_value(re.compile(r"^@"))
    bibtex = output.input_value()
    entries = re.findall(r"^@\w+\{([^,]+),", bibtex, flags=re.M)
    assert len(entries) == 2 and len(set(entries)) == 2
    assert bibtex.index("{{Few-shot Backdoor Attacks") < bibtex.index("{{Label Poisoning is All You Need}}")
    assert bibtex.count("author = {") == 2 and bibtex.count("year = {") == 2
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download reading-list.bib").click()
    download = download_info.value
    assert download.suggested_filename == "reading-list.bib"
    assert Path(download.path()).read_text(encoding="utf-8") == bibtex

    # Reorder by keyboard, then export Markdown: the order follows.
    page.get_by_role("button", name=f"Move down: {FEW_SHOT}").focus()
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Export Markdown").click()
    markdown = page.get_by_label(re.compile("^Reading list as Markdown")).input_value()
    assert markdown.index("Label Poisoning") < markdown.index("Few-shot Backdoor")

    # Suggestions start from the query and leave out what the list already holds.
    page.get_by_role("button", name="Suggest papers").click()
    expect(page.locator("#results-heading")).to_have_text("Suggested reading")
    expect(page.locator("#result-list .reason").first).to_be_visible()
    suggested = titles(page, "result-list")
    assert suggested and not {FEW_SHOT, "Label Poisoning is All You Need"} & set(suggested)
    assert any("Backdoor" in t for t in suggested[:3])


def test_filters_narrow_the_results_and_bad_ones_say_why(page):
    page.get_by_label("From year").fill("2024")
    page.get_by_label("Category").select_option("LG")
    search(page, "language models")
    metas = page.locator("#result-list .meta").all_inner_texts()
    assert metas and all(re.search(r"\b202[45]\b", m) and "LG" in m for m in metas)
    page.get_by_label("To year").fill("2022")
    page.get_by_label("To year").press("Enter")
    expect(page.locator("#status")).to_have_text(re.compile("year_from 2024 is after year_to 2022"))


def test_phone_width_has_no_sideways_scrolling(browser, server):
    context = browser.new_context(viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True)
    tab = context.new_page()
    try:
        tab.goto(server)
        search(tab, "backdoor attacks")
        card(tab, FEW_SHOT).get_by_text("Abstract", exact=True).click()
        card(tab, FEW_SHOT).get_by_role("button", name=re.compile("^Add to reading list:")).click()
        assert tab.evaluate("document.documentElement.scrollWidth") <= 375
        search_box = tab.get_by_label("Search papers").bounding_box()
        assert search_box["x"] >= 0 and search_box["x"] + search_box["width"] <= 375
    finally:
        context.close()


def test_api_docs_render_without_the_internet(page, server):
    page.goto(f"{server}/docs")  # Swagger UI from the fastapi-offline package, not a CDN
    expect(page.locator(".opblock-summary-path", has_text="/api/search")).to_be_visible()
    expect(page.locator(".opblock-summary-path", has_text="/api/recommend")).to_be_visible()
