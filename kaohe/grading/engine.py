"""The grading engine: area grades, serious problems and incidents in; scores, ranks, bands,
grades and the reasons for each grade out.

Plain Python with no Django import, so it can be read, tested and run (``kaohe evaluate``)
on its own. Everything the office can change is a setting of the round's ``Method``
(kaohe.grading.method); this module holds the rules that do not change.

How a round is graded (implementation plan, section 七; docs/mission.md "Grades"):

1. Score. Each unit's score is the sum over the six areas of ``points[grade] * weights[area]``,
   computed exactly (Decimal settings turned into integers over a common denominator).
2. Order. Units are sorted by score, highest first, then by the round's tie-break chain
   (``Method.tie_break``). Units equal on the score *and* on every tie-break key are fully
   tied: they share a rank (competition ranking 1, 2, 2, 4). Inside a fully tied group the
   units are listed by name, for a stable display only; that order decides nothing.
3. Bands. With N ranked units and rounding R (floor, round half up or ceil):
   ``n_good = R(shares.good * N)``, ``n_top = R(shares.fairly_good * N)`` (cumulative) and
   ``n_poor = R(shares.poor * N)``. Positions 1..n_good are the good band,
   n_good+1..n_top the fairly good band, the last n_poor positions the poor band, the rest
   the average band. When N is so small that the poor band would overlap the top bands, the
   top bands win: the poor band is cut to the positions after n_top, and a round warning
   ("bands.overlap") says so.
4. Grades by band. Good band -> 好, fairly good band -> 较好, average band -> 一般. Poor band ->
   较差 only for a unit with at least one serious problem; without one it is 一般.
5. Major incident. A unit with a major incident is at most ``Method.incident_cap`` (default
   较好): its grade is the worse of its band grade and the cap. Reason "cap.major_incident".
6. Backfill (``Method.backfill``). False (default): a 好 place freed by a capped unit stays
   empty. True: the 好 places go to the first ``n_good`` units *without* an incident, in position
   order, but only to units inside the top bands (positions up to n_top); so a unit can move
   up one level only, 较好 -> 好 (reason "backfill.promoted"). Nothing else moves: the capped
   unit takes the 较好 place its replacement left, and places freed in the 较好 band (possible
   only with a cap below 较好) are not refilled from the average band.
7. Ties across a boundary are not decided by the machine. Think of the working group choosing
   an order inside each fully tied group: the engine computes, for every unit of the group,
   the set of grades it could get over all those orders. If that set has more than one grade
   the unit is 待定 (pending, reason "tie.pending" naming the candidate grades and the
   positions); otherwise it gets the one grade, even if the group crosses a band boundary.
   What this means at each boundary:

   - 好 / 较好: every unit of the group is pending between 好 and 较好, except a unit with a
     major incident, which cannot be 好 anyway: it gets the cap grade (较好) with reason
     "cap.major_incident" and is not pending. The others stay pending even when an incident
     unit is among them, since which of them takes the 好 place is still open (with backfill,
     the freed place goes to one of them, which is just as open).
   - 较好 / 一般: every unit of the group is pending between 较好 and 一般 (a capped unit with
     cap 一般 is 一般 either way and so is not pending).
   - 一般 / 较差: only units with a serious problem can become 较差, so only they are pending;
     units of the same group without a problem are 一般 whichever place they take, and a poor
     place taken by a unit without a problem is not handed to anyone else. A group in which
     nobody has a serious problem is therefore never pending at this boundary.
   - With backfill, a group in the 较好 band that straddles the last backfilled 好 place is
     pending between 好 and 较好 in the same way.

8. Warnings (for the working group; they never change a grade): a serious problem whose unit's
   positions all lie outside the poor band ("problem.outside_bottom"); a major incident in a
   unit that reaches into the good band ("incident.in_top_band"); a province's recommended
   grade two or more steps from the unit's (decided) grade ("recommendation.far").

9. Decisions (``DecisionRules``, ``check_final_grades``). The working group may set a unit's
   grade by hand only within these rules: a grade its tie group's positions allow (its
   candidates), or a lower one; never better than the incident cap with a major incident;
   较差 only in the poor band and with a serious problem; at most n_good 好, n_top 好 and 较好
   together, and as many 较差 as the poor band has places. Each refusal names the unit and
   cites section 七.

Who is ranked is the caller's decision: army and armed police units are inspected, not ranked,
so they are not passed in.
"""

