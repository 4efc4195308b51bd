"""Workflow steps of the categorized assessment. Each owns its transaction and audit entry.

Grades and sub-reports carry the revision the reviewer started from: a second reviewer
saving over someone else's newer save gets a conflict, never a silent overwrite. Once the
lead department has submitted its preliminary results everything of its category is
locked until the working group returns them.
"""

from django.db import transaction
from django.utils.translation import gettext as _

from kaohe.accounts.capabilities import CHECK_CADRES, has_capability
from kaohe.accounts.scope import Scope
from kaohe.audit.services import log_action
from kaohe.lib import clock
from kaohe.lib.errors import ServiceError
from kaohe.reviews import prefill
from kaohe.reviews.models import (
    AreaGrade,
    CadreCheck,
    CategorySubmission,
    CategorySubmissionStatus,
    FindingSource,
    GradeSource,
    MajorIncident,
    MilitaryInspection,
    Review,
    ReviewActivity,
    SeriousProblem,
    SubReport,
    Verification,
)
from kaohe.rounds.guards import ensure_round_writable
from kaohe.rounds.models import Grade, Source


class ReviewError(ServiceError):
    """A request the rules refuse; the message is for the user (Chinese)."""


class ConflictError(ReviewError):
    pass


class LockedError(ReviewError):
    pass


class ClosedError(ReviewError):
    pass


def review_for(*, round, unit) -> Review:
    review, _created = Review.objects.get_or_create(round=round, unit=unit)
    SubReport.objects.get_or_create(review=review)
    return review


def category_submission_for(*, round, lead_department) -> CategorySubmission:
    submission, _created = CategorySubmission.objects.get_or_create(
        round=round, lead_department=lead_department
    )
    return submission


def review_deadline(round, lead_department):
    """The lead department's deadline for step 四 (with its extension); once the working
    group returned its results, the later of that and step 五's (the resubmission's)."""
    from kaohe.submissions import deadlines

    steps = {s.code: s for s in round.steps.filter(code__in=["review", "deliberation"])}
    day = deadlines.deadline_for(steps["review"], lead_department=lead_department)
    returned = CategorySubmission.objects.filter(
        round=round, lead_department=lead_department,
        status=CategorySubmissionStatus.RETURNED).exists()
    if returned and "deliberation" in steps:
        day = max(day, deadlines.deadline_for(steps["deliberation"],
                                              lead_department=lead_department))
    return day


def review_is_open(round, lead_department) -> bool:
    from kaohe.lib import clock

    return clock.today() <= review_deadline(round, lead_department)


def review_closed_message(round, lead_department) -> str:
    return _("分类考核已于%(day)s截止；如需延期，请联系国务院扶贫办。") % {
        "day": review_deadline(round, lead_department).strftime("%Y-%m-%d")}


def _check_review_open(round, lead_department):
    if not review_is_open(round, lead_department):
        raise ClosedError(review_closed_message(round, lead_department))


def _check_unlocked(round, unit):
    locked = CategorySubmission.objects.filter(
        round=round, lead_department_id=unit.category.lead_department_id,
        status=CategorySubmissionStatus.SUBMITTED,
    ).exists()
    if locked:
        raise LockedError(
            _("本类别初步考核结果已报送考核工作组，已锁定；如需修改，请考核工作组退回。")
        )
    _check_review_open(round, unit.category.lead_department)


def _lock_review(review: Review, revision: int | None) -> Review:
    review = Review.objects.select_for_update().select_related("unit__category").get(
        pk=review.pk
    )
    _check_unlocked(review.round, review.unit)
    if revision is not None and revision != review.revision:
        raise ConflictError(
            _("其他考核人员已修改了该单位的考核内容，请刷新页面后在最新内容上修改。")
        )
    return review


def _bump(review: Review, actor) -> None:
    review.revision += 1
    review.updated_by = actor
    review.save(update_fields=["revision", "updated_by", "updated_at"])


@transaction.atomic
def area_grades_save(*, review: Review, actor, revision: int,
                     grades: dict[str, tuple[str, str]]) -> Review:
    """Set area grades: {area code: (grade, reason)}. Every grade needs a reason."""
    ensure_round_writable(review.round_id, error=ReviewError)
    review = _lock_review(review, revision)
    if review.unit.category.ranked is False:
        raise ReviewError(_("军队和武警部队单位只检查督导，不评定等次。"))
    areas = {a.code: a for a in review.round.areas.all()}
    unknown = set(grades) - set(areas)
    if unknown:
        raise ReviewError(_("未知的考核内容：%(codes)s") % {"codes": "、".join(sorted(unknown))})
    valid = {g.value for g in Grade if g != Grade.PENDING}
    suggestions = prefill.suggestions_for(review.round, review.unit)
    existing = {g.area_id: g for g in review.area_grades.all()}
    changes = {}
    for code, (grade, reason) in grades.items():
        area = areas[code]
        if grade not in valid:
            raise ReviewError(_("“%(area)s”的等次无效。") % {"area": area.name})
        if not reason.strip():
            raise ReviewError(_("请填写“%(area)s”的评定理由。") % {"area": area.name})
        suggestion = suggestions.get(code)
        suggested = suggestion.grade if suggestion else None
        source = (GradeSource.PROVINCE if area.source == Source.COUNTY and grade == suggested
                  else GradeSource.REVIEWER)
        current = existing.get(area.pk)
        if current is None:
            AreaGrade.objects.create(review=review, area=area, grade=grade, reason=reason,
                                     source=source, suggested_grade=suggested or "",
                                     graded_by=actor)
            changes[code] = {"old": None, "new": grade}
        elif (current.grade, current.reason) != (grade, reason):
            changes[code] = {"old": current.grade, "new": grade}
            current.grade, current.reason, current.source = grade, reason, source
            current.suggested_grade, current.graded_by = suggested or "", actor
            current.save()
    _bump(review, actor)
    if changes:
        log_action("review.grade.changed", actor=actor, target=review, data=changes)
    return review


