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
from .limits import MAX_RECORD_BYTES, Warn, bound_paper, size_text

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
# A name is a few capitalised words (or lower-case particles: Ludwig van Beethoven); anything else
# after the title (a sentence of an abstract read as the title line) means the line is no title line.
_NAME_WORD = re.compile(r"^[^\W\d_][\w.'’\-]*$")
_PARTICLES = {"van", "von", "de", "der", "den", "del", "della", "di", "da", "du", "la", "le", "bin", "ibn", "al",
              "el", "y", "e", "dos", "das", "do", "ten", "ter", "zu", "af", "av", "st"}
_MAX_NAME_WORDS = 6
# The longest title in the seed listing has 115 characters, in SciFact, CSFCube and CISI 300; a longer
# "title" is an abstract read as the title line.
_MAX_TITLE = 400
# A title word glued to a first name is short; longer "words" are not searched (the search is quadratic).
_MAX_GLUED_WORD = 100


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
            k = _glue_point(words[w]) if len(words[w]) <= _MAX_GLUED_WORD else None
            if k is None:
                continue
            title = ", ".join(parts[:p] + [" ".join(words[:w] + [words[w][:k]])]).strip()
            first_author = " ".join([words[w][k:]] + words[w + 1:]).strip()
            authors = [first_author] + [a.strip() for a in parts[p + 1:] if a.strip()]
            if title:
                if len(title) > _MAX_TITLE:
                    raise RecordError(f"the line after the header reads like an abstract ({len(title)} characters "
                                      "before the authors): is its title line missing?")
                odd = next((a for a in authors if not _looks_like_name(a)), None)
                if odd is not None:
                    raise RecordError(f"the line after the header does not end with author names ({odd[:40]!r} is "
                                      "not a name): is its title line missing?")
                return title, authors, truncated, affiliations
    raise RecordError("cannot tell where the title ends and the authors begin on the title line")


def _looks_like_name(name: str) -> bool:
    words = name.split()
    return 0 < len(words) <= _MAX_NAME_WORDS and all(
        _NAME_WORD.match(word) and (word[0].isupper() or word.lower() in _PARTICLES) for word in words)


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


def _paper(header: re.Match, title_line: str, abstract: str, source: str, warn: Warn) -> Paper:
    year, date = _date(header)
    title, authors, truncated, affiliations = split_title_and_authors(clean_text(title_line))
    return bound_paper(Paper(
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
    ), warn)


def read_listing(text: str, name: str, warnings: list[SkippedRecord] | None = None
                 ) -> tuple[list[Paper], list[SkippedRecord]]:
    """Papers of a listing file; blocks that do not fit are skipped and reading resumes at the next header."""
    warnings = warnings if warnings is not None else []
    lines = [line.rstrip("\r") for line in text.split("\n")]
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
        source = f"{name}:{start + 1}"
        size = len(lines[title_at]) + len(abstract)
        if size > MAX_RECORD_BYTES:
            skipped.append(SkippedRecord(source, f"a record of {size_text(size)}, over the "
                                         f"{size_text(MAX_RECORD_BYTES)} limit for one record"))
            continue
        try:
            papers.append(_paper(HEADER.match(lines[start].strip()), lines[title_at], abstract, source,
                                 lambda message: warnings.append(SkippedRecord(source, message))))
        except RecordError as exc:
            skipped.append(SkippedRecord(source, str(exc)))
    return papers, skipped