from __future__ import annotations

import gc
import math
import operator
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kaohe.grading.method import Method


class Grade(StrEnum):
    """A grade: of one area (the first four) or the result of a unit (all five)."""

    GOOD = "good"
    FAIRLY_GOOD = "fairly_good"
    AVERAGE = "average"
    POOR = "poor"
    PENDING = "pending"

    @property
    def label(self) -> str:
        return GRADE_LABELS[self]

    @property
    def level(self) -> int:
        """0 for 好 .. 3 for 较差: the number of steps below 好."""
        return _LEVELS[self]

    @classmethod
    def parse(cls, text: str) -> Grade:
        """A grade from its Chinese label or its code; raises ValueError otherwise."""
        cleaned = text.strip()
        grade = _GRADES_BY_TEXT.get(cleaned) or _GRADES_BY_TEXT.get(cleaned.lower())
        if grade is None:
            raise ValueError(f"unknown grade {text!r}")
        return grade


GRADE_LABELS: dict[Grade, str] = {
    Grade.GOOD: "好",
    Grade.FAIRLY_GOOD: "较好",
    Grade.AVERAGE: "一般",
    Grade.POOR: "较差",
    Grade.PENDING: "待定",
}
# The four grades an area (or a decided result) can have, best first.
AREA_GRADES: tuple[Grade, ...] = (Grade.GOOD, Grade.FAIRLY_GOOD, Grade.AVERAGE, Grade.POOR)
_LEVELS: dict[Grade, int] = {grade: index for index, grade in enumerate(AREA_GRADES)}
_GRADES_BY_TEXT: dict[str, Grade] = {
    **{grade.label: grade for grade in Grade},
    **{grade.value: grade for grade in Grade},
}

AREA_CODES: tuple[str, ...] = (
    "effectiveness",
    "leadership",
    "cadres",
    "supervision",
    "satisfaction",
    "innovation",
)
AREA_NAMES: dict[str, str] = {
    "effectiveness": "帮扶成效",
    "leadership": "组织领导",
    "cadres": "选派干部",
    "supervision": "督促检查",
    "satisfaction": "基层满意情况",
    "innovation": "工作创新",
}


class Band(StrEnum):
    """The band a position falls in; the codes match the grades of the same name."""

    GOOD = "good"
    FAIRLY_GOOD = "fairly_good"
    AVERAGE = "average"
    POOR = "poor"

    @property
    def label(self) -> str:
        return GRADE_LABELS[Grade(self.value)]


class EngineInputError(ValueError):
    """The engine was given inputs it cannot grade (missing area grade, duplicate unit...)."""


# --------------------------------------------------------------------------- inputs, outputs


@dataclass(frozen=True, slots=True)
class UnitInput:
    unit: str
    grades: Mapping[str, Grade]
    serious_problems: tuple[str, ...] = ()
    major_incident: bool = False
    recommended_grade: Grade | None = None
    category: str | None = None
    # The unit's name for the texts people read (tie reasons, refusals); ``unit`` is the
    # identifier (a code) and stands in when no name is given.
    name: str | None = None

    @property
    def label(self) -> str:
        return self.name or self.unit


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class GradingWarning:
    """A point for the working group to look at; ``unit`` is None for a round-wide warning."""

    unit: str | None
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class BandRange:
    band: Band
    size: int
    first: int | None  # None when the band is empty
    last: int | None