@transaction.atomic
def sub_report_save(*, review: Review, actor, revision: int, basic_situation: str,
                    problems: str, suggestions: str) -> SubReport:
    ensure_round_writable(review.round_id, error=ReviewError)
    review = _lock_review(review, revision)
    report, _created = SubReport.objects.get_or_create(review=review)
    report.basic_situation, report.problems, report.suggestions = (
        basic_situation, problems, suggestions)
    report.save()
    _bump(review, actor)
    log_action("review.sub_report.saved", actor=actor, target=review)
    return report


@transaction.atomic
def verification_set(*, review: Review, actor, indicator, county, status: str,
                     note: str) -> Verification:
    ensure_round_writable(review.round_id, error=ReviewError)
    review = _lock_review(review, None)
    if indicator.round_id != review.round_id:
        raise ReviewError(_("指标不属于本年度考核。"))
    verification, _created = Verification.objects.update_or_create(
        review=review, indicator=indicator, county=county,
        defaults={"status": status, "note": note, "verified_by": actor},
    )
    log_action("review.verification.set", actor=actor, target=review,
               data={"indicator": indicator.number, "status": status})
    return verification


@transaction.atomic
def activity_add(*, review: Review, actor, method: str, held_on, people: str,
                 note: str) -> ReviewActivity:
    ensure_round_writable(review.round_id, error=ReviewError)
    review = _lock_review(review, None)
    activity = ReviewActivity.objects.create(review=review, method=method, held_on=held_on,
                                             people=people, note=note, recorded_by=actor)
    log_action("review.activity.added", actor=actor, target=review, data={"method": method})
    return activity


def _check_county(round, unit, county):
    if county is not None and not unit.pairings.filter(round=round, county=county).exists():
        raise ReviewError(_("该县不是该单位的定点扶贫县。"))


@transaction.atomic
def serious_problem_add(*, round, unit, actor, kind, county, description: str,
                        source: str, evidence_note: str = "") -> SeriousProblem:
    ensure_round_writable(round, error=ReviewError)
    if source != FindingSource.ORG_DEPARTMENT:
        _check_unlocked(round, unit)
    _check_county(round, unit, county)
    if kind.round_id != round.pk:
        raise ReviewError(_("突出问题类别不属于本年度考核。"))
    if not description.strip():
        raise ReviewError(_("请填写情况说明。"))
    problem = SeriousProblem.objects.create(round=round, unit=unit, kind=kind, county=county,
                                            description=description, source=source,
                                            evidence_note=evidence_note, recorded_by=actor)
    log_action("review.problem.added", actor=actor, target=problem,
               data={"kind": kind.code, "source": source})
    return problem


@transaction.atomic
def major_incident_add(*, round, unit, actor, county, description: str, source: str,
                       evidence_note: str = "") -> MajorIncident:
    ensure_round_writable(round, error=ReviewError)
    _check_unlocked(round, unit)
    _check_county(round, unit, county)
    if county is None:
        raise ReviewError(_("请选择发生重大涉贫事件的县。"))
    if not description.strip():
        raise ReviewError(_("请填写情况说明。"))
    incident = MajorIncident.objects.create(round=round, unit=unit, county=county,
                                            description=description, source=source,
                                            evidence_note=evidence_note, recorded_by=actor)
    log_action("review.incident.added", actor=actor, target=incident,
               data={"county": county.code, "source": source})
    return incident


def finding_withdraw_refusal(finding, actor) -> str:
    """Why `actor` may not withdraw the finding ("" when it may): a finding is withdrawn
    only by the role that recorded it (the lead department of the unit's category, or the
    organization department), never by another."""
    if finding.source == FindingSource.ORG_DEPARTMENT:
        if not has_capability(actor, CHECK_CADRES):
            return _("该问题由中央组织部报送，只能由中央组织部撤回。")
    elif finding.source == FindingSource.REVIEWER:
        if not Scope.of(actor).is_own_lead_department(
                finding.unit.category.lead_department_id):
            return _("该问题由牵头部门记录，只能由负责该单位考核的牵头部门撤回。")
    else:
        return _("省级报告反映的问题不能在此撤回。")
    return ""


