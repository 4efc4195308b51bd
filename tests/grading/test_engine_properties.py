"""Properties of the grading engine that must hold for any round and any valid method."""

from __future__ import annotations

from fractions import Fraction
from itertools import permutations

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from kaohe.grading.engine import AREA_CODES, AREA_GRADES, Band, Grade, UnitInput, evaluate
from kaohe.grading.method import TIE_BREAK_KEYS, Method


@st.composite
def methods(draw: st.DrawFn) -> Method:
    points = sorted(draw(st.lists(st.integers(0, 8), min_size=4, max_size=4, unique=True)))
    weights = draw(st.lists(st.integers(0, 3), min_size=6, max_size=6))
    if not any(weights):
        weights[0] = 1
    good = draw(st.sampled_from(["0", "0.05", "0.1", "0.10", "0.2", "0.5"]))
    top = draw(st.sampled_from(["0.1", "0.3", "0.35", "0.6", "1"]).filter(lambda t: t >= good))
    return Method.from_dict(
        {
            "points": dict(zip(["poor", "average", "fairly_good", "good"], points, strict=True)),
            "weights": dict(zip(AREA_CODES, weights, strict=True)),
            "shares": {
                "good": good,
                "fairly_good": top,
                "poor": draw(st.sampled_from(["0", "0.1", "0.15", "0.3", "0.6"])),
            },
            "rounding": draw(st.sampled_from(["floor", "round", "ceil"])),
            "tie_break": draw(st.lists(st.sampled_from(TIE_BREAK_KEYS), unique=True, max_size=4)),
            "incident_cap": draw(st.sampled_from(["fairly_good", "average"])),
            "backfill": draw(st.booleans()),
        }
    )


@st.composite
def rounds(draw: st.DrawFn) -> list[UnitInput]:
    # A small alphabet of grades makes fully tied units, and so boundary ties, common.
    alphabet = draw(st.lists(st.sampled_from(AREA_GRADES), min_size=1, max_size=4, unique=True))
    grade = st.sampled_from(alphabet)
    n = draw(st.integers(0, 40))
    units = []
    for index in range(n):
        units.append(
            UnitInput(
                unit=f"单位{index:02d}",
                grades={area: draw(grade) for area in AREA_CODES},
                serious_problems=("问题",) if draw(st.booleans()) else (),
                major_incident=draw(st.integers(0, 5)) == 0,
                recommended_grade=draw(st.none() | st.sampled_from(AREA_GRADES)),
            )
        )
    return units


def oracle_score(unit: UnitInput, method: Method) -> Fraction:
    return sum(
        (
            Fraction(method.points[unit.grades[area].value]) * Fraction(method.weights[area])
            for area in AREA_CODES
        ),
        Fraction(0),
    )


def oracle_key(unit: UnitInput, method: Method) -> tuple:
    """What orders units, written independently of the engine: smaller is better."""
    values: list[Fraction | int] = [-oracle_score(unit, method)]
    levels = {grade: index for index, grade in enumerate(AREA_GRADES)}
    for key in method.tie_break:
        if key.startswith("area:"):
            values.append(levels[unit.grades[key[5:]]])
        elif key == "count_good":
            values.append(-list(unit.grades.values()).count(Grade.GOOD))
        elif key == "count_poor":
            values.append(list(unit.grades.values()).count(Grade.POOR))
        else:
            recommended = unit.recommended_grade
            values.append(4 if recommended is None else levels[recommended])
    return tuple(values)


@given(methods())
def test_method_round_trips_through_its_stored_dict(method):
    assert Method.from_dict(method.to_dict()) == method


def test_oracle_score_matches_the_points_and_weights_definition():
    unit = UnitInput("X", dict(zip(AREA_CODES, AREA_GRADES + AREA_GRADES[:2], strict=True)))
    assert oracle_score(unit, Method.default()) == 4 + 3 + 2 + 1 + 4 + 3


@settings(max_examples=200, deadline=None)
@given(rounds(), methods())
def test_grade_counts_never_exceed_the_bands(units, method):
    evaluation = evaluate(units, method)
    counts = evaluation.counts
    assert counts[Grade.GOOD] <= evaluation.n_good
    assert counts[Grade.GOOD] + counts[Grade.FAIRLY_GOOD] <= evaluation.n_top
    assert sum(counts.values()) == len(units)


@settings(max_examples=200, deadline=None)
@given(rounds(), methods())
def test_poor_needs_a_serious_problem_and_the_poor_band(units, method):
    evaluation = evaluate(units, method)
    inputs = {u.unit: u for u in units}
    poor_first = evaluation.bands[Band.POOR].first
    for result in evaluation.results:
        if result.grade is Grade.POOR:
            assert inputs[result.unit].serious_problems
            assert poor_first is not None and result.position_first >= poor_first


@settings(max_examples=200, deadline=None)
@given(rounds(), methods())
def test_no_unit_with_a_major_incident_is_good(units, method):
    evaluation = evaluate(units, method)
    inputs = {u.unit: u for u in units}
    for result in evaluation.results:
        if inputs[result.unit].major_incident:
            assert result.grade is not Grade.GOOD
            assert Grade.GOOD not in result.candidates


