"""A refusal quotes the plan's sentences as the round holds them (issue 18): the engine is
given the words (PlanWords) and types none of the plan's prose itself."""

from __future__ import annotations

from kaohe.grading.engine import DecisionRules, Grade, PlanWords, check_final_grades, evaluate
from kaohe.grading.method import Method
from tests.grading.test_decision_rules import _named
from tests.grading.test_engine import distinct, ranked

RULE = ("排名前10%为好，排名前11%—30%为较好，排名靠后10%且存在突出问题的单位确定为较差等次，"
        "其余单位为一般等次。")
INCIDENT = "如定点扶贫县出现重大涉贫事件的，负责帮扶的中央单位考核等次不能确定为“好”。"


def _breaches(words=None):
    units = _named(ranked(30, U0001={"major_incident": True}))
    method = distinct()
    outputs = evaluate(units, method).to_dict()
    rules = DecisionRules.from_outputs(outputs, units, method, words)
    engine = {r["unit"]: Grade(r["grade_code"]) for r in outputs["results"]}
    # 好 for the unit with an incident, 较差 for the first unit without a problem.
    return {b.rule: b.message for b in check_final_grades(
        rules, {**engine, "U0001": Grade.GOOD, "U0030": Grade.POOR})}


def test_refusals_quote_the_words_given():
    messages = _breaches(PlanWords(grading_rule=RULE, major_incident=INCIDENT))
    assert RULE.rstrip("。") in messages["poor.no_serious_problem"]
    assert INCIDENT.rstrip("。") in messages["incident.good"]
    assert "考核实施方案第七部分" in messages["incident.good"]


def test_without_words_a_refusal_states_the_methods_numbers_not_the_plans_prose():
    messages = _breaches()
    assert "排名靠后10%且存在突出问题为「较差」" in messages["poor.no_serious_problem"]
    assert "最高为「较好」" in messages["incident.good"]
    assert RULE.rstrip("。") not in messages["poor.no_serious_problem"]
    assert INCIDENT.rstrip("。") not in messages["incident.good"]


def test_the_service_gives_the_engine_the_rounds_words(world):
    from kaohe.grading.models import ResultSet
    from kaohe.grading.services import decision_rules

    round_ = world["round"]
    round_.grading_rule_text = "本年度的等次规定。"
    round_.major_incident_text = "本年度的重大涉贫事件规定。"
    round_.save()
    result_set = ResultSet(round=round_, version=1, inputs=[], method=Method.default().to_dict(),
                           outputs={"results": []})
    rules = decision_rules(result_set)
    assert rules.words == PlanWords(grading_rule="本年度的等次规定。",
                                    major_incident="本年度的重大涉贫事件规定。")
