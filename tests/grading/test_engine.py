"""Hand-worked rounds for the grading engine: every number here was worked out on paper."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kaohe.grading.engine import (
    AREA_CODES,
    AREA_NAMES,
    Band,
    EngineInputError,
    Evaluation,
    Grade,
    UnitInput,
    calibration,
    evaluate,
    sensitivity,
)
from kaohe.grading.method import Method

G, F, A, P = Grade.GOOD, Grade.FAIRLY_GOOD, Grade.AVERAGE, Grade.POOR

# Points 3/2/1/0 and weights 4^5 .. 4^0 make the score a base-4 number of the six grades, so
# every one of the 4096 grade combinations has its own score: no ties unless wanted.
DISTINCT = {
    "points": {"good": 3, "fairly_good": 2, "average": 1, "poor": 0},
    "weights": dict(zip(AREA_CODES, (1024, 256, 64, 16, 4, 1), strict=True)),
}
_DIGIT_GRADE = {3: G, 2: F, 1: A, 0: P}


def grades(*values: Grade) -> dict[str, Grade]:
    if len(values) == 1:
        values = values * 6
    return dict(zip(AREA_CODES, values, strict=True))


def ranked(n: int, **overrides: dict) -> list[UnitInput]:
    """n units U0001.. whose scores under DISTINCT decrease strictly in name order."""
    units = []
    for index in range(n):
        value = 4095 - index
        digits = [(value >> (2 * (5 - k))) & 3 for k in range(6)]
        name = f"U{index + 1:04d}"
        fields = overrides.get(name, {})
        units.append(
            UnitInput(
                name,
                dict(zip(AREA_CODES, (_DIGIT_GRADE[d] for d in digits), strict=True)),
                **fields,
            )
        )
    return units


def distinct(**settings: object) -> Method:
    return Method.from_dict({**DISTINCT, **settings})


def by_unit(evaluation: Evaluation) -> dict:
    return {result.unit: result for result in evaluation.results}


def grade_list(evaluation: Evaluation) -> list[Grade]:
    return [result.grade for result in evaluation.results]


def codes(result) -> list[str]:
    return [reason.code for reason in result.reasons]


PROBLEM = {"serious_problems": ("定点扶贫县未完成年度脱贫攻坚任务",)}
INCIDENT = {"major_incident": True}


# --------------------------------------------------------------------------- band sizes


@pytest.mark.parametrize(
    ("n", "n_good", "n_top", "n_poor"),
    [(10, 1, 3, 1), (19, 1, 5, 1), (57, 5, 17, 5), (311, 31, 93, 31)],
)
def test_floor_band_sizes_for_hand_worked_rounds(n, n_good, n_top, n_poor):
    evaluation = evaluate(ranked(n), distinct())
    assert (evaluation.n, evaluation.n_good, evaluation.n_top, evaluation.n_poor) == (
        n,
        n_good,
        n_top,
        n_poor,
    )
    result = grade_list(evaluation)
    # Nobody has a serious problem, so the poor band is 一般.
    assert result == [G] * n_good + [F] * (n_top - n_good) + [A] * (n - n_top)
    assert [r.band for r in evaluation.results[-n_poor:]] == [Band.POOR] * n_poor
    assert evaluation.results[-n_poor - 1].band is Band.AVERAGE


def test_round_of_ten_grades_every_position():
    units = ranked(10, U0010=PROBLEM)
    evaluation = evaluate(units, distinct())
    assert grade_list(evaluation) == [G, F, F, A, A, A, A, A, A, P]
    assert [r.rank for r in evaluation.results] == list(range(1, 11))
    assert evaluation.counts == {G: 1, F: 2, A: 6, P: 1, Grade.PENDING: 0}
    assert evaluation.bands[Band.FAIRLY_GOOD].first == 2
    assert evaluation.bands[Band.FAIRLY_GOOD].last == 3
    assert evaluation.bands[Band.POOR].first == 10


def test_round_of_311_makes_only_problem_units_in_the_last_31_poor():
    overrides = {f"U{i:04d}": PROBLEM for i in (280, 281, 300, 311)}
    evaluation = evaluate(ranked(311, **overrides), distinct())
    results = by_unit(evaluation)
    assert results["U0280"].grade is A  # position 280 is just above the poor band (281..311)
    assert results["U0280"].band is Band.AVERAGE
    assert {u for u, r in results.items() if r.grade is P} == {"U0281", "U0300", "U0311"}
    assert evaluation.counts[G] == 31 and evaluation.counts[F] == 62


@pytest.mark.parametrize(
    ("rounding", "n", "expected"),
    [
        ("floor", 15, (1, 4, 1)),
        ("round", 15, (2, 5, 2)),  # 1.5 -> 2 and 4.5 -> 5: half up
        ("round", 25, (3, 8, 3)),  # 2.5 -> 3 (Python's round() would give 2)
        ("round", 14, (1, 4, 1)),  # 1.4 -> 1, 4.2 -> 4
        ("ceil", 11, (2, 4, 2)),  # 1.1 -> 2, 3.3 -> 4
        ("ceil", 30, (3, 9, 3)),  # exact products are not rounded up
    ],
)
def test_rounding_modes_give_hand_worked_band_sizes(rounding, n, expected):
    evaluation = evaluate(ranked(n), distinct(rounding=rounding))
    assert (evaluation.n_good, evaluation.n_top, evaluation.n_poor) == expected


def test_ceil_of_float_shares_is_not_inflated_by_binary_float_error():
    # 0.1 * 30 in binary floating point is 3.0000000000000004, whose ceiling is 4.
    method = distinct(rounding="ceil", shares={"good": 0.1, "fairly_good": 0.3, "poor": 0.1})
    evaluation = evaluate(ranked(30), method)
    assert (evaluation.n_good, evaluation.n_top, evaluation.n_poor) == (3, 9, 3)


def test_tiny_round_of_one_has_no_good_band_with_floor():
    evaluation = evaluate(ranked(1, U0001=PROBLEM), distinct())
    assert (evaluation.n_good, evaluation.n_top, evaluation.n_poor) == (0, 0, 0)
    assert grade_list(evaluation) == [A]


def test_top_bands_win_when_the_poor_band_overlaps_them():
    # ceil with N = 1: good 1, top 1, poor 1 -> the only position is the good band.
    evaluation = evaluate(ranked(1, U0001=PROBLEM), distinct(rounding="ceil"))
    assert grade_list(evaluation) == [G]
    assert evaluation.n_poor == 0 and evaluation.n_poor_nominal == 1
    assert evaluation.warnings[0].code == "bands.overlap"
    # N = 3 with ceil: good 1, top 1 (0.9 -> 1), poor 1: no overlap.
    evaluation = evaluate(ranked(3, U0003=PROBLEM), distinct(rounding="ceil"))
    assert grade_list(evaluation) == [G, A, P]


def test_empty_round_has_no_results():
    evaluation = evaluate([], distinct())
    assert evaluation.results == [] and evaluation.n == 0
    assert set(evaluation.counts.values()) == {0}


# --------------------------------------------------------------------------- problems, incidents


def test_poor_band_without_serious_problem_is_average():
    evaluation = evaluate(ranked(10), distinct())
    last = evaluation.results[-1]
    assert last.band is Band.POOR and last.grade is A
    assert "poor.no_serious_problem" in codes(last)


def test_poor_band_with_serious_problem_is_poor_with_the_problem_named():
    evaluation = evaluate(ranked(10, U0010=PROBLEM), distinct())
    last = evaluation.results[-1]
    assert last.grade is P
    reason = next(r for r in last.reasons if r.code == "poor.serious_problem")
    assert "定点扶贫县未完成年度脱贫攻坚任务" in reason.message


def test_serious_problem_outside_bottom_band_warns_but_does_not_make_poor():
    evaluation = evaluate(ranked(10, U0009=PROBLEM, U0002=PROBLEM), distinct())
    results = by_unit(evaluation)
    assert results["U0009"].grade is A and results["U0002"].grade is F
    warned = {(w.unit, w.code) for w in evaluation.warnings}
    assert warned == {("U0009", "problem.outside_bottom"), ("U0002", "problem.outside_bottom")}
    assert "warning.problem.outside_bottom" in codes(results["U0009"])


def test_major_incident_caps_good_to_fairly_good_and_nobody_moves_up_without_backfill():
    evaluation = evaluate(ranked(10, U0001=INCIDENT), distinct())
    assert grade_list(evaluation) == [F, F, F, A, A, A, A, A, A, A]
    first = evaluation.results[0]
    assert "cap.major_incident" in codes(first)
    assert ("U0001", "incident.in_top_band") in {(w.unit, w.code) for w in evaluation.warnings}
    assert evaluation.counts[G] == 0


def test_major_incident_with_backfill_moves_the_next_unit_up_one_level():
    evaluation = evaluate(ranked(20, U0001=INCIDENT), distinct(backfill=True))
    # 20 units: good 2, top 6. U0001 capped; U0003 (first of the 较好 band) takes its 好 place.
    assert grade_list(evaluation) == [F, G, G, F, F, F] + [A] * 14
    assert "backfill.promoted" in codes(evaluation.results[2])
    assert evaluation.counts[G] == 2 and evaluation.counts[G] + evaluation.counts[F] == 6


def test_backfill_never_lifts_an_average_unit():
    incidents = {f"U{i:04d}": INCIDENT for i in (1, 2, 3)}
    evaluation = evaluate(ranked(10, **incidents), distinct(backfill=True))
    assert grade_list(evaluation) == [F, F, F] + [A] * 7


def test_incident_in_fairly_good_band_is_untouched_by_the_default_cap():
    evaluation = evaluate(ranked(10, U0002=INCIDENT), distinct())
    assert grade_list(evaluation)[:3] == [G, F, F]
    assert "cap.major_incident" not in codes(evaluation.results[1])
    assert evaluation.warnings == []


def test_average_cap_lowers_fairly_good_too():
    evaluation = evaluate(ranked(10, U0002=INCIDENT), distinct(incident_cap="average"))
    assert grade_list(evaluation)[:4] == [G, A, F, A]
    assert "cap.major_incident" in codes(evaluation.results[1])


# --------------------------------------------------------------------------- ties


def _tied_round(tied_at: list[int], n: int = 10, **overrides: dict) -> list[UnitInput]:
    """n units in strict order, except that the units at positions tied_at get identical
    grades (those of the first of them), so they are fully tied there."""
    units = ranked(n, **overrides)
    template = units[tied_at[0] - 1].grades
    return [
        UnitInput(u.unit, template, u.serious_problems, u.major_incident) if i + 1 in tied_at else u
        for i, u in enumerate(units)
    ]


def test_tie_across_the_good_boundary_is_pending_between_good_and_fairly_good():
    evaluation = evaluate(_tied_round([1, 2]), distinct())
    first, second = evaluation.results[:2]
    assert first.grade is second.grade is Grade.PENDING
    assert first.candidates == (G, F)
    assert (first.rank, second.rank) == (1, 1)
    pending = next(r for r in first.reasons if r.code == "tie.pending")
    assert "「好」或「较好」" in pending.message and "第1–2位" in pending.message
    assert evaluation.results[2].grade is F
    assert evaluation.counts[Grade.PENDING] == 2


def test_tie_across_the_good_boundary_caps_an_incident_unit_instead_of_pending():
    evaluation = evaluate(_tied_round([1, 2, 3], U0002=INCIDENT), distinct())
    results = by_unit(evaluation)
    assert results["U0002"].grade is F
    assert "cap.major_incident" in codes(results["U0002"])
    # The other two still compete for the one 好 place.
    assert results["U0001"].grade is results["U0003"].grade is Grade.PENDING


def test_tie_across_the_fairly_good_boundary_is_pending():
    evaluation = evaluate(_tied_round([3, 4]), distinct())
    assert [r.grade for r in evaluation.results[:5]] == [G, F, Grade.PENDING, Grade.PENDING, A]
    assert evaluation.results[2].candidates == (F, A)


def test_tie_inside_one_band_is_not_pending():
    evaluation = evaluate(_tied_round([2, 3]), distinct())
    assert grade_list(evaluation)[:4] == [G, F, F, A]
    assert evaluation.results[1].rank == evaluation.results[2].rank == 2


def test_tie_across_the_poor_boundary_is_pending_only_for_units_with_a_problem():
    evaluation = evaluate(_tied_round([9, 10], U0010=PROBLEM), distinct())
    results = by_unit(evaluation)
    assert results["U0010"].grade is Grade.PENDING
    assert results["U0010"].candidates == (A, P)
    assert results["U0009"].grade is A  # no problem: 一般 wherever it lands


def test_tie_across_the_poor_boundary_without_problems_is_not_pending():
    evaluation = evaluate(_tied_round([9, 10]), distinct())
    assert grade_list(evaluation)[-2:] == [A, A]
    assert evaluation.counts[Grade.PENDING] == 0


def test_tie_entirely_in_the_poor_band_with_problems_is_poor_not_pending():
    evaluation = evaluate(_tied_round([19, 20], 20, U0019=PROBLEM, U0020=PROBLEM), distinct())
    assert grade_list(evaluation)[-2:] == [P, P]


def test_backfill_tie_across_the_last_freed_place_is_pending():
    # 20 units: good 2, top 6. U0001 capped frees one 好 place; U0003 and U0004 are tied for it.
    units = _tied_round([3, 4], 20, U0001=INCIDENT)
    evaluation = evaluate(units, distinct(backfill=True))
    assert grade_list(evaluation)[:5] == [F, G, Grade.PENDING, Grade.PENDING, F]


def test_equal_scores_are_ordered_by_the_tie_break_chain():
    # Same multiset of grades (same score), different areas.
    a = UnitInput("甲", grades(F, G, G, A, A, A))  # effectiveness 较好
    b = UnitInput("乙", grades(G, F, G, A, A, A))  # effectiveness 好 -> first
    c = UnitInput(
        "丙", grades(F, G, A, A, G, A)
    )  # effectiveness 较好, satisfaction 好 -> before 甲
    d = UnitInput("丁", grades(F, G, G, A, A, A), recommended_grade=A)  # like 甲, recommended
    evaluation = evaluate([a, b, c, d])
    assert [r.unit for r in evaluation.results] == ["乙", "丙", "丁", "甲"]
    assert [r.rank for r in evaluation.results] == [1, 2, 3, 4]
    assert len({r.score for r in evaluation.results}) == 1
    assert "tie.broken" in codes(evaluation.results[0])


def test_count_good_breaks_ties_after_the_areas():
    a = UnitInput("A", grades(F, F, F, F, F, F))  # 18, no 好
    b = UnitInput("B", grades(F, G, A, F, F, F))  # 18, one 好
    evaluation = evaluate([a, b])
    assert [r.unit for r in evaluation.results] == ["B", "A"]


def test_count_poor_key_prefers_fewer_poor_areas():
    a = UnitInput("A", grades(G, P, G, G, F, A))  # 18
    b = UnitInput("B", grades(G, A, A, G, F, G))  # 18
    method = Method.from_dict({"tie_break": ["count_poor"]})
    assert [r.unit for r in evaluate([a, b], method).results] == ["B", "A"]


def test_shared_ranks_are_one_two_two_four():
    units = [
        UnitInput("D", grades(A)),
        UnitInput("C", grades(F)),
        UnitInput("B", grades(F)),
        UnitInput("A", grades(G)),
    ]
    evaluation = evaluate(units)
    assert [(r.unit, r.rank, r.position) for r in evaluation.results] == [
        ("A", 1, 1),
        ("B", 2, 2),
        ("C", 2, 3),
        ("D", 4, 4),
    ]
    assert evaluation.results[1].tie_group == ("B", "C")


# --------------------------------------------------------------------------- scores, reasons


def test_score_is_points_times_weights_with_breakdown():
    method = Method.from_dict({"weights": {"effectiveness": 2, "satisfaction": "1.5"}})
    unit = UnitInput("X", grades(G, F, A, P, G, F))
    result = evaluate([unit], method).results[0]
    # 4*2 + 3 + 2 + 1 + 4*1.5 + 3 = 23
    assert result.score == 23 and isinstance(result.score, int)
    breakdown = result.reasons[0]
    assert breakdown.code == "score"
    assert (
        "帮扶成效「好」4×2" in breakdown.message and "基层满意情况「好」4×1.5" in breakdown.message
    )


def test_fractional_scores_are_rounded_to_four_places():
    method = Method.from_dict({"weights": {"effectiveness": "0.33333"}})
    result = evaluate([UnitInput("X", grades(G))], method).results[0]
    assert result.score == pytest.approx(21.3333, abs=1e-9)
    assert isinstance(result.score, float)


def test_every_result_explains_score_rank_band_and_grade():
    for result in evaluate(ranked(10, U0010=PROBLEM), distinct()).results:
        got = codes(result)
        assert got[:3] == ["score", "rank", "band"]
        assert "grade" in got


def test_recommendation_two_steps_away_warns():
    units = ranked(10, U0001={"recommended_grade": A}, U0002={"recommended_grade": A})
    evaluation = evaluate(units, distinct())
    warned = [(w.unit, w.code) for w in evaluation.warnings]
    assert warned == [("U0001", "recommendation.far")]  # 好 vs 一般; 较好 vs 一般 is one step


def test_inputs_with_a_missing_area_are_refused():
    incomplete = {area: G for area in AREA_CODES[:5]}
    with pytest.raises(EngineInputError, match=AREA_NAMES["innovation"]):
        evaluate([UnitInput("X", incomplete)])


def test_duplicate_units_are_refused():
    with pytest.raises(EngineInputError, match="重复"):
        evaluate([UnitInput("X", grades(G)), UnitInput("X", grades(A))])


def test_pending_is_not_an_area_grade():
    with pytest.raises(EngineInputError):
        evaluate([UnitInput("X", grades(Grade.PENDING))])


def test_grade_labels_and_parsing():
    assert [g.label for g in Grade] == ["好", "较好", "一般", "较差", "待定"]
    assert Grade.parse(" 较好 ") is F and Grade.parse("POOR") is P
    with pytest.raises(ValueError, match="很好"):
        Grade.parse("很好")
    assert list(AREA_NAMES.values()) == [
        "帮扶成效",
        "组织领导",
        "选派干部",
        "督促检查",
        "基层满意情况",
        "工作创新",
    ]


def test_to_dict_uses_chinese_grade_labels():
    data = evaluate(ranked(10), distinct()).to_dict()
    assert data["counts"] == {"好": 1, "较好": 2, "一般": 7, "较差": 0, "待定": 0}
    assert data["results"][0]["grade"] == "好"
    assert data["bands"]["good"] == {"size": 1, "first": 1, "last": 1}


# ----------------------------------------------------------------- sensitivity, calibration


def test_sensitivity_reports_grades_that_move_with_one_weight_step():
    a = UnitInput("A", grades(G, A, A, A, A, A))  # 14, strong on effectiveness
    b = UnitInput("B", grades(A, F, F, F, A, A))  # 15
    third = UnitInput("C", grades(F, A, A, A, A, A))  # 13
    rest = [UnitInput(f"Z{i}", grades(P)) for i in range(7)]  # tied, 一般 wherever they land
    report = {(p.parameter, p.after > p.before): p for p in sensitivity([a, b, third, *rest])}
    # Base (10 units: 1 好, 2 较好): B 好, A 较好, C 较好.
    # Effectiveness weight 2: A 18, B 17, C 16 -> A and B swap.
    swapped = {("A", F, G), ("B", G, F)}
    moved = report[("weights.effectiveness", True)].changes
    assert {(c.unit, c.before, c.after) for c in moved} == swapped
    # Effectiveness weight 0: B 13, A 10, C 10 (A before C on effectiveness): nothing moves.
    assert report[("weights.effectiveness", False)].after == Decimal(0)
    assert report[("weights.effectiveness", False)].changes == ()
    # Leadership weight 0: A 12, B 12, A first on effectiveness -> they swap.
    moved = report[("weights.leadership", False)].changes
    assert {(c.unit, c.before, c.after) for c in moved} == swapped


def test_sensitivity_skips_steps_that_break_the_point_order():
    report = sensitivity([UnitInput("A", grades(G))])
    parameters = [(p.parameter, p.after) for p in report]
    # fairly_good 3 -> 4 would equal good; average 2 -> 3 would equal fairly_good, etc.
    assert ("points.fairly_good", Decimal(4)) not in parameters
    assert ("points.good", Decimal(5)) in parameters
    assert ("points.poor", Decimal(0)) in parameters
    assert len(report) == 6 * 2 + 2  # weights +-1; points: good +1, poor -1 only


def test_calibration_compares_a_category_with_all_others():
    units = [
        UnitInput("A", grades(G), category="高校"),
        UnitInput("B", grades(G, G, G, F, F, F), category="高校"),
        UnitInput("C", grades(A), category="企业"),
        UnitInput("D", grades(P)),
    ]
    result = calibration(units)
    assert set(result) == {"高校", "企业"}
    schools = result["高校"]
    assert schools.units == 2 and schools.other_units == 2
    assert schools.areas["effectiveness"].category.counts[G] == 2
    assert schools.areas["supervision"].category.counts == {G: 1, F: 1, A: 0, P: 0}
    assert schools.overall.others.counts == {G: 0, F: 0, A: 6, P: 6}
    assert schools.overall.category.share(G) == 0.75


def test_grade_codes_as_plain_strings_are_accepted():
    unit = UnitInput("X", dict.fromkeys(AREA_CODES, "fairly_good"), recommended_grade="good")
    result = evaluate([unit]).results[0]
    assert result.score == 18
    assert "帮扶成效「较好」3×1" in result.reasons[0].message


def test_evaluate_leaves_the_garbage_collector_as_it_found_it():
    import gc

    assert gc.isenabled()
    evaluate(ranked(10), distinct())
    assert gc.isenabled()
    gc.disable()
    try:
        evaluate(ranked(10), distinct())
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_evaluate_never_switches_the_garbage_collector_off(monkeypatch):
    """Pausing the collector is the choice of a one-shot program (the CLI, the benchmark),
    not of a library call made inside a web process."""
    import gc

    calls = []
    monkeypatch.setattr(gc, "disable", lambda: calls.append("disable"))
    evaluate(ranked(10), distinct())
    assert calls == []
