"""Suggested grades for effectiveness and satisfaction from the provincial reports.

Points: 好 4, 较好 3, 一般 2, 较差 1. Per county: effectiveness from the exit plan,
satisfaction the mean of the two satisfaction grades; the unit's suggestion is the mean
of its counties, rounded half up (2.5 → 较好, never the banker's 一般).
"""

import pytest

from kaohe.directory.models import Pairing
from kaohe.reviews.prefill import suggestions_for
from kaohe.rounds.models import Grade
from kaohe.submissions.models import ReportStatus
from tests.reviews.conftest import outcome, provincial, second_unit_a

G, FG, AV, P = Grade.GOOD, Grade.FAIRLY_GOOD, Grade.AVERAGE, Grade.POOR


def _suggest(world, unit=None):
    return suggestions_for(world["round"], unit or world["unit_a"])


def test_one_county_with_plan_exceeded_and_good_satisfaction(world):
    county = world["county_a"]
    provincial(world["round"], world["unit_a"], world["province_a"], {
        county: outcome(planned=1000, actual=1200, sat_unit=G, sat_cadres=FG)})

    s = _suggest(world)

    assert set(s) == {"effectiveness", "satisfaction"}
    eff, sat = s["effectiveness"], s["satisfaction"]
    assert eff.grade == G
    assert [(c.county, c.grade) for c in eff.counties] == [(county, G)]
    assert "计划1000人，实际1200人" in eff.counties[0].explanation
    assert eff.explanation.startswith(f"{county.name}：")
    assert eff.explanation.endswith("各县平均后建议“好”")
    # (4 + 3) / 2 = 3.5, rounded half up to 4.
    assert sat.grade == G
    assert sat.counties[0].explanation == "对单位“好”、对挂职干部“较好”"


@pytest.mark.parametrize(("fields", "grade", "text"), [
    (outcome(plan_met=False, planned=800, actual=500), P,
     "未完成年度脱贫攻坚任务（计划800人，实际500人）"),
    (outcome(plan_met=True, exited=True), G, "完成年度任务并摘帽"),
    (outcome(plan_met=True, planned=800, actual=800), G,
     "完成年度脱贫攻坚任务（计划800人，实际800人）"),
    (outcome(plan_met=True, planned=800, actual=799), FG,
     "完成年度脱贫攻坚任务（计划800人，实际799人）"),
    (outcome(plan_met=True), FG, "完成年度脱贫攻坚任务"),
    (outcome(plan_met=None, planned=800, actual=900), None, "未报告年度脱贫攻坚任务完成情况"),
])
def test_effectiveness_per_county_follows_the_exit_plan(world, fields, grade, text):
    provincial(world["round"], world["unit_a"], world["province_a"], {world["county_a"]: fields})

    line = _suggest(world)["effectiveness"].counties[0]

    assert (line.grade, line.explanation) == (grade, text)


@pytest.mark.parametrize(("unit_grade", "cadres_grade", "expected"), [
    (G, G, G),
    (G, FG, G),      # 3.5 → 4
    (FG, AV, FG),    # 2.5 → 3 (half up, not half even)
    (AV, P, AV),     # 1.5 → 2
    (P, P, P),
    (G, "", None),   # one of the two grades missing
    ("", FG, None),
])
def test_satisfaction_per_county_is_the_mean_of_both_grades_rounded_half_up(
        world, unit_grade, cadres_grade, expected):
    provincial(world["round"], world["unit_a"], world["province_a"], {
        world["county_a"]: outcome(sat_unit=unit_grade, sat_cadres=cadres_grade)})

    assert _suggest(world)["satisfaction"].grade == expected


