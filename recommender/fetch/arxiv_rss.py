"""arXiv's daily announcement feeds (rss.arxiv.org/rss/cs.LG+stat.ML): the papers announced today.

RSS 2.0 read with feedparser. The version sits only in the guid; the abstract follows "Abstract:" in the
description. "replace" items are new versions of old papers and are left out unless asked for.
"""
from __future__ import annotations

import re

import httpx

from ..ingest.ids import normalise_arxiv_id, normalise_doi
from .errors import ServerRefused, Transient
from .http import HttpClient
from .record import FetchedPaper, iso_date, one_line

DEFAULT_ENDPOINT = "https://rss.arxiv.org/rss/"
ENDPOINT_VARIABLE = "RECOMMENDER_ARXIV_RSS_ENDPOINT"
MIN_INTERVAL = 3.0
NEW_TYPES = ("new", "cross")
_VERSIONED = re.compile(r"arXiv:(\S+?)(v\d+)?\s+Announce Type:\s*(\S+)", re.I)


def client(contact: str | None = None, use_cache: bool = True) -> HttpClient:
    return HttpClient("arXiv RSS", min_interval=MIN_INTERVAL, contact=contact, use_cache=use_cache)


def feed_url(endpoint: str, categories: list[str]) -> str:
    return endpoint.rstrip("/") + "/" + "+".join(categories)


def parse_feed(response: httpx.Response) -> list[tuple[FetchedPaper, str]]:
    """(paper, announce type) for every item; a feed error ("Bad archive ...") becomes ServerRefused."""
    import time
    import xml.sax

    import feedparser

    if response.status_code != 200:
        raise ServerRefused(f"arXiv RSS answered HTTP {response.status_code} to {response.request.url}")
    feed = feedparser.parse(response.content)
    if feed.bozo and isinstance(feed.get("bozo_exception"), xml.sax.SAXException):
        raise Transient(f"arXiv RSS sent an incomplete feed ({feed.bozo_exception}); the body was cut")
    title = feed.feed.get("title", "")
    if title.startswith("Feed error"):
        raise ServerRefused(f"arXiv RSS: {one_line(feed.feed.get('description') or title)}")
    out = []
    for entry in feed.entries:
        summary = entry.get("summary", "")
        head = _VERSIONED.search(summary)
        arxiv_id = normalise_arxiv_id(entry.get("link")) or (normalise_arxiv_id(head.group(1)) if head else None)
        if not arxiv_id:
            continue
        abstract = summary.split("Abstract:", 1)[1] if "Abstract:" in summary else ""
        published = entry.get("published_parsed")
        date = time.strftime("%Y-%m-%d", published) if published else iso_date(entry.get("published"))
        names = ", ".join(a.get("name", "") for a in entry.get("authors", []))
        doi = normalise_doi(entry.get("arxiv_doi"))
        paper = FetchedPaper(
            id=arxiv_id, arxiv_id=arxiv_id, title=one_line(entry.get("title")), abstract=one_line(abstract),
            authors=[n.strip() for n in names.split(",") if n.strip()],
            categories=[t["term"] for t in entry.get("tags", []) if t.get("term")], date=date, doi=doi,
            versions=[{"version": head.group(2), "date": date}] if head and head.group(2) and date else [],
            url=f"https://arxiv.org/abs/{arxiv_id}",
            links={"abs": f"https://arxiv.org/abs/{arxiv_id}", "pdf": f"https://arxiv.org/pdf/{arxiv_id}"},
            venue=one_line(entry.get("arxiv_journal_reference")) or None, fetched_from="arxiv-rss",
        )
        out.append((paper, (entry.get("arxiv_announce_type") or (head.group(3) if head else "new")).lower()))
    return out
