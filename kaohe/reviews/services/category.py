"""The preliminary results of a lead department's category: which units still stop the
submission, the category report, and the submission to the working group as one act (with
its sealed snapshot of every unit's grades), or its return by the working group. Once
submitted, everything of the category is locked until it is returned; and it is returned
only while the comprehensive review has not yet put results computed from it before the
leading group, or released them (a correction opened by the leading group reopens it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils.translation import gettext as _

from kaohe.audit.services import log_action
from kaohe.lib import clock
from kaohe.reviews.models import CategorySubmission, CategorySubmissionStatus, Review
from kaohe.reviews.selectors import grade_rows_of
from kaohe.reviews.services.guards import (
    ConflictError,
    LockedError,
    ReviewError,
    _check_review_open,
)
from kaohe.rounds.guards import ensure_round_writable

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from kaohe.accounts.models import User
    from kaohe.directory.models import LeadDepartment, Unit
    from kaohe.rounds.models import Round
    from kaohe.submissions.models import Extension


def category_units(round: Round, lead_department: LeadDepartment) -> QuerySet[Unit]:
    """The ranked, active units of the lead department's categories."""
    from kaohe.directory.models import Unit

    return Unit.objects.filter(category__lead_department=lead_department, category__ranked=True,
                               active=True).select_related("category").order_by("code")


def category_missing(round: Round, lead_department: LeadDepartment) -> list[str]:
    """The units that stop the submission, each with what it lacks."""
    units = list(category_units(round, lead_department))
    area_count = round.areas.count()
    reviews = {
        r.unit_id: r for r in Review.objects.filter(round=round, unit__in=units)
        .prefetch_related("area_grades").select_related("sub_report")
    }
    missing = []
    for unit in units:
        review = reviews.get(unit.pk)
        graded = len(review.area_grades.all()) if review else 0
        sub = getattr(review, "sub_report", None) if review else None
        text = _missing_text(unit.name, graded, area_count, sub is not None and sub.is_complete)
        if text:
            missing.append(text)
    return missing


def _missing_text(name: str, graded: int, area_count: int, sub_report_complete: bool) -> str:
    lacks = []
    if graded < area_count:
        lacks.append(_("%(n)s项考核内容未评定等次") % {"n": area_count - graded})
    if not sub_report_complete:
        lacks.append(_("考核子报告未完成"))
    return f"{name}（{'，'.join(lacks)}）" if lacks else ""


def category_missing_first(round: Round, lead_department: LeadDepartment, *,
                           limit: int) -> tuple[list[str], int]:
    """The first ``limit`` units that stop the submission, named as category_missing names
    them, and how many there are: for the category page, in a fixed number of queries (the
    states are those of its unit list; the submission itself checks with category_missing)."""
    from django.db.models import Q

    from kaohe.reviews.selectors import review_queue

    area_count = round.areas.count()
    lacking = review_queue(round, category_units(round, lead_department)).filter(
        Q(grades_done__isnull=True) | Q(grades_done__lt=area_count)
        | Q(sub_report_done__isnull=True))
    first = [_missing_text(unit.name, unit.grades_done or 0, area_count,
                           unit.sub_report_done is not None) for unit in lacking[:limit]]
    return first, (lacking.count() if len(first) == limit else len(first))


def _category_snapshot(round: Round, lead_department: LeadDepartment) -> dict[str, Any]:
    units = category_units(round, lead_department)
    reviews = Review.objects.filter(round=round, unit__in=units).prefetch_related(
        "area_grades__area").select_related("unit", "sub_report")
    return {
        "units": [
            {"unit": r.unit.code, "name": r.unit.name,
             "grades": {g.area.code: g.grade for g in r.area_grades.all()},
             "reasons": {g.area.code: g.reason for g in r.area_grades.all()}}
            for r in reviews
        ],
    }


@transaction.atomic
def category_report_save(*, submission: CategorySubmission, actor: User, overview: str,
                         problems: str, suggestions: str,
                         revision: int | None = None) -> CategorySubmission:
    ensure_round_writable(submission.round_id, error=ReviewError)
    submission = CategorySubmission.objects.select_for_update().get(pk=submission.pk)
    if submission.is_locked:
        raise LockedError(_("已报送考核工作组，不能修改。"))
    _check_review_open(submission.round, submission.lead_department)
    if revision is not None and revision != submission.revision:
        raise ConflictError(
            _("其他考核人员已修改了综合考核报告，请刷新页面后在最新内容上修改。")
        )
    submission.overview, submission.problems, submission.suggestions = (
        overview, problems, suggestions)
    submission.revision += 1
    submission.save()
    log_action("review.category_report.saved", actor=actor, target=submission)
    return submission


