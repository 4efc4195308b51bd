"""The reasons and warnings written for each unit's grade, in the plan's Chinese."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction

from kaohe.grading.engine.ranking import (
    _AREA_VALUES,
    _LEVELS,
    _fmt,
    _Placed,
    _positions,
    _public_score,
    _Ranking,
    _tie_description,
)
from kaohe.grading.engine.results import Band, BandRange, GradingWarning, Reason
from kaohe.grading.method import Method
from kaohe.grading.vocabulary import AREA_CODES, AREA_GRADES, AREA_NAMES, Grade


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
            + (_positions(info.first, info.last)
               if info.first is not None and info.last is not None else "空")
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
