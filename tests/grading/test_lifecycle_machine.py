"""The result set's life as a state machine over the services, every role acting in any
order (hypothesis RuleBasedStateMachine): the working group computes, decides and submits,
the leading group returns, approves and opens corrections, the office prepares, edits and
releases feedback, and a lead department withdraws a finding. After every step:

- a released grade never changes except through a recorded correction (opened with a
  reason and released as the correction of the version in force), and a released letter
  never changes at all;
- every approved version obeys section 七 and the quotas, and still matches its seal;
- a round has at most one released version in force, and its letters carry its grades;
- once the office closes the round, nothing of it changes (issue 16); an open correction,
  which blocks closing, may be abandoned by the leading group instead.
"""

import contextlib

import pytest
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from kaohe.grading import services as grading
from kaohe.grading.models import Correction, EventAction, ResultSet, ResultSetStatus
from kaohe.grading.selectors import released_grade_for
from kaohe.outcomes import services as outcomes
from kaohe.outcomes.models import Feedback
from kaohe.reviews.models import SeriousProblem
from kaohe.rounds.models import Round, RoundStatus
from kaohe.rounds.services import RoundError, round_close
from tests.grading.conftest import MIXED

pytestmark = pytest.mark.django_db

UNITS = [code for code, _name, _grades in MIXED]
GRADES = ["good", "fairly_good", "average", "poor"]
REFUSED = (grading.GradingError, outcomes.OutcomeError, RoundError)
# Which version a step acts on: mostly the newest (-1), sometimes an older one.
INDEX = st.sampled_from([-1, -1, -1, 0, 1, 2])


