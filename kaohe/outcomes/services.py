"""Workflow of steps 6 and 7: feedback drafted and released, rectification filed and
tracked, summons for 较差 units, dispatches recorded, unfinished items carried over."""

from django.db import transaction
from django.utils.translation import gettext as _

from kaohe.audit.services import log_action
from kaohe.directory.models import Unit
from kaohe.grading import services as grading
from kaohe.grading.models import SNAPSHOTS, ResultSet, ResultSetStatus
from kaohe.lib import clock
from kaohe.lib.errors import ServiceError
from kaohe.outcomes.models import (
    Dispatch,
    EventKind,
    Feedback,
    ItemSource,
    ItemStatus,
    RectificationAttachment,
    RectificationEvent,
    RectificationItem,
    RectificationReport,
    Summons,
)
from kaohe.outcomes.selectors import released_feedback
from kaohe.reviews.models import SubReport
from kaohe.rounds.guards import ensure_round_writable
from kaohe.submissions import deadlines
from kaohe.submissions.models import Extension


class OutcomeError(ServiceError):
    """A request the rules refuse; the message is for the user (Chinese)."""


@transaction.atomic
def feedback_prepare(*, result_set: ResultSet, actor) -> int:
    """Draft every unit's letter for the newest approved version, which is the only one
    that can be released. A letter starts from the unit's letter of the newest earlier
    version (the office's edits, or the released letter a correction replaces), else from its
    lead department's sub-report; its grade is always this version's. Released letters are
    never touched."""
    ensure_round_writable(result_set.round_id, error=OutcomeError)
    result_set = ResultSet.objects.select_for_update(of=("self",)).select_related(
        "correction").get(pk=result_set.pk)
    if result_set.status == ResultSetStatus.RELEASED:
        raise OutcomeError(_("考核结果已反馈，反馈意见不能重新起草；如需更正，须由领导小组"
                             "提出更正并说明理由。"))
    if result_set.status != ResultSetStatus.APPROVED:
        raise OutcomeError(_("等次建议经领导小组审定后才能准备反馈意见（第%(version)s版当前为"
                             "“%(status)s”）。") % {"version": result_set.version,
                                                  "status": result_set.get_status_display()})
    try:
        grading.check_releasable(result_set)
    except grading.GradingError as exc:
        raise OutcomeError(str(exc)) from None
    grades = result_set.final_grades()
    units = {u.code: u for u in Unit.objects.filter(code__in=grades)}
    subs = {s.review.unit_id: s for s in SubReport.objects.filter(
        review__round=result_set.round, review__unit__in=units.values()).select_related(
        "review")}
    drafted = set(Feedback.objects.filter(result_set=result_set).values_list("unit_id",
                                                                             flat=True))
    earlier = {}
    for feedback in (Feedback.objects.filter(round=result_set.round,
                                             result_set__version__lt=result_set.version)
                     .order_by("result_set__version")):
        earlier[feedback.unit_id] = feedback  # the newest version's letter wins
    replaced = {}
    if result_set.correction is not None:
        replaced = {f.unit_id: f for f in Feedback.objects.filter(
            result_set_id=result_set.correction.corrects_id)}
    created = 0
    for code, grade in grades.items():
        unit = units[code]
        if unit.pk in drafted:
            continue
        start, sub = earlier.get(unit.pk), subs.get(unit.pk)
        Feedback.objects.create(
            round=result_set.round, unit=unit, result_set=result_set, grade=grade,
            problems=start.problems if start else (sub.problems if sub else ""),
            suggestions=start.suggestions if start else (sub.suggestions if sub else ""),
            replaces=replaced.get(unit.pk), updated_by=actor)
        created += 1
    log_action("outcomes.feedback.prepared", actor=actor, target=result_set,
               data={"created": created, "version": result_set.version})
    return created


