"""Section 七 of the implementation plan as it binds a version: the plan's sentences a
refusal quotes, the decisions the working group may make (``engine.DecisionRules``), the
breaches of a version's final grades, and the refusal of a version that breaks them or still
leaves a unit pending (``_check_rules``).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.translation import gettext as _

from kaohe.grading import engine
from kaohe.grading.models import ResultSet
from kaohe.grading.services.inputs import _unit_inputs
from kaohe.grading.services.lifecycle import GradingError
from kaohe.rounds.models import Round


def plan_words(round_: Round) -> engine.PlanWords:
    """The plan's sentences a refusal quotes, as the round holds them."""
    return engine.PlanWords(grading_rule=round_.grading_rule_text,
                            major_incident=round_.major_incident_text)


def decision_rules(result_set: ResultSet) -> engine.DecisionRules:
    """What section 七 allows the working group to decide in this version."""
    return engine.DecisionRules.from_outputs(result_set.outputs, _unit_inputs(result_set.inputs),
                                             result_set.method, plan_words(result_set.round))


def rule_breaches(result_set: ResultSet, *, complete: bool = True) -> list[engine.RuleBreach]:
    return engine.check_final_grades(decision_rules(result_set), result_set.final_grades(),
                                     complete=complete)


def unit_names(result_set: ResultSet) -> dict[str, str]:
    return {item["unit"]: item.get("name") or item["unit"] for item in result_set.inputs}


def _listed(breaches: Sequence[engine.RuleBreach], limit: int = 10) -> str:
    shown = "；".join(b.message for b in breaches[:limit])
    return shown if len(breaches) <= limit else _("%(shown)s；等%(n)s项") % {
        "shown": shown, "n": len(breaches)}


def _check_rules(result_set: ResultSet, verb: str) -> None:
    """Refuse a version whose final grades break section 七 (or leave a unit pending)."""
    breaches = rule_breaches(result_set)
    pending = [b for b in breaches if b.rule == "pending"]
    if pending:
        names = unit_names(result_set)
        listed = "、".join(names.get(b.unit, b.unit) for b in pending[:20] if b.unit)
        raise GradingError(_("仍有%(n)s家单位等次待定，请先逐一确定：%(units)s")
                           % {"n": len(pending), "units": listed
                              + ("等" if len(pending) > 20 else "")})
    if breaches:
        raise GradingError(
            _("第%(version)s版有%(n)s处不符合考核实施方案第七部分，不能%(verb)s：%(list)s")
            % {"version": result_set.version, "n": len(breaches), "verb": verb,
               "list": _listed(breaches)})
