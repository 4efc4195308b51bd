"""The self-report's own workflow (step 3a): open, save the texts, submit with a version
kept, return to the unit. Saves carry the revision the user started from; a save based on an
older revision is refused as a conflict, so two people editing the same report never
overwrite each other silently. Evidence attached to the report: ``self_report_evidence``.
"""

from django.db import transaction
from django.utils.translation import gettext as _

from kaohe.accounts.models import User
from kaohe.audit.services import log_action
from kaohe.directory.models import Pairing, Unit
from kaohe.launch import selectors as launch_selectors
from kaohe.launch import services as launch_services
from kaohe.lib import clock
from kaohe.rounds.guards import ensure_round_writable
from kaohe.rounds.models import Round, Step
from kaohe.submissions import deadlines
from kaohe.submissions.models import ReportStatus, ReportVersion, SelfReport, SelfReportAnswer
from kaohe.submissions.services.errors import (
    ClosedError,
    ConflictError,
    GapsNotConfirmed,
    LockedError,
    SubmissionError,
)
from kaohe.submissions.services.slots import self_report_gaps, self_report_slots

MAX_ANSWER_CHARS = 20_000


def _self_report_step(report: SelfReport) -> Step:
    return report.round.steps.get(code="self_report")


def check_self_report_editable(report: SelfReport, *, revision: int | None) -> None:
    """Refuse a change of a locked report, after the unit's deadline, or (given the
    revision the user started from) over someone else's newer save."""
    if not report.is_editable:
        raise LockedError(_("自评报告已提交并锁定；如需修改，请联系牵头部门退回。"))
    if not deadlines.is_open(_self_report_step(report), unit=report.unit):
        raise ClosedError(_("自评报告报送已截止；如需延期，请联系国务院扶贫办。"))
    from kaohe.grading.services import results_final

    if results_final(report.round_id):
        # Even under an extension granted before: the results no longer change.
        raise ClosedError(_("本年度考核结果已反馈，自评报告不能再修改或报送。"))
    if revision is not None and revision != report.revision:
        raise ConflictError(_("该报告已被他人修改，请刷新页面后在最新内容上修改。"))


def self_report_for(*, round: Round, unit: Unit) -> SelfReport:
    """The unit's report of the round, started if need be; only a unit the round assesses
    (paired with a county in it) starts one. A report that exists is returned as it is."""
    report = SelfReport.objects.filter(round=round, unit=unit).first()
    if report is not None:
        return report
    if not Pairing.objects.filter(round=round, unit=unit).exists():
        # A unit without a poverty county that year is not assessed. The page and the API
        # start reports only through here; the workbook import needs one that exists.
        raise SubmissionError(
            _("%(unit)s在%(year)s年度没有结对的定点扶贫县，不参加该年度考核，无需报送自评报告。")
            % {"unit": unit.name, "year": round.year})
    report, _created = SelfReport.objects.get_or_create(round=round, unit=unit)
    return report


@transaction.atomic
def self_report_save(*, report: SelfReport, actor: User, revision: int,
                     summary: str | None = None, answers: dict[str, str],
                     refined: dict[int, str] | None = None) -> SelfReport:
    """Save the draft's texts; `answers` maps Slot.key to text, `refined` a refined item's
    id (kaohe.launch) to text. Unknown keys are refused."""
    ensure_round_writable(report.round_id, error=SubmissionError)
    report = SelfReport.objects.select_for_update().get(pk=report.pk)
    check_self_report_editable(report, revision=revision)
    slots = {slot.key: slot for slot in self_report_slots(report)}
    unknown = set(answers) - set(slots)
    refined = refined or {}
    refined_items = {item.pk: item
                     for item in launch_selectors.refined_items_for_report(report)}
    if unknown or set(refined) - set(refined_items):
        raise SubmissionError(_("提交的内容包含本报告没有的指标。"))
    for key, text in answers.items():
        if len(text) > MAX_ANSWER_CHARS:
            raise SubmissionError(
                _("指标%(n)s的工作情况超过%(max)s字。")
                % {"n": slots[key].indicator.number, "max": MAX_ANSWER_CHARS}
            )
    for pk, text in refined.items():
        if len(text) > MAX_ANSWER_CHARS:
            raise SubmissionError(_("“%(item)s”的工作情况超过%(max)s字。")
                                  % {"item": refined_items[pk].name, "max": MAX_ANSWER_CHARS})
    existing = {(a.indicator_id, a.county_id): a for a in report.answers.all()}
    changed: list[str] = []
    for key, text in answers.items():
        slot = slots[key]
        county_id = slot.county.pk if slot.county else None
        answer = existing.get((slot.indicator.pk, county_id))
        if answer is None:
            if text.strip():
                SelfReportAnswer.objects.create(report=report, indicator=slot.indicator,
                                                county=slot.county, text=text)
                changed.append(key)
        elif answer.text != text:
            answer.text = text
            answer.save(update_fields=["text"])
            changed.append(key)
    changed += launch_services.refined_answers_apply(report=report, items=refined_items,
                                                     texts=refined)
    if summary is not None and summary != report.summary:
        report.summary = summary
        changed.append("summary")
    report.revision += 1
    report.save(update_fields=["summary", "revision", "updated_at"])
    log_action("self_report.saved", actor=actor, target=report, data={"changed": changed})
    return report


