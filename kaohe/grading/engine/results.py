"""What goes into the engine and what comes out: a unit's inputs, its result with reasons
and warnings, and the evaluation of a round."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from kaohe.grading.vocabulary import GRADE_LABELS, Grade


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