def test_two_counties_in_two_provinces_are_averaged_half_up(world, yunnan_deep_county):
    Pairing.objects.create(round=world["round"], unit=world["unit_a"], county=yunnan_deep_county)
    guizhou, yunnan = world["county_a"], yunnan_deep_county
    provincial(world["round"], world["unit_a"], world["province_a"], {
        guizhou: outcome(planned=1000, actual=900, sat_unit=FG, sat_cadres=AV)})
    provincial(world["round"], world["unit_a"], yunnan.province, {
        yunnan: outcome(plan_met=False, planned=800, actual=500, sat_unit=AV, sat_cadres=AV)})

    s = _suggest(world)

    eff, sat = s["effectiveness"], s["satisfaction"]
    assert {c.county: c.grade for c in eff.counties} == {guizhou: FG, yunnan: P}
    assert eff.grade == AV  # (3 + 1) / 2 = 2
    assert {c.county: c.grade for c in sat.counties} == {guizhou: FG, yunnan: AV}
    assert sat.grade == FG  # (3 + 2) / 2 = 2.5 → 3
    assert f"{guizhou.name}：完成年度脱贫攻坚任务（计划1000人，实际900人）" in eff.explanation
    assert f"{yunnan.name}：未完成年度脱贫攻坚任务（计划800人，实际500人）" in eff.explanation
    assert eff.explanation.endswith("各县平均后建议“一般”")
    assert sat.explanation.endswith("各县平均后建议“较好”")


def test_two_counties_of_one_provincial_report_are_averaged(world, second_guizhou_county):
    Pairing.objects.create(round=world["round"], unit=world["unit_a"],
                           county=second_guizhou_county)
    provincial(world["round"], world["unit_a"], world["province_a"], {
        world["county_a"]: outcome(exited=True, sat_unit=G, sat_cadres=G),
        second_guizhou_county: outcome(planned=10, actual=5, sat_unit=AV, sat_cadres=P)})

    s = _suggest(world)

    assert s["effectiveness"].grade == G   # (4 + 3) / 2 = 3.5 → 4
    assert s["satisfaction"].grade == FG   # (4 + 2) / 2 = 3 (county 2: 1.5 → 2)


def test_a_county_without_data_leaves_the_suggestion_empty_and_says_which(
        world, yunnan_deep_county):
    Pairing.objects.create(round=world["round"], unit=world["unit_a"], county=yunnan_deep_county)
    provincial(world["round"], world["unit_a"], world["province_a"], {
        world["county_a"]: outcome(exited=True, sat_unit=G, sat_cadres=G)})
    # 云南's report is still a draft: it does not count.
    provincial(world["round"], world["unit_a"], yunnan_deep_county.province, {
        yunnan_deep_county: outcome(exited=True, sat_unit=G, sat_cadres=G)},
        status=ReportStatus.DRAFT)

    s = _suggest(world)

    for code, missing_text in (("effectiveness", "未报告年度脱贫攻坚任务完成情况"),
                               ("satisfaction", "未报告满意情况")):
        assert s[code].grade is None
        assert {c.county: c.grade for c in s[code].counties} == {
            world["county_a"]: G, yunnan_deep_county: None}
        assert s[code].explanation.startswith("省级报告数据不全（")
        assert f"{yunnan_deep_county.name}：{missing_text}" in s[code].explanation


@pytest.mark.parametrize("status", [ReportStatus.DRAFT, ReportStatus.RETURNED])
def test_a_report_not_submitted_gives_no_suggestion(world, status):
    provincial(world["round"], world["unit_a"], world["province_a"], {
        world["county_a"]: outcome(exited=True, sat_unit=G, sat_cadres=G)}, status=status)

    s = _suggest(world)

    assert s["effectiveness"].grade is None
    assert s["satisfaction"].grade is None
    assert s["effectiveness"].counties[0].grade is None


def test_a_unit_without_counties_has_no_provincial_data(world):
    Pairing.objects.filter(unit=world["unit_a"]).delete()

    s = _suggest(world)

    assert s["effectiveness"].grade is None
    assert s["effectiveness"].counties == []
    assert s["effectiveness"].explanation == "尚无省级报告数据"


def test_another_units_report_on_the_same_county_is_not_used(world):
    other = second_unit_a(world)  # also paired with county_a
    provincial(world["round"], other, world["province_a"], {
        world["county_a"]: outcome(plan_met=False, sat_unit=P, sat_cadres=P)})
    provincial(world["round"], world["unit_a"], world["province_a"], {
        world["county_a"]: outcome(exited=True, sat_unit=G, sat_cadres=G)})

    assert _suggest(world)["effectiveness"].grade == G
    assert _suggest(world)["satisfaction"].grade == G
    assert _suggest(world, other)["effectiveness"].grade == P
