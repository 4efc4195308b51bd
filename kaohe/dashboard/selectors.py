"""Progress of a round, counted in a fixed number of queries whatever the number of units."""

from dataclasses import dataclass

from django.db.models import Count, F, FilteredRelation, OuterRef, Q, Subquery
from django.utils.translation import gettext as _

from kaohe.directory.models import Category, Pairing, Unit
from kaohe.launch.selectors import launch_progress, training_progress
from kaohe.lib import paging
from kaohe.rounds.models import Step
from kaohe.submissions.models import (
    FirstSecretary,
    ProvincialReport,
    ReportStatus,
    SecondedCadre,
    SelfReport,
)
from kaohe.submissions.selectors import provincial_report_counts


@dataclass
class StepProgress:
    step: Step
    done: int | None
    total: int | None

    @property
    def percent(self) -> int | None:
        if not self.total:
            return None
        return round(100 * (self.done or 0) / self.total)

    @property
    def due_display(self) -> str:
        """The deadline as the page writes it (Y年n月j日), without a date filter per row."""
        due = self.step.due
        return f"{due.year}年{due.month}月{due.day}日"


@dataclass(frozen=True)
class Tally:
    """Active units of one category whose self-report of the round is in one status."""

    category_id: int
    ranked: bool
    lead_department_id: int
    report_status: str | None       # None: no self-report yet
    units: int


def unit_tallies(round_, units) -> list[Tally]:
    """The active ones of the units counted by category and by the status of their
    self-report in the round (a unit has one report a round), which the step and category
    progress both read (issue 19). Two grouped queries: the units by category, and their
    reports by category and status read from an index of the round's reports by status
    (not from every report's row, as one query joining the reports to the units did:
    4.3 -> 2.5 ms at 3,100 units)."""
    active = units.filter(active=True).order_by()
    groups = (active.values_list("category_id", "category__ranked",
                                 "category__lead_department_id").annotate(n=Count("pk")))
    started: dict[int, list[tuple[str, int]]] = {}
    for category_id, status, n in (
            SelfReport.objects.filter(round=round_, unit__in=active.values("pk")).order_by()
            .values_list("unit__category_id", "status").annotate(n=Count("pk"))):
        started.setdefault(category_id, []).append((status, n))
    tallies = []
    for category_id, ranked, lead_department_id, n in groups:
        for status, count in started.get(category_id, []):
            tallies.append(Tally(category_id, ranked, lead_department_id, status, count))
            n -= count
        if n > 0:  # the units without a report of the round
            tallies.append(Tally(category_id, ranked, lead_department_id, None, n))
    return tallies


def step_progress(round_, units, province=None, *, steps=None, statuses=None,
                  actors=None, tallies=None) -> list[StepProgress]:
    """Done / total per step, counted only over the units (and province) the viewer may see.

    ``actors``: only the steps of those actors (their counts alone are made). ``steps`` (the
    round's steps), ``statuses`` (those of its result sets) and ``tallies`` (unit_tallies of
    the same units) may be given by a caller that has read them already (issue 19).
    """
    steps = list(round_.steps.all()) if steps is None else list(steps)
    if actors is not None:
        steps = [step for step in steps if step.actor in actors]
    codes = {step.code for step in steps}
    units = units.filter(active=True)
    counts: dict[str, tuple[int | None, int | None]] = {}
    if codes & {"self_report", "review", "rectification"} and tallies is None:
        tallies = unit_tallies(round_, units)
    if "self_report" in codes:
        counts["self_report"] = (
            sum(t.units for t in tallies if t.report_status == ReportStatus.SUBMITTED),
            sum(t.units for t in tallies),
        )
    if "provincial_report" in codes and province is not None:
        counts["provincial_report"] = provincial_report_counts(round_, province, units)
    elif "provincial_report" in codes:
        pairings = Pairing.objects.filter(round=round_, unit__in=units)
        reports = ProvincialReport.objects.filter(round=round_, unit__in=units,
                                                  status=ReportStatus.SUBMITTED)
        counts["provincial_report"] = (
            reports.count(),
            pairings.values("county__province_id", "unit_id").distinct().count(),
        )
    # Office-run steps, the same for every viewer: lead departments with team and plan
    # filed, and the lead departments' staff trained.
    if "launch" in codes:
        counts["launch"] = launch_progress(round_)
    if "training" in codes:
        counts["training"] = training_progress(round_)
    if codes & {"review", "deliberation", "feedback", "rectification"}:
        counts.update(_later_steps(round_, units, tallies, codes, statuses))
    return [StepProgress(step, *counts.get(step.code, (None, None))) for step in steps]


def _later_steps(round_, units, tallies, codes, statuses) -> dict:
    """Steps 4-7, counted over what the viewer may see: the lead departments of the visible
    units, whether a result set went to / came back from the leading group, rectification
    reports of the visible ranked units once results are released."""
    from kaohe.grading.models import ResultSet, ResultSetStatus
    from kaohe.outcomes.models import RectificationReport
    from kaohe.reviews.models import CategorySubmission, CategorySubmissionStatus

    if statuses is None:
        statuses = set(ResultSet.objects.filter(round=round_).values_list("status", flat=True))
    released = ResultSetStatus.RELEASED in statuses
    counts: dict[str, tuple[int | None, int | None]] = {
        "deliberation": (
            int(bool(set(statuses) & {ResultSetStatus.SUBMITTED, ResultSetStatus.APPROVED,
                                      ResultSetStatus.RELEASED})), 1,
        ),
        "feedback": (int(released), 1),
        "rectification": (None, None),
    }
    if "review" in codes:
        leads = {t.lead_department_id for t in tallies if t.ranked}
        counts["review"] = (
            CategorySubmission.objects.filter(
                round=round_, lead_department__in=leads,
                status=CategorySubmissionStatus.SUBMITTED).count() if leads else 0,
            len(leads),
        )
    if "rectification" in codes and released:
        counts["rectification"] = (
            RectificationReport.objects.filter(round=round_,
                                               unit__in=units.filter(category__ranked=True),
                                               submitted_at__isnull=False).count(),
            sum(t.units for t in tallies if t.ranked),
        )
    return counts


