"""Rectification (step 7): the unit's report built from its feedback and the items carried
over, saved, attached to, submitted and resubmitted by the unit; reviewed item by item by
its lead department or the office; extended by the office; and the rule for when the unit
may still change it (also asked by the evidence upload)."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from kaohe.audit.services import log_action
from kaohe.directory.models import Unit
from kaohe.lib import clock
from kaohe.outcomes.models import (
    EventKind,
    Feedback,
    ItemSource,
    ItemStatus,
    RectificationAttachment,
    RectificationEvent,
    RectificationItem,
    RectificationReport,
)
from kaohe.outcomes.selectors import released_feedback
from kaohe.outcomes.services.common import OutcomeError, day_label
from kaohe.rounds.guards import ensure_round_writable
from kaohe.submissions import deadlines
from kaohe.submissions.models import Extension

if TYPE_CHECKING:
    from kaohe.accounts.models import User
    from kaohe.evidence.models import Evidence
    from kaohe.grading.models import ResultSet
    from kaohe.rounds.models import Round


def _lines(text: str) -> list[str]:
    return [line.strip(" \t-•·") for line in text.splitlines() if line.strip(" \t-•·")]


def _letter_lines(feedback: Feedback | None) -> list[tuple[ItemSource, str]]:
    """One (source, text) per problem and suggestion line of a letter."""
    if feedback is None:
        return []
    return ([(ItemSource.PROBLEM, t) for t in _lines(feedback.problems)]
            + [(ItemSource.SUGGESTION, t) for t in _lines(feedback.suggestions)])


def rectification_items(*, round: Round, unit: Unit) -> list[RectificationItem]:
    """The items a new report starts with, unsaved: one per problem and suggestion line of
    the unit's letter in force, then the unfinished items carried over from the previous
    round. What the unit's page shows before its first save (a GET writes nothing)."""
    items: list[tuple[ItemSource, str, RectificationItem | None]] = [
        (source, text, None) for source, text in _letter_lines(released_feedback(round, unit))]
    items += [(ItemSource.CARRIED, item.text, item) for item in unfinished_items(
        round=round, unit=unit)]
    return [RectificationItem(order=i, source=source, text=text, carried_from=origin)
            for i, (source, text, origin) in enumerate(items, start=1)]


@transaction.atomic
def rectification_for(*, round: Round, unit: Unit) -> RectificationReport:
    """The unit's report, created with its items (rectification_items) the first time it is
    written to: by the unit's first save, or by the office's extension. A closed round's
    report is read, never created."""
    report = RectificationReport.objects.filter(round=round, unit=unit).first()
    if report is not None:
        return report
    ensure_round_writable(round, error=OutcomeError)
    report, created = RectificationReport.objects.get_or_create(round=round, unit=unit)
    if created:
        items = rectification_items(round=round, unit=unit)
        for item in items:
            item.report = report
        RectificationItem.objects.bulk_create(items)
    return report


@transaction.atomic
def rectification_follow_letters(*, result_set: ResultSet, actor: User) -> int:
    """When a correction is released, a report not yet submitted follows the unit's
    corrected letter: an item whose line is still in the letter stays as the unit filled it
    in, one whose line is gone is removed, a new line becomes a new item, and the
    carried-over items come after them. What the unit wrote in a removed item and the files
    it attached there are kept in the audit entry; the files themselves stay among the
    unit's evidence (only the attachment goes: evidence is never deleted). A submitted
    report stays as it was submitted. Returns the number of reports changed."""
    letters = {f.unit_id: f for f in Feedback.objects.filter(result_set=result_set,
                                                              corrected=True)}
    changed = 0
    for report in RectificationReport.objects.select_for_update().filter(
            round_id=result_set.round_id, unit_id__in=letters, submitted_at__isnull=True):
        items = list(report.items.all())
        from_letter = {}
        removed = []
        for item in items:
            if item.source == ItemSource.CARRIED:
                continue
            if (item.source, item.text) in from_letter:
                removed.append(item)
            else:
                from_letter[(item.source, item.text)] = item
        wanted = _letter_lines(letters[report.unit_id])
        removed += [item for key, item in from_letter.items() if key not in wanted]
        ordered = [from_letter.get((source, text)) or RectificationItem(
            report=report, source=source, text=text) for source, text in wanted]
        ordered += [item for item in items if item.source == ItemSource.CARRIED]
        added = [item for item in ordered if item.pk is None]
        if not removed and not added and [i.pk for i in ordered] == [i.pk for i in items]:
            continue
        files: dict[int, list[dict[str, Any]]] = {}
        for attachment in RectificationAttachment.objects.filter(
                item__in=removed).select_related("evidence"):
            evidence = attachment.evidence
            files.setdefault(attachment.item_id, []).append({
                "evidence": str(evidence.pk), "name": evidence.original_name,
                "size": evidence.size, "sha256": evidence.sha256})
        # The attachments go with their items (CASCADE); the evidence they name is kept.
        RectificationItem.objects.filter(pk__in=[item.pk for item in removed]).delete()
        for order, item in enumerate(ordered, start=1):
            item.order = order
            item.save()
        changed += 1
        log_action("outcomes.rectification.followed_correction", actor=actor, target=report,
                   data={"version": result_set.version,
                         "added": [item.text for item in added],
                         "removed": [{"text": item.text, "measures": item.measures,
                                      "evidence_note": item.evidence_note,
                                      "files": files.get(item.pk, [])}
                                     for item in removed]})
    return changed


