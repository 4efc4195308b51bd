"""What a lead department records about one unit at its desk: the area grades with their
reasons, the sub-report, the verification of an indicator and the review activities. Each
step owns its transaction and audit entry and carries the revision the reviewer started from.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils.translation import gettext as _

from kaohe.audit.services import log_action
from kaohe.reviews import prefill
from kaohe.reviews.models import (
    AreaGrade,
    GradeSource,
    Review,
    ReviewActivity,
    SubReport,
    Verification,
)
from kaohe.reviews.services.guards import ReviewError, _bump, _lock_review
from kaohe.rounds.guards import ensure_round_writable
from kaohe.rounds.models import Grade, Source

if TYPE_CHECKING:
    from kaohe.accounts.models import User
    from kaohe.directory.models import County
    from kaohe.rounds.models import Indicator


@transaction.atomic
def area_grades_save(*, review: Review, actor: User, revision: int,
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
def sub_report_save(*, review: Review, actor: User, revision: int, basic_situation: str,
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
def verification_set(*, review: Review, actor: User, indicator: Indicator,
                     county: County | None, status: str, note: str) -> Verification:
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
def activity_add(*, review: Review, actor: User, method: str, held_on: datetime.date,
                 people: str, note: str) -> ReviewActivity:
    ensure_round_writable(review.round_id, error=ReviewError)
    review = _lock_review(review, None)
    activity = ReviewActivity.objects.create(review=review, method=method, held_on=held_on,
                                             people=people, note=note, recorded_by=actor)
    log_action("review.activity.added", actor=actor, target=review, data={"method": method})
    return activity
