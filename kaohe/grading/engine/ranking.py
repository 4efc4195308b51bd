"""Scores, order, bands and the grades each position allows (steps 1-7 of the engine's
docstring), with the small helpers the other parts of the engine share."""

from __future__ import annotations

import math
import operator
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any, cast

from kaohe.grading.engine.results import Band, BandRange, EngineInputError, UnitInput
from kaohe.grading.method import Method
from kaohe.grading.vocabulary import AREA_CODES, AREA_GRADES, AREA_NAMES, Grade

# --------------------------------------------------------------------------- helpers

# A grade's steps below 好, for indexing the score table.
_LEVELS: dict[Grade, int] = {grade: grade.level for grade in AREA_GRADES}


def _fmt(value: Decimal | Fraction | int) -> str:
    """A number as people write it: 4, 1.5, 0.25 (no exponent, no trailing zeros)."""
    if isinstance(value, Fraction):
        if value.denominator == 1:
            return str(value.numerator)
        return _fmt(Decimal(value.numerator) / Decimal(value.denominator))
    text = format(Decimal(value).normalize(), "f")
    return text


def _public_score(value: Fraction) -> int | float:
    if value.denominator == 1:
        return value.numerator
    return round(float(value), 4)


def _positions(first: int, last: int) -> str:
    return f"第{first}位" if first == last else f"第{first}–{last}位"


def _worse(a: Grade, b: Grade) -> Grade:
    return a if a.level >= b.level else b


def _apply_rounding(value: Fraction, rounding: str) -> int:
    if rounding == "floor":
        return math.floor(value)
    if rounding == "ceil":
        return math.ceil(value)
    # "round": half up, so 2.5 -> 3 (Python's round() would give 2).
    return math.floor(value + Fraction(1, 2))


def _resolve_method(method: Method | Mapping[str, Any] | None) -> Method:
    if method is None:
        return Method.default()
    if isinstance(method, Mapping):
        return Method.from_dict(method)
    return method


def _validated(inputs: Iterable[UnitInput]) -> list[UnitInput]:
    """Check and normalise the inputs; a silently missing grade would score 0, so refuse it.
    Inputs that are already in normal form are passed through as they are."""
    units: list[UnitInput] = []
    seen: set[str] = set()
    for item in inputs:
        name = item.unit
        if not isinstance(name, str) or not name.strip():
            raise EngineInputError(f"单位名称为空 (empty unit name): {name!r}")
        if name in seen:
            raise EngineInputError(f"单位「{name}」重复 (duplicate unit {name!r})")
        seen.add(name)
        try:
            values = _AREA_VALUES(item.grades)
        except KeyError:
            values = None
        if values is None or len(item.grades) != len(AREA_CODES):
            missing = [AREA_NAMES[a] for a in AREA_CODES if a not in item.grades]
            unknown = sorted(set(item.grades) - set(AREA_CODES))
            raise EngineInputError(
                f"单位「{name}」的考核内容不完整或有误 (unit {name!r}: "
                f"missing areas {missing}, unknown areas {unknown})"
            )
        try:
            grades = tuple(map(_AREA_GRADE_BY_VALUE.get, values))
        except TypeError:  # an unhashable value
            grades = tuple(map(_area_grade, values))
        if None in grades:
            area = AREA_CODES[grades.index(None)]
            raise EngineInputError(
                f"单位「{name}」「{AREA_NAMES[area]}」等次无效 "
                f"(unit {name!r}, area {area}: invalid grade {item.grades[area]!r})"
            )
        recommended = item.recommended_grade
        if recommended is not None:
            recommended = _area_grade(recommended)
            if recommended is None:
                raise EngineInputError(
                    f"单位「{name}」省级推荐等次无效 (unit {name!r}: invalid recommended grade "
                    f"{item.recommended_grade!r})"
                )
        normal = (
            all(map(operator.is_, grades, values))
            and recommended is item.recommended_grade
            and type(item.serious_problems) is tuple
            and type(item.major_incident) is bool
        )
        if normal:
            units.append(item)
        else:
            units.append(
                UnitInput(
                    unit=name,
                    # None was refused above.
                    grades=dict(zip(AREA_CODES, cast("tuple[Grade, ...]", grades), strict=True)),
                    serious_problems=tuple(item.serious_problems),
                    major_incident=bool(item.major_incident),
                    recommended_grade=recommended,
                    category=item.category,
                    name=item.name,
                )
            )
    return units


# A unit's six area grades as a tuple, in AREA_CODES order.
_AREA_VALUES = operator.itemgetter(*AREA_CODES)
_AREA_GRADE_BY_VALUE: dict[str, Grade] = {grade.value: grade for grade in AREA_GRADES}


def _area_grade(value: object) -> Grade | None:
    """The area grade for a Grade or its code; None for anything else (pending included)."""
    try:
        return _AREA_GRADE_BY_VALUE.get(cast(str, value))
    except TypeError:  # unhashable
        return None


