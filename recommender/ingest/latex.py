"""LaTeX markup in titles, abstracts and names (BibTeX, arXiv's metadata) turned into plain text.

Most fields only use accents, escapes, braces and dashes: a few regular expressions handle those,
because pylatexenc takes milliseconds per abstract (a 5,000-entry library would take half a minute).
Fields that still hold macros or math after that go to pylatexenc.
"""
from __future__ import annotations

import re
import unicodedata

from pylatexenc.latex2text import LatexNodes2Text

_SPACES = re.compile(r"\s+")
_LATEX_SPECIAL = re.compile(r"[\\{}$~%]|--")
_BARE_PERCENT = re.compile(r"(?<!\\)%")  # in LaTeX '%' starts a comment; in exported abstracts it means percent
_CONVERTER = LatexNodes2Text()

_COMBINING = {
    '"': "\u0308", "'": "\u0301", "`": "\u0300", "^": "\u0302", "~": "\u0303", "=": "\u0304", ".": "\u0307",
    "c": "\u0327", "v": "\u030c", "u": "\u0306", "H": "\u030b", "k": "\u0328", "r": "\u030a",
}
_LETTER = r"(?:\\[ij](?![A-Za-z])|[A-Za-z])"
_SYMBOL_ACCENT = re.compile(r"\\([\"'`^~=.])\s*(?:\{\s*(" + _LETTER + r")\s*\}|(" + _LETTER + r"))")
_LETTER_ACCENT = re.compile(r"\\([cvuHkr])(?:\s*\{\s*(" + _LETTER + r")\s*\}|\s+(" + _LETTER + r"))")
_SPECIAL_LETTERS = {
    "ss": "ß", "o": "ø", "O": "Ø", "ae": "æ", "AE": "Æ", "oe": "œ", "OE": "Œ", "aa": "å", "AA": "Å",
    "l": "ł", "L": "Ł", "i": "ı", "j": "ȷ",
}
_SPECIAL_LETTER = re.compile(r"\\(ss|ae|AE|oe|OE|aa|AA|[oOlLij])(?![A-Za-z])(?:\{\}|\s*)")
_ESCAPED = {"&": "&", "%": "%", "$": "\x01", "#": "#", "_": "_", "{": "\x02", "}": "\x03"}
_ESCAPE = re.compile(r"\\([&%$#_{}])")


def _accent(match: re.Match) -> str:
    letter = (match.group(2) or match.group(3)).replace("\\i", "i").replace("\\j", "j")
    return unicodedata.normalize("NFC", letter + _COMBINING[match.group(1)])


def _simple_latex_to_text(value: str) -> str | None:
    """The text, or None when markup beyond accents, escapes, braces and dashes is left."""
    text = _SYMBOL_ACCENT.sub(_accent, value)
    text = _LETTER_ACCENT.sub(_accent, text)
    text = _SPECIAL_LETTER.sub(lambda m: _SPECIAL_LETTERS[m.group(1)], text)
    text = _ESCAPE.sub(lambda m: _ESCAPED[m.group(1)], text)
    if "\\" in text or "$" in text:
        return None
    text = text.replace("{", "").replace("}", "").replace("---", "—").replace("--", "–").replace("~", " ")
    return text.replace("\x01", "$").replace("\x02", "{").replace("\x03", "}")


def latex_to_text(value: str | None) -> str:
    """'{BERT}: {\\"U}ber \\& co' -> 'BERT: Über & co', on one line."""
    value = _SPACES.sub(" ", value or "").strip()
    if not _LATEX_SPECIAL.search(value):
        return value
    text = _simple_latex_to_text(value)
    if text is None:
        try:
            text = _CONVERTER.latex_to_text(_BARE_PERCENT.sub(r"\\%", value))
        except Exception:  # pylatexenc is tolerant, but a garbled field must not stop the whole file
            text = re.sub(r"\\[A-Za-z]+|[\\{}]", "", value)
    return _SPACES.sub(" ", text).strip()