def unfinished_items(*, round: Round, unit: Unit) -> QuerySet[RectificationItem]:
    """Items of the unit's previous rounds that were never done (or not accepted)."""
    return RectificationItem.objects.filter(
        report__unit=unit, report__round__year__lt=round.year,
    ).exclude(status=ItemStatus.DONE).exclude(carried_to__report__round=round).select_related(
        "report__round")


def reopened(report: RectificationReport) -> bool:
    """A submitted report sent back: some item was found 整改不到位 and awaits revision."""
    return report.submitted_at is not None and report.items.filter(needs_revision=True).exists()


def _check_open(report: RectificationReport) -> None:
    """A report is open until submitted, within its deadline (or extension); once an item is
    found 整改不到位 it is open again for that item, whatever the date (the reviewer asked)."""
    ensure_round_writable(report.round_id, error=OutcomeError)
    if report.submitted_at is not None:
        if not reopened(report):
            raise OutcomeError(_("整改报告已报送，不能再修改。"))
        return
    step = report.round.steps.get(code="rectification")
    if not deadlines.is_open(step, unit=report.unit):
        raise OutcomeError(_("整改报告报送已于%(due)s截止；如需延期，请联系国务院扶贫办。")
                           % {"due": day_label(deadlines.deadline_for(step, unit=report.unit))})


def editable_items(report: RectificationReport) -> set[int]:
    """The items the unit may change now: all before submission, those sent back after."""
    items = report.items.all()
    if report.submitted_at is not None:
        items = items.filter(needs_revision=True)
    return set(items.values_list("pk", flat=True))


@transaction.atomic
def rectification_save(*, report: RectificationReport, actor: User, summary: str,
                       items: dict[int, dict[str, str]]) -> RectificationReport:
    """The unit's measures and status per item ({item id: {measures, evidence_note, status}}).
    A report sent back takes changes to its sent-back items only."""
    ensure_round_writable(report.round_id, error=OutcomeError)
    report = RectificationReport.objects.select_for_update().get(pk=report.pk)
    _check_open(report)
    by_id = {item.pk: item for item in report.items.all()}
    if set(items) - set(by_id):
        raise OutcomeError(_("提交的内容包含不属于本报告的事项。"))
    editable = editable_items(report)
    for pk, values in items.items():
        item = by_id[pk]
        status = values.get("status", item.status)
        if pk not in editable:
            if (values.get("measures", item.measures), status) != (item.measures, item.status):
                raise OutcomeError(_("第%(n)s项已报送审核，不能修改；只能修改被认定整改不到位的"
                                     "事项。") % {"n": item.order})
            continue
        allowed = {ItemStatus.OPEN, ItemStatus.IN_PROGRESS, ItemStatus.DONE}
        if item.needs_revision:
            allowed.add(ItemStatus.NOT_ACCEPTED)  # not yet chosen again
        if status not in allowed:
            raise OutcomeError(_("整改状态无效。"))
        old = item.status
        item.measures = values.get("measures", item.measures)
        item.evidence_note = values.get("evidence_note", item.evidence_note)[:500]
        item.status = status
        item.save()
        if old != status:
            log_action("outcomes.item.status_changed", actor=actor, target=item,
                       data={"old": old, "new": status})
    report.summary = summary
    report.save(update_fields=["summary"])
    log_action("outcomes.rectification.saved", actor=actor, target=report)
    return report


