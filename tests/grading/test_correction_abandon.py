"""The leading group may withdraw an open correction, with a written reason (issue 16): its
versions are abandoned, the released version stays in force and the round can be closed."""

import pytest
from django.urls import reverse

from kaohe.audit.models import AuditEntry
from kaohe.grading import services as grading
from kaohe.grading.models import Correction, EventAction, ResultSet, ResultSetStatus
from kaohe.grading.selectors import released_grade_for
from kaohe.outcomes import services as outcomes
from kaohe.reviews.models import SeriousProblem
from kaohe.rounds.models import RoundStatus
from kaohe.rounds.services import round_close
from tests.outcomes.test_outcomes import approved  # noqa: F401 - the fixture


@pytest.fixture(autouse=True)
def _during_the_review(settings):
    """The fixtures grade and submit while the lead departments' review is open."""
    settings.KAOHE_TODAY = "2018-01-10"


@pytest.fixture
def corrected(approved, personas, world):  # noqa: F811
    """v1 released (unit_b 较差); a correction opened (v2, the copy) and a corrected v3
    (unit_b without its serious problem) approved, its letters drafted, not released."""
    wg, leader, office = (personas["working_group"], personas["leading_group"],
                          personas["office"])
    outcomes.release(result_set=approved, actor=office)
    grading.correction_open(round=world["round"], actor=leader, reason="乙单位的突出问题认定有误")
    SeriousProblem.objects.filter(unit=world["unit_b"]).delete()
    v3 = grading.result_set_compute(round=world["round"], actor=wg)
    grading.result_set_submit(result_set=v3, actor=wg)
    grading.result_set_approve(result_set=v3, actor=leader, comments="同意更正")
    outcomes.feedback_prepare(result_set=v3, actor=office)
    return ResultSet.objects.get(pk=v3.pk)


def test_abandoning_keeps_the_released_version_in_force_and_lets_the_round_close(
        corrected, approved, personas, world):  # noqa: F811
    leader = personas["leading_group"]
    grading.correction_abandon(round=world["round"], actor=leader, reason="经复核，原认定无误")
    correction = Correction.objects.get()
    assert correction.abandoned_by == leader and not correction.is_open
    assert correction.abandon_reason == "经复核，原认定无误"
    assert grading.open_correction(world["round"]) is None
    corrected.refresh_from_db()
    assert corrected.status == ResultSetStatus.ABANDONED
    # Its seal still holds (it was approved) and it is kept with its history.
    corrected.verify_seal()
    assert corrected.events.filter(action=EventAction.CORRECTION_ABANDONED,
                                   comments="经复核，原认定无误").exists()
    approved.refresh_from_db()
    assert approved.status == ResultSetStatus.RELEASED
    assert approved.events.filter(action=EventAction.CORRECTION_ABANDONED).exists()
    assert released_grade_for(world["round"], world["unit_b"]) == "poor"
    entry = AuditEntry.objects.get(action="grading.correction.abandoned")
    assert entry.data["reason"] == "经复核，原认定无误" and entry.data["versions"] == [3]
    # Nothing of the abandoned correction can go on.
    with pytest.raises(outcomes.OutcomeError, match="更正已撤销"):
        outcomes.release(result_set=corrected, actor=personas["office"])
    with pytest.raises(grading.GradingError, match="已反馈"):
        grading.result_set_compute(round=world["round"], actor=personas["working_group"])
    round_close(round=world["round"], actor=personas["office"])
    world["round"].refresh_from_db()
    assert world["round"].status == RoundStatus.CLOSED


def test_a_new_correction_may_be_opened_after_one_was_abandoned(corrected, personas, world):
    leader = personas["leading_group"]
    grading.correction_abandon(round=world["round"], actor=leader, reason="撤销")
    draft = grading.correction_open(round=world["round"], actor=leader, reason="重新更正")
    assert draft.correction.is_open and Correction.objects.count() == 2


