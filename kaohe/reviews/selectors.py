"""Reads of the categorized assessment, scoped to the user; units and provinces see none."""

from django.db.models import Count, OuterRef, Q, Subquery
from django.http import Http404

from kaohe.accounts.models import Role
from kaohe.directory.models import LeadDepartment
from kaohe.directory.selectors import units_visible_to
from kaohe.reviews.models import (
    CategorySubmission,
    MajorIncident,
    Review,
    SeriousProblem,
)
from kaohe.submissions.models import ProvincialReport, ReportStatus, SelfReport

_SEE_ALL = {Role.OFFICE, Role.WORKING_GROUP, Role.LEADING_GROUP}


def review_units_visible_to(user, *, round):
    """Units whose review the user may open: a lead department its ranked categories."""
    if user.role in _SEE_ALL:
        return units_visible_to(user, round=round).filter(category__ranked=True)
    if user.role == Role.LEAD_REVIEWER:
        return units_visible_to(user, round=round).filter(category__ranked=True)
    return units_visible_to(user, round=round).none()


def get_review_unit(user, pk, *, round):
    try:
        return review_units_visible_to(user, round=round).get(pk=pk)
    except units_visible_to(user, round=round).model.DoesNotExist:
        raise Http404 from None


def review_queue(round, units):
    """The units with the state of their review, in a fixed number of queries."""
    review = Review.objects.filter(round=round, unit=OuterRef("pk"))
    report = SelfReport.objects.filter(round=round, unit=OuterRef("pk"))
    provincial = (
        ProvincialReport.objects.filter(round=round, unit=OuterRef("pk"),
                                        status=ReportStatus.SUBMITTED)
        .values("unit").annotate(n=Count("pk")).values("n")
    )
    graded = (
        Review.objects.filter(round=round, unit=OuterRef("pk"))
        .annotate(n=Count("area_grades")).values("n")
    )
    problems = (
        SeriousProblem.objects.filter(round=round, unit=OuterRef("pk"))
        .values("unit").annotate(n=Count("pk")).values("n")
    )
    incidents = (
        MajorIncident.objects.filter(round=round, unit=OuterRef("pk"))
        .values("unit").annotate(n=Count("pk")).values("n")
    )
    return units.annotate(
        self_report_status=Subquery(report.values("status")[:1]),
        self_report_submitted_at=Subquery(report.values("submitted_at")[:1]),
        provincial_received=Subquery(provincial),
        grades_done=Subquery(graded),
        sub_report_done=Subquery(review.filter(
            ~Q(sub_report__basic_situation=""), ~Q(sub_report__problems=""),
            ~Q(sub_report__suggestions=""),
        ).values("pk")[:1]),
        problem_count=Subquery(problems),
        incident_count=Subquery(incidents),
    ).order_by("category__order", "code")


def category_submissions_visible_to(user, *, round):
    submissions = CategorySubmission.objects.filter(round=round).select_related(
        "lead_department", "submitted_by")
    if user.role in _SEE_ALL:
        return submissions
    if user.role == Role.LEAD_REVIEWER:
        return submissions.filter(lead_department_id=user.lead_department_id)
    return submissions.none()


def lead_departments_ranked():
    return LeadDepartment.objects.filter(categories__ranked=True).distinct().order_by("order")