# --------------------------------------------------------------------------- bands


_BAND_ORDER: tuple[Band, ...] = tuple(Band)


@dataclass(frozen=True, slots=True)
class _Bands:
    n: int
    n_good: int
    n_top: int
    poor_first: int  # first position of the poor band; n + 1 when it is empty

    def band_of(self, position: int) -> Band:
        if position <= self.n_good:
            return Band.GOOD
        if position <= self.n_top:
            return Band.FAIRLY_GOOD
        if position >= self.poor_first:
            return Band.POOR
        return Band.AVERAGE

    def span(self, band: Band) -> tuple[int, int]:
        """First and last position of a band (first > last when it is empty)."""
        if band is Band.GOOD:
            return 1, self.n_good
        if band is Band.FAIRLY_GOOD:
            return self.n_good + 1, self.n_top
        if band is Band.AVERAGE:
            return self.n_top + 1, self.poor_first - 1
        return self.poor_first, self.n

    def between(self, first: int, last: int) -> tuple[Band, ...]:
        """The bands the positions first..last reach, best first."""
        # Bands are contiguous and in order, so these are the non-empty bands from the band of
        # the first position to the band of the last.
        lo = _BAND_ORDER.index(self.band_of(first))
        hi = _BAND_ORDER.index(self.band_of(last))
        return tuple(band for band in _BAND_ORDER[lo : hi + 1] if self.size(band))

    def size(self, band: Band) -> int:
        lo, hi = self.span(band)
        return max(0, hi - lo + 1)

    def ranges(self) -> dict[Band, BandRange]:
        out = {}
        for band in Band:
            lo, hi = self.span(band)
            size = max(0, hi - lo + 1)
            out[band] = BandRange(band, size, lo if size else None, hi if size else None)
        return out


def _bands(n: int, method: Method) -> tuple[_Bands, int]:
    """The bands for n units, and the nominal size of the poor band before any overlap."""
    shares = method.shares

    def size(share: Decimal) -> int:
        # Fraction of the exact decimal: 0.10 * 30 is exactly 3, never 3.0000000000000004.
        return min(n, max(0, _apply_rounding(Fraction(share) * n, method.rounding)))

    n_good = size(shares["good"])
    n_top = max(n_good, size(shares["fairly_good"]))
    n_poor = size(shares["poor"])
    # The top bands win an overlap (only possible for tiny N or unusual shares).
    poor_first = max(n - n_poor + 1, n_top + 1)
    return _Bands(n, n_good, n_top, poor_first), n_poor


# --------------------------------------------------------------------------- ranking


def _tie_value(key: str) -> Callable[[UnitInput], int]:
    """A function giving the unit's value for one tie-break key; smaller sorts first."""
    if key.startswith("area:"):
        area = key.removeprefix("area:")
        return lambda unit: unit.grades[area].level
    if key == "count_good":
        return lambda unit: -sum(1 for g in unit.grades.values() if g is Grade.GOOD)
    if key == "count_poor":
        return lambda unit: sum(1 for g in unit.grades.values() if g is Grade.POOR)
    if key == "recommended_grade":
        # A missing recommendation sorts below 较差.
        return lambda unit: (
            unit.recommended_grade.level if unit.recommended_grade is not None else len(AREA_GRADES)
        )
    raise ValueError(f"unknown tie-break key {key!r}")


def _tie_description(key: str, unit: UnitInput) -> str:
    if key.startswith("area:"):
        area = key.removeprefix("area:")
        return f"{AREA_NAMES[area]}等次「{unit.grades[area].label}」"
    if key == "count_good":
        return f"「好」的项数 {sum(1 for g in unit.grades.values() if g is Grade.GOOD)}"
    if key == "count_poor":
        return f"「较差」的项数 {sum(1 for g in unit.grades.values() if g is Grade.POOR)}"
    recommended = unit.recommended_grade
    return f"省级推荐等次「{recommended.label if recommended else '无'}」"


def _score_table(method: Method) -> tuple[list[list[int]], int]:
    """Per area and grade level, points x weight as integers over one common denominator."""
    points = [Fraction(method.points[grade.value]) for grade in AREA_GRADES]
    exact = [[p * Fraction(method.weights[area]) for p in points] for area in AREA_CODES]
    scale = math.lcm(*(value.denominator for row in exact for value in row))
    table = [[int(value * scale) for value in row] for row in exact]
    return table, scale


@dataclass(slots=True)
class _Placed:
    """One unit after ranking and grading, before the reasons are written."""

    unit: UnitInput
    score: int  # scaled integer
    key: tuple[int, ...]
    position: int = 0
    first: int = 0
    last: int = 0
    score_ties: int = 0  # how many other units have the same score
    grade: Grade = Grade.PENDING
    candidates: tuple[Grade, ...] = ()
    rules: frozenset[str] = frozenset()
    group: tuple[str, ...] = ()
    reached: tuple[Band, ...] = ()  # the bands the group's positions reach


