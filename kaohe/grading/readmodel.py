"""The read model of result sets (issue 19 item 4, issue 22 item 5): one ``ResultRow`` per unit
and one ``ResultSummary`` per version, taken from the version's snapshots once and never
changed, so that pages and documents read a unit's line, a page of lines or the counts without
decoding the snapshots (about 7 MB at 3,100 units).

They are written in the transaction that creates the version (``write_rows``); a version made
before they existed gets them on its first read (``ensure_rows``), after its seal is checked,
once however many requests read it at the same moment. ``row_disagreements`` compares them
with the snapshots: approval refuses a version whose rows disagree, and ``kaohe verify``
reports any sealed version whose rows were changed afterwards.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence
from typing import Any

from django.db import transaction

from kaohe.grading import engine
from kaohe.grading.models import ResultRow, ResultSet, ResultSummary
from kaohe.grading.vocabulary import Grade

# What a page names of a sensitivity run's units (the rest are counted).
SENSITIVITY_NAMES = 10

# The fields of a row compared with the snapshots (everything but the keys).
_ROW_FIELDS = ("seq", "unit_name", "category", "rank", "position", "position_first",
               "position_last", "score", "grade", "band", "candidates", "allowed",
               "area_grades", "reasons", "reason_codes", "warnings", "major_incident",
               "serious_problem", "recommended_grade")
_SUMMARY_FIELDS = ("units", "bands", "counts", "grade_counts", "warned_units",
                   "engine_outside", "warnings", "warning_kinds", "sensitivity", "calibration")


def _allowed(grades: tuple[Grade, ...]) -> str:
    return "," + ",".join(grade.value for grade in grades) + ","


def build(result_set: ResultSet) -> tuple[dict[str, Any], list[ResultRow]]:
    """The summary's fields and the rows of a version, from its snapshots (which must be
    loaded, with its round)."""
    from kaohe.grading.services import decision_rules

    outputs = result_set.outputs
    inputs = {item["unit"]: item for item in result_set.inputs}
    rules = decision_rules(result_set)
    warnings = outputs.get("warnings") or []
    by_unit: dict[str, list[dict[str, str]]] = {}
    for warning in warnings:
        if warning.get("unit"):
            by_unit.setdefault(warning["unit"], []).append(
                {"code": warning.get("code", ""), "message": warning["message"]})
    names = {code: item.get("name") or code for code, item in inputs.items()}
    rows = []
    for seq, result in enumerate(outputs["results"]):
        code = result["unit"]
        item = inputs.get(code, {})
        first, last = result["positions"]
        rows.append(ResultRow(
            result_set_id=result_set.pk, seq=seq, unit_code=code, unit_name=names.get(code, code),
            category=item.get("category") or result.get("category") or "",
            rank=result["rank"], position=result["position"], position_first=first,
            position_last=last, score=result["score"], grade=result["grade_code"],
            band=result["band"],
            candidates=[Grade.parse(label).value for label in result["candidates"]],
            allowed=_allowed(rules.allowed(code)) if code in rules.units else ",,",
            area_grades=dict(item.get("grades") or {}), reasons=list(result["reasons"]),
            reason_codes=list(result["reason_codes"]), warnings=by_unit.get(code, []),
            major_incident=bool(item.get("incidents")),
            serious_problem=bool(item.get("serious_problems")),
            recommended_grade=item.get("recommended_grade") or "",
        ))
    summary = {
        "units": len(rows),
        "bands": outputs.get("bands") or {},
        "counts": outputs.get("counts") or {},
        "grade_counts": [[category, grade, n] for (category, grade), n in
                         sorted(Counter((row.category, row.grade) for row in rows).items())],
        "warned_units": sum(1 for row in rows if row.warnings),
        "engine_outside": [row.unit_code for row in rows if row.grade != Grade.PENDING
                           and row.grade not in row.allowed_grades],
        "warnings": [{"code": w.get("code", ""), "message": w["message"]}
                     for w in warnings if not w.get("unit")],
        # Lists of pairs, not objects: PostgreSQL's jsonb does not keep the keys' order.
        "warning_kinds": [[code, n] for code, n in
                          Counter(w.get("code", "") for w in warnings).most_common()],
        "sensitivity": [
            {"label": run["label"], "count": len(run["changes"]),
             "names": [names.get(c["unit"], c["unit"])
                       for c in run["changes"][:SENSITIVITY_NAMES]]}
            for run in outputs.get("sensitivity") or [] if run["changes"]],
        "calibration": [[category, data]
                        for category, data in (outputs.get("calibration") or {}).items()],
    }
    return summary, rows


def write_rows(result_set: ResultSet) -> None:
    """Write a new version's rows and summary (in the caller's transaction).

    The rows are built from the snapshots as the database gives them back, not from the
    objects in memory: PostgreSQL's jsonb returns an object's keys in its own order, and
    rows built from insertion order would then disagree with the same check made later."""
    stored = ResultSet.objects.select_related("round", "correction__corrects").get(
        pk=result_set.pk)
    summary, rows = build(stored)
    ResultSummary.objects.create(result_set=stored, **summary)
    ResultRow.objects.bulk_create(rows)


def ensure_rows(result_set: ResultSet | int) -> None:
    """Write the rows of a version made before rows existed, once. The seal is checked first
    (``SealBroken``): a version changed after approval is never copied into rows. Two first
    reads at once write one set: the summary's unique key lets one of them in (on
    PostgreSQL the other waits for it, then finds its summary)."""
    pk = result_set if isinstance(result_set, int) else result_set.pk
    if ResultSummary.objects.filter(result_set_id=pk).exists():
        return
    with transaction.atomic():
        full = ResultSet.objects.select_related("round", "correction__corrects").get(pk=pk)
        full.verify_seal()
        summary, rows = build(full)
        _summary, created = ResultSummary.objects.get_or_create(result_set=full,
                                                                defaults=summary)
        if created:
            ResultRow.objects.bulk_create(rows)


def row_disagreements(result_set: ResultSet) -> list[str]:
    """Where the stored rows and summary differ from what the snapshots say (empty: they
    agree; a version without rows yet has nothing to disagree). One line per unit or field,
    naming the unit by its code."""
    summary = ResultSummary.objects.filter(result_set_id=result_set.pk).first()
    if summary is None:
        return []
    full = result_set
    if full.get_deferred_fields() & {"inputs", "method", "outputs"}:
        full = ResultSet.objects.select_related("round").get(pk=result_set.pk)
    expected_summary, expected_rows = build(full)
    problems = [f"summary: {field}" for field in _SUMMARY_FIELDS
                if getattr(summary, field) != expected_summary[field]]
    stored = {row.unit_code: row for row in ResultRow.objects.filter(result_set_id=full.pk)}
    for row in expected_rows:
        have = stored.pop(row.unit_code, None)
        if have is None:
            problems.append(f"{row.unit_code}: missing")
            continue
        problems += [f"{row.unit_code}: {field}" for field in _ROW_FIELDS
                     if getattr(have, field) != getattr(row, field)]
    problems += [f"{code}: not in the result set" for code in sorted(stored)]
    return problems


def rules_for_rows(result_set: ResultSet, summary: ResultSummary,
                   rows: Sequence[ResultRow]) -> engine.DecisionRules:
    """Section 七's rules for the given rows only (to word a breach of them, or check the
    quotas), from the rows, the summary's bands and the version's method: the snapshots of
    results and inputs stay unread."""
    from kaohe.grading.services import plan_words

    rules = engine.DecisionRules.from_outputs({"results": [], "bands": summary.bands}, [],
                                              result_set.method, plan_words(result_set.round))
    return dataclasses.replace(rules, units={
        row.unit_code: engine.Allowance(
            unit=row.unit_code, name=row.unit_name, first=row.position_first,
            last=row.position_last, candidates=tuple(Grade(code) for code in row.candidates),
            major_incident=row.major_incident, serious_problem=row.serious_problem)
        for row in rows})