@settings(max_examples=200, deadline=None)
@given(rounds(), methods())
def test_ranks_follow_positions_and_are_shared_exactly_by_fully_tied_units(units, method):
    evaluation = evaluate(units, method)
    inputs = {u.unit: u for u in units}
    keys = [oracle_key(inputs[r.unit], method) for r in evaluation.results]
    assert [r.position for r in evaluation.results] == list(range(1, len(units) + 1))
    assert keys == sorted(keys)
    for index, result in enumerate(evaluation.results):
        # Competition ranking: 1 + the number of units strictly better.
        assert result.rank == 1 + sum(1 for key in keys if key < keys[index])
        if index:
            previous = evaluation.results[index - 1]
            assert previous.rank <= result.rank
            assert (previous.rank == result.rank) == (keys[index - 1] == keys[index])


@settings(max_examples=200, deadline=None)
@given(st.data(), rounds(), methods())
def test_result_does_not_depend_on_input_order(data, units, method):
    shuffled = data.draw(st.permutations(units))
    first, second = evaluate(units, method), evaluate(shuffled, method)
    assert [(r.unit, r.rank, r.grade, r.candidates) for r in first.results] == [
        (r.unit, r.rank, r.grade, r.candidates) for r in second.results
    ]
    assert first.warnings == second.warnings


@settings(max_examples=200, deadline=None)
@given(rounds(), methods())
def test_score_is_the_sum_of_points_times_weights(units, method):
    inputs = {u.unit: u for u in units}
    for result in evaluate(units, method).results:
        expected = oracle_score(inputs[result.unit], method)
        if expected.denominator == 1:
            assert result.score == expected
        else:
            assert result.score == round(float(expected), 4)


@settings(max_examples=200, deadline=None)
@given(rounds(), methods())
def test_no_unit_is_graded_better_than_a_unit_ranked_above_it(units, method):
    """Excluding pending and capped units, and the one inversion the rules intend: a unit
    with a serious problem in the poor band (较差) above one without (一般)."""
    evaluation = evaluate(units, method)
    inputs = {u.unit: u for u in units}
    decided = [
        r
        for r in evaluation.results
        if r.grade is not Grade.PENDING and not inputs[r.unit].major_incident
    ]
    for upper in decided:
        for lower in decided:
            if upper.rank < lower.rank and lower.grade.level < upper.grade.level:
                assert (upper.grade, lower.grade) == (Grade.POOR, Grade.AVERAGE)


@settings(max_examples=200, deadline=None)
@given(rounds(), methods())
def test_without_incidents_or_pending_the_bands_are_filled_exactly(units, method):
    units = [UnitInput(u.unit, u.grades, u.serious_problems) for u in units]
    evaluation = evaluate(units, method)
    counts = evaluation.counts
    if counts[Grade.PENDING] == 0:
        assert counts[Grade.GOOD] == evaluation.n_good
        assert counts[Grade.GOOD] + counts[Grade.FAIRLY_GOOD] == evaluation.n_top


@settings(max_examples=200, deadline=None)
@given(rounds(), methods())
def test_pending_only_for_fully_tied_groups_crossing_a_boundary(units, method):
    for result in evaluate(units, method).results:
        if result.grade is Grade.PENDING:
            assert len(result.tie_group) > 1
            # With backfill the last freed 好 place is a boundary inside the 较好 band.
            assert len(result.bands) > 1 or (
                method.backfill and result.bands == (Band.FAIRLY_GOOD,)
            )
            assert len(result.candidates) > 1
            assert "tie.pending" in [reason.code for reason in result.reasons]
        else:
            assert result.candidates == (result.grade,)


@settings(max_examples=200, deadline=None)
@given(rounds(), methods())
def test_pending_candidates_are_what_the_working_group_could_choose(units, method):
    """Brute force: put each fully tied group in every order the working group could choose
    (by breaking the tie with a trailing recommended_grade key) and collect each unit's grades;
    the engine's candidates must be exactly those, and a unit is pending exactly when there is
    more than one."""
    assume("recommended_grade" not in method.tie_break)  # the key that breaks the ties here
    broken_method = Method.from_dict(
        {**method.to_dict(), "tie_break": [*method.tie_break, "recommended_grade"]}
    )
    units = _at_most_four_tied(units, method)
    evaluation = evaluate(units, method)
    groups = {r.tie_group for r in evaluation.results if len(r.tie_group) > 1}
    assert all(len(group) <= 4 for group in groups)
    for group in groups:
        seen: dict[str, set[Grade]] = {name: set() for name in group}
        for order in permutations(group):
            for r in evaluate(_break_tie(units, order), broken_method).results:
                if r.unit in seen:
                    assert r.grade is not Grade.PENDING  # no longer tied
                    seen[r.unit].add(r.grade)
        for result in evaluation.results:
            if result.unit in seen:
                assert set(result.candidates) == seen[result.unit], result.unit


def _at_most_four_tied(units: list[UnitInput], method: Method) -> list[UnitInput]:
    """The round without the fifth and later members of every fully tied group: the four
    recommended grades order at most four units, so the brute force runs on this round
    rather than skipping the larger groups."""
    while True:
        extra = {name for r in evaluate(units, method).results for name in r.tie_group[4:]}
        if not extra:
            return units
        units = [u for u in units if u.unit not in extra]


def _break_tie(units: list[UnitInput], order: tuple[str, ...]) -> list[UnitInput]:
    """Give the group's units recommended grades 好, 较好, ... in ``order`` (and everyone else
    none), so a trailing recommended_grade key puts them in that order."""
    rank = {name: AREA_GRADES[index] for index, name in enumerate(order)}
    return [
        UnitInput(
            u.unit,
            u.grades,
            u.serious_problems,
            u.major_incident,
            recommended_grade=rank.get(u.unit),
        )
        for u in units
    ]