@dataclass(frozen=True, slots=True)
class UnitResult:
    unit: str
    category: str | None
    score: int | float
    rank: int
    position: int  # display position; inside a fully tied group it follows the unit name
    position_first: int  # the positions the unit's fully tied group occupies
    position_last: int
    band: Band  # the band of ``position``
    bands: tuple[Band, ...]  # every band the group's positions reach
    grade: Grade
    candidates: tuple[Grade, ...]  # for a pending unit the grades to choose from, else (grade,)
    reasons: list[Reason]
    tie_group: tuple[str, ...]  # the fully tied units, this one included (shared tuple)

    def to_dict(self) -> dict[str, Any]:
        return {
            "unit": self.unit,
            "category": self.category,
            "score": self.score,
            "rank": self.rank,
            "position": self.position,
            "positions": [self.position_first, self.position_last],
            "grade": self.grade.label,
            "grade_code": self.grade.value,
            "candidates": [grade.label for grade in self.candidates],
            "band": self.band.value,
            "reasons": [reason.message for reason in self.reasons],
            "reason_codes": [reason.code for reason in self.reasons],
        }


@dataclass(slots=True)
class Evaluation:
    n: int
    n_good: int
    n_top: int  # cumulative: positions 1..n_top are 好 or 较好
    n_poor: int  # the poor band actually used (after the top bands won any overlap)
    n_poor_nominal: int  # R(shares.poor * N) before that
    bands: dict[Band, BandRange]
    results: list[UnitResult]
    counts: dict[Grade, int]
    warnings: list[GradingWarning]

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``kaohe evaluate``; grades by Chinese label."""
        return {
            "n": self.n,
            "bands": {
                band.value: {"size": info.size, "first": info.first, "last": info.last}
                for band, info in self.bands.items()
            },
            "counts": {grade.label: count for grade, count in self.counts.items()},
            "warnings": [
                {"unit": warning.unit, "code": warning.code, "message": warning.message}
                for warning in self.warnings
            ],
            "results": [result.to_dict() for result in self.results],
        }


# --------------------------------------------------------------------------- helpers


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
    # Imported here, not at the top: method.py imports this module's constants.
    from kaohe.grading.method import Method

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
                    grades=dict(zip(AREA_CODES, grades, strict=True)),
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
        return _AREA_GRADE_BY_VALUE.get(value)  # type: ignore[call-overload]
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


# --------------------------------------------------------------------------- evaluate


def evaluate(
    inputs: Iterable[UnitInput], method: Method | Mapping[str, Any] | None = None
) -> Evaluation:
    """Grade one round. ``method`` defaults to the 2017 method (DEFAULT_METHOD)."""
    method = _resolve_method(method)
    with _no_gc_pauses():
        return _evaluate(inputs, method)


@contextmanager
def _no_gc_pauses() -> Iterator[None]:
    """Pause the cyclic garbage collector while a round is graded. A 100,000-unit round makes
    about a million small objects, none in reference cycles; the collector would scan them over
    and over and more than double the run time. Nothing is lost: it runs when re-enabled."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _evaluate(inputs: Iterable[UnitInput], method: Method) -> Evaluation:
    ranking = _rank(inputs, method)
    bands = ranking.bands
    band_ranges = bands.ranges()
    warnings: list[GradingWarning] = []
    n_poor = band_ranges[Band.POOR].size
    if n_poor < ranking.n_poor_nominal:
        warnings.append(
            GradingWarning(
                None,
                "bands.overlap",
                f"参加排名的单位只有{bands.n}个，较差区间（按比例应为{ranking.n_poor_nominal}个位次）"
                f"与好、较好区间重叠，重叠部分归好、较好区间，较差区间为{n_poor}个位次",
            )
        )

    writer = _ReasonWriter(ranking, band_ranges, method)
    results = []
    for p in ranking.placed:
        unit_warnings = writer.warnings(p)
        warnings.extend(unit_warnings)
        results.append(
            UnitResult(
                unit=p.unit.unit,
                category=p.unit.category,
                score=writer.public_score(p.score),
                rank=p.first,
                position=p.position,
                position_first=p.first,
                position_last=p.last,
                band=bands.band_of(p.position),
                bands=p.reached,
                grade=p.grade,
                candidates=p.candidates,
                reasons=writer.reasons(p, unit_warnings),
                tie_group=p.group,
            )
        )

    counts = dict.fromkeys(Grade, 0)
    for result in results:
        counts[result.grade] += 1
    return Evaluation(
        n=bands.n,
        n_good=bands.n_good,
        n_top=bands.n_top,
        n_poor=n_poor,
        n_poor_nominal=ranking.n_poor_nominal,
        bands=band_ranges,
        results=results,
        counts=counts,
        warnings=warnings,
    )