def test_released_results_change_only_through_a_recorded_correction(mixed, personas):
    round_ = mixed["round"]
    units = mixed["units"]
    wg, leader, office = (personas["working_group"], personas["leading_group"],
                          personas["office"])

    class Lifecycle(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            # Each example starts from the same submitted round and leaves nothing behind.
            self.savepoint = transaction.savepoint()
            self.in_force = None  # pk of the released version units read
            self.released = {}  # pk -> its final grades when released
            self.letters = {}  # released letter pk -> (grade, problems, suggestions)
            self.computed = 0
            self.closed_state = None  # what the round held when it was closed

        def teardown(self):
            transaction.savepoint_rollback(self.savepoint)

        def _pick(self, index):
            versions = list(ResultSet.objects.filter(round=round_).order_by("version"))
            return versions[index % len(versions)] if versions else None  # -1: the newest

        # The working group ------------------------------------------------------------

        # A few computations per example: each new version blocks approving the older ones.
        @precondition(lambda self: self.computed < 3)
        @rule()
        def compute(self):
            self.computed += 1
            with contextlib.suppress(REFUSED):
                grading.result_set_compute(round=round_, actor=wg)

        @rule(index=INDEX, unit=st.sampled_from(UNITS), grade=st.sampled_from(GRADES))
        def decide(self, index, unit, grade):
            result_set = self._pick(index)
            if result_set is None:
                return
            with contextlib.suppress(REFUSED):
                grading.decision_record(result_set=result_set, unit_code=unit, grade=grade,
                                        reason="工作组研究确定", actor=wg)

        @rule(data=st.data())
        def advance(self, data):
            """Move the newest version one step along the usual path, each role in turn:
            the working group settles its pending units within the rules and submits, the
            leading group approves, the office releases. Without this the machine would
            seldom get that far; the other rules try everything else."""
            result_set = ResultSet.objects.filter(round=round_).order_by("-version").first()
            if result_set is None:
                return
            with contextlib.suppress(REFUSED):
                if result_set.is_editable:
                    rules = grading.decision_rules(result_set)
                    for unit, grade in result_set.final_grades().items():
                        if grade == "pending":
                            choice = data.draw(st.sampled_from(
                                [g.value for g in rules.allowed(unit)]))
                            with contextlib.suppress(REFUSED):
                                grading.decision_record(
                                    result_set=result_set, unit_code=unit, grade=choice,
                                    reason="并列单位研究确定", actor=wg)
                    grading.result_set_submit(result_set=result_set, actor=wg)
                elif result_set.status == ResultSetStatus.SUBMITTED:
                    grading.result_set_approve(result_set=result_set, actor=leader,
                                               comments="同意")
                elif result_set.status == ResultSetStatus.APPROVED:
                    outcomes.release(result_set=result_set, actor=office)

        @rule(index=INDEX)
        def submit(self, index):
            result_set = self._pick(index)
            if result_set is not None:
                with contextlib.suppress(REFUSED):
                    grading.result_set_submit(result_set=result_set, actor=wg)

        # The leading group --------------------------------------------------------------

        @rule(index=INDEX, approve=st.booleans())
        def review(self, index, approve):
            result_set = self._pick(index)
            if result_set is None:
                return
            try:
                if approve:
                    grading.result_set_approve(result_set=result_set, actor=leader,
                                               comments="同意")
                else:
                    grading.result_set_return(result_set=result_set, actor=leader,
                                              comments="请再研究")
            except REFUSED:
                pass

        @rule(reason=st.sampled_from(["", "突出问题认定有误，予以更正", "经复核予以更正"]))
        def correct(self, reason):
            with contextlib.suppress(REFUSED):
                grading.correction_open(round=round_, actor=leader, reason=reason)

        @rule(reason=st.sampled_from(["", "经复核原认定无误，撤销更正"]))
        def abandon(self, reason):
            with contextlib.suppress(REFUSED):
                grading.correction_abandon(round=round_, actor=leader, reason=reason)

        # The office -----------------------------------------------------------------------

        @rule()
        def close(self):
            with contextlib.suppress(REFUSED):
                round_close(round=round_, actor=office)

        @rule(index=INDEX)
        def prepare_feedback(self, index):
            result_set = self._pick(index)
            if result_set is not None:
                with contextlib.suppress(REFUSED):
                    outcomes.feedback_prepare(result_set=result_set, actor=office)

        @rule(index=INDEX, text=st.sampled_from(["资金到位慢", "干部选派不足"]))
        def edit_feedback(self, index, text):
            letters = list(Feedback.objects.filter(round=round_).order_by("pk"))
            if letters:
                with contextlib.suppress(REFUSED):
                    outcomes.feedback_update(feedback=letters[index % len(letters)],
                                             actor=office, problems=text, suggestions=text)

        @rule(index=INDEX)
        def release(self, index):
            result_set = self._pick(index)
            if result_set is not None:
                with contextlib.suppress(REFUSED):
                    outcomes.release(result_set=result_set, actor=office)

        # A lead department ---------------------------------------------------------------

        @rule(unit=st.sampled_from(["M005", "M009"]))
        def withdraw_problem(self, unit):
            SeriousProblem.objects.filter(round=round_, unit=units[unit]).delete()

        # What must hold after every step -------------------------------------------------

        @invariant()
        def one_version_in_force(self):
            released = list(ResultSet.objects.filter(round=round_,
                                                     status=ResultSetStatus.RELEASED))
            assert len(released) <= 1
            current = released[0] if released else None
            if self.in_force is not None:
                assert current is not None, "a release was undone"
                if current.pk != self.in_force:
                    # Only a correction of the version in force replaces it.
                    correction = current.correction
                    assert correction is not None and correction.corrects_id == self.in_force
                    assert correction.reason.strip() and correction.released_at is not None
                    assert correction.released_as_id == current.pk
                    assert correction.corrects.events.filter(
                        action=EventAction.CORRECTION_OPENED).exists()
                    assert correction.corrects.status == ResultSetStatus.SUPERSEDED
            if current is not None and current.pk not in self.released:
                self.released[current.pk] = current.final_grades()
                self.in_force = current.pk

        @invariant()
        def released_grades_and_letters_never_change(self):
            for pk, grades in self.released.items():
                assert ResultSet.objects.get(pk=pk).final_grades() == grades
            if self.in_force is None:
                return
            grades = self.released[self.in_force]
            letters = {f.unit.code: f for f in Feedback.objects.filter(
                result_set_id=self.in_force).select_related("unit")}
            assert set(letters) == set(grades)
            for code, letter in letters.items():
                assert letter.grade == grades[code]
                assert released_grade_for(round_, units[code]) == grades[code]
                self.letters.setdefault(letter.pk, (letter.grade, letter.problems,
                                                    letter.suggestions))
            for pk, content in self.letters.items():
                letter = Feedback.objects.get(pk=pk)
                assert (letter.grade, letter.problems, letter.suggestions) == content

        @invariant()
        def approved_versions_obey_section_seven(self):
            for result_set in ResultSet.objects.filter(round=round_,
                                                       approved_at__isnull=False):
                assert result_set.status in {ResultSetStatus.APPROVED,
                                             ResultSetStatus.RELEASED,
                                             ResultSetStatus.SUPERSEDED,
                                             ResultSetStatus.ABANDONED}
                assert grading.rule_breaches(result_set) == []
                result_set.verify_seal()
            approved = ResultSet.objects.filter(round=round_, status=ResultSetStatus.APPROVED)
            assert approved.count() <= 1  # a later approval supersedes the earlier
            assert Correction.objects.filter(round=round_, released_at__isnull=True,
                                             abandoned_at__isnull=True).count() <= 1

        @invariant()
        def nothing_of_a_closed_round_is_writable(self):
            if Round.objects.get(pk=round_.pk).status != RoundStatus.CLOSED:
                return
            state = (
                [(r.pk, r.status, r.seal, r.final_grades())
                 for r in ResultSet.objects.filter(round=round_).order_by("pk")],
                list(Feedback.objects.filter(round=round_).order_by("pk").values()),
                list(Correction.objects.filter(round=round_).order_by("pk").values()),
            )
            if self.closed_state is None:
                # Closing needs the results released and no correction open.
                assert self.in_force is not None
                assert grading.open_correction(round_) is None
                self.closed_state = state
            assert state == self.closed_state

    run_state_machine_as_test(Lifecycle, settings=settings(
        max_examples=30, stateful_step_count=50, deadline=None, derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]))
