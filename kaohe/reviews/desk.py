"""What the review desk reads about one unit (issue 22, item 4): the unit's review, its
submitted self-report and the provinces' reports on it, the findings, the cadres and the
county figures, gathered across four apps by one selector. The page adds its forms and
what the user may do (kaohe.reviews.views.units.desk)."""

from dataclasses import dataclass
from typing import Any

from kaohe.directory.models import County, Unit
from kaohe.reviews import prefill, services
from kaohe.reviews.models import (
    CategorySubmission,
    CategorySubmissionStatus,
    MajorIncident,
    Review,
    SeriousProblem,
    SubReport,
)
from kaohe.rounds.models import Round
from kaohe.submissions.models import (
    FirstSecretary,
    ProvincialFinding,
    ProvincialReport,
    ReportStatus,
    SecondedCadre,
    SelfReport,
)
from kaohe.submissions.selectors import self_report_sections


@dataclass
class Desk:
    """One unit's desk; the field names are those the template reads."""

    round: Round
    unit: Unit
    review: Review | None
    revision: int
    sub_report: SubReport | None
    report: SelfReport | None  # the submitted self-report, with each slot's verification
    sections: list
    gaps: list
    provincial: list[ProvincialReport]
    provincial_findings: Any  # QuerySet[ProvincialFinding]
    areas: list[dict]  # {area, current grade, the county data's suggestion}
    counties: Any  # QuerySet[County]: the unit's paired counties this round
    national_figures: list  # (county, its figures with their source)
    activities: Any
    problems: list[SeriousProblem]  # each with .withdraw_refusal for the viewer
    incidents: list[MajorIncident]
    cadres: Any
    secretaries: Any
    locked: bool  # the category was submitted
    review_open: bool
    closed_message: str


def desk_for(user, *, round: Round, unit: Unit) -> Desk:
    """The desk of a unit the user may review (kaohe.reviews.selectors.get_review_unit)."""
    review = Review.objects.filter(round=round, unit=unit).first()
    report = SelfReport.objects.filter(round=round, unit=unit,
                                       status=ReportStatus.SUBMITTED).first()
    sections, gaps = self_report_sections(report) if report else ([], [])
    provincial = list(
        ProvincialReport.objects.filter(round=round, unit=unit, status=ReportStatus.SUBMITTED)
        .select_related("province")
        .prefetch_related("outcomes__county", "attachments__evidence", "attachments__county")
    )
    verifications, grades, sub_report = {}, {}, None
    if review is not None:
        verifications = {(v.indicator_id, v.county_id): v
                         for v in review.verifications.select_related("verified_by")}
        grades = {g.area_id: g for g in review.area_grades.all()}
        sub_report = SubReport.objects.filter(review=review).first()
    for section in sections:
        for entry in section["slots"]:
            slot = entry["slot"]
            entry["verification"] = verifications.get(
                (slot.indicator.pk, slot.county.pk if slot.county else None))
    suggestions = prefill.suggestions_for(round, unit)
    counties = County.objects.filter(pairings__round=round, pairings__unit=unit)
    lead_department = unit.category.lead_department
    locked = CategorySubmission.objects.filter(
        round=round, lead_department_id=unit.category.lead_department_id,
        status=CategorySubmissionStatus.SUBMITTED).exists()
    review_open = services.review_is_open(round, lead_department)
    return Desk(
        round=round, unit=unit, review=review, revision=review.revision if review else 0,
        sub_report=sub_report, report=report, sections=sections, gaps=gaps,
        provincial=provincial,
        provincial_findings=ProvincialFinding.objects.filter(report__in=provincial)
        .select_related("county", "problem_kind", "report__province"),
        areas=[{"area": area, "current": grades.get(area.pk),
                "suggestion": suggestions.get(area.code)} for area in round.areas.all()],
        counties=counties, national_figures=_national_figures(counties, round.year),
        activities=review.activities.select_related("recorded_by") if review else [],
        problems=_findings(user, SeriousProblem.objects.filter(round=round, unit=unit)
                           .select_related("kind", "county", "recorded_by")),
        incidents=_findings(user, MajorIncident.objects.filter(round=round, unit=unit)
                            .select_related("county", "recorded_by")),
        cadres=SecondedCadre.objects.filter(round=round, unit=unit).select_related(
            "county", "org_check"),
        secretaries=FirstSecretary.objects.filter(round=round, unit=unit).select_related(
            "county", "org_check"),
        locked=locked, review_open=review_open,
        closed_message=("" if locked or review_open
                        else services.review_closed_message(round, lead_department)),
    )


def _national_figures(counties, year: int) -> list:
    """The national information system's county figures, with their source."""
    from kaohe.directory import figures

    return [(f.county, figures.describe(f))
            for f in figures.figures_for(counties, year).values()]


def _findings(user, findings) -> list:
    """The unit's findings, withdrawn ones included (they stay in the history), each with
    why the user may not withdraw it ("" when it may)."""
    findings = list(findings.select_related("unit__category", "withdrawn_by"))
    for finding in findings:
        finding.withdraw_refusal = services.finding_withdraw_refusal(finding, user)
    return findings
