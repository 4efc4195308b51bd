"""Analysis around a round's grades: how fragile they are (``sensitivity``) and how each
category's area grades compare with the others' (``calibration``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from kaohe.grading.engine.ranking import _fmt, _rank, _resolve_method, _validated
from kaohe.grading.engine.results import UnitInput
from kaohe.grading.method import Method, MethodError
from kaohe.grading.vocabulary import AREA_CODES, AREA_GRADES, AREA_NAMES, Grade

# --------------------------------------------------------------------------- sensitivity


@dataclass(frozen=True, slots=True)
class GradeChange:
    unit: str
    before: Grade
    after: Grade


@dataclass(frozen=True, slots=True)
class Perturbation:
    """One setting moved by one step, and the units whose grade that changes."""

    parameter: str  # e.g. "weights.effectiveness" or "points.good"
    label: str
    before: Decimal
    after: Decimal
    changes: tuple[GradeChange, ...]


def sensitivity(
    inputs: Iterable[UnitInput], method: Method | Mapping[str, Any] | None = None
) -> list[Perturbation]:
    """How fragile the grades are: each area weight +1 and -1 (not below 0), each grade's
    points +1 and -1 (only where the points stay strictly ordered), one at a time; for each,
    the units whose grade changes. Steps the method would refuse are left out."""
    method = _resolve_method(method)
    units = _validated(inputs)
    base = {p.unit.unit: p.grade for p in _rank(units, method).placed}
    out = []
    steps: list[tuple[str, str, str]] = [
        ("weights", area, f"{AREA_NAMES[area]}权重") for area in AREA_CODES
    ] + [("points", grade.value, f"「{grade.label}」分值") for grade in AREA_GRADES]
    for group, key, label in steps:
        current: Decimal = getattr(method, group)[key]
        for delta in (1, -1):
            changed = dict(getattr(method, group))
            changed[key] = current + delta
            try:
                perturbed = (replace(method, weights=changed) if group == "weights"
                             else replace(method, points=changed))
            except MethodError:
                continue
            grades = {p.unit.unit: p.grade for p in _rank(units, perturbed).placed}
            changes = tuple(
                GradeChange(name, base[name], grades[name])
                for name in base
                if grades[name] is not base[name]
            )
            out.append(
                Perturbation(
                    parameter=f"{group}.{key}",
                    label=f"{label} {_fmt(current)}→{_fmt(current + delta)}",
                    before=current,
                    after=current + delta,
                    changes=changes,
                )
            )
    return out


# --------------------------------------------------------------------------- calibration


@dataclass(frozen=True, slots=True)
class Distribution:
    counts: dict[Grade, int]
    total: int

    def share(self, grade: Grade) -> float:
        return round(self.counts[grade] / self.total, 4) if self.total else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "counts": {grade.label: self.counts[grade] for grade in AREA_GRADES},
            "shares": {grade.label: self.share(grade) for grade in AREA_GRADES},
        }


@dataclass(frozen=True, slots=True)
class Comparison:
    category: Distribution
    others: Distribution


@dataclass(frozen=True, slots=True)
class CategoryCalibration:
    """How one category's area grades compare with everyone else's: a lead department that
    grades more leniently than the others shows up here."""

    category: str
    units: int
    other_units: int
    areas: dict[str, Comparison]
    overall: Comparison

    def to_dict(self) -> dict[str, Any]:
        def pair(c: Comparison) -> dict[str, Any]:
            return {"category": c.category.to_dict(), "others": c.others.to_dict()}

        return {
            "category": self.category,
            "units": self.units,
            "other_units": self.other_units,
            "areas": {area: pair(c) for area, c in self.areas.items()},
            "overall": pair(self.overall),
        }


def _distribution(grades: Iterable[Grade]) -> Distribution:
    counts = dict.fromkeys(AREA_GRADES, 0)
    for grade in grades:
        counts[grade] += 1
    return Distribution(counts, sum(counts.values()))


def calibration(inputs: Iterable[UnitInput]) -> dict[str, CategoryCalibration]:
    """Per category: the distribution of its units' area grades, per area and over all six,
    beside the distribution of all other units (those without a category count as others)."""
    units = _validated(inputs)
    categories = sorted({u.category for u in units if u.category})
    out = {}
    for category in categories:
        mine = [u for u in units if u.category == category]
        others = [u for u in units if u.category != category]
        areas = {
            area: Comparison(
                _distribution(u.grades[area] for u in mine),
                _distribution(u.grades[area] for u in others),
            )
            for area in AREA_CODES
        }
        overall = Comparison(
            _distribution(g for u in mine for g in u.grades.values()),
            _distribution(g for u in others for g in u.grades.values()),
        )
        out[category] = CategoryCalibration(category, len(mine), len(others), areas, overall)
    return out
