"""Section 七 of the plan as a rule on the working group's decisions: a proposed set of final
grades is checked against the engine's positions, tie groups, quotas, incidents and serious
problems, and every refusal cites the rule in Chinese and names the unit."""

from __future__ import annotations

from kaohe.grading.engine import (
    AREA_CODES,
    DecisionRules,
    Grade,
    UnitInput,
    check_final_grades,
    evaluate,
)
from kaohe.grading.method import Method
from tests.grading.test_engine import distinct, ranked

G, F, A, P = Grade.GOOD, Grade.FAIRLY_GOOD, Grade.AVERAGE, Grade.POOR


def _rules(units, method=None):
    method = method or Method.default()
    outputs = evaluate(units, method).to_dict()
    rules = DecisionRules.from_outputs(outputs, units, method)
    engine = {r["unit"]: Grade(r["grade_code"]) for r in outputs["results"]}
    return rules, engine


def _named(units):
    return [UnitInput(u.unit, u.grades, u.serious_problems, u.major_incident,
                      u.recommended_grade, u.category, name=f"示例单位{u.unit[1:]}")
            for u in units]


def _thirty(**overrides):
    """30 units without ties (positions = names): 3 好, 6 较好, 18 一般, the last 3 poor band."""
    return _rules(_named(ranked(30, **overrides)), distinct())


def _uniform(grade_list):
    return dict(zip(AREA_CODES, grade_list, strict=True))


def _tied(groups):
    """Units with the default method; groups is a list of (count, six grades): each group
    is fully tied (same grades, no recommendation)."""
    units, i = [], 0
    for count, grades in groups:
        for _ in range(count):
            i += 1
            units.append(UnitInput(f"T{i:03d}", _uniform(grades), name=f"并列单位{i}"))
    return _rules(units)


def test_the_engines_own_grades_obey_the_rules():
    rules, engine = _thirty(U0030={"serious_problems": ("不履行帮扶责任",)},
                            U0002={"major_incident": True})
    assert check_final_grades(rules, engine) == []


def test_good_is_refused_for_a_unit_with_a_major_incident():
    rules, engine = _thirty(U0001={"major_incident": True})
    assert engine["U0001"] is F
    breaches = check_final_grades(rules, {**engine, "U0001": G})
    assert [b.rule for b in breaches] == ["incident.good"]
    assert breaches[0].unit == "U0001"
    assert "示例单位0001" in breaches[0].message and "重大涉贫事件" in breaches[0].message
    assert "考核实施方案第七部分" in breaches[0].message


def test_poor_is_refused_outside_the_bottom_band_and_without_a_serious_problem():
    rules, engine = _thirty(U0001={"serious_problems": ("不履行帮扶责任",)})
    top = check_final_grades(rules, {**engine, "U0001": P})
    assert [b.rule for b in top] == ["poor.outside_bottom"]
    assert "示例单位0001" in top[0].message and "第1位" in top[0].message
    last = check_final_grades(rules, {**engine, "U0030": P})
    assert [b.rule for b in last] == ["poor.no_serious_problem"]
    assert "突出问题" in last[0].message and "示例单位0030" in last[0].message


def test_a_grade_above_what_the_position_allows_is_refused_but_lowering_is_not():
    rules, engine = _thirty()
    raised = check_final_grades(rules, {**engine, "U0010": F})
    assert [b.rule for b in raised] == ["position.above", "quota.top"]
    assert "「一般」" in raised[0].message and "「较好」" in raised[0].message
    assert check_final_grades(rules, {**engine, "U0001": A, "U0004": A}) == []


def test_a_pending_unit_may_take_only_the_grades_of_its_tie_group():
    good, fairly = [G] * 6, [G] * 5 + [F]
    rules, engine = _tied([(1, good), (4, fairly), (5, [A] * 6)])
    # Ten units: one 好 place, 好+较好 three places; T002..T005 share positions 2-5.
    assert {engine[f"T00{i}"] for i in range(2, 6)} == {Grade.PENDING}
    assert rules.allowed("T002") == (F, A)
    breaches = check_final_grades(rules, {**engine, "T002": G}, complete=False)
    assert [b.rule for b in breaches] == ["position.above", "quota.good"]
    assert "并列单位2" in breaches[0].message and "「较好」或「一般」" in breaches[0].message


def test_the_quotas_of_good_and_good_plus_fairly_good_are_kept():
    fairly = [G] * 5 + [F]
    rules, engine = _tied([(2, [G] * 6), (4, fairly), (4, [A] * 6)])
    # T001, T002 pending 好/较好 for one 好 place; T003..T006 pending 较好/一般.
    both_good = check_final_grades(rules, {**engine, "T001": G, "T002": G}, complete=False)
    assert [b.rule for b in both_good] == ["quota.good"]
    assert "1家" in both_good[0].message and "2家" in both_good[0].message
    four_fairly = {**engine, "T001": G, "T002": F, **{f"T00{i}": F for i in range(3, 7)}}
    breaches = check_final_grades(rules, four_fairly)
    assert [b.rule for b in breaches] == ["quota.top"]
    assert "6家" in breaches[0].message and "3家" in breaches[0].message
    fine = {**engine, "T001": G, "T002": F, "T003": F, **{f"T00{i}": A for i in range(4, 7)}}
    assert check_final_grades(rules, fine) == []


def test_pending_units_break_a_complete_set_only():
    rules, engine = _tied([(2, [G] * 6), (1, [G] * 5 + [F]), (7, [A] * 6)])
    assert check_final_grades(rules, engine, complete=False) == []
    breaches = check_final_grades(rules, engine)
    assert {b.rule for b in breaches} == {"pending"}
    assert {b.unit for b in breaches} == {"T001", "T002"}
    assert "并列单位1" in breaches[0].message


def test_allowed_grades_follow_incident_band_and_problem():
    rules, _ = _thirty(U0030={"serious_problems": ("不履行帮扶责任",)},
                       U0001={"major_incident": True})
    assert rules.allowed("U0001") == (F, A)
    assert rules.allowed("U0002") == (G, F, A)
    assert rules.allowed("U0029") == (A,)  # poor band, but no serious problem
    assert rules.allowed("U0030") == (P,)  # the plan's 较差: not to be raised


def test_tie_reasons_name_the_other_units_by_name():
    units = [UnitInput(f"T{i:03d}", _uniform([A] * 6), name=f"并列单位{i}") for i in range(1, 4)]
    result = evaluate(units).results[0]
    tie = [r.message for r in result.reasons if r.code == "tie.pending" or r.code == "rank"]
    assert tie and all("并列单位2" in m and "T002" not in m for m in tie)
