"""Turn recorded arXiv API responses (Atom) into the JSON Lines corpus tests/data/refs/arxiv_api.jsonl.

    python tests/data/refs/from_arxiv_api.py ../shared/fixtures/live-sources/arxiv_api/search_q-testing_start0_max10.atom.xml \
        ../shared/fixtures/live-sources/arxiv_api/idlist_astro-ph_0601001_old-style-id.atom.xml > tests/data/refs/arxiv_api.jsonl

Each entry keeps what the API gave: the id as its abs URL ends (with the version, "2202.12139v1"),
title, summary, authors, categories, published date, and the DOI when the entry has one. Nothing is edited.
"""
from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET

NS = {"a": "http://www.w3.org/2005/Atom", "arxiv": "http://arxiv.org/schemas/atom"}


def records(path: str):
    for entry in ET.parse(path).getroot().findall("a:entry", NS):
        record = {
            "id": entry.findtext("a:id", namespaces=NS).rsplit("/abs/", 1)[1],
            "title": " ".join(entry.findtext("a:title", namespaces=NS).split()),
            "abstract": " ".join(entry.findtext("a:summary", namespaces=NS).split()),
            "authors": [a.findtext("a:name", namespaces=NS) for a in entry.findall("a:author", NS)],
            "categories": [c.get("term") for c in entry.findall("a:category", NS)],
            "date": entry.findtext("a:published", namespaces=NS)[:10],
        }
        doi = entry.findtext("arxiv:doi", namespaces=NS)
        if doi:
            record["doi"] = doi
        yield record


if __name__ == "__main__":
    for path in sys.argv[1:]:
        for record in records(path):
            print(json.dumps(record, ensure_ascii=False))
