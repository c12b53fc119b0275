"""Which papers a query may return: year range, categories, authors, excluded ids."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import UsageError
from ..records import Paper
from ..refs import fold  # lowercase without accents: names and categories compare as references do


@dataclass
class Filters:
    year_from: int | None = None
    year_to: int | None = None
    categories: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.year_from is not None and self.year_to is not None and self.year_from > self.year_to:
            raise UsageError(f"--year-from {self.year_from} is after --year-to {self.year_to}; swap them")

    @property
    def active(self) -> bool:
        return bool(self.year_from or self.year_to or self.categories or self.authors)

    def accepts(self, paper: Paper) -> bool:
        # A paper of unknown year fails any year bound: the user asked for a period we cannot vouch for.
        if self.year_from is not None and (paper.year is None or paper.year < self.year_from):
            return False
        if self.year_to is not None and (paper.year is None or paper.year > self.year_to):
            return False
        if self.categories and not any(_category_match(want, have) for want in self.categories for have in paper.categories):
            return False
        if self.authors:
            names = [fold(a) for a in paper.authors]
            if not any(fold(want) in name for want in self.authors for name in names):
                return False
        return True


def _category_match(want: str, have: str) -> bool:
    """`LG` matches `cs.LG`; `cs.LG` matches `LG` from listings that drop the archive; `cs` matches `cs.*`."""
    want, have = fold(want), fold(have)
    if want == have or have.startswith(want + "."):
        return True
    if "." not in want or "." not in have:
        return want.rsplit(".", 1)[-1] == have.rsplit(".", 1)[-1]
    return False
