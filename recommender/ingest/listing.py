"""The listing format: papers as copied from a listing page, three lines each.

    LGOct 14, 2023Code                       <- category, date (the year may be missing), "Code" if code exists
    DPZero: Private ...BackpropagationLiang Zhang, Bingcong Li et al. · eth-zurich
    The widespread practice of ...           <- the abstract

The second line runs the title and the authors together with no separator, so the split is
found from the shape of the words (see split_title_and_authors).
"""
from __future__ import annotations

import calendar
import datetime as dt
import re

from ..records import Paper, SkippedRecord
from .fields import RecordError, clean_text
from .ids import stable_id

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
HEADER = re.compile(
    r"^(?P<category>[A-Za-z][\w.\-]*?)?(?P<month>" + "|".join(MONTHS) + r")\s(?P<day>\d{1,2})"
    r"(?:,\s*(?P<year>\d{4}))?(?P<code>Code)?\s*$"
)
HEADER_EXAMPLE = "'LGOct 14, 2023Code' (category, date, optional Code)"
AFFILIATIONS_MARK = " · "
_ET_AL = re.compile(r"\s*\bet al\.?\s*$")
# Surname prefixes whose capital inside the word is not a word boundary: LeCun, McKean, DiMaggio.
_NAME_PARTICLES = {"Mc", "Mac", "O", "De", "Di", "Da", "Du", "Le", "La", "Van", "Von", "Vander", "Del", "Della", "Fitz", "St"}
# Characters that join parts of a name (Wei-Ning, Alzu'bi), so a capital after them is no boundary.
_NAME_JOINERS = "-'’"


def _boundaries(word: str) -> list[int]:
    """Positions in `word` where a new capitalised word starts without a space before it."""
    found = []
    for k in range(1, len(word)):
        here, before = word[k], word[k - 1]
        if not here.isupper():
            continue
        lower_to_upper = before.islower()
        acronym_to_word = before.isupper() and k + 1 < len(word) and word[k + 1].islower()  # CLIP|Thao
        symbol_to_upper = not before.isalpha() and before not in _NAME_JOINERS  # Training?|Arun, GPT-4|Alex
        if (lower_to_upper or acronym_to_word or symbol_to_upper) and word[:k] not in _NAME_PARTICLES:
            found.append(k)
    return found


def _glue_point(word: str) -> int | None:
    """Where the first author's first name starts inside `word`, or None.

    The leftmost boundary whose remainder is itself one plain name part: 'InfringementWei-Ning'
    splits at 'Wei-Ning', 'DataCompSamir' at 'Samir' ('CompSamir' still has a boundary inside).
    """
    for k in _boundaries(word):
        if not _boundaries(word[k:]):
            return k
    return None


def split_title_and_authors(line: str) -> tuple[str, list[str], bool, list[str]]:
    """(title, authors, authors_truncated, affiliations) from a listing's second line."""
    text, affiliations = line, []
    if AFFILIATIONS_MARK in line:
        text, _, after = line.rpartition(AFFILIATIONS_MARK)
        affiliations = [a.strip() for a in after.split(",") if a.strip()]
    truncated = bool(_ET_AL.search(text))
    text = _ET_AL.sub("", text).strip()
    # Authors are ", "-separated from the right; the first of them is glued to the title's last word.
    parts = text.split(", ")
    for p in range(len(parts) - 1, -1, -1):
        words = parts[p].split(" ")
        for w in range(len(words) - 1, -1, -1):
            k = _glue_point(words[w])
            if k is None:
                continue
            title = ", ".join(parts[:p] + [" ".join(words[:w] + [words[w][:k]])]).strip()
            first_author = " ".join([words[w][k:]] + words[w + 1:]).strip()
            authors = [first_author] + [a.strip() for a in parts[p + 1:] if a.strip()]
            if title:
                return title, authors, truncated, affiliations
    raise RecordError("cannot tell where the title ends and the authors begin on the title line")


def _date(match: re.Match) -> tuple[int | None, str]:
    month = MONTHS.index(match["month"]) + 1
    day = int(match["day"])
    if match["year"]:
        year = int(match["year"])
        try:
            return year, dt.date(year, month, day).isoformat()
        except ValueError:
            raise RecordError(f"no such date: {match['month']} {day}, {year}") from None
    if not 1 <= day <= calendar.monthrange(2000, month)[1]:  # 2000: a leap year, so Feb 29 passes
        raise RecordError(f"no such date: {match['month']} {day}")
    return None, f"--{month:02d}-{day:02d}"  # the year is not shown: keep it unknown, never guess


def _paper(header: re.Match, title_line: str, abstract: str, source: str) -> Paper:
    year, date = _date(header)
    title, authors, truncated, affiliations = split_title_and_authors(clean_text(title_line))
    return Paper(
        id=stable_id(None, None, None, title),
        title=title,
        abstract=clean_text(abstract),
        authors=authors,
        authors_truncated=truncated,
        year=year,
        date=date,
        categories=[header["category"]] if header["category"] else [],
        affiliations=affiliations,
        has_code=bool(header["code"]),
        source=source,
    )


def read_listing(text: str, name: str) -> tuple[list[Paper], list[SkippedRecord]]:
    """Papers of a listing file; blocks that do not fit are skipped and reading resumes at the next header."""
    lines = text.splitlines()
    papers: list[Paper] = []
    skipped: list[SkippedRecord] = []

    def next_filled(i: int) -> int:
        while i < len(lines) and not lines[i].strip():
            i += 1
        return i

    def is_header(i: int) -> bool:
        return i < len(lines) and HEADER.match(lines[i].strip()) is not None

    i = next_filled(0)
    while i < len(lines):
        start = i
        if not is_header(i):
            i += 1
            while i < len(lines) and not is_header(i):
                i += 1
            skipped.append(SkippedRecord(f"{name}:{start + 1}", f"expected a header line like {HEADER_EXAMPLE}; skipped lines {start + 1}-{i}"))
            continue
        title_at = next_filled(i + 1)
        if title_at >= len(lines) or is_header(title_at):
            skipped.append(SkippedRecord(f"{name}:{start + 1}", "header line with no title line after it"))
            i = title_at
            continue
        abstract_at = next_filled(title_at + 1)
        abstract = "" if abstract_at >= len(lines) or is_header(abstract_at) else lines[abstract_at]
        i = next_filled(abstract_at + (1 if abstract else 0))
        try:
            papers.append(_paper(HEADER.match(lines[start].strip()), lines[title_at], abstract, f"{name}:{start + 1}"))
        except RecordError as exc:
            skipped.append(SkippedRecord(f"{name}:{start + 1}", str(exc)))
    return papers, skipped