def self_report_snapshot(report: SelfReport) -> dict[str, object]:
    return {
        "summary": report.summary,
        "answers": [
            {"indicator": a.indicator.number, "county": a.county.code if a.county else None,
             "text": a.text}
            for a in report.answers.select_related("indicator", "county")
            .order_by("indicator__number", "county__code")
        ],
        "refined": [
            {"item": a.refined_item.item.code, "name": a.refined_item.name, "text": a.text}
            for a in report.refined_answers.select_related("refined_item__item")
            .order_by("refined_item__item__order", "refined_item__order", "refined_item_id")
        ],
        "evidence": [
            {"indicator": a.indicator.number, "county": a.county.code if a.county else None,
             "requirement": a.requirement.name if a.requirement else None,
             "evidence": str(a.evidence_id), "name": a.evidence.original_name,
             "sha256": a.evidence.sha256}
            for a in report.attachments.select_related("indicator", "county", "requirement",
                                                       "evidence")
        ],
        "gaps": report.gaps,
    }


@transaction.atomic
def self_report_submit(*, report: SelfReport, actor: User, revision: int,
                       confirm_gaps: bool = False) -> SelfReport:
    """Lock the report and keep a version. Submitting the same revision twice is a no-op."""
    ensure_round_writable(report.round_id, error=SubmissionError)
    report = SelfReport.objects.select_for_update().get(pk=report.pk)
    if report.status == ReportStatus.SUBMITTED and report.revision == revision:
        return report  # a double click or a replayed request
    check_self_report_editable(report, revision=revision)
    gaps = self_report_gaps(report)
    if gaps and not confirm_gaps:
        raise GapsNotConfirmed(gaps)
    report.gaps = [gap.as_dict() for gap in gaps]
    report.status = ReportStatus.SUBMITTED
    report.submitted_at = clock.now()
    report.submitted_by = actor
    report.returned_reason = ""
    report.submitted_late, report.late_extension = deadlines.late_mark(
        _self_report_step(report), unit=report.unit)
    report.save(update_fields=["gaps", "status", "submitted_at", "submitted_by",
                               "returned_reason", "submitted_late", "late_extension",
                               "updated_at"])
    number = report.versions.count() + 1
    ReportVersion.objects.create(self_report=report, number=number,
                                 content=self_report_snapshot(report),
                                 submitted_at=report.submitted_at, submitted_by=actor)
    log_action("self_report.submitted", actor=actor, target=report,
               data={"version": number, "gaps": len(gaps)})
    return report


def self_report_return_refusal(report: SelfReport) -> str | None:
    """Why the report cannot be returned now, or None if it can: what the page says in
    place of the return form (the return itself asks again, under its locks)."""
    if report.status != ReportStatus.SUBMITTED:
        return _("只能退回已提交的自评报告。")
    try:
        _check_review_writable(report, lock=False)
    except SubmissionError as refusal:
        return str(refusal)
    return None


def _check_review_writable(report: SelfReport, *, lock: bool = True) -> None:
    """Refuse to return a report the lead department's review no longer changes: once the
    round's results are released (unless a correction is open), once the unit's category
    is submitted to the working group (locked until returned), or after the lead
    department's deadline; the refusals of the review's own steps, as this app's errors.
    Called with the report's row locked (``lock=False``: only to tell the page)."""
    from kaohe.grading.services import results_final
    from kaohe.reviews import services as reviews
    from kaohe.reviews.models import CategorySubmission

    if results_final(report.round_id):
        raise LockedError(_("本年度考核结果已反馈，不能退回自评报告；如需更正，须由领导小组"
                            "提出更正并说明理由。"))
    # The category's row, against its submission or return landing between the check and
    # the return (category_submit and category_return lock it too).
    if lock:
        list(CategorySubmission.objects.select_for_update().filter(
            round_id=report.round_id,
            lead_department_id=report.unit.category.lead_department_id))
    try:
        reviews.check_unlocked(report.round, report.unit)
    except reviews.LockedError as refusal:
        raise LockedError(str(refusal)) from refusal
    except reviews.ClosedError as refusal:
        raise ClosedError(str(refusal)) from refusal


@transaction.atomic
def self_report_return(*, report: SelfReport, actor: User, reason: str) -> SelfReport:
    """Return a submitted report to its unit, while the lead department's review of the
    unit is still open (see _check_review_writable)."""
    ensure_round_writable(report.round_id, error=SubmissionError)
    report = SelfReport.objects.select_for_update(of=("self",)).select_related(
        "round", "unit__category").get(pk=report.pk)
    if report.status != ReportStatus.SUBMITTED:
        raise SubmissionError(_("只能退回已提交的自评报告。"))
    _check_review_writable(report)
    if not reason.strip():
        raise SubmissionError(_("请填写退回原因。"))
    report.status = ReportStatus.RETURNED
    report.returned_reason = reason
    report.revision += 1
    report.save(update_fields=["status", "returned_reason", "revision", "updated_at"])
    log_action("self_report.returned", actor=actor, target=report, data={"reason": reason})
    from kaohe.notifications import events

    events.self_report_returned(report=report)
    return report
