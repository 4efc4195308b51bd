"""What the engine is fed and what it answers: one entry per unit of every submitted
category, from the lead departments' grades as submitted, the findings that still count and
the provinces' recommended grades (``engine_inputs``); the engine's run on them with its
sensitivity and calibration (``run_engine``); and the words a serious problem or a major
incident is named with in the engine's reasons.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import translation

from kaohe.directory.models import Unit
from kaohe.grading import engine
from kaohe.grading.vocabulary import Grade
from kaohe.reviews.models import (
    CategorySubmission,
    CategorySubmissionStatus,
    FindingSource,
    MajorIncident,
    SeriousProblem,
)
from kaohe.rounds.models import Round
from kaohe.submissions.models import FindingKind, ProvincialFinding, ProvincialReport, ReportStatus


def engine_inputs(round_: Round) -> list[dict[str, Any]]:
    """One entry per unit of every submitted category, from the grades as submitted.

    These are sealed with the result set, so they hold codes and data, never a label in the
    reader's language: a serious problem is its kind (code and name), its source (code) and,
    for a province's finding, the province (code and name)."""
    submissions = CategorySubmission.objects.filter(
        round=round_, status=CategorySubmissionStatus.SUBMITTED)
    entries = {}
    for submission in submissions:
        for item in submission.snapshot.get("units", []):
            entries[item["unit"]] = {
                "unit": item["unit"], "name": item["name"], "grades": item["grades"],
                "serious_problems": [], "incidents": [], "recommended_grade": None,
            }
    units = {u.code: u for u in Unit.objects.filter(code__in=entries)
             .select_related("category")}
    for code, entry in entries.items():
        entry["category"] = units[code].category.name
    by_id = {u.pk: u.code for u in units.values()}
    # A withdrawn finding stays in the history but no longer counts.
    for problem in SeriousProblem.objects.filter(round=round_, unit_id__in=by_id,
                                                 withdrawn_at__isnull=True).select_related(
            "kind"):
        entries[by_id[problem.unit_id]]["serious_problems"].append(
            {"kind": problem.kind.code, "name": problem.kind.name, "source": problem.source})
    for incident in MajorIncident.objects.filter(round=round_, unit_id__in=by_id,
                                                 withdrawn_at__isnull=True).select_related(
            "county"):
        entries[by_id[incident.unit_id]]["incidents"].append(
            {"county": incident.county.code, "county_name": incident.county.name,
             "description": incident.description[:60], "source": incident.source})
    findings = ProvincialFinding.objects.filter(
        report__round=round_, report__status=ReportStatus.SUBMITTED,
        report__unit_id__in=by_id).select_related("county", "problem_kind", "report__province")
    for finding in findings:
        entry = entries[by_id[finding.report.unit_id]]
        province = finding.report.province
        if finding.kind == FindingKind.MAJOR_INCIDENT:
            entry["incidents"].append(
                {"county": finding.county.code, "county_name": finding.county.name,
                 "description": finding.description[:60], "source": FindingSource.PROVINCE,
                 "province": province.code, "province_name": province.name})
        elif (kind := finding.problem_kind) is not None:  # a problem always names its kind
            entry["serious_problems"].append(
                {"kind": kind.code, "name": kind.name,
                 "source": FindingSource.PROVINCE, "province": province.code,
                 "province_name": province.name})
    # Where several provinces recommend a grade, the most cautious one counts.
    for unit_id, grade in ProvincialReport.objects.filter(
            round=round_, status=ReportStatus.SUBMITTED, unit_id__in=by_id).exclude(
            recommended_grade="").values_list("unit_id", "recommended_grade"):
        entry = entries[by_id[unit_id]]
        current = entry["recommended_grade"]
        if current is None or Grade(grade).level > Grade(current).level:
            entry["recommended_grade"] = grade
    return sorted(entries.values(), key=lambda e: e["unit"])


def _source_text(item: dict[str, Any]) -> str:
    """Who found it, in the engine's language (Chinese) whatever the reader's language."""
    if item.get("province_name"):
        return f"{item['province_name']}报告"
    with translation.override(settings.LANGUAGE_CODE):
        return str(FindingSource(item["source"]).label)


def problem_text(item: str | dict[str, Any]) -> str:
    """A serious problem as the engine's reasons name it; sets sealed before problems were
    stored as codes hold the text itself."""
    if isinstance(item, str):
        return item
    return f"{item['name']}（{_source_text(item)}）"


def incident_text(item: str | dict[str, Any]) -> str:
    if isinstance(item, str):
        return item
    where = f"（{item['province_name']}报告）" if item.get("province_name") else ""
    return f"{item['county_name']}：{item['description']}{where}"


def _unit_inputs(inputs: list[dict[str, Any]]) -> list[engine.UnitInput]:
    return [
        engine.UnitInput(
            unit=item["unit"],
            grades={area: engine.Grade(grade) for area, grade in item["grades"].items()},
            serious_problems=tuple(problem_text(p) for p in item["serious_problems"]),
            major_incident=bool(item["incidents"]),
            recommended_grade=(engine.Grade(item["recommended_grade"])
                               if item["recommended_grade"] else None),
            category=item["category"],
            name=item.get("name"),
        )
        for item in inputs
    ]


def run_engine(inputs: list[dict[str, Any]], method: dict[str, Any]) -> dict[str, Any]:
    units = _unit_inputs(inputs)
    evaluation = engine.evaluate(units, method)
    outputs = evaluation.to_dict()
    outputs["sensitivity"] = [
        {"parameter": p.parameter, "label": p.label, "before": str(p.before),
         "after": str(p.after),
         "changes": [{"unit": c.unit, "before": c.before.value, "after": c.after.value}
                     for c in p.changes]}
        for p in engine.sensitivity(units, method)
    ]
    outputs["calibration"] = {
        name: cal.to_dict() for name, cal in engine.calibration(units).items()
    }
    return outputs
