"""A reading list as the API returns it: themes, and the papers in reading order with their reasons."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..records import Result


@dataclass
class Theme:
    name: str  # its first characteristic terms, joined
    terms: list[str]  # characteristic terms, most telling first
    items: list[Result] = field(default_factory=list)  # in reading order


@dataclass
class ReadingList:
    """`items`: every paper in reading order (theme by theme), each Result with `.reason` set and
    `.rank` = its rank by relevance within the list (1 = most relevant)."""

    query: dict[str, Any]  # what the list was made from: text, like, unlike, bib
    themes: list[Theme]
    title: str = ""  # one line that says what the list is for

    @property
    def items(self) -> list[Result]:
        return [item for theme in self.themes for item in theme.items]

    def theme_of(self, item: Result) -> Theme:
        return next(theme for theme in self.themes if any(i is item for i in theme.items))

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "title": self.title,
            "themes": [{"name": t.name, "terms": t.terms, "ids": [i.paper.id for i in t.items]} for t in self.themes],
            "items": [{"position": position, "theme": theme.name, "reason": item.reason, **item.to_dict()}
                      for position, (theme, item) in enumerate(
                          ((theme, item) for theme in self.themes for item in theme.items), 1)],
        }
