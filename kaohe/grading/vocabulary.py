"""The words of an assessment: the grades (codes, order, official Chinese names) and the six
areas. Plain Python with no Django import, so the engine, the method file, the CLI and the
Django layer all speak from this one list; ``kaohe.rounds.models.Grade`` derives its choices
from it (labels translated there, through gettext_lazy).

The Chinese names are the plan's official words: documents and workbooks use them whatever the
user's language. ``gettext_noop`` below only marks them for ``makemessages``.
"""

from __future__ import annotations

from enum import StrEnum


def gettext_noop(message: str) -> str:
    """Mark ``message`` for translation catalogues without translating it (as Django's does)."""
    return message


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
    Grade.GOOD: gettext_noop("好"),
    Grade.FAIRLY_GOOD: gettext_noop("较好"),
    Grade.AVERAGE: gettext_noop("一般"),
    Grade.POOR: gettext_noop("较差"),
    Grade.PENDING: gettext_noop("待定"),
}
# Every grade in display order: best first, pending last.
GRADE_ORDER: tuple[Grade, ...] = tuple(Grade)
# The four grades an area (or a decided result) can have, best first.
AREA_GRADES: tuple[Grade, ...] = (Grade.GOOD, Grade.FAIRLY_GOOD, Grade.AVERAGE, Grade.POOR)
_LEVELS: dict[Grade, int] = {grade: index for index, grade in enumerate(AREA_GRADES)}
_GRADES_BY_TEXT: dict[str, Grade] = {
    **{grade.label: grade for grade in Grade},
    **{grade.value: grade for grade in Grade},
}


def grade_label(code: str) -> str:
    """The official Chinese name of a grade code ("" for an empty code)."""
    return GRADE_LABELS[Grade(code)] if code else ""


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
