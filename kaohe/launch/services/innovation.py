"""Refined innovation items: the sub-items of the innovation indicator that each lead
department refines for its category, the units' answers to them and their copy into a new
round. The refinement is part of the round's scheme (what units answer and are graded on):
it freezes with it, and a change after the launch step's due date is logged as late."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from kaohe.audit.services import log_action
from kaohe.launch.models import RefinedItem, RefinedItemAnswer
from kaohe.launch.services.common import LaunchError, ensure_ranked, is_late
from kaohe.lib import clock
from kaohe.rounds.guards import ensure_round_writable, refusal_text
from kaohe.rounds.models import IndicatorItem, Round
from kaohe.rounds.services import RoundError, check_scheme_editable

if TYPE_CHECKING:
    from kaohe.accounts.models import User
    from kaohe.directory.models import LeadDepartment
    from kaohe.submissions.models import SelfReport

INNOVATION_INDICATOR = 13


def innovation_items(round: Round) -> QuerySet[IndicatorItem]:
    """The sub-items of the innovation indicator (13) that lead departments refine."""
    return IndicatorItem.objects.filter(indicator__round=round,
                                        indicator__number=INNOVATION_INDICATOR)


def _check_refinable(round_id: int) -> Round:
    """Refuse a change of the refinement once the round's scheme is frozen (its first result
    set computed, or the round closed). The round's row is locked as for the scheme's other
    changes, so a result set computed at the same moment comes before or after, never in
    between. Returns the locked round."""
    ensure_round_writable(round_id, error=LaunchError)
    round_ = Round.objects.select_for_update().get(pk=round_id)
    try:
        check_scheme_editable(round_)
    except RoundError as refusal:
        raise LaunchError(refusal_text(refusal)) from None
    return round_


def _late(round_: Round) -> bool:
    """Whether a change today comes after the launch step's due date (as the teams' and
    the plans' filings of step 1)."""
    return is_late(round_, "launch", clock.today())


@transaction.atomic
def refined_item_add(*, round: Round, lead_department: LeadDepartment, item: IndicatorItem,
                     name: str, description: str, actor: User) -> RefinedItem:
    _check_refinable(round.pk)
    ensure_ranked(lead_department)
    if not innovation_items(round).filter(pk=item.pk).exists():
        raise LaunchError(_("只能细化本年度工作创新指标的子项。"))
    if not name.strip():
        raise LaunchError(_("请填写细化内容。"))
    last = (RefinedItem.objects.filter(round=round, lead_department=lead_department, item=item)
            .order_by("-order").values_list("order", flat=True).first())
    refined = RefinedItem.objects.create(round=round, lead_department=lead_department,
                                         item=item, order=(last or 0) + 1, name=name.strip(),
                                         description=description.strip(), created_by=actor)
    log_action("launch.refined_item.added", actor=actor, target=refined,
               data={"item": item.code, "name": refined.name, "late": _late(round)})
    return refined


@transaction.atomic
def refined_item_update(*, refined: RefinedItem, name: str, description: str,
                        actor: User) -> None:
    round_ = _check_refinable(refined.round_id)
    if not name.strip():
        raise LaunchError(_("请填写细化内容。"))
    changes = {}
    for field, value in (("name", name.strip()), ("description", description.strip())):
        if getattr(refined, field) != value:
            changes[field] = {"old": getattr(refined, field), "new": value}
            setattr(refined, field, value)
    if changes:
        refined.save(update_fields=list(changes))
        log_action("launch.refined_item.changed", actor=actor, target=refined,
                   data={**changes, "late": _late(round_)})


@transaction.atomic
def refined_item_remove(*, refined: RefinedItem, actor: User) -> None:
    """Remove an item no unit has answered yet; answered ones would lose the unit's text."""
    round_ = _check_refinable(refined.round_id)
    if refined.answers.exclude(text="").exists():
        raise LaunchError(_("已有单位填写了该项内容，不能删除；可修改其名称和说明。"))
    log_action("launch.refined_item.removed", actor=actor, target=refined,
               data={"item": refined.item.code, "name": refined.name,
                     "late": _late(round_)})
    refined.delete()


def refined_answers_apply(*, report: SelfReport, items: dict[int, RefinedItem],
                          texts: dict[int, str]) -> list[str]:
    """Store a self-report's answers to refined items (keyed by item id); the caller
    (kaohe.submissions.services.self_report_save) has checked the report and the keys and
    holds the transaction. Returns the keys that changed."""
    existing = {a.refined_item_id: a for a in
                RefinedItemAnswer.objects.filter(report=report, refined_item_id__in=texts)}
    changed = []
    for pk, text in texts.items():
        answer = existing.get(pk)
        if answer is None:
            if text.strip():
                RefinedItemAnswer.objects.create(report=report, refined_item=items[pk], text=text)
                changed.append(f"refined:{pk}")
        elif answer.text != text:
            answer.text = text
            answer.save(update_fields=["text"])
            changed.append(f"refined:{pk}")
    return changed


def refined_items_copy(*, source: Round, target: Round) -> int:
    """Carry the refined items into a copied round, matched by sub-item code (round_copy)."""
    items = {(i.indicator.number, i.code): i
             for i in IndicatorItem.objects.filter(indicator__round=target)
             .select_related("indicator")}
    copies = []
    for refined in (RefinedItem.objects.filter(round=source)
                    .select_related("item__indicator").order_by("pk")):
        item = items.get((refined.item.indicator.number, refined.item.code))
        if item is not None:
            copies.append(RefinedItem(round=target, lead_department_id=refined.lead_department_id,
                                      item=item, order=refined.order, name=refined.name,
                                      description=refined.description))
    RefinedItem.objects.bulk_create(copies)
    return len(copies)