@transaction.atomic
def feedback_update(*, feedback: Feedback, actor, problems: str, suggestions: str) -> Feedback:
    """The office edits a letter of the version about to be released; a released letter
    (and one of a superseded version) stays as it is."""
    ensure_round_writable(feedback.round_id, error=OutcomeError)
    # The version is read for its status and dates: its snapshots stay unread (issue 19).
    feedback = Feedback.objects.select_for_update(of=("self",)).select_related(
        "result_set").defer(*(f"result_set__{field}" for field in SNAPSHOTS)).get(pk=feedback.pk)
    result_set = feedback.result_set
    if result_set.released_at is not None:
        raise OutcomeError(_("考核结果已反馈，反馈意见不能再修改。"))
    from kaohe.documents.models import SignOff

    signed = SignOff.objects.filter(identifier="feedback_letter", object_key=str(feedback.pk),
                                    withdrawn_at__isnull=True).first()
    if signed is not None:  # the signed paper is fixed until withdrawn (documents.signing)
        raise OutcomeError(_("该反馈函已签发（%(number)s），不能再修改。")
                           % {"number": signed.doc_number})
    if result_set.status != ResultSetStatus.APPROVED:
        raise OutcomeError(_("该反馈意见属于第%(version)s版（%(status)s），不能修改。")
                           % {"version": result_set.version,
                              "status": result_set.get_status_display()})
    feedback.problems, feedback.suggestions, feedback.updated_by = problems, suggestions, actor
    feedback.save()
    log_action("outcomes.feedback.edited", actor=actor, target=feedback)
    return feedback


@transaction.atomic
def release(*, result_set: ResultSet, actor) -> ResultSet:
    """One act for the whole round: grades and feedback become visible, each to its own
    unit, and every 较差 unit gets a summons record. Releasing a correction marks the letters
    it changes as corrected (their units are told) and keeps the earlier letters."""
    ensure_round_writable(result_set.round_id, error=OutcomeError)
    current = ResultSet.objects.select_for_update().get(pk=result_set.pk)
    if current.status == ResultSetStatus.RELEASED:
        return current
    try:
        grading.check_releasable(current)
    except grading.GradingError as exc:
        raise OutcomeError(str(exc)) from None
    current.verify_seal()
    feedback_prepare(result_set=current, actor=actor)
    result_set = grading.result_set_release(result_set=current, actor=actor)
    if result_set.correction_id is not None:
        changed = [
            f for f in Feedback.objects.filter(result_set=result_set).select_related(
                "replaces", "unit")
            if f.replaces is None or (f.grade, f.problems, f.suggestions)
            != (f.replaces.grade, f.replaces.problems, f.replaces.suggestions)
        ]
        # update(), not save(): the letter's own time stays that of its last edit.
        Feedback.objects.filter(pk__in=[f.pk for f in changed]).update(corrected=True)
        log_action("outcomes.correction.released", actor=actor, target=result_set,
                   data={"units": [f.unit.code for f in changed]})
    for code, grade in result_set.final_grades().items():
        if grade == "poor":
            unit = Unit.objects.get(code=code)
            Summons.objects.get_or_create(round=result_set.round, unit=unit,
                                          defaults={"updated_by": actor})
    log_action("outcomes.released", actor=actor, target=result_set)
    from kaohe.notifications import events

    events.results_released(result_set=result_set)
    return result_set


def _lines(text: str) -> list[str]:
    return [line.strip(" \t-•·") for line in text.splitlines() if line.strip(" \t-•·")]


@transaction.atomic
def rectification_for(*, round, unit) -> RectificationReport:
    """The unit's report with one item per problem and suggestion line of its feedback, plus
    the unfinished items carried over from the previous round."""
    report, created = RectificationReport.objects.get_or_create(round=round, unit=unit)
    if created:
        feedback = released_feedback(round, unit)
        items = []
        if feedback is not None:
            items += [(ItemSource.PROBLEM, t, None) for t in _lines(feedback.problems)]
            items += [(ItemSource.SUGGESTION, t, None) for t in _lines(feedback.suggestions)]
        items += [(ItemSource.CARRIED, item.text, item) for item in unfinished_items(
            round=round, unit=unit)]
        RectificationItem.objects.bulk_create(
            RectificationItem(report=report, order=i, source=source, text=text,
                              carried_from=origin)
            for i, (source, text, origin) in enumerate(items, start=1)
        )
    return report


