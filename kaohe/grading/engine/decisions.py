"""The rules a hand-set grade must keep (``DecisionRules``, ``check_final_grades``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from kaohe.grading.engine.ranking import _fmt, _positions, _resolve_method
from kaohe.grading.engine.results import Band, UnitInput
from kaohe.grading.method import Method
from kaohe.grading.vocabulary import AREA_GRADES, Grade

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
        empty: dict[str, Any] = {"size": 0, "first": None, "last": None}
        # An evaluation of no units may be stored without its (empty) bands.
        bands: dict[str, dict[str, Any]] = (
            {band.value: empty for band in Band} | dict(outputs.get("bands") or {}))
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
        return self.quota_breaches_counted(Counter(Grade(grade) for grade in final.values()))

    def quota_breaches_counted(self, counts: Mapping[Grade, int]) -> list[RuleBreach]:
        """The quotas a number of final grades per grade breaks."""
        good, poor = counts.get(Grade.GOOD, 0), counts.get(Grade.POOR, 0)
        top = good + counts.get(Grade.FAIRLY_GOOD, 0)
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
