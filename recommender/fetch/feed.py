"""`recommender feed`: today's new papers ranked by what you read, each with the reason it was picked.

The new papers (fetched, or read from a corpus file) minus those an earlier run already showed are
indexed in a temporary folder; the profile (a .bib library, liked papers, a text) ranks them through
`recommender.lists` with no diversity, so the order is by relevance. What was shown is recorded in a
state file (default: RECOMMENDER_CACHE_DIR or ~/.cache/recommender, then feed/state.json), per profile,
so a daily cron run never repeats a paper.
"""
from __future__ import annotations

import hashlib
import html
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from ..errors import InputError, UsageError
from ..records import Paper, Result
from .options import cache_root

FORMATS = ("markdown", "html", "json")
KEEP_SHOWN_DAYS = 180  # ids shown longer ago than this are forgotten (arXiv ids never come back as "new")


def state_path() -> Path:
    return cache_root() / "feed" / "state.json"


def profile_key(library: Path | None, like: list[str], query: str | None) -> str:
    parts = [str(library.expanduser().resolve()) if library else "", *sorted(like), query or ""]
    return hashlib.sha1("\x1f".join(parts).encode()).hexdigest()[:16]


@dataclass
class FeedState:
    """{profile key: {paper id: date shown}} in one JSON file."""

    path: Path
    shown: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> "FeedState":
        if not path.exists():
            return cls(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            shown = data["shown"]
            if not isinstance(shown, dict):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            raise InputError(f"{path}: not a feed state file (JSON with 'shown'); pass --state with another "
                             "file, or delete this one to start the feed afresh") from None
        return cls(path, shown)

    def already_shown(self, key: str) -> set[str]:
        return set(self.shown.get(key, {}))

    def record(self, key: str, ids: list[str], today: date) -> None:
        seen = self.shown.setdefault(key, {})
        for paper_id in ids:
            seen.setdefault(paper_id, today.isoformat())
        horizon = (today - timedelta(days=KEEP_SHOWN_DAYS)).isoformat()
        self.shown[key] = {i: d for i, d in seen.items() if d >= horizon}

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.tmp-{os.getpid()}")
        tmp.write_text(json.dumps({"shown": self.shown}, indent=1, sort_keys=True), encoding="utf-8")
        tmp.replace(self.path)


@dataclass
class Feed:
    items: list[Result]
    made_from: dict
    new_papers: int  # candidates after --since/--category
    already_shown: int  # left out because an earlier run showed them
    state_file: Path | None
    day: date

    def to_json(self) -> dict:
        return {"date": self.day.isoformat(), "made_from": self.made_from, "new_papers": self.new_papers,
                "already_shown": self.already_shown, "state_file": str(self.state_file) if self.state_file else None,
                "items": [dict(r.to_dict(), reason=r.reason, abstract=r.paper.abstract) for r in self.items]}


def select_new(papers: list[Paper], since: str | None, categories: list[str]) -> list[Paper]:
    wanted = {c.lower() for c in categories}
    out = []
    for paper in papers:
        if since and (paper.date or "") < since:
            continue
        if wanted and not any(c.lower() in wanted for c in paper.categories):
            continue
        out.append(paper)
    return out


def rank_new_papers(papers: list[Paper], *, library: Path | None, like: list[str], query: str | None, n: int,
                    progress: bool = False) -> tuple[list[Result], dict]:
    """The n papers best matching the profile, by relevance, each with its reason."""
    from ..index.build import build_index
    from ..lists import reading_list
    from ..search.engine import Recommender

    work = Path(tempfile.mkdtemp(prefix="recommender-feed-"))
    try:
        corpus = work / "new.jsonl"
        corpus.write_text("".join(json.dumps(p.to_dict(), ensure_ascii=False) + "\n" for p in papers), encoding="utf-8")
        build_index([corpus], work / "index", progress=progress)
        rec = Recommender.open(work / "index")
        reading = reading_list(rec, query=query, like=like, bib=library, n=min(n, len(rec.papers)), diversity=0.0)
        items = sorted(reading.items, key=lambda r: r.rank)
        return items, reading.query
    finally:
        shutil.rmtree(work, ignore_errors=True)


def build_feed(papers: list[Paper], *, library: Path | None, like: list[str], query: str | None, n: int,
               state: FeedState | None, today: date | None = None, progress: bool = False) -> Feed:
    if not library and not like and not query:
        raise UsageError("feed needs a profile: --library LIBRARY.bib, --like PAPER or --query TEXT")
    today = today or date.today()
    key = profile_key(library, like, query)
    shown = state.already_shown(key) if state else set()
    fresh = [p for p in papers if p.id not in shown]
    items: list[Result] = []
    made_from: dict = {"bib": str(library) if library else None, "like": like, "text": query}
    if fresh:
        items, made_from = rank_new_papers(fresh, library=library, like=like, query=query, n=n, progress=progress)
    if state is not None:
        state.record(key, [r.paper.id for r in items], today)
        state.save()
    return Feed(items, made_from, len(papers), len(papers) - len(fresh), state.path if state else None, today)


def render(feed: Feed, fmt: str) -> str:
    if fmt not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)}, got '{fmt}'")
    if fmt == "json":
        return json.dumps(feed.to_json(), ensure_ascii=False, indent=2)
    return to_html(feed) if fmt == "html" else to_markdown(feed)