def category_progress(round_, units=None, *, tallies=None):
    """Per category: units, self-reports submitted and in draft (``tallies``: unit_tallies of
    the same units, if read already)."""
    units = units if units is not None else Unit.objects.all()
    if tallies is None:
        tallies = unit_tallies(round_, units)
    counts: dict[int, dict[str, int]] = {}
    for t in tallies:
        row = counts.setdefault(t.category_id, {"units": 0, "submitted": 0, "drafts": 0})
        row["units"] += t.units
        if t.report_status == ReportStatus.SUBMITTED:
            row["submitted"] += t.units
        elif t.report_status is not None:
            row["drafts"] += t.units
    rows = list(Category.objects.filter(pk__in=counts).select_related("lead_department")
                .order_by("order"))
    for category in rows:
        row = counts[category.pk]
        # The attributes the annotations gave before (the pages and the API read them).
        for name, value in (("unit_count", row["units"]), ("submitted", row["submitted"]),
                            ("drafts", row["drafts"]),
                            ("not_started", row["units"] - row["submitted"] - row["drafts"])):
            setattr(category, name, value)
    return rows


# Unit progress's status filter, beside the report's own statuses: no report yet, and a
# report begun but not submitted (in draft or returned: the overview's 填报中).
NO_REPORT, UNSUBMITTED = "none", "unsubmitted"
PROGRESS_STATUSES = frozenset({NO_REPORT, UNSUBMITTED, *ReportStatus.values})


def unit_progress(round_, units, status=""):
    """Units with their self-report status and provincial reports submitted / expected;
    ``status`` (one of ``PROGRESS_STATUSES``) keeps the units at that step only."""
    expected = (
        Pairing.objects.filter(round=round_, unit=OuterRef("pk"))
        .values("unit").annotate(n=Count("county__province", distinct=True)).values("n")
    )
    received = (
        ProvincialReport.objects.filter(round=round_, unit=OuterRef("pk"),
                                        status=ReportStatus.SUBMITTED)
        .values("unit").annotate(n=Count("pk")).values("n")
    )
    # The round's self-report joined (one a unit and round), not two subqueries (issue 19).
    rows = units.annotate(
        round_self_report=FilteredRelation("self_reports",
                                           condition=Q(self_reports__round=round_)),
        self_report_status=F("round_self_report__status"),
        self_report_submitted_at=F("round_self_report__submitted_at"),
        provinces_expected=Subquery(expected),
        provinces_received=Subquery(received),
    )
    if status == NO_REPORT:
        return rows.filter(self_report_status__isnull=True)
    if status == UNSUBMITTED:
        return rows.filter(self_report_status__in=[ReportStatus.DRAFT, ReportStatus.RETURNED])
    if status in ReportStatus.values:
        return rows.filter(self_report_status=status)
    return rows


def province_reports(round_, province, number=None):
    """One page of the central units working in a province (``number``: the page asked
    for), with the province's report status and its counties on each. Paged on the units'
    bare ids, the status and counties read for the page's units only (issue 19: a province
    hosts a tenth of the units or more)."""
    units = Unit.objects.filter(
        pk__in=Pairing.objects.filter(round=round_, county__province=province).values("unit_id"))
    status = ProvincialReport.objects.filter(round=round_, province=province, unit=OuterRef("pk"))
    counties = (
        Pairing.objects.filter(round=round_, county__province=province, unit=OuterRef("pk"))
        .values("unit").annotate(n=Count("pk")).values("n")
    )
    return paging.page_read_late(units, number, lambda ids: (
        Unit.objects.filter(pk__in=ids).select_related("category")
        .annotate(report_status=Subquery(status.values("status")[:1]),
                  county_count=Subquery(counties))))


@dataclass
class CadreCheckProgress:
    label: str
    total: int
    checked: int
    with_problem: int


def cadre_check_progress(round_) -> list[CadreCheckProgress]:
    """The organization department's checks: seconded cadres and first secretaries of every
    unit, how many are checked and how many checks found a problem."""
    problem = (Q(org_check__in_post=False) | Q(org_check__nominal_only=True)
               | Q(org_check__discipline_issue=True))
    rows = []
    for label, model, extra in (
        (_("挂职扶贫干部"), SecondedCadre, Q(org_check__in_charge=False)),
        (_("驻村第一书记"), FirstSecretary, Q()),
    ):
        counts = model.objects.filter(round=round_).aggregate(
            total=Count("pk"),
            checked=Count("pk", filter=Q(org_check__isnull=False)),
            with_problem=Count("pk", filter=Q(org_check__isnull=False) & (problem | extra)),
        )
        rows.append(CadreCheckProgress(label, **counts))
    return rows