def _snapshot(report: RectificationReport, items: list[RectificationItem]) -> dict[str, Any]:
    files: dict[int, list[str]] = {}
    for attachment in RectificationAttachment.objects.filter(report=report).select_related(
            "evidence"):
        files.setdefault(attachment.item_id, []).append(attachment.evidence.original_name)
    return {"summary": report.summary, "items": [
        {"order": i.order, "text": i.text, "measures": i.measures, "status": i.status,
         "evidence_note": i.evidence_note, "files": files.get(i.pk, [])} for i in items]}


@transaction.atomic
def rectification_submit(*, report: RectificationReport, actor: User) -> RectificationReport:
    """Submit the report; a report sent back is submitted again with its revised items
    (each submission is kept in the history with what it said)."""
    ensure_round_writable(report.round_id, error=OutcomeError)
    report = RectificationReport.objects.select_for_update().get(pk=report.pk)
    again = report.submitted_at is not None
    if again and not reopened(report):
        return report
    _check_open(report)
    items = list(report.items.all())
    missing = [str(i.order) for i in items if not i.measures.strip()]
    if missing:
        raise OutcomeError(_("第%(items)s项尚未填写整改措施。") % {"items": "、".join(missing)})
    revised = [i for i in items if i.needs_revision]
    unchosen = [str(i.order) for i in revised if i.status == ItemStatus.NOT_ACCEPTED]
    if unchosen:
        raise OutcomeError(_("第%(items)s项被认定整改不到位，请修改整改措施并重新选择整改状态后"
                             "再报送。") % {"items": "、".join(unchosen)})
    now = clock.now()
    if not again:
        report.submitted_at, report.submitted_by = now, actor
    report.last_submitted_at = now
    report.submission_count += 1
    report.save(update_fields=["submitted_at", "submitted_by", "last_submitted_at",
                               "submission_count"])
    # The revised items await a new decision; the earlier one stays in the history.
    RectificationItem.objects.filter(pk__in=[i.pk for i in revised]).update(
        needs_revision=False, reviewed_by=None, review_note="")
    RectificationEvent.objects.create(
        report=report, actor=actor,
        kind=EventKind.RESUBMITTED if again else EventKind.SUBMITTED,
        data=_snapshot(report, revised if again else items))
    log_action("outcomes.rectification.resubmitted" if again
               else "outcomes.rectification.submitted", actor=actor, target=report,
               data={"count": report.submission_count})
    return report


@transaction.atomic
def item_review(*, item: RectificationItem, actor: User, accepted: bool,
                note: str) -> RectificationItem:
    """The lead department or the office accepts an item of a submitted report as done, or
    not, with a reason; not accepted sends the item back to the unit to revise and submit
    again. Every decision is kept in the report's history."""
    ensure_round_writable(item.report.round_id, error=OutcomeError)
    report = RectificationReport.objects.select_for_update().get(pk=item.report_id)
    item = RectificationItem.objects.get(pk=item.pk)
    if report.submitted_at is None:
        raise OutcomeError(_("整改报告尚未报送，不能审核。"))
    if item.needs_revision:
        raise OutcomeError(_("该事项已退回单位重新整改，待单位重新报送后再审核。"))
    if not accepted and not note.strip():
        raise OutcomeError(_("认定整改不到位时请说明理由。"))
    old = item.status
    item.status = ItemStatus.DONE if accepted else ItemStatus.NOT_ACCEPTED
    item.review_note, item.reviewed_by = note, actor
    item.needs_revision = not accepted
    item.save(update_fields=["status", "review_note", "reviewed_by", "needs_revision"])
    event = RectificationEvent.objects.create(
        report=report, item=item, actor=actor, comment=note,
        kind=EventKind.ACCEPTED if accepted else EventKind.NOT_ACCEPTED)
    from kaohe.notifications import events

    events.rectification_item_reviewed(report=report, item=item, accepted=accepted,
                                       occasion=event.pk)
    log_action("outcomes.item.reviewed", actor=actor, target=item,
               data={"old": old, "new": item.status, "note": note})
    return item


