"""Reads of the categorized assessment, scoped to the user; units and provinces see none."""

import datetime
from dataclasses import dataclass

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import ExtractDay, ExtractMonth, ExtractYear
from django.http import Http404
from django.utils.translation import gettext as _

from kaohe.accounts.scope import REVIEWS, Scope
from kaohe.directory.models import County, LeadDepartment, Pairing, Unit
from kaohe.reviews.models import (
    CategorySubmission,
    MajorIncident,
    Review,
    SeriousProblem,
)
from kaohe.submissions.models import (
    FirstSecretary,
    ProvincialReport,
    ReportStatus,
    SecondedCadre,
    SelfReport,
)


def category_grade_matrix(round_, lead, submission, areas, rows: slice | None = None
                          ) -> tuple[list, bool]:
    """(rows of [unit code, unit name, grade code per area], from the snapshot?): the grade
    matrix of a lead department's category, on its page and in its exported report.

    Once submitted, the grades are those the working group received (the snapshot); before,
    or after a return, they are the grades as they stand, and an ungraded area is ''.
    ``rows`` keeps a slice of the rows (one page): only its units' grades are read."""
    from kaohe.reviews.models import CategorySubmissionStatus
    from kaohe.reviews.services import category_units

    items = (_submitted_grade_rows(submission)
             if submission is not None
             and submission.status == CategorySubmissionStatus.SUBMITTED else None)
    if items is not None:
        # The snapshot keeps no order: list its units as the category lists them. Its units
        # are the lead department's (read without a list of a thousand codes to bind, issue
        # 19); one that has since left its categories is looked up by its code.
        order = {code: (category_order, code) for code, category_order in Unit.objects.filter(
            category__lead_department=lead).values_list("code", "category__order")}
        gone = [code for code, _name, _grades in items if code not in order]
        if gone:
            order.update((code, (category_order, code)) for code, category_order in
                         Unit.objects.filter(code__in=gone).values_list("code",
                                                                        "category__order"))
        items = sorted(items, key=lambda item: order.get(item[0], (0, item[0])))
        if rows is not None:
            items = items[rows]
        return [[code, name, *(grades.get(a.code, "") for a in areas)]
                for code, name, grades in items], True
    ordered = category_units(round_, lead).order_by("category__order", "code")
    units = list(ordered[rows] if rows is not None else ordered)
    grades = {}
    for review in (Review.objects.filter(round=round_, unit__in=units)
                   .prefetch_related("area_grades")):
        grades[review.unit_id] = {g.area_id: g.grade for g in review.area_grades.all()}
    return [[unit.code, unit.name, *(grades.get(unit.pk, {}).get(a.pk, "") for a in areas)]
            for unit in units], False


def grade_rows_of(snapshot: dict) -> list[list]:
    """A category snapshot's grade matrix: [unit code, unit name, {area code: grade}]."""
    return [[item["unit"], item["name"], item["grades"]] for item in snapshot.get("units", [])]


def _submitted_grade_rows(submission) -> list[list] | None:
    """The submitted grade matrix; None when nothing was snapshotted (the live grades)."""
    if submission.grade_rows is not None:
        return submission.grade_rows
    # A snapshot stored without its rows (before they were written with it).
    return grade_rows_of(submission.snapshot) if submission.snapshot else None


def review_units_visible_to(user, *, round):
    """Units whose review the user may open: a lead department its ranked categories."""
    units = Unit.objects.select_related("category", "category__lead_department")
    return Scope.of(user).filter(units, REVIEWS, unit="", round=round).filter(
        category__ranked=True)


def get_review_unit(user, pk, *, round):
    try:
        return review_units_visible_to(user, round=round).get(pk=pk)
    except Unit.DoesNotExist:
        raise Http404 from None


def _unit_in_round(model, round):
    """The rows of `model` of the outer unit in the round, read through the table's (unit,
    round) index: with the round's index alone SQLite read every row of the round for each
    unit (2.3 s for a category of 1,050 units, issue 19)."""
    return model.objects.filter(unit=OuterRef("pk"), round=round)


def review_queue(round, units):
    """The units with the state of their review, in a fixed number of queries."""
    review = Review.objects.filter(round=round, unit=OuterRef("pk"))
    report = SelfReport.objects.filter(round=round, unit=OuterRef("pk"))
    provincial = (
        _unit_in_round(ProvincialReport, round).filter(status=ReportStatus.SUBMITTED)
        .values("unit").annotate(n=Count("pk")).values("n")
    )
    graded = (
        Review.objects.filter(round=round, unit=OuterRef("pk"))
        .annotate(n=Count("area_grades")).values("n")
    )
    problems = (
        _unit_in_round(SeriousProblem, round).filter(withdrawn_at__isnull=True)
        .values("unit").annotate(n=Count("pk")).values("n")
    )
    incidents = (
        _unit_in_round(MajorIncident, round).filter(withdrawn_at__isnull=True)
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
    return Scope.of(user).filter(submissions, REVIEWS, lead_department="lead_department")


def lead_departments_ranked() -> QuerySet[LeadDepartment]:
    return LeadDepartment.objects.filter(categories__ranked=True).distinct().order_by("order")


def review_lead_departments_visible_to(user) -> QuerySet[LeadDepartment]:
    """The ranked lead departments whose category the user may open: a lead department
    its own, the centre all six."""
    return Scope.of(user).filter(lead_departments_ranked(), REVIEWS, unit=None,
                                 lead_department="")


# The organization department's coverage checks ------------------------------------------


@dataclass(frozen=True)
class CoverageGap:
    """What the plan asks of a unit's cadres and the unit lacks (kind: county, secretary,
    tenure)."""

    unit: Unit
    kind: str
    text: str
    county: County | None = None
    record: SecondedCadre | None = None


def _two_years_after(day: datetime.date) -> datetime.date:
    try:
        return day.replace(year=day.year + 2)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 2, month=3, day=1)


