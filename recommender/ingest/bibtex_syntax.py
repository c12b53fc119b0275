"""BibTeX syntax: entries, fields, @string macros and '#' concatenation, read the way BibTeX reads them.

Each entry is parsed on its own, so a broken one cannot swallow the entries after it: an entry that
cannot be read is reported with the reason and its line, and reading resumes at the next line that
starts an entry. Mistakes a human makes and that lose nothing are read and reported instead:

- a field given twice (Zotero writes one `annote` per note): the first value wins, as in BibTeX;
- an extra '}' inside a value or before the last fields: ignored, so no field after it is lost;
- a missing ',' between two fields, or a missing '}' at the end of the entry;
- a value whose closing '}' is missing, when its line ends with ',' and the next line starts the
  next field (`title = {Neural Grasp Distance Fields,` then `author = {...}`): tried only when the
  entry cannot be read otherwise, since a value may legitimately span lines.

Text outside entries is a comment, as for BibTeX; `@comment` and `@preamble` are skipped.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from .limits import MAX_RECORD_BYTES, size_text

# An entry starts with '@type{' or '@type(' anywhere outside an entry; reading resumes after a broken
# entry only at such a start at the beginning of a line.
_START = re.compile(r"@[ \t]*([A-Za-z][\w\-]*)[ \t]*([{(])")
_LINE_START = re.compile(r"^[ \t]*@[ \t]*[A-Za-z][\w\-]*[ \t]*[{(]", re.M)
_NAME = re.compile(r"[^\s\"#%'(),={}]+")
_FIELD_START = re.compile(r"[^\s\"#%'(),={}0-9][^\s\"#%'(),={}]*\s*=")
_NUMBER = re.compile(r"\d+")
_KEY = re.compile(r"[^\s,{}()]*")
_SPACE = re.compile(r"\s*")
# A line that starts a field: 'name = {', 'name = "', 'name = 12' or 'name = macro'.
_FIELD_LINE = re.compile(r"[ \t]*[^\s\"#%'(),={}0-9][^\s\"#%'(),={}]*[ \t]*=[ \t]*[{\"\w]")
MONTHS = {name: full for name, full in zip(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
    ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
     "November", "December"))}


@dataclass
class Entry:
    """One entry: its fields (lower-case names, first value of each), and what was read around a mistake."""

    line: int
    type: str
    key: str
    fields: dict[str, str] = field(default_factory=dict)
    undefined: dict[str, list[str]] = field(default_factory=dict)  # field -> @string names never defined
    warnings: list[str] = field(default_factory=list)


@dataclass
class Broken:
    """An entry (or @string definition, kind 'string') that cannot be read, with the reason."""

    line: int
    key: str
    reason: str
    kind: str = "entry"


class _Unreadable(Exception):
    """The item cannot be read; the message says why and where."""


class _Lines:
    """Line numbers of positions, counted from the last position asked for (reading goes forward,
    so a whole file costs one pass, whatever its number of entries or errors)."""

    def __init__(self, text: str):
        self.text, self.pos, self.number = text, 0, 1

    def __call__(self, pos: int) -> int:
        if pos >= self.pos:
            self.number += self.text.count("\n", self.pos, pos)
        else:
            self.number -= self.text.count("\n", pos, self.pos)
        self.pos = pos
        return self.number


class _Parser:
    """Reads one item (entry or @string) that starts at `start` and must end before `following` (the
    next line that starts an entry) and within the record limit."""

    def __init__(self, text: str, start: int, following: int, strings: dict[str, str], lines: _Lines,
                 recover: bool = False):
        self.text, self.pos, self.strings, self.lines = text, start, strings, lines
        self.recover = recover  # end a value at a line ending in ',' when the next line starts a field
        self.closed = False
        self.following = following  # where the next entry starts at the beginning of a line
        self.end = min(following, start + MAX_RECORD_BYTES)
        self.warnings: list[str] = []
        self.undefined: list[str] = []

    def line(self, pos: int | None = None) -> int:
        return self.lines(self.pos if pos is None else pos)

    def where(self) -> str:
        if self.end < self.following:
            return f"the {size_text(MAX_RECORD_BYTES)} limit for one record"
        return "the end of the file" if self.end >= len(self.text) else f"the next entry (line {self.line(self.end)})"

    def char(self) -> str:
        return self.text[self.pos] if self.pos < self.end else ""

    def skip_space(self, comments: bool = False) -> None:
        while True:
            self.pos = _SPACE.match(self.text, self.pos).end()
            if comments and self.char() == "%":  # biber and JabRef allow '%' comment lines between fields
                newline = self.text.find("\n", self.pos, self.end)
                self.pos = self.end if newline < 0 else newline + 1
                continue
            self.pos = min(self.pos, self.end)
            return

    def expect_field_start(self) -> bool:
        return _FIELD_START.match(self.text, self.pos, self.end) is not None

    def name(self, what: str) -> str:
        match = _NAME.match(self.text, self.pos, self.end)
        if not match:
            found = repr(self.char()) if self.char() else self.where()
            raise _Unreadable(f"expected {what} at line {self.line()}, found {found}")
        self.pos = match.end()
        return match.group(0)

    def value(self, field_name: str) -> str:
        """A field value: parts joined by '#', each braced, quoted, a number or an @string name."""
        parts = []
        while True:
            self.skip_space()
            char = self.char()
            if char == "{":
                parts.append(self.delimited(field_name, "{", "}"))
            elif char == '"':
                parts.append(self.delimited(field_name, '"', '"'))
            elif char and (number := _NUMBER.match(self.text, self.pos, self.end)):
                parts.append(number.group(0))
                self.pos = number.end()
            elif char and (macro := _NAME.match(self.text, self.pos, self.end)):
                self.pos = macro.end()
                parts.append(self.expand(macro.group(0)))
            else:
                found = repr(char) if char else self.where()
                raise _Unreadable(f"expected the value of field '{field_name}' at line {self.line()}, found {found}")
            self.skip_space()
            if self.char() != "#":
                return "".join(parts)
            self.pos += 1

    def expand(self, name: str) -> str:
        known = self.strings.get(name.lower())
        if known is not None:
            return known
        if name.lower() in MONTHS:
            return MONTHS[name.lower()]
        self.undefined.append(name)
        return name

    def delimited(self, field_name: str, opening: str, closing: str) -> str:
        """A {braced} or "quoted" value without its delimiters. Braces inside must balance; an extra
        '}' is dropped and reported, so the fields after it are not lost."""
        opened_at = self.pos
        braced = opening == "{"
        depth = 1 if braced else 0
        pieces: list[str] = []
        run = i = self.pos + 1
        while i < self.end:
            char = self.text[i]
            if char == "\\":  # \{ \} \" are text, not delimiters
                i += 2
                continue
            if char == "{":
                depth += 1
            elif char == "}" and (depth > 1 or (depth == 1 and not braced)):
                depth -= 1
            elif char == "}" and depth == 1 and self.value_ends(i + 1):
                pieces.append(self.text[run:i])
                self.pos = i + 1
                return "".join(pieces)
            elif char == "}":  # closes nothing, or closes the value while text follows: an extra one
                pieces.append(self.text[run:i])
                run = i + 1
                self.warnings.append(f"an extra '}}' in field '{field_name}' at line {self.line(i)} was ignored")
            elif char == '"' and not braced and depth == 0:
                pieces.append(self.text[run:i])
                self.pos = i + 1
                return "".join(pieces)
            elif char == "\n" and self.recover and (depth >= 1 or not braced):
                comma = i - 1
                while comma >= run and self.text[comma] in " \t\r":
                    comma -= 1
                if comma >= run and self.text[comma] == "," and _FIELD_LINE.match(self.text, i + 1, self.end):
                    pieces.append(self.text[run:comma])
                    self.pos = comma
                    self.warnings.append(f"field '{field_name}' at line {self.line(opened_at)} lacks its closing "
                                         f"{closing!r}; read up to the end of line {self.line(i)}")
                    return "".join(pieces)
            i += 1
        self.pos = self.end
        raise _Unreadable(f"the {opening!r} that opens field '{field_name}' at line {self.line(opened_at)} is not "
                          f"closed before {self.where()}")

    def value_ends(self, pos: int) -> bool:
        """Whether a braced value can end just before `pos`: what follows separates fields."""
        after = _SPACE.match(self.text, pos).end()
        if after >= self.end:
            return True
        return self.text[after] in ",#})" or _FIELD_START.match(self.text, after, self.end) is not None

    def fields(self, closing: str) -> tuple[dict[str, str], dict[str, list[str]]]:
        """The fields up to the entry's closing delimiter (first value of each name)."""
        found: dict[str, str] = {}
        undefined: dict[str, list[str]] = {}
        repeated: dict[str, int] = {}
        while True:
            self.skip_space(comments=True)
            if self.pos >= self.end:
                if self.end < self.following:
                    raise _Unreadable(f"not closed before {self.where()}")
                self.warnings.append(f"the entry is not closed with '{closing}' before {self.where()}; "
                                     "read up to there")
                break
            if self.char() == closing:
                self.pos += 1
                if not self.extra_closing():
                    self.closed = True
                    break
                continue
            if self.char() == ",":
                self.pos += 1
                continue
            name = self.name("a field name").lower()
            self.skip_space()
            if self.char() != "=":
                found_char = repr(self.char()) if self.char() else self.where()
                raise _Unreadable(f"expected '=' after field name '{name}' at line {self.line()}, found {found_char}")
            self.pos += 1
            self.undefined = []
            value = self.value(name)
            if name in found:
                repeated[name] = repeated.get(name, 1) + 1
            else:
                found[name] = value
                if self.undefined:
                    undefined[name] = self.undefined
            self.skip_space(comments=True)
            if self.char() and self.char() not in ",})" and self.expect_field_start():
                self.warnings.append(f"a ',' is missing before line {self.line()}; read as the next field")
            elif self.char() and self.char() not in f",{closing}":
                raise _Unreadable(f"expected ',' or '{closing}' after field '{name}' at line {self.line()}, "
                                  f"found {self.char()!r}")
        if repeated:
            names = ", ".join(f"'{name}' ({count} times)" for name, count in repeated.items())
            self.warnings.append(f"repeated field {names}: the first value is kept")
        return found, undefined

    def extra_closing(self) -> bool:
        """Whether the entry's closing '}' just read is an extra one: more fields follow it (a ',' alone
        after an entry is harmless)."""
        after = _SPACE.match(self.text, self.pos).end()
        if after < self.end and self.text[after] == ",":
            after = _SPACE.match(self.text, after + 1).end()
        if after < self.end and _FIELD_START.match(self.text, after, self.end):
            self.warnings.append(f"an extra '}}' at line {self.line(self.pos - 1)} closed the entry before its last "
                                 "fields; it was ignored")
            return True
        return False


