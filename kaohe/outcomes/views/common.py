"""What several outcomes pages share: the round the tracking pages work on, and a
rectification report's items (with their files) and history as the unit's page and the
tracking pages show them."""

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from kaohe.outcomes.models import (
    RectificationAttachment,
    RectificationEvent,
    RectificationItem,
    RectificationReport,
)
from kaohe.outcomes.selectors import as_it_stands, handed_over, tracking_round
from kaohe.rounds.models import Round
from kaohe.rounds.selection import explicit_round


def tracking_round_or_404() -> Round:
    """The round chosen (``?year=``), else the round being tracked; 404 when there is none."""
    round_ = explicit_round() or tracking_round()
    if round_ is None:
        raise Http404
    return round_


@dataclass(frozen=True)
class ItemShown:
    """An item as the pages show it: with its attached files and whether the unit may
    change it now; everything else is the item's own."""

    item: RectificationItem
    files: list[RectificationAttachment]
    editable: bool

    def __getattr__(self, name: str) -> Any:
        return getattr(self.item, name)

    @property
    def key(self) -> str:
        """How the unit's form names the item: its id, or ``new`` and its order while the
        report is not saved yet (its first save creates the items in that order)."""
        return str(self.item.pk) if self.item.pk is not None else f"new{self.item.order}"


def report_as_handed_over(report: RectificationReport) -> tuple[str, list[ItemShown]]:
    """The summary and items with their files as others read them (outcomes.selectors.
    handed_over: a sent-back item's revision stays the unit's until submitted again)."""
    shown = handed_over(report)
    return shown.summary, [ItemShown(item, files=shown.files.get(item.pk, []), editable=False)
                           for item in shown.items]


def items_with_files(report: RectificationReport,
                     editable: Collection[int] = frozenset()) -> list[ItemShown]:
    """The report's items with their files, as they stand (its unit's view); ``editable``
    holds the ids of those the unit may change now."""
    _summary, items, files = as_it_stands(report)
    return [ItemShown(item, files=files.get(item.pk, []), editable=item.pk in editable)
            for item in items]


def report_history(report: RectificationReport) -> QuerySet[RectificationEvent]:
    return report.events.select_related("actor", "item")