def units_with_cadre_gaps(round, units: QuerySet) -> QuerySet:
    """The units among ``units`` that cadre_coverage_gaps finds a gap for, chosen in the
    database (issue 19: the checklist shows a page of them, not every unit's gaps)."""
    # Uncorrelated subqueries of unit ids: the same units as correlated EXISTS, at a
    # fraction of the cost of building the query (issue 19).
    cadres = SecondedCadre.objects.filter(round=round, withdrawn_at__isnull=True)
    pairings = Pairing.objects.filter(round=round)
    uncovered = pairings.exclude(
        Exists(cadres.filter(unit=OuterRef("unit"), county=OuterRef("county")))).values("unit_id")
    secretary = FirstSecretary.objects.filter(round=round, withdrawn_at__isnull=True
                                              ).values("unit_id")

    def day(field: str):  # yyyymmdd as a number: comparable as dates are
        return ExtractYear(field) * 10000 + ExtractMonth(field) * 100 + ExtractDay(field)

    # A tenure ending before the same day two years on (1 March after a 29 February: no
    # day lies between the 29th of a February two years on, which does not exist, and 1
    # March).
    short = cadres.filter(end__isnull=False).alias(end_day=day("end"), start_day=day("start")
                                                   ).filter(end_day__lt=F("start_day") + 20000
                                                            ).values("unit_id")
    return units.filter(pk__in=pairings.values("unit_id")).filter(
        Q(pk__in=uncovered) | ~Q(pk__in=secretary) | Q(pk__in=short)).order_by("code", "pk")


def cadre_coverage_gaps(round, units) -> list[CoverageGap]:
    """The plan's indicators 6 and 7 as checks, in four queries whatever the number of units:
    a seconded cadre in every paired county (向每个定点扶贫县选派挂职扶贫干部), at least one
    village first secretary (至少选派一名驻贫困村第一书记), and a tenure of two years or more
    where the end is recorded (挂职年限一般两年以上). Withdrawn records cover nothing."""
    units = {u.pk: u for u in units}
    pairings = (Pairing.objects.filter(round=round, unit_id__in=units)
                .select_related("county").only("unit_id", "county__code", "county__name")
                .order_by("county__code"))
    cadres = (SecondedCadre.objects.filter(round=round, unit_id__in=units,
                                           withdrawn_at__isnull=True)
              .select_related("county").only("unit_id", "name", "start", "end", "county__code",
                                             "county__name")
              .order_by("county__code", "start", "pk"))
    with_secretary = set(FirstSecretary.objects.filter(
        round=round, unit_id__in=units, withdrawn_at__isnull=True).values_list("unit_id",
                                                                               flat=True))
    counties: dict[int, list[County]] = {}
    covered: set[tuple[int, int]] = set()
    cadres_of: dict[int, list[SecondedCadre]] = {}
    for pairing in pairings:
        counties.setdefault(pairing.unit_id, []).append(pairing.county)
    for cadre in cadres:
        covered.add((cadre.unit_id, cadre.county_id))
        cadres_of.setdefault(cadre.unit_id, []).append(cadre)
    gaps = []
    for unit in sorted(units.values(), key=lambda u: u.code):
        if unit.pk not in counties:
            continue  # not paired in this round: nothing to send
        for county in counties[unit.pk]:
            if (unit.pk, county.pk) not in covered:
                gaps.append(CoverageGap(unit, "county", _(
                    "%(unit)s：未向%(county)s选派挂职扶贫干部") % {
                        "unit": unit.name, "county": county.name}, county=county))
        if unit.pk not in with_secretary:
            gaps.append(CoverageGap(unit, "secretary", _("%(unit)s：未选派驻村第一书记")
                                    % {"unit": unit.name}))
        for cadre in cadres_of.get(unit.pk, []):
            if cadre.end is not None and cadre.end < _two_years_after(cadre.start):
                gaps.append(CoverageGap(unit, "tenure", _(
                    "%(unit)s：%(name)s（%(county)s）挂职%(start)s至%(end)s，不足两年") % {
                        "unit": unit.name, "name": cadre.name, "county": cadre.county.name,
                        "start": cadre.start.isoformat(), "end": cadre.end.isoformat()},
                    county=cadre.county, record=cadre))
    return gaps
