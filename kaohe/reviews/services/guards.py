"""The records a lead department's review works on, and the checks every step makes
before it writes: the errors the rules raise, the lead department's deadline for step 四
(with its extension, and step 五's after a return), the category's lock once its preliminary
results are submitted, and the revision a reviewer started from (a second reviewer saving
over someone else's newer save gets a conflict, never a silent overwrite).
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from kaohe.lib.errors import ServiceError
from kaohe.reviews.models import CategorySubmission, CategorySubmissionStatus, Review, SubReport

if TYPE_CHECKING:
    from kaohe.accounts.models import User
    from kaohe.directory.models import LeadDepartment, Unit
    from kaohe.rounds.models import Round


class ReviewError(ServiceError):
    """A request the rules refuse; the message is for the user (Chinese)."""


class ConflictError(ReviewError):
    pass


class LockedError(ReviewError):
    pass


class ClosedError(ReviewError):
    pass


def review_for(*, round: Round, unit: Unit) -> Review:
    review, _created = Review.objects.get_or_create(round=round, unit=unit)
    SubReport.objects.get_or_create(review=review)
    return review


def category_submission_for(*, round: Round,
                            lead_department: LeadDepartment) -> CategorySubmission:
    submission, _created = CategorySubmission.objects.get_or_create(
        round=round, lead_department=lead_department
    )
    return submission


def review_deadline(round: Round, lead_department: LeadDepartment) -> datetime.date:
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


def review_is_open(round: Round, lead_department: LeadDepartment) -> bool:
    from kaohe.lib import clock

    return clock.today() <= review_deadline(round, lead_department)


def review_closed_message(round: Round, lead_department: LeadDepartment) -> str:
    return _("分类考核已于%(day)s截止；如需延期，请联系国务院扶贫办。") % {
        "day": review_deadline(round, lead_department).strftime("%Y-%m-%d")}


def _check_review_open(round: Round, lead_department: LeadDepartment) -> None:
    if not review_is_open(round, lead_department):
        raise ClosedError(review_closed_message(round, lead_department))


def check_unlocked(round: Round, unit: Unit) -> None:
    """Refuse a change of what the lead department reviews of the unit once its category's
    preliminary results are submitted (locked until the working group returns them), or
    after the lead department's deadline (``review_deadline``)."""
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
    check_unlocked(review.round, review.unit)
    if revision is not None and revision != review.revision:
        raise ConflictError(
            _("其他考核人员已修改了该单位的考核内容，请刷新页面后在最新内容上修改。")
        )
    return review


def _bump(review: Review, actor: User) -> None:
    review.revision += 1
    review.updated_by = actor
    review.save(update_fields=["revision", "updated_by", "updated_at"])