@dataclass(slots=True)
class _Ranking:
    placed: list[_Placed]
    bands: _Bands
    n_poor_nominal: int
    scale: int


# An outcome is the grade a unit would get at some position, with the rule that produced it.
_Outcome = tuple[Grade, str | None]


def _outcome(band: Band, problem: bool, incident: bool, promoted: bool, cap: Grade) -> _Outcome:
    if band is Band.GOOD:
        grade, rule = Grade.GOOD, None
    elif promoted:
        grade, rule = Grade.GOOD, "backfill.promoted"
    elif band is Band.FAIRLY_GOOD:
        grade, rule = Grade.FAIRLY_GOOD, None
    elif band is Band.POOR:
        if problem:
            grade, rule = Grade.POOR, "poor.serious_problem"
        else:
            grade, rule = Grade.AVERAGE, "poor.no_serious_problem"
    else:
        grade, rule = Grade.AVERAGE, None
    if incident and _worse(grade, cap) is not grade:
        return cap, "cap.major_incident"
    return grade, rule


def _rank(inputs: Iterable[UnitInput], method: Method) -> _Ranking:
    units = _validated(inputs)
    table, scale = _score_table(method)
    tie_values = [_tie_value(key) for key in method.tie_break]
    placed = []
    # Six four-level grades and a recommendation have few combinations: compute each key once.
    keys: dict[tuple[tuple[Grade, ...], Grade | None], tuple[int, ...]] = {}
    for unit in units:
        signature = (_AREA_VALUES(unit.grades), unit.recommended_grade)
        key = keys.get(signature)
        if key is None:
            score = sum(row[_LEVELS[g]] for row, g in zip(table, signature[0], strict=True))
            key = keys[signature] = (-score, *(value(unit) for value in tie_values))
        placed.append(_Placed(unit=unit, score=-key[0], key=key))
    placed.sort(key=lambda p: (p.key, p.unit.unit))

    n = len(placed)
    bands, n_poor_nominal = _bands(n, method)
    cap = Grade(method.incident_cap)

    score_counts = Counter(p.score for p in placed)
    free_before = 0  # units without an incident ahead of the current group (for backfill)
    start = 0
    while start < n:
        end = start
        while end + 1 < n and placed[end + 1].key == placed[start].key:
            end += 1
        members = placed[start : end + 1]
        first, last = start + 1, end + 1
        group = tuple(p.unit.unit for p in members)
        reached = bands.between(first, last)
        n_free = sum(1 for p in members if not p.unit.major_incident)
        n_capped = len(members) - n_free
        # Every member with the same (incident, problem) profile has the same outcomes.
        decided: dict[tuple[bool, bool], tuple[tuple[Grade, ...], frozenset[str]]] = {}
        for offset, p in enumerate(members):
            profile = (p.unit.major_incident, bool(p.unit.serious_problems))
            if profile not in decided:
                found = _group_outcomes(
                    *profile, first, last, free_before, n_free, n_capped, bands, method, cap
                )
                decided[profile] = (
                    tuple(sorted({grade for grade, _ in found}, key=lambda g: g.level)),
                    frozenset(rule for _, rule in found if rule),
                )
            p.candidates, p.rules = decided[profile]
            p.grade = p.candidates[0] if len(p.candidates) == 1 else Grade.PENDING
            p.position = first + offset
            p.first, p.last = first, last
            p.group = group
            p.reached = reached
            p.score_ties = score_counts[p.score] - 1
        free_before += n_free
        start = end + 1
    return _Ranking(placed, bands, n_poor_nominal, scale)


def _group_outcomes(
    incident: bool,
    problem: bool,
    first: int,
    last: int,
    free_before: int,
    n_free: int,
    n_capped: int,
    bands: _Bands,
    method: Method,
    cap: Grade,
) -> set[_Outcome]:
    """Every outcome a unit of this profile can get, over all orders of its fully tied group."""
    n_good = bands.n_good
    if incident or not method.backfill:
        # Any member can take any of the group's positions.
        return {
            _outcome(band, problem, incident, False, cap) for band in bands.between(first, last)
        }
    # Backfill: a member without an incident is promoted when it is among the first n_good
    # such units overall. With j such units ahead of it inside the group, it is number
    # free_before + j + 1 and its position is first + j + (0..n_capped capped units ahead).
    if free_before + n_free <= n_good or free_before >= n_good:
        promoted = free_before < n_good  # the same for every j
        return {
            _outcome(band, problem, False, promoted and band is Band.FAIRLY_GOOD, cap)
            for band in bands.between(first, last)
        }
    found: set[_Outcome] = set()
    for j in range(n_free):
        promoted = free_before + j + 1 <= n_good
        for band in bands.between(first + j, first + j + n_capped):
            found.add(_outcome(band, problem, False, promoted and band is Band.FAIRLY_GOOD, cap))
    return found