def _others(group: tuple[str, ...], name: str, labels: Mapping[str, str], limit: int = 5) -> str:
    """The other units of a tied group by their names, the first few ("A、B、C等12个单位")."""
    shown = [labels[other] for other in group[: limit + 1] if other != name][:limit]
    total = len(group) - 1
    return "、".join(shown) if total <= limit else f"{'、'.join(shown)}等{total}个单位"


class _ReasonWriter:
    """Writes the warnings and reasons of one evaluation. The texts many units share (score
    parts, tie-break chains, band descriptions) are built once: a round of 100,000 units must
    take seconds, not minutes."""

    def __init__(
        self, ranking: _Ranking, band_ranges: Mapping[Band, BandRange], method: Method
    ) -> None:
        self.ranking = ranking
        self.bands = ranking.bands
        self.band_ranges = band_ranges
        self.method = method
        self.cap = Grade(method.incident_cap)
        # Unit identifier -> the name to print; only the units of tied groups are looked up.
        self.labels = {p.unit.unit: p.unit.label for p in ranking.placed}
        self.score_parts = [
            [
                f"{AREA_NAMES[area]}「{grade.label}」"
                f"{_fmt(method.points[grade.value])}×{_fmt(method.weights[area])}"
                for grade in AREA_GRADES
            ]
            for area in AREA_CODES
        ]
        self._scores: dict[int, tuple[str, int | float]] = {}
        self._breakdowns: dict[tuple[Grade, ...], str] = {}
        self._chains: dict[tuple[int, ...], str] = {}
        self._band_texts: dict[tuple[int, int], str] = {}
        self._band_of: dict[Band, str] = {
            band: f"「{band.label}」区间（"
            + (_positions(info.first, info.last) if info.first is not None else "空")
            + "）"
            for band, info in band_ranges.items()
        }

    def _score(self, score: int) -> tuple[str, int | float]:
        if score not in self._scores:
            exact = Fraction(score, self.ranking.scale)
            self._scores[score] = (_fmt(exact), _public_score(exact))
        return self._scores[score]

    def public_score(self, score: int) -> int | float:
        return self._score(score)[1]

    def warnings(self, p: _Placed) -> list[GradingWarning]:
        unit = p.unit
        out = []
        if unit.serious_problems and Band.POOR not in p.reached:
            out.append(
                GradingWarning(
                    unit.unit,
                    "problem.outside_bottom",
                    f"存在突出问题（{'；'.join(unit.serious_problems)}），但位次"
                    f"{_positions(p.first, p.last)}不在{self._band_of[Band.POOR]}，"
                    "不确定为较差，请考核工作组关注",
                )
            )
        if unit.major_incident and Band.GOOD in p.reached:
            out.append(
                GradingWarning(
                    unit.unit,
                    "incident.in_top_band",
                    f"定点扶贫县出现重大涉贫事件，位次{_positions(p.first, p.last)}"
                    f"{'在' if p.reached == (Band.GOOD,) else '部分在'}"
                    f"{self._band_of[Band.GOOD]}内，不能确定为好",
                )
            )
        recommended = unit.recommended_grade
        if recommended is not None and p.grade is not Grade.PENDING:
            steps = abs(recommended.level - p.grade.level)
            if steps >= 2:
                out.append(
                    GradingWarning(
                        unit.unit,
                        "recommendation.far",
                        f"省级推荐等次「{recommended.label}」与考核等次「{p.grade.label}」"
                        f"相差{steps}个等次",
                    )
                )
        return out

    def reasons(self, p: _Placed, unit_warnings: Sequence[GradingWarning]) -> list[Reason]:
        unit = p.unit
        n = self.bands.n
        values = _AREA_VALUES(unit.grades)
        breakdown = self._breakdowns.get(values)
        if breakdown is None:
            breakdown = "，".join(
                parts[_LEVELS[grade]] for parts, grade in zip(self.score_parts, values, strict=True)
            )
            self._breakdowns[values] = breakdown
        reasons = [Reason("score", f"得分{self._score(p.score)[0]}：{breakdown}")]

        tied = len(p.group) - 1
        if p.score_ties > tied and self.method.tie_break:
            chain = self._chains.get(p.key)
            if chain is None:
                chain = "、".join(_tie_description(key, unit) for key in self.method.tie_break)
                self._chains[p.key] = chain
            reasons.append(
                Reason(
                    "tie.broken",
                    f"与其他{p.score_ties}个单位得分相同，按比较规则依次比较：{chain}",
                )
            )

        where = _positions(p.first, p.last)
        if tied:
            reasons.append(
                Reason(
                    "rank",
                    f"名次第{p.first}名（共{n}个单位参加排名），"
                    f"与{_others(p.group, unit.unit, self.labels)}"
                    f"完全并列（得分及全部比较规则相同），并列位次{where}，"
                    "并列单位按名称排列，顺序不代表先后",
                )
            )
        else:
            reasons.append(
                Reason("rank", f"名次第{p.first}名，位次第{p.position}位（共{n}个单位参加排名）")
            )

        if len(p.reached) == 1:
            band_text = f"位次{where}在{self._band_of[p.reached[0]]}"
        else:
            band_text = f"并列位次{where}跨越" + "、".join(self._band_of[b] for b in p.reached)
        reasons.append(Reason("band", band_text))

        problems = "；".join(unit.serious_problems)
        if "cap.major_incident" in p.rules:
            reasons.append(
                Reason(
                    "cap.major_incident",
                    f"定点扶贫县出现重大涉贫事件，不能确定为「好」，最高为「{self.cap.label}」",
                )
            )
        if p.grade is Grade.PENDING:
            labels = "或".join(f"「{grade.label}」" for grade in p.candidates)
            problem_note = f"；存在突出问题（{problems}）" if unit.serious_problems else ""
            reasons.append(
                Reason(
                    "tie.pending",
                    f"与{_others(p.group, unit.unit, self.labels)}完全并列，"
                    f"并列位次{where}跨越区间边界"
                    f"{problem_note}，可能为{labels}，机器不作决定，由考核工作组确定",
                )
            )
            reasons.append(Reason("grade", "等次：待定"))
        else:
            if "backfill.promoted" in p.rules:
                reasons.append(
                    Reason(
                        "backfill.promoted",
                        "排名在前的单位因重大涉贫事件不能确定为「好」，按位次递补为「好」",
                    )
                )
            if "poor.serious_problem" in p.rules:
                reasons.append(
                    Reason(
                        "poor.serious_problem",
                        f"位于较差区间且存在突出问题（{problems}），确定为「较差」",
                    )
                )
            if "poor.no_serious_problem" in p.rules:
                lead = "位于" if len(p.reached) == 1 else "并列位次部分在"
                reasons.append(
                    Reason("poor.no_serious_problem", f"{lead}较差区间但无突出问题，确定为「一般」")
                )
            reasons.append(Reason("grade", f"等次：{p.grade.label}"))
        reasons.extend(Reason(f"warning.{w.code}", w.message) for w in unit_warnings)
        return reasons


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
    from kaohe.grading.method import MethodError  # see _resolve_method

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
                perturbed = replace(method, **{group: changed})
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