def _string_definitions(parser: _Parser, closing: str) -> None:
    while True:
        parser.skip_space()
        if parser.char() == closing or parser.pos >= parser.end:
            parser.pos += 1
            return
        if parser.char() == ",":
            parser.pos += 1
            continue
        name = parser.name("a @string name")
        parser.skip_space()
        if parser.char() != "=":
            raise _Unreadable(f"expected '=' after @string name '{name}' at line {parser.line()}")
        parser.pos += 1
        parser.strings[name.lower()] = parser.value(name)


def parse(text: str) -> Iterator[Entry | Broken]:
    """The entries of a BibTeX file in order; @string definitions are applied as they come."""
    strings: dict[str, str] = {}
    lines = _Lines(text)
    pos, following = 0, -1
    while (match := _START.search(text, pos)) is not None:
        start = match.start()
        kind = match.group(1).lower()
        if following <= start:  # the item must end before the next line that starts an entry
            found = _LINE_START.search(text, start + 1)
            following = found.start() if found else len(text)
        if kind in ("comment", "preamble"):
            pos = _skip_group(text, match.end(), following)
            continue
        if kind == "string":
            parser = _Parser(text, match.end(), following, strings, lines)
            try:
                _string_definitions(parser, _closing(match))
                pos = max(parser.pos, match.end())
            except _Unreadable as exc:
                yield Broken(lines(start), "", str(exc), "string")
                pos = following
            continue
        item, end, closed = _entry(text, match, following, strings, lines, recover=False)
        if not closed:  # try again, ending a value whose '}' is missing at the end of its line
            retry = _entry(text, match, following, strings, lines, recover=True)
            if retry[2]:
                item, end, closed = retry
        yield item
        pos = end


