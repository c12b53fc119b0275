"""Papers from where they live: the only part of the tool that goes online, and only when asked.

    from recommender.fetch.sources import FetchRequest, make_client, papers
    request = FetchRequest("arxiv", categories=["cs.LG"], since="2026-11-01", max_results=200)
    with make_client(request) as http:
        for paper in papers(request, http): ...

Modules: http (pacing, retries, the on-disk cache, one-line errors), arxiv_api (Atom search pages),
arxiv_oai (OAI-PMH harvests with resumption tokens), arxiv_rss (daily announcements), openalex (works,
cursor paging, abstracts from inverted indexes), sources (one request shape for every source), sink
(a resumable JSONL corpus), match (strict title matching), enrich (abstracts into a user's .bib),
feed (new papers ranked by a profile, remembered in a state file).
"""