# --------------------------------------------------------------------------- decisions


# Where the rules of decisions stand in the plan; every refusal cites it.
PLAN_SECTION = "考核实施方案第七部分"


@dataclass(frozen=True, slots=True)
class PlanWords:
    """The plan's own sentences a refusal quotes, as the round's data holds them (the engine
    does not type the plan's prose): the grading rule and the major-incident rule. Left
    empty, a refusal states the rule from the method's numbers instead."""

    grading_rule: str = ""
    major_incident: str = ""
    section: str = PLAN_SECTION


@dataclass(frozen=True, slots=True)
class Allowance:
    """What the plan allows one unit: its positions, the grades its tie group's positions
    give (``candidates``; one grade when it is not pending), its incident and problems."""

    unit: str
    name: str
    first: int
    last: int
    candidates: tuple[Grade, ...]
    major_incident: bool
    serious_problem: bool


@dataclass(frozen=True, slots=True)
class RuleBreach:
    """A final grade (or a set of them) that section 七 does not allow; ``unit`` is None for
    a quota. The message is Chinese, names the unit and cites the rule."""

    unit: str | None
    rule: str
    message: str


def _percent(share: Decimal) -> str:
    return f"{_fmt(Decimal(share) * 100)}%"


@dataclass(frozen=True, slots=True)
class DecisionRules:
    """The limits of the working group's decisions in one round (implementation plan,
    section 七; docs/mission.md "Decisions where the text is silent"):

    - a unit may take a grade its tie group's positions allow (``candidates``), or a lower
      one (with a reason, which the caller records); never a higher one;
    - never better than ``cap`` (好 is out) with a major incident;
    - 较差 only inside the poor band (the unit's positions reach it) and with a serious
      problem;
    - at most ``n_good`` 好, at most ``n_top`` 好 and 较好 together, at most ``n_poor`` 较差.
    """

    units: Mapping[str, Allowance]
    n_good: int
    n_top: int
    n_poor: int
    poor_first: int | None  # first position of the poor band; None when it is empty
    poor_last: int | None
    cap: Grade
    shares: Mapping[str, Decimal]
    words: PlanWords = PlanWords()

    @classmethod
    def from_outputs(
        cls,
        outputs: Mapping[str, Any],
        inputs: Iterable[UnitInput],
        method: Method | Mapping[str, Any] | None = None,
        words: PlanWords | None = None,
    ) -> DecisionRules:
        """The rules for an evaluation as stored (``Evaluation.to_dict()``) and its inputs."""
        method = _resolve_method(method)
        by_unit = {unit.unit: unit for unit in inputs}
        empty = {"size": 0, "first": None, "last": None}
        # An evaluation of no units may be stored without its (empty) bands.
        bands = {band.value: empty for band in Band} | dict(outputs.get("bands") or {})
        units = {}
        for result in outputs["results"]:
            unit = by_unit.get(result["unit"])
            first, last = result["positions"]
            units[result["unit"]] = Allowance(
                unit=result["unit"],
                name=unit.label if unit is not None else result["unit"],
                first=first,
                last=last,
                candidates=tuple(Grade.parse(label) for label in result["candidates"]),
                major_incident=bool(unit and unit.major_incident),
                serious_problem=bool(unit and unit.serious_problems),
            )
        poor = bands["poor"]
        return cls(
            units=units,
            n_good=bands["good"]["size"],
            n_top=bands["good"]["size"] + bands["fairly_good"]["size"],
            n_poor=poor["size"],
            poor_first=poor["first"],
            poor_last=poor["last"],
            cap=Grade(method.incident_cap),
            shares=dict(method.shares),
            words=words or PlanWords(),
        )

    def _cite(self, rule: str) -> str:
        return f"（{self.words.section}：{rule.rstrip('。')}）"

    def _grading_rule(self) -> str:
        """The plan's grading rule as written, else the method's numbers."""
        if self.words.grading_rule:
            return self._cite(self.words.grading_rule)
        return self._cite(
            f"排名前{_percent(self.shares['good'])}为「好」，排名前"
            f"{_percent(self.shares['fairly_good'])}以内为「好」或「较好」，排名靠后"
            f"{_percent(self.shares['poor'])}且存在突出问题为「较差」，其余为「一般」")

    def _incident_rule(self) -> str:
        if self.words.major_incident:
            return self._cite(self.words.major_incident)
        return self._cite(f"出现重大涉贫事件的，等次最高为「{self.cap.label}」")

    def breach(self, unit: str, grade: Grade) -> RuleBreach | None:
        """Why one unit may not have this grade (quotas aside), or None when it may."""
        allowance = self.units[unit]
        name = allowance.name
        where = _positions(allowance.first, allowance.last)
        if grade is Grade.PENDING:
            labels = "或".join(f"「{g.label}」" for g in allowance.candidates)
            return RuleBreach(
                unit,
                "pending",
                f"「{name}」等次待定（可能为{labels}），须由考核工作组逐一确定并说明理由",
            )
        if allowance.major_incident and grade.level < self.cap.level:
            return RuleBreach(
                unit,
                "incident.good",
                f"「{name}」定点扶贫县出现重大涉贫事件，不能确定为「{grade.label}」，"
                f"最高为「{self.cap.label}」{self._incident_rule()}",
            )
        if grade is Grade.POOR:
            reaches_poor = self.poor_first is not None and allowance.last >= self.poor_first
            if not reaches_poor:
                band = (
                    _positions(self.poor_first, self.poor_last)  # type: ignore[arg-type]
                    if self.poor_first is not None
                    else "本轮为空"
                )
                return RuleBreach(
                    unit,
                    "poor.outside_bottom",
                    f"「{name}」位次{where}不在较差区间（{band}），不能确定为「较差」"
                    f"{self._grading_rule()}",
                )
            if not allowance.serious_problem:
                return RuleBreach(
                    unit,
                    "poor.no_serious_problem",
                    f"「{name}」不存在突出问题，不能确定为「较差」{self._grading_rule()}",
                )
            return None
        best = min(allowance.candidates, key=lambda g: g.level)
        if grade.level < best.level:
            labels = "或".join(f"「{g.label}」" for g in allowance.candidates)
            return RuleBreach(
                unit,
                "position.above",
                f"「{name}」位次{where}，按位次只能确定为{labels}（或说明理由后降低等次），"
                f"不能确定为「{grade.label}」{self._grading_rule()}",
            )
        return None

    def allowed(self, unit: str) -> tuple[Grade, ...]:
        """The grades the unit may be given, best first (the quotas aside)."""
        return tuple(grade for grade in AREA_GRADES if self.breach(unit, grade) is None)

    def quota_breaches(self, final: Mapping[str, Grade | str]) -> list[RuleBreach]:
        counts = Counter(Grade(grade) for grade in final.values())
        good, poor = counts[Grade.GOOD], counts[Grade.POOR]
        top = good + counts[Grade.FAIRLY_GOOD]
        out = []
        if good > self.n_good:
            out.append(
                RuleBreach(
                    None,
                    "quota.good",
                    f"确定为「好」的单位{good}家，超过「好」的名额{self.n_good}家"
                    f"{self._grading_rule()}",
                )
            )
        if top > self.n_top:
            out.append(
                RuleBreach(
                    None,
                    "quota.top",
                    f"确定为「好」和「较好」的单位合计{top}家，超过名额{self.n_top}家"
                    f"{self._grading_rule()}",
                )
            )
        if poor > self.n_poor:
            out.append(
                RuleBreach(
                    None,
                    "quota.poor",
                    f"确定为「较差」的单位{poor}家，超过较差区间的{self.n_poor}个位次"
                    f"{self._grading_rule()}",
                )
            )
        return out


