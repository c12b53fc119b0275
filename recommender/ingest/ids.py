"""Stable paper ids and the normalisations they rest on (titles, arXiv ids, DOIs)."""
from __future__ import annotations

import hashlib
import re
import unicodedata

# New-style arXiv ids (2007 on): YYMM.NNNN or YYMM.NNNNN; old style: archive[.SUBJ]/YYMMNNN.
_ARXIV_NEW = r"\d{4}\.\d{4,5}"
_ARXIV_OLD = r"[a-z][a-z\-]*(?:\.[A-Za-z]{2})?/\d{7}"
_ARXIV_ID = re.compile(rf"^(?P<id>{_ARXIV_NEW}|{_ARXIV_OLD})(?:v\d+)?$")
_ARXIV_IN_URL = re.compile(rf"arxiv\.org/(?:abs|pdf|html)/(?P<id>{_ARXIV_NEW}|{_ARXIV_OLD})(?:v\d+)?", re.I)
_ARXIV_PREFIX = re.compile(r"^\s*arxiv\s*:\s*", re.I)
_DOI_PREFIX = re.compile(r"^\s*(?:https?://(?:dx\.)?doi\.org/|doi\s*:\s*)", re.I)
_NOT_WORD = re.compile(r"[\W_]+")
_DOI = re.compile(r"^10(?:\.\d+)*/\S+$")


def normalise_title(title: str) -> str:
    """Title reduced to what tells papers apart: accents, case and punctuation dropped."""
    decomposed = unicodedata.normalize("NFKD", title)
    no_accents = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NOT_WORD.sub(" ", no_accents.lower()).strip()


def normalise_arxiv_id(value: object) -> str | None:
    """'arXiv:2310.09639v2' or 'https://arxiv.org/abs/2310.09639' -> '2310.09639'; None if not an arXiv id."""
    if value is None:
        return None
    text = str(value).strip()
    found = _ARXIV_IN_URL.search(text)
    if found:
        return found.group("id")
    text = _ARXIV_PREFIX.sub("", text)
    if text.lower().endswith(".pdf"):
        text = text[:-4]
    match = _ARXIV_ID.match(text)
    return match.group("id") if match else None


def normalise_doi(value: object) -> str | None:
    """'https://doi.org/10.1000/ABC' -> '10.1000/abc' (DOIs are case-insensitive); a shortDOI such as
    '10/gj826m' (Zotero writes them) is kept as it is; None if not a DOI."""
    if value is None:
        return None
    text = _DOI_PREFIX.sub("", str(value).strip()).strip().lower()
    return text if _DOI.match(text) else None


def title_hash_id(title: str) -> str:
    """Id for a paper known only by its title; the same title always gets the same id."""
    key = normalise_title(title) or title.strip()  # a title of punctuation alone still needs an id
    return "t:" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:12]


def stable_id(given_id: object, arxiv_id: str | None, doi: str | None, title: str) -> str:
    """The id a paper is known by: the given id as written, else the arXiv id, else the DOI, else a
    title hash. A given id that is an arXiv identifier ('2603.10877v1', 'arXiv:2603.10877',
    'http://arxiv.org/abs/2603.10877v1', as arXiv API exports write them) is the version-less arXiv
    id, so every version of a paper is the same paper."""
    if given_id is not None and str(given_id).strip():
        return normalise_arxiv_id(given_id) or str(given_id)
    return arxiv_id or doi or title_hash_id(title)