def unfinished_items(*, round, unit):
    """Items of the unit's previous rounds that were never done (or not accepted)."""
    return RectificationItem.objects.filter(
        report__unit=unit, report__round__year__lt=round.year,
    ).exclude(status=ItemStatus.DONE).exclude(carried_to__report__round=round).select_related(
        "report__round")


def reopened(report: RectificationReport) -> bool:
    """A submitted report sent back: some item was found 整改不到位 and awaits revision."""
    return report.submitted_at is not None and report.items.filter(needs_revision=True).exists()


def day_label(day) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _check_open(report: RectificationReport):
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
def rectification_save(*, report: RectificationReport, actor, summary: str,
                       items: dict[int, dict]) -> RectificationReport:
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


def _snapshot(report: RectificationReport, items) -> dict:
    files = {}
    for attachment in RectificationAttachment.objects.filter(report=report).select_related(
            "evidence"):
        files.setdefault(attachment.item_id, []).append(attachment.evidence.original_name)
    return {"summary": report.summary, "items": [
        {"order": i.order, "text": i.text, "measures": i.measures, "status": i.status,
         "files": files.get(i.pk, [])} for i in items]}


@transaction.atomic
def rectification_submit(*, report: RectificationReport, actor) -> RectificationReport:
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
def item_review(*, item: RectificationItem, actor, accepted: bool, note: str):
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
def rectification_extend(*, round, unit, actor, until, reason: str) -> Extension:
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


def _check_item_editable(report: RectificationReport, item: RectificationItem):
    _check_open(report)
    if item.report_id != report.pk:
        raise OutcomeError(_("材料不属于本报告。"))
    if item.pk not in editable_items(report):
        raise OutcomeError(_("第%(n)s项已报送审核，不能修改；只能修改被认定整改不到位的"
                             "事项。") % {"n": item.order})


@transaction.atomic
def rectification_attach(*, report: RectificationReport, item: RectificationItem, evidence,
                         actor) -> RectificationAttachment:
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
                         actor) -> None:
    ensure_round_writable(report.round_id, error=OutcomeError)
    report = RectificationReport.objects.select_for_update().get(pk=report.pk)
    if attachment.report_id != report.pk:
        raise OutcomeError(_("材料不属于本报告。"))
    _check_item_editable(report, attachment.item)
    attachment.delete()
    log_action("outcomes.rectification.evidence_detached", actor=actor, target=report,
               data={"item": attachment.item.order, "evidence": str(attachment.evidence_id)})


@transaction.atomic
def summons_update(*, summons: Summons, actor, **fields) -> Summons:
    ensure_round_writable(summons.round_id, error=OutcomeError)
    for name in ("summoner", "summoned", "held_on", "minutes", "follow_up", "closed"):
        if name in fields:
            setattr(summons, name, fields[name])
    summons.updated_by = actor
    summons.save()
    log_action("outcomes.summons.updated", actor=actor, target=summons,
               data={"held_on": str(summons.held_on or ""), "closed": summons.closed})
    return summons


@transaction.atomic
def dispatch_record(*, round, actor, **fields) -> Dispatch:
    ensure_round_writable(round, error=OutcomeError)
    dispatch = Dispatch.objects.create(round=round, recorded_by=actor, **fields)
    log_action("outcomes.dispatch.recorded", actor=actor, target=dispatch,
               data={"kind": dispatch.kind, "sent_on": dispatch.sent_on.isoformat()})
    return dispatch


def rectification_upload_closed(*, unit_id) -> str | None:
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