def _authors(paper: Paper, limit: int = 4) -> str:
    names = paper.authors[:limit]
    more = len(paper.authors) > limit or paper.authors_truncated
    return ", ".join(names) + (" et al." if more else "")


def _summary(feed: Feed) -> str:
    return (f"{len(feed.items)} of {feed.new_papers} new papers"
            + (f" ({feed.already_shown} shown before and left out)" if feed.already_shown else ""))


def _link(paper: Paper) -> str:
    return paper.url or (f"https://arxiv.org/abs/{paper.arxiv_id}" if paper.arxiv_id else
                         f"https://doi.org/{paper.doi}" if paper.doi else "")


def to_markdown(feed: Feed, abstract_chars: int = 300) -> str:
    lines = [f"# New papers for you, {feed.day.isoformat()}", "", _summary(feed) + ".", ""]
    if not feed.items:
        lines.append("Nothing new today.")
    for result in feed.items:
        p = result.paper
        link = _link(p)
        title = f"[{p.title}]({link})" if link else p.title
        meta = " · ".join(x for x in (_authors(p), ", ".join(p.categories[:3]), p.date or "") if x)
        lines += [f"{result.rank}. **{title}**", f"   {meta}", f"   *Why:* {result.reason}"]
        if p.abstract:
            text = p.abstract if len(p.abstract) <= abstract_chars else p.abstract[:abstract_chars].rsplit(" ", 1)[0] + " …"
            lines.append(f"   > {text}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def to_html(feed: Feed, abstract_chars: int = 400) -> str:
    """An email-ready digest: one self-contained page, inline styles only (mail clients drop <style>)."""
    e = html.escape
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f"<title>New papers for you, {feed.day.isoformat()}</title></head>",
             '<body style="font-family:Georgia,serif;max-width:42em;margin:1em auto;color:#222">',
             f'<h1 style="font-size:1.4em">New papers for you, {feed.day.isoformat()}</h1>',
             f'<p style="color:#555">{e(_summary(feed))}.</p>']
    if not feed.items:
        parts.append("<p>Nothing new today.</p>")
    parts.append('<ol style="padding-left:1.2em">')
    for result in feed.items:
        p = result.paper
        link = _link(p)
        title = f'<a href="{e(link)}" style="color:#1a0dab">{e(p.title)}</a>' if link else e(p.title)
        meta = " · ".join(x for x in (_authors(p), ", ".join(p.categories[:3]), p.date or "") if x)
        text = p.abstract if len(p.abstract) <= abstract_chars else p.abstract[:abstract_chars].rsplit(" ", 1)[0] + " …"
        parts.append(f'<li style="margin-bottom:1em"><strong>{title}</strong><br>'
                     f'<span style="color:#555;font-size:.9em">{e(meta)}</span><br>'
                     f'<span style="font-size:.9em"><em>Why:</em> {e(result.reason or "")}</span>'
                     + (f'<p style="font-size:.9em;margin:.3em 0 0">{e(text)}</p>' if text else "") + "</li>")
    parts += ["</ol>", "</body></html>"]
    return "\n".join(parts) + "\n"