@transaction.atomic
def category_submit(*, submission: CategorySubmission, actor: User) -> CategorySubmission:
    """Submit the category's grades and reports to the working group as one act."""
    ensure_round_writable(submission.round_id, error=ReviewError)
    submission = CategorySubmission.objects.select_for_update().get(pk=submission.pk)
    if submission.is_locked:
        return submission  # a double click
    _check_review_open(submission.round, submission.lead_department)
    missing = category_missing(submission.round, submission.lead_department)
    if missing:
        raise ReviewError(_("以下单位尚未完成考核，不能报送：") + "；".join(missing))
    if not all(t.strip() for t in (submission.overview, submission.problems,
                                   submission.suggestions)):
        raise ReviewError(
            _("请先完成牵头部门综合考核报告（基本情况、突出问题与不足、意见与建议）。")
        )
    submission.submitted_late, submission.late_extension = _late_mark(submission)
    submission.status = CategorySubmissionStatus.SUBMITTED
    submission.submitted_at = clock.now()
    submission.submitted_by = actor
    submission.returned_reason = ""
    submission.snapshot = _category_snapshot(submission.round, submission.lead_department)
    submission.unit_count = len(submission.snapshot["units"])
    submission.grade_rows = grade_rows_of(submission.snapshot)
    submission.save()
    log_action("review.category.submitted", actor=actor, target=submission,
               data={"units": submission.unit_count})
    return submission


def _late_mark(submission: CategorySubmission) -> tuple[bool, Extension | None]:
    """Late after step 四's due date; a resubmission after a return is measured against
    step 五's (the working group's) date, which the return moved it to."""
    from kaohe.submissions import deadlines

    returned = submission.status == CategorySubmissionStatus.RETURNED
    code = "deliberation" if returned else "review"
    step = submission.round.steps.get(code=code)
    return deadlines.late_mark(step, lead_department=submission.lead_department)


def category_return_refusal(submission: CategorySubmission | None) -> str | None:
    """Why the category's preliminary results cannot be returned now, or None if they can:
    what the page says in place of the return form (the return asks again, locked)."""
    if submission is None or not submission.is_locked:
        return _("只能退回已报送的初步考核结果。")
    try:
        _check_results_open(submission)
    except ReviewError as refusal:
        return str(refusal)
    return None


def _check_results_open(submission: CategorySubmission) -> None:
    """Refuse to reopen preliminary results the comprehensive review relies on: once the
    results are released (unless the leading group opened a correction), or while a version
    computed from them is before the leading group or approved by it."""
    from kaohe.grading.models import ResultSetStatus
    from kaohe.grading.services import before_the_leading_group, results_final

    if results_final(submission.round_id):
        raise LockedError(_("本年度考核结果已反馈，不能退回初步考核结果；如需更正，须由领导小组"
                            "提出更正并说明理由。"))
    version = before_the_leading_group(submission.round_id)
    if version is None:
        return
    if version.status == ResultSetStatus.SUBMITTED:
        raise LockedError(_("第%(version)s版等次建议已报送领导小组审定，不能退回初步考核结果；"
                            "如需修改，请待领导小组退回该版本。") % {"version": version.version})
    raise LockedError(_("第%(version)s版等次建议已经领导小组审定，不能退回初步考核结果；"
                        "如需修改，须在考核结果反馈后由领导小组提出更正。")
                      % {"version": version.version})


@transaction.atomic
def category_return(*, submission: CategorySubmission, actor: User,
                    reason: str) -> CategorySubmission:
    ensure_round_writable(submission.round_id, error=ReviewError)
    submission = CategorySubmission.objects.select_for_update().get(pk=submission.pk)
    if not submission.is_locked:
        raise ReviewError(_("只能退回已报送的初步考核结果。"))
    _check_results_open(submission)
    if not reason.strip():
        raise ReviewError(_("请填写退回原因。"))
    submission.status = CategorySubmissionStatus.RETURNED
    submission.returned_reason = reason
    submission.save(update_fields=["status", "returned_reason"])
    entry = log_action("review.category.returned", actor=actor, target=submission,
                       data={"reason": reason})
    from kaohe.notifications import events

    events.category_returned(submission=submission, occasion=entry.pk)
    return submission