def check_final_grades(
    rules: DecisionRules, final: Mapping[str, Grade | str], *, complete: bool = True
) -> list[RuleBreach]:
    """Every way a proposed set of final grades (unit -> grade) breaks section 七: per unit
    in ranking order, then the quotas. ``complete=False`` accepts units still pending (a set
    being worked on); ``complete=True`` (submission, approval) does not. Empty: allowed."""
    out = []
    for unit in rules.units:
        grade = Grade(final.get(unit, Grade.PENDING))
        if grade is Grade.PENDING and not complete:
            continue
        breach = rules.breach(unit, grade)
        if breach is not None:
            out.append(breach)
    unknown = sorted(set(final) - set(rules.units))
    out += [RuleBreach(unit, "unknown", f"「{unit}」不在本次综合评议范围内") for unit in unknown]
    decided = {unit: grade for unit, grade in final.items() if Grade(grade) is not Grade.PENDING}
    return out + rules.quota_breaches(decided)


__all__ = [
    "AREA_CODES",
    "AREA_GRADES",
    "AREA_NAMES",
    "GRADE_LABELS",
    "Allowance",
    "Band",
    "BandRange",
    "CategoryCalibration",
    "Comparison",
    "DecisionRules",
    "Distribution",
    "EngineInputError",
    "Evaluation",
    "Grade",
    "GradeChange",
    "GradingWarning",
    "Perturbation",
    "PlanWords",
    "Reason",
    "RuleBreach",
    "UnitInput",
    "UnitResult",
    "calibration",
    "check_final_grades",
    "evaluate",
    "sensitivity",
]