@transaction.atomic
def finding_withdraw(*, finding, actor, reason: str):
    """Withdraw a serious problem or major incident: it stays, marked 已撤回 with who, why
    and when, and no longer counts. Findings are never deleted."""
    ensure_round_writable(finding.round_id, error=ReviewError)
    finding = (type(finding).objects.select_for_update().select_related("unit__category")
               .get(pk=finding.pk))
    refusal = finding_withdraw_refusal(finding, actor)
    if refusal:
        raise ReviewError(refusal)
    if finding.source != FindingSource.ORG_DEPARTMENT:
        # The organization department records its findings whatever the category's state.
        _check_unlocked(finding.round, finding.unit)
    reason = finding.withdraw(actor=actor, reason=reason, error=ReviewError)
    log_action(f"review.{finding._meta.model_name}.withdrawn", actor=actor, target=finding,
               data={"reason": reason, "source": finding.source})
    return finding


# Preliminary results of a category ------------------------------------------------------


def category_units(round, lead_department):
    """The ranked, active units of the lead department's categories."""
    from kaohe.directory.models import Unit

    return Unit.objects.filter(category__lead_department=lead_department, category__ranked=True,
                               active=True).select_related("category").order_by("code")


def category_missing(round, lead_department) -> list[str]:
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


def category_missing_first(round, lead_department, *, limit: int) -> tuple[list[str], int]:
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


def _category_snapshot(round, lead_department) -> dict:
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
def category_report_save(*, submission: CategorySubmission, actor, overview: str,
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
def category_submit(*, submission: CategorySubmission, actor) -> CategorySubmission:
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
    submission.save()
    log_action("review.category.submitted", actor=actor, target=submission,
               data={"units": len(submission.snapshot["units"])})
    return submission


def _late_mark(submission):
    """Late after step 四's due date; a resubmission after a return is measured against
    step 五's (the working group's) date, which the return moved it to."""
    from kaohe.submissions import deadlines

    returned = submission.status == CategorySubmissionStatus.RETURNED
    code = "deliberation" if returned else "review"
    step = submission.round.steps.get(code=code)
    return deadlines.late_mark(step, lead_department=submission.lead_department)


@transaction.atomic
def category_return(*, submission: CategorySubmission, actor, reason: str) -> CategorySubmission:
    ensure_round_writable(submission.round_id, error=ReviewError)
    submission = CategorySubmission.objects.select_for_update().get(pk=submission.pk)
    if not submission.is_locked:
        raise ReviewError(_("只能退回已报送的初步考核结果。"))
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


# Organization department and military inspection ----------------------------------------


@transaction.atomic
def cadre_check_save(*, record, actor, in_post: bool, in_charge: bool, nominal_only: bool,
                     discipline_issue: bool, note: str, raise_problem: bool) -> CadreCheck:
    """Record the check of a seconded cadre or first secretary; a finding may become a
    serious problem of the unit (挂职干部挂名无实走形式，或出现违纪违规问题)."""
    ensure_round_writable(record.round_id, error=ReviewError)
    # The row lock orders a check against the unit deleting the record (cadre_remove).
    record = type(record).objects.select_for_update().get(pk=record.pk)
    field = "cadre" if record._meta.model_name == "secondedcadre" else "secretary"
    check, _created = CadreCheck.objects.update_or_create(
        **{field: record},
        defaults={"round": record.round, "in_post": in_post, "in_charge": in_charge,
                  "nominal_only": nominal_only, "discipline_issue": discipline_issue,
                  "note": note, "checked_by": actor},
    )
    log_action("org.cadre.checked", actor=actor, target=record,
               data={"in_post": in_post, "in_charge": in_charge, "nominal_only": nominal_only,
                     "discipline_issue": discipline_issue})
    # A withdrawn problem stays in the history; raising again records a new one.
    standing = check.problem_id is not None and check.problem.withdrawn_at is None
    if raise_problem and check.has_problem and not standing:
        kind = record.round.problem_kinds.get(code="cadres_nominal")
        # A county no longer paired with the unit (a later import) still leaves the problem.
        paired = record.unit.pairings.filter(round=record.round, county=record.county).exists()
        check.problem = serious_problem_add(
            round=record.round, unit=record.unit, actor=actor, kind=kind,
            county=record.county if paired else None,
            description=f"{record.name}：{note or '核查发现问题'}",
            source=FindingSource.ORG_DEPARTMENT, evidence_note=_("中央组织部核查"),
        )
        check.save(update_fields=["problem"])
    return check


@transaction.atomic
def inspection_add(*, round, unit, actor, inspected_on, inspectors: str, findings: str,
                   report: str) -> MilitaryInspection:
    ensure_round_writable(round, error=ReviewError)
    if unit.category.ranked:
        raise ReviewError(_("只有军队和武警部队单位由中央军委政治工作部检查督导。"))
    inspection = MilitaryInspection.objects.create(
        round=round, unit=unit, inspected_on=inspected_on, inspectors=inspectors,
        findings=findings, report=report, recorded_by=actor)
    log_action("military.inspection.added", actor=actor, target=inspection)
    return inspection