def _closing(match: re.Match) -> str:
    return ")" if match.group(2) == "(" else "}"


def _entry(text: str, match: re.Match, following: int, strings: dict[str, str], lines: _Lines, recover: bool
           ) -> tuple[Entry | Broken, int, bool]:
    """The entry that `match` starts, where reading goes on after it, and whether it closed properly."""
    line = lines(match.start())
    parser = _Parser(text, match.end(), following, strings, lines, recover)
    key = ""
    try:
        key = _key(parser, _closing(match))
        fields, undefined = parser.fields(_closing(match))
    except _Unreadable as exc:
        return Broken(line, key, str(exc)), following, False
    return Entry(line, match.group(1).lower(), key, fields, undefined, parser.warnings), \
        max(parser.pos, match.end()), parser.closed


def _key(parser: _Parser, closing: str) -> str:
    """The citation key, or '' for an entry without one (its first field follows the brace)."""
    parser.skip_space()
    if parser.expect_field_start():
        return ""
    match = _KEY.match(parser.text, parser.pos, parser.end)
    key = match.group(0)
    parser.pos = match.end()
    parser.skip_space()
    if parser.char() == ",":
        parser.pos += 1
    elif parser.char() != closing:
        found = repr(parser.char()) if parser.char() else parser.where()
        raise _Unreadable(f"expected ',' after the key '{key}' at line {parser.line()}, found {found}")
    return key


def _skip_group(text: str, pos: int, end: int) -> int:
    """The position after the balanced group that opened just before `pos` (or `end` if unclosed)."""
    depth = 1
    for i in range(pos, end):
        if text[i] in "{(":
            depth += 1
        elif text[i] in "})":
            depth -= 1
            if depth == 0:
                return i + 1
    return end
