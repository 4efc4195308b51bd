"""Suggested grades for the areas whose data comes from the county (through the province).

Effectiveness (帮扶成效) and grassroots satisfaction (基层满意情况) are not the lead
department's own judgement: the paired counties report them. For a unit with several
counties each county gets a grade and the unit's suggestion is their mean, rounded half
up to the nearest grade, so that one county's poor result is visible but does not by
itself decide. The reviewer confirms or changes the suggestion, with a reason.
"""

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from kaohe.directory.models import County
from kaohe.rounds.models import Grade
from kaohe.submissions.models import CountyOutcome, ReportStatus

POINTS = {Grade.GOOD: 4, Grade.FAIRLY_GOOD: 3, Grade.AVERAGE: 2, Grade.POOR: 1}
BY_POINTS = {v: k for k, v in POINTS.items()}


@dataclass
class CountyLine:
    county: County
    grade: str | None
    explanation: str


@dataclass
class Suggestion:
    area_code: str
    grade: str | None
    counties: list[CountyLine] = field(default_factory=list)

    @property
    def explanation(self) -> str:
        lines = "；".join(f"{c.county.name}：{c.explanation}" for c in self.counties)
        if self.grade is None:
            return f"省级报告数据不全（{lines}）" if lines else "尚无省级报告数据"
        return f"{lines}；各县平均后建议“{Grade(self.grade).label}”"


def _mean_grade(grades: list[str]) -> str | None:
    if not grades:
        return None
    mean = Decimal(sum(POINTS[Grade(g)] for g in grades)) / len(grades)
    return BY_POINTS[int(mean.quantize(Decimal(1), rounding=ROUND_HALF_UP))]


def _effectiveness(outcome) -> tuple[str | None, str]:
    if outcome is None or outcome.plan_met is None:
        return None, "未报告年度脱贫攻坚任务完成情况"
    numbers = ""
    if outcome.planned_exit is not None and outcome.actual_exit is not None:
        numbers = f"（计划{outcome.planned_exit}人，实际{outcome.actual_exit}人）"
    if not outcome.plan_met:
        return Grade.POOR, f"未完成年度脱贫攻坚任务{numbers}"
    if outcome.county_exited:
        return Grade.GOOD, f"完成年度任务并摘帽{numbers}"
    if (outcome.planned_exit and outcome.actual_exit is not None
            and outcome.actual_exit >= outcome.planned_exit):
        return Grade.GOOD, f"完成年度脱贫攻坚任务{numbers}"
    return Grade.FAIRLY_GOOD, f"完成年度脱贫攻坚任务{numbers}"


def _satisfaction(outcome) -> tuple[str | None, str]:
    if outcome is None or not outcome.satisfaction_unit or not outcome.satisfaction_cadres:
        return None, "未报告满意情况"
    grade = _mean_grade([outcome.satisfaction_unit, outcome.satisfaction_cadres])
    return grade, (f"对单位“{Grade(outcome.satisfaction_unit).label}”、"
                   f"对挂职干部“{Grade(outcome.satisfaction_cadres).label}”")


def suggestions_for(round_, unit) -> dict[str, Suggestion]:
    """Suggestions for the county-sourced areas, from the submitted provincial reports."""
    outcomes = {
        o.county_id: o for o in CountyOutcome.objects.filter(
            report__round=round_, report__unit=unit, report__status=ReportStatus.SUBMITTED,
        ).select_related("county")
    }
    counties = [p.county for p in unit.pairings.filter(round=round_).select_related("county")]
    result = {}
    for code, judge in (("effectiveness", _effectiveness), ("satisfaction", _satisfaction)):
        lines = []
        for county in counties:
            grade, text = judge(outcomes.get(county.pk))
            lines.append(CountyLine(county, grade, text))
        complete = all(line.grade for line in lines) and lines
        grade = (_mean_grade([line.grade for line in lines if line.grade]) if complete
                 else None)
        result[code] = Suggestion(code, grade, lines)
    return result
