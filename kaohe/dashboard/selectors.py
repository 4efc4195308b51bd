"""Progress of a round, counted in a fixed number of queries whatever the number of units."""

from dataclasses import dataclass

from django.db.models import Count, Exists, F, OuterRef, Q, Subquery
from django.utils.translation import gettext as _

from kaohe.directory.models import Category, Pairing, Unit
from kaohe.launch.selectors import launch_progress, training_progress
from kaohe.rounds.models import Step
from kaohe.submissions.models import (
    FirstSecretary,
    ProvincialReport,
    ReportStatus,
    SecondedCadre,
    SelfReport,
)


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


def step_progress(round_, units, province=None) -> list[StepProgress]:
    """Done / total per step, counted only over the units (and province) the viewer may see."""
    units = units.filter(active=True)
    pairings = Pairing.objects.filter(round=round_, unit__in=units)
    reports = ProvincialReport.objects.filter(round=round_, unit__in=units,
                                              status=ReportStatus.SUBMITTED)
    if province is not None:
        pairings = pairings.filter(county__province=province)
        reports = reports.filter(province=province)
    counts = {
        "self_report": (
            SelfReport.objects.filter(round=round_, unit__in=units,
                                      status=ReportStatus.SUBMITTED).count(),
            units.count(),
        ),
        "provincial_report": (
            reports.count(),
            pairings.values("county__province_id", "unit_id").distinct().count(),
        ),
        # Office-run steps, the same for every viewer: lead departments with team and
        # plan filed, and the lead departments' staff trained.
        "launch": launch_progress(round_),
        "training": training_progress(round_),
        **_later_steps(round_, units),
    }
    return [StepProgress(step, *counts.get(step.code, (None, None))) for step in round_.steps.all()]


def _later_steps(round_, units) -> dict:
    """Steps 4-7, counted over what the viewer may see: the lead departments of the visible
    units, whether a result set went to / came back from the leading group, rectification
    reports of the visible ranked units once results are released."""
    from kaohe.grading.models import ResultSet, ResultSetStatus
    from kaohe.outcomes.models import RectificationReport
    from kaohe.reviews.models import CategorySubmission, CategorySubmissionStatus

    ranked = units.filter(category__ranked=True)
    leads = ranked.values("category__lead_department").distinct()
    statuses = set(ResultSet.objects.filter(round=round_).values_list("status", flat=True))
    released = ResultSetStatus.RELEASED in statuses
    return {
        "review": (
            CategorySubmission.objects.filter(
                round=round_, lead_department__in=leads,
                status=CategorySubmissionStatus.SUBMITTED).count(),
            leads.count(),
        ),
        "deliberation": (
            int(bool(statuses & {ResultSetStatus.SUBMITTED, ResultSetStatus.APPROVED,
                                 ResultSetStatus.RELEASED})), 1,
        ),
        "feedback": (int(released), 1),
        "rectification": (
            (RectificationReport.objects.filter(round=round_, unit__in=ranked,
                                                submitted_at__isnull=False).count(),
             ranked.count())
            if released else (None, None)
        ),
    }


def category_progress(round_, units=None):
    """Per category: units, self-reports submitted and in draft, provincial reports."""
    units = units if units is not None else Unit.objects.all()
    units = units.filter(active=True)
    submitted = SelfReport.objects.filter(round=round_, status=ReportStatus.SUBMITTED)
    drafts = SelfReport.objects.filter(round=round_).exclude(status=ReportStatus.SUBMITTED)
    rows = (
        Category.objects.filter(units__in=units).distinct()
        .annotate(
            unit_count=Count("units", filter=Q(units__in=units), distinct=True),
            submitted=Count("units__self_reports",
                            filter=Q(units__self_reports__in=submitted, units__in=units),
                            distinct=True),
            drafts=Count("units__self_reports",
                         filter=Q(units__self_reports__in=drafts, units__in=units),
                         distinct=True),
        )
        .annotate(not_started=F("unit_count") - F("submitted") - F("drafts"))
        .select_related("lead_department")
        .order_by("order")
    )
    return list(rows)


def unit_progress(round_, units):
    """Units with their self-report status and provincial reports submitted / expected."""
    report = SelfReport.objects.filter(round=round_, unit=OuterRef("pk"))
    expected = (
        Pairing.objects.filter(round=round_, unit=OuterRef("pk"))
        .values("unit").annotate(n=Count("county__province", distinct=True)).values("n")
    )
    received = (
        ProvincialReport.objects.filter(round=round_, unit=OuterRef("pk"),
                                        status=ReportStatus.SUBMITTED)
        .values("unit").annotate(n=Count("pk")).values("n")
    )
    return units.annotate(
        self_report_status=Subquery(report.values("status")[:1]),
        self_report_submitted_at=Subquery(report.values("submitted_at")[:1]),
        provinces_expected=Subquery(expected),
        provinces_received=Subquery(received),
        has_pairing=Exists(Pairing.objects.filter(round=round_, unit=OuterRef("pk"))),
    )


def province_reports(round_, province):
    """The central units working in a province, with the province's report status on each."""
    unit_ids = Pairing.objects.filter(round=round_, county__province=province).values("unit_id")
    status = ProvincialReport.objects.filter(round=round_, province=province, unit=OuterRef("pk"))
    counties = (
        Pairing.objects.filter(round=round_, county__province=province, unit=OuterRef("pk"))
        .values("unit").annotate(n=Count("pk")).values("n")
    )
    return (
        Unit.objects.filter(pk__in=unit_ids).select_related("category")
        .annotate(report_status=Subquery(status.values("status")[:1]),
                  county_count=Subquery(counties))
    )


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
