"""arXiv's OAI-PMH interface: bulk harvests by set and date, page after page through resumption tokens.

ListRecords with metadataPrefix=arXivRaw gives every version with its date; the `arXiv` prefix (structured
authors, created/updated) reads too. A page that does not parse (a cut body) is retried; a rerun after an
interruption replays the pages already fetched from the HTTP cache, so nothing is fetched twice.
"""
from __future__ import annotations

import email.utils
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx

from ..ingest.ids import normalise_arxiv_id, normalise_doi
from .errors import ServerRefused, Transient
from .http import HttpClient
from .record import FetchedPaper, one_line

DEFAULT_ENDPOINT = "https://oaipmh.arxiv.org/oai"
ENDPOINT_VARIABLE = "RECOMMENDER_ARXIV_OAI_ENDPOINT"
MIN_INTERVAL = 3.0
OAI = "{http://www.openarchives.org/OAI/2.0/}"
PHYSICS_ARCHIVES = {"astro-ph", "cond-mat", "gr-qc", "hep-ex", "hep-lat", "hep-ph", "hep-th", "math-ph", "nlin",
                    "nucl-ex", "nucl-th", "physics", "quant-ph"}


@dataclass
class OaiPage:
    papers: list[FetchedPaper]
    token: str | None
    complete_size: int | None
    skipped: list[str] = field(default_factory=list)  # "identifier: reason"


def client(contact: str | None = None, use_cache: bool = True) -> HttpClient:
    return HttpClient("arXiv OAI-PMH", min_interval=MIN_INTERVAL, contact=contact, use_cache=use_cache)


def set_spec(category: str) -> str:
    """The OAI set holding a category: cs.LG -> cs, hep-th -> physics:hep-th, astro-ph.GA -> physics:astro-ph."""
    archive = category.split(".")[0]
    return f"physics:{archive}" if archive in PHYSICS_ARCHIVES else archive


def _text(element, name: str, ns: str) -> str:
    found = element.find(f"{ns}{name}")
    return one_line(found.text) if found is not None and found.text else ""


def _rfc1123_to_iso(value: str) -> str | None:
    try:
        return email.utils.parsedate_to_datetime(value).date().isoformat()
    except (TypeError, ValueError):
        return None


def _split_raw_authors(text: str) -> list[str]:
    parts = re.split(r",\s*(?:and\s+)?|\s+and\s+", one_line(text))
    return [p.strip() for p in parts if p.strip()]


def _paper(metadata, identifier: str) -> FetchedPaper:
    raw = metadata.find("{http://arxiv.org/OAI/arXivRaw/}arXivRaw")
    structured = metadata.find("{http://arxiv.org/OAI/arXiv/}arXiv")
    if raw is None and structured is None:
        raise ValueError("neither arXivRaw nor arXiv metadata")
    node = raw if raw is not None else structured
    ns = node.tag.split("}")[0] + "}"
    arxiv_id = normalise_arxiv_id(_text(node, "id", ns)) or normalise_arxiv_id(identifier.split(":")[-1])
    if not arxiv_id:
        raise ValueError("no arXiv id")
    if raw is not None:
        versions = [{"version": v.get("version", ""), "date": _rfc1123_to_iso(_text(v, "date", ns)) or ""}
                    for v in node.findall(f"{ns}version")]
        authors = _split_raw_authors(_text(node, "authors", ns))
    else:
        versions = [{"version": "v1", "date": _text(node, "created", ns)}]
        authors = [one_line(f"{_text(a, 'forenames', ns)} {_text(a, 'keyname', ns)}")
                   for a in node.findall(f"{ns}authors/{ns}author")]
    dates = [v["date"] for v in versions if v["date"]]
    dois = _text(node, "doi", ns).split()
    return FetchedPaper(
        id=arxiv_id, arxiv_id=arxiv_id, title=_text(node, "title", ns), abstract=_text(node, "abstract", ns),
        authors=authors, categories=_text(node, "categories", ns).split(),
        date=dates[0] if dates else None, updated=(_text(node, "updated", ns) or (dates[-1] if dates else None)),
        doi=normalise_doi(dois[0]) if dois else None, versions=versions,
        url=f"https://arxiv.org/abs/{arxiv_id}",
        links={"abs": f"https://arxiv.org/abs/{arxiv_id}", "pdf": f"https://arxiv.org/pdf/{arxiv_id}",
               **({"doi": f"https://doi.org/{normalise_doi(dois[0])}"} if dois else {})},
        venue=_text(node, "journal-ref", ns) or None, comment=_text(node, "comments", ns) or None,
        fetched_from="arxiv-oai",
    )


def parse_page(response: httpx.Response) -> OaiPage:
    from lxml import etree

    if response.status_code != 200:
        raise ServerRefused(f"arXiv OAI-PMH answered HTTP {response.status_code} to {response.request.url}")
    try:
        root = etree.fromstring(response.content)
    except etree.XMLSyntaxError as exc:
        raise Transient(f"arXiv OAI-PMH sent an incomplete page ({exc}); the body was cut") from None
    error = root.find(f"{OAI}error")
    if error is not None:
        if error.get("code") == "noRecordsMatch":
            return OaiPage([], None, 0)
        raise ServerRefused(f"arXiv OAI-PMH refused the request: {error.get('code')}: {one_line(error.text)}")
    listing = root.find(f"{OAI}ListRecords")
    if listing is None:
        listing = root.find(f"{OAI}GetRecord")
    if listing is None:
        raise Transient("arXiv OAI-PMH sent a page without ListRecords (not an OAI-PMH answer)")
    papers, skipped = [], []
    for record in listing.findall(f"{OAI}record"):
        header = record.find(f"{OAI}header")
        identifier = _text(header, "identifier", OAI) if header is not None else ""
        if header is not None and header.get("status") == "deleted":
            skipped.append(f"{identifier}: deleted")
            continue
        metadata = record.find(f"{OAI}metadata")
        if metadata is None:
            skipped.append(f"{identifier or 'record'}: no metadata")
            continue
        try:
            papers.append(_paper(metadata, identifier))
        except ValueError as exc:
            skipped.append(f"{identifier or 'record'}: {exc}")
    token_node = listing.find(f"{OAI}resumptionToken")
    token = one_line(token_node.text) if token_node is not None and token_node.text else None
    size = token_node.get("completeListSize") if token_node is not None else None
    return OaiPage(papers, token, int(size) if size and size.isdigit() else None, skipped)


def harvest(http: HttpClient, endpoint: str, *, set_name: str | None, since: str | None, until: str | None,
            prefix: str = "arXivRaw", skipped: list[str] | None = None) -> Iterator[FetchedPaper]:
    """Every record of the set and date range, following resumption tokens to the end."""
    params: dict[str, str] = {"verb": "ListRecords", "metadataPrefix": prefix}
    if set_name:
        params["set"] = set_name
    if since:
        params["from"] = since
    if until:
        params["until"] = until
    while True:
        page = http.get(endpoint, params, parse_page)
        if skipped is not None:
            skipped.extend(page.skipped)
        yield from page.papers
        if not page.token:
            return
        params = {"verb": "ListRecords", "resumptionToken": page.token}