@transaction.atomic
def rectification_extend(*, round: Round, unit: Unit, actor: User, until: datetime.date,
                         reason: str) -> Extension:
    """The office lets one unit submit its rectification report later (an Extension of the
    rectification step, as for every step), recorded in the report's history too."""
    from kaohe.grading.selectors import released_result_set
    from kaohe.submissions import services as submissions

    ensure_round_writable(round, error=OutcomeError)
    if not unit.category.ranked:
        raise OutcomeError(_("该单位不参加整改跟踪。"))
    if released_result_set(round) is None:
        raise OutcomeError(_("考核结果尚未反馈，整改尚未开始。"))
    step = round.steps.get(code="rectification")
    report = rectification_for(round=round, unit=unit)
    if report.submitted_at is not None:
        raise OutcomeError(_("该单位已报送整改报告，无需延期。"))
    if until < clock.today():
        raise OutcomeError(_("延期日期不能早于今天。"))
    if until <= deadlines.deadline_for(step, unit=unit):
        raise OutcomeError(_("延期日期应晚于该单位现行的报送截止日期（%(due)s）。")
                           % {"due": day_label(deadlines.deadline_for(step, unit=unit))})
    try:
        extension = submissions.extension_grant(step=step, actor=actor, unit=unit,
                                                until=until, reason=reason)
    except submissions.SubmissionError as exc:
        raise OutcomeError(str(exc)) from None
    RectificationEvent.objects.create(report=report, actor=actor, kind=EventKind.EXTENDED,
                                      comment=reason, data={"until": until.isoformat()})
    return extension


def _check_item_editable(report: RectificationReport, item: RectificationItem) -> None:
    _check_open(report)
    if item.report_id != report.pk:
        raise OutcomeError(_("材料不属于本报告。"))
    if item.pk not in editable_items(report):
        raise OutcomeError(_("第%(n)s项已报送审核，不能修改；只能修改被认定整改不到位的"
                             "事项。") % {"n": item.order})


@transaction.atomic
def rectification_attach(*, report: RectificationReport, item: RectificationItem,
                         evidence: Evidence, actor: User) -> RectificationAttachment:
    """Attach one of the unit's own evidence files (from the resumable upload) to an item."""
    ensure_round_writable(report.round_id, error=OutcomeError)
    report = RectificationReport.objects.select_for_update().get(pk=report.pk)
    _check_item_editable(report, item)
    if evidence.unit_id != report.unit_id:
        raise OutcomeError(_("只能附上本单位上传的材料。"))
    attachment, _created = RectificationAttachment.objects.get_or_create(
        report=report, item=item, evidence=evidence, defaults={"attached_by": actor})
    log_action("outcomes.rectification.evidence_attached", actor=actor, target=report,
               data={"item": item.order, "evidence": str(evidence.pk),
                     "name": evidence.original_name})
    return attachment


@transaction.atomic
def rectification_detach(*, report: RectificationReport, attachment: RectificationAttachment,
                         actor: User) -> None:
    ensure_round_writable(report.round_id, error=OutcomeError)
    report = RectificationReport.objects.select_for_update().get(pk=report.pk)
    if attachment.report_id != report.pk:
        raise OutcomeError(_("材料不属于本报告。"))
    _check_item_editable(report, attachment.item)
    attachment.delete()
    log_action("outcomes.rectification.evidence_detached", actor=actor, target=report,
               data={"item": attachment.item.order, "evidence": str(attachment.evidence_id)})


def rectification_upload_closed(*, unit_id: int) -> str | None:
    """Why the unit can add no rectification evidence now (None while it can): the same
    rule as its form — open before submission within the deadline, and again for the items
    sent back as 整改不到位, whatever the date. Asked by the upload (kaohe.evidence)."""
    from kaohe.outcomes.selectors import unit_results_round

    unit = Unit.objects.get(pk=unit_id)
    round_ = unit_results_round(unit)
    if round_ is None:
        return _("考核结果尚未反馈，暂不能上传整改佐证材料。")
    report = RectificationReport.objects.filter(round=round_, unit=unit).first()
    if report is None:
        report = RectificationReport(round=round_, unit=unit)
    try:
        _check_open(report)
    except OutcomeError as exc:
        return str(exc)
    return None