def test_abandoning_needs_an_open_correction_and_a_reason(approved, personas, world):  # noqa: F811
    leader = personas["leading_group"]
    with pytest.raises(grading.GradingError, match="没有正在进行的更正"):
        grading.correction_abandon(round=world["round"], actor=leader, reason="撤销")
    outcomes.release(result_set=approved, actor=personas["office"])
    grading.correction_open(round=world["round"], actor=leader, reason="更正")
    with pytest.raises(grading.GradingError, match="撤销更正的理由"):
        grading.correction_abandon(round=world["round"], actor=leader, reason="  ")
    assert Correction.objects.get().is_open
    assert not AuditEntry.objects.filter(action="grading.correction.abandoned").exists()


def test_the_leader_abandons_from_the_correction_page(corrected, approved, personas,  # noqa: F811
                                                      client):
    client.force_login(personas["leading_group"])
    page = client.get(reverse("grading:detail", args=[corrected.pk])).content.decode()
    assert reverse("grading:abandon", args=[corrected.pk]) in page
    assert "撤销更正" in page
    released_page = client.get(reverse("grading:detail", args=[approved.pk])).content.decode()
    assert reverse("grading:abandon", args=[approved.pk]) in released_page
    response = client.post(reverse("grading:abandon", args=[corrected.pk]), {"reason": ""})
    assert Correction.objects.get().is_open
    response = client.post(reverse("grading:abandon", args=[corrected.pk]),
                           {"reason": "经复核，原认定无误"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("grading:detail", args=[approved.pk])
    assert "已撤销更正，第1版考核结果继续有效。" in response.content.decode()
    assert not Correction.objects.get().is_open
    page = client.get(reverse("grading:detail", args=[corrected.pk])).content.decode()
    assert "撤销了该更正" in page and "经复核，原认定无误" in page
    assert reverse("grading:abandon", args=[corrected.pk]) not in page


@pytest.mark.parametrize("role", ["working_group", "office", "unit", "lead_reviewer",
                                  "auditor"])
def test_only_the_leading_group_may_abandon(corrected, personas, client, role):
    client.force_login(personas[role])
    response = client.post(reverse("grading:abandon", args=[corrected.pk]),
                           {"reason": "撤销"})
    assert response.status_code == 404
    assert Correction.objects.get().is_open
    page = client.get(reverse("grading:detail", args=[corrected.pk]))
    assert reverse("grading:abandon", args=[corrected.pk]) not in page.content.decode()


def test_an_over_long_reason_for_abandoning_is_refused_not_cut(corrected, personas, client):
    client.force_login(personas["leading_group"])
    response = client.post(reverse("grading:abandon", args=[corrected.pk]),
                           {"reason": "理" * 5001}, follow=True)
    assert "撤销理由不能超过5000个字（现为5001个字）。" in response.content.decode()
    correction = Correction.objects.get()
    assert correction.is_open and correction.abandon_reason == ""
    assert not AuditEntry.objects.filter(action="grading.correction.abandoned").exists()


def test_whether_the_results_are_final_is_asked_without_reading_a_result_set(
        approved, personas, world):  # noqa: F811
    """Pages about one unit ask it (may this report still change?): the answer must not
    read the result sets' snapshots, which grow with the number of units (issue 19)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    round_ = world["round"]

    def final():
        with CaptureQueriesContext(connection) as queries:
            answer = grading.results_final(round_)
        assert not any('"outputs"' in q["sql"] or '"inputs"' in q["sql"] for q in queries)
        return answer

    assert not final()  # approved, not released
    version = grading.before_the_leading_group(round_)
    assert version.pk == approved.pk and version.get_deferred_fields() >= {"outputs", "inputs"}
    outcomes.release(result_set=approved, actor=personas["office"])
    assert final()
    grading.correction_open(round=round_, actor=personas["leading_group"], reason="复核")
    assert not final()
    grading.correction_abandon(round=round_, actor=personas["leading_group"], reason="无误")
    assert final()
