"""Make arxiv_rss_excerpt.jsonl from the recorded arXiv RSS feed (run from the repository root).

Takes the items whose titles carry LaTeX math or an ampersand, with title and abstract exactly as they stand
in the feed's XML source (entities such as `&amp;` not decoded: what a copy of the feed's source, or a tool
that forgets to decode it, hands the index), the arXiv id from the item's link, creators and categories.
"""
import json
import re
import sys
from pathlib import Path

FEED = Path("../shared/fixtures/live-sources/arxiv_rss/LARGE_rss2_2024-11-28_all-archives_1504-items.xml")
WANTED = ("$H^3$Fusion", "Design &amp; Optimization of the HV divider", "Strong Error Bounds for Trotter &amp;",
          "Dynkin graph $A_n$", "vertex-transitive graphs of order $10p$")


def field(item: str, tag: str) -> str:
    match = re.search(rf"<{tag}>(.*?)</{tag}>", item, flags=re.S)
    return match.group(1).strip() if match else ""


def main() -> None:
    text = FEED.read_text(encoding="utf-8")
    out = []
    for item in re.findall(r"<item>(.*?)</item>", text, flags=re.S):
        title = field(item, "title")
        if not any(w in title for w in WANTED):
            continue
        description = field(item, "description")
        abstract = description.split("Abstract:", 1)[-1].strip()
        arxiv_id = field(item, "link").rsplit("/", 1)[-1]
        out.append({"arxiv_id": arxiv_id, "title": title, "abstract": abstract,
                    "authors": field(item, "dc:creator"), "categories": re.findall(r"<category>(.*?)</category>", item),
                    "date": "2024-11-28"})
    sys.stdout.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in out))


if __name__ == "__main__":
    main()
