"""Released results are final (issue 16, item 2): after release nothing is computed, decided,
approved or edited for the round, except through a correction that the leading group opens
with a written reason; the corrected version is approved and released as a correction, the
affected units are told, and the earlier letters stay on record."""

import pytest
from django.urls import reverse

from kaohe.audit.models import AuditEntry
from kaohe.dashboard import todo
from kaohe.documents.base import get_exporter
from kaohe.grading import models as grading_models
from kaohe.grading import services as grading
from kaohe.grading.models import ResultSetStatus
from kaohe.grading.selectors import released_grade_for
from kaohe.outcomes import services
from kaohe.outcomes.models import Feedback, RectificationReport, Summons
from kaohe.outcomes.selectors import unit_history
from kaohe.reviews.models import SeriousProblem
from tests.outcomes.test_outcomes import approved  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


def _release(approved, personas):  # noqa: F811
    services.feedback_prepare(result_set=approved, actor=personas["office"])
    return services.release(result_set=approved, actor=personas["office"])


def test_a_released_round_refuses_new_versions_decisions_and_feedback_edits(
        approved, personas, world, client):  # noqa: F811
    wg, leader, office = (personas["working_group"], personas["leading_group"],
                          personas["office"])
    stale = grading.result_set_compute(round=world["round"], actor=wg)
    _release(approved, personas)
    with pytest.raises(grading.GradingError, match="已反馈"):
        grading.result_set_compute(round=world["round"], actor=wg)
    stale.refresh_from_db()
    assert stale.status == ResultSetStatus.SUPERSEDED
    with pytest.raises(grading.GradingError, match="已反馈"):
        grading.decision_record(result_set=stale, unit_code="A001", grade="average",
                                reason="改", actor=wg)
    with pytest.raises(grading.GradingError):
        grading.result_set_submit(result_set=stale, actor=wg)
    with pytest.raises(grading.GradingError):
        grading.result_set_approve(result_set=stale, actor=leader)
    feedback = Feedback.objects.get(unit=world["unit_b"])
    with pytest.raises(services.OutcomeError, match="不能再修改"):
        services.feedback_update(feedback=feedback, actor=office, problems="x",
                                 suggestions="y")
    with pytest.raises(services.OutcomeError, match="已反馈"):
        services.feedback_prepare(result_set=approved, actor=office)
    feedback.refresh_from_db()
    assert feedback.grade == "poor" and feedback.problems.startswith("帮扶资金到位慢")
    # The home page, the result page and the letter say the same grade.
    client.force_login(personas["unit_b"])
    assert "考核等次：较差" in client.get(reverse("home")).content.decode()
    assert "较差" in client.get(reverse("outcomes:my_result")).content.decode()
    assert released_grade_for(world["round"], world["unit_b"]) == "poor"


def test_only_the_leading_group_reopens_a_released_round_and_only_with_a_reason(
        approved, personas, world, client):  # noqa: F811
    with pytest.raises(grading.GradingError, match="尚未反馈"):
        grading.correction_open(round=world["round"], actor=personas["leading_group"],
                                reason="更正")
    _release(approved, personas)
    with pytest.raises(grading.GradingError, match="理由"):
        grading.correction_open(round=world["round"], actor=personas["leading_group"],
                                reason="  ")
    for persona in ("working_group", "office"):
        client.force_login(personas[persona])
        response = client.post(reverse("grading:reopen", args=[approved.pk]),
                               {"reason": "更正"})
        assert response.status_code == 404
    assert not grading_models.Correction.objects.exists()
    client.force_login(personas["leading_group"])
    client.post(reverse("grading:reopen", args=[approved.pk]),
                {"reason": "乙单位的突出问题认定有误"})
    correction = grading_models.Correction.objects.get()
    assert (correction.corrects, correction.reason) == (approved, "乙单位的突出问题认定有误")


def test_a_correction_is_approved_and_released_and_the_earlier_letter_stays(
        approved, personas, world, client):  # noqa: F811
    wg, leader, office = (personas["working_group"], personas["leading_group"],
                          personas["office"])
    released = _release(approved, personas)
    first_letter = Feedback.objects.get(unit=world["unit_b"], result_set=released)
    draft = grading.correction_open(round=world["round"], actor=leader,
                                    reason="乙单位的突出问题认定有误，经核实予以撤销")
    assert draft.status == ResultSetStatus.DRAFT and draft.correction.corrects == released
    assert draft.final_grades() == released.final_grades()
    # The lead department's finding is withdrawn; the working group computes again.
    SeriousProblem.objects.filter(unit=world["unit_b"]).delete()
    corrected = grading.result_set_compute(round=world["round"], actor=wg)
    assert corrected.correction_id == draft.correction_id
    assert corrected.final_grades()["B001"] == "average"
    grading.result_set_submit(result_set=corrected, actor=wg)
    # Until the correction is released the released grades stand.
    grading.result_set_approve(result_set=corrected, actor=leader, comments="同意更正")
    assert released_grade_for(world["round"], world["unit_b"]) == "poor"
    services.feedback_prepare(result_set=corrected, actor=office)
    services.release(result_set=corrected, actor=office)

    released.refresh_from_db()
    corrected.refresh_from_db()
    assert released.status == ResultSetStatus.SUPERSEDED
    assert corrected.status == ResultSetStatus.RELEASED
    assert released_grade_for(world["round"], world["unit_b"]) == "average"
    correction = grading_models.Correction.objects.get()
    assert correction.released_as == corrected and correction.released_at is not None
    # The earlier letter is on record, unchanged; the new one replaces it and says so.
    first_letter.refresh_from_db()
    assert first_letter.grade == "poor"
    letter = Feedback.objects.get(unit=world["unit_b"], result_set=corrected)
    assert (letter.grade, letter.replaces, letter.corrected) == ("average", first_letter, True)
    assert letter.problems == first_letter.problems
    unchanged = Feedback.objects.get(unit=world["unit_a"], result_set=corrected)
    assert not unchanged.corrected
    doc = get_exporter("feedback_letter").build(letter, None)
    assert any("更正" in getattr(block, "text", "") for block in doc.blocks)
    # The affected unit is told on its home and result pages; the other unit is not.
    client.force_login(personas["unit_b"])
    home = client.get(reverse("home")).content.decode()
    assert "考核等次：一般" in home and "更正" in home
    page = client.get(reverse("outcomes:my_result")).content.decode()
    assert "更正" in page and "较差" in page  # the earlier grade, named as corrected
    client.force_login(personas["unit"])
    assert "更正" not in client.get(reverse("home")).content.decode()
    # The earlier letter can still be fetched by the office and by its own unit.
    exporter = get_exporter("feedback_letter")
    assert exporter.get_object(office, world["round"], str(first_letter.pk)) == first_letter
    assert exporter.get_object(personas["unit_b"], world["round"],
                               str(first_letter.pk)) == first_letter
    # Released again: nothing more is computed until the leading group reopens.
    with pytest.raises(grading.GradingError, match="已反馈"):
        grading.result_set_compute(round=world["round"], actor=wg)
    # The superseded version is still sealed: a change to it is found.
    grading_models.ResultSet.objects.filter(pk=released.pk).update(leader_comments="改过")
    with pytest.raises(grading_models.SealBroken, match="第1版"):
        grading_models.ResultSet.objects.get(pk=released.pk).verify_seal()


def test_a_round_with_an_open_correction_cannot_be_closed_and_a_closed_round_releases_nothing(
        approved, personas, world, client):  # noqa: F811
    # Found by review: the round was closed with an approved correction waiting, and the
    # office then released it, changing a grade of a read-only round.
    from kaohe.rounds.models import Round, RoundStatus
    from kaohe.rounds.services import RoundError, round_close

    wg, leader, office = (personas["working_group"], personas["leading_group"],
                          personas["office"])
    _release(approved, personas)
    grading.correction_open(round=world["round"], actor=leader, reason="乙单位的突出问题认定有误")
    SeriousProblem.objects.filter(unit=world["unit_b"]).delete()
    corrected = grading.result_set_compute(round=world["round"], actor=wg)
    grading.result_set_submit(result_set=corrected, actor=wg)
    grading.result_set_approve(result_set=corrected, actor=leader, comments="同意更正")
    with pytest.raises(RoundError, match="正在更正"):
        round_close(round=world["round"], actor=office)
    assert Round.objects.get(pk=world["round"].pk).status == RoundStatus.ACTIVE
    # Closed by other means (an older installation, the database): still nothing is released.
    Round.objects.filter(pk=world["round"].pk).update(status=RoundStatus.CLOSED)
    client.force_login(office)
    client.post(reverse("grading:release", args=[corrected.pk]))
    with pytest.raises(services.OutcomeError, match="已结束"):
        services.release(result_set=grading_models.ResultSet.objects.get(pk=corrected.pk),
                         actor=office)
    corrected.refresh_from_db()
    assert corrected.status == ResultSetStatus.APPROVED
    assert released_grade_for(world["round"], world["unit_b"]) == "poor"


def test_an_over_long_reason_for_a_correction_is_refused_not_cut(
        approved, personas, world, client):  # noqa: F811
    """Reopening with a reason longer than the page allows is refused, naming the field; the
    text is not silently cut (what the leading group wrote is never lost)."""
    _release(approved, personas)
    client.force_login(personas["leading_group"])
    response = client.post(reverse("grading:reopen", args=[approved.pk]),
                           {"reason": "理" * 5001}, follow=True)
    assert "更正理由不能超过5000个字（现为5001个字）。" in response.content.decode()
    assert not grading_models.Correction.objects.exists()
    approved.refresh_from_db()
    assert approved.status == ResultSetStatus.RELEASED
    client.post(reverse("grading:reopen", args=[approved.pk]), {"reason": "理" * 5000})
    assert grading_models.Correction.objects.get().reason == "理" * 5000


def _correct_b_to_average(approved, personas, world, problems=None):  # noqa: F811
    """The released round corrected: unit_b's serious problem withdrawn, so unit_b is 一般;
    ``problems`` is then written in its corrected letter. Returns the released correction."""
    wg, leader, office = (personas["working_group"], personas["leading_group"],
                          personas["office"])
    grading.correction_open(round=world["round"], actor=leader, reason="突出问题认定有误")
    SeriousProblem.objects.filter(unit=world["unit_b"]).delete()
    corrected = grading.result_set_compute(round=world["round"], actor=wg)
    grading.result_set_submit(result_set=corrected, actor=wg)
    grading.result_set_approve(result_set=corrected, actor=leader, comments="同意更正")
    services.feedback_prepare(result_set=corrected, actor=office)
    if problems is not None:
        letter = Feedback.objects.get(unit=world["unit_b"], result_set=corrected)
        services.feedback_update(feedback=letter, actor=office, problems=problems,
                                 suggestions=letter.suggestions)
    services.release(result_set=corrected, actor=office)
    assert released_grade_for(world["round"], world["unit_b"]) == "average"
    return corrected


def test_a_correction_out_of_poor_withdraws_the_open_summons_and_keeps_it_on_record(
        approved, personas, world, client):  # noqa: F811
    _release(approved, personas)
    lead = personas["lead_reviewer_b"]
    services.summons_update(summons=Summons.objects.get(unit=world["unit_b"]), actor=lead,
                            follow_up="三个月内报送整改情况")
    assert "summons" in {i.code for i in todo.panel_for(lead, world["round"]).items}
    corrected = _correct_b_to_average(approved, personas, world)

    summons = Summons.objects.get(unit=world["unit_b"])  # kept, with what was recorded
    assert summons.withdrawn and summons.closed
    assert summons.withdrawn_by == corrected.correction
    assert summons.follow_up == "三个月内报送整改情况"
    assert AuditEntry.objects.filter(action="outcomes.summons.withdrawn",
                                     target_id=str(summons.pk)).count() == 1
    # Nobody is asked to summon the unit any more, nor offered the notice that says 较差.
    assert "summons" not in {i.code for i in todo.panel_for(lead, world["round"]).items}
    assert not list(get_exporter("summons_notice").objects_for(lead, world["round"]))
    assert not unit_history(world["unit_b"], world["round"])["open_summons"]
    client.force_login(lead)
    assert world["unit_b"].name not in client.get(reverse("outcomes:summons")).content.decode()
    response = client.post(reverse("outcomes:summons_update", args=[summons.pk]),
                           {"minutes": "改"})
    assert response.status_code == 404
    with pytest.raises(services.OutcomeError, match="撤销"):
        services.summons_update(summons=summons, actor=lead, minutes="改")
    summons.refresh_from_db()
    assert summons.minutes == "" and summons.withdrawn


def test_a_finished_summons_stays_as_it_was_after_a_correction(
        approved, personas, world):  # noqa: F811
    _release(approved, personas)
    summons = Summons.objects.get(unit=world["unit_b"])
    services.summons_update(summons=summons, actor=personas["lead_reviewer_b"], closed=True)
    _correct_b_to_average(approved, personas, world)
    summons.refresh_from_db()
    assert summons.closed and not summons.withdrawn  # the talk and its follow-up happened


def test_a_correction_back_to_poor_restores_the_withdrawn_summons(
        approved, personas, world):  # noqa: F811
    _release(approved, personas)
    problems = list(SeriousProblem.objects.filter(unit=world["unit_b"]))
    _correct_b_to_average(approved, personas, world)
    wg, leader, office = (personas["working_group"], personas["leading_group"],
                          personas["office"])
    grading.correction_open(round=world["round"], actor=leader, reason="更正有误，恢复原等次")
    SeriousProblem.objects.bulk_create(problems)  # the finding stands after all
    again = grading.result_set_compute(round=world["round"], actor=wg)
    grading.result_set_submit(result_set=again, actor=wg)
    grading.result_set_approve(result_set=again, actor=leader, comments="同意")
    services.release(result_set=again, actor=office)
    assert released_grade_for(world["round"], world["unit_b"]) == "poor"
    summons = Summons.objects.get(unit=world["unit_b"])
    assert not summons.withdrawn and not summons.closed and summons.withdrawn_by is None


def test_the_items_of_a_report_not_yet_submitted_follow_the_corrected_letter(
        approved, personas, world):  # noqa: F811
    _release(approved, personas)
    report = services.rectification_for(round=world["round"], unit=world["unit_b"])
    first = report.items.get(text="帮扶资金到位慢")
    services.rectification_save(report=report, actor=personas["unit_b"], summary="",
                                items={first.pk: {"measures": "已拨付", "status": "done"}})
    _correct_b_to_average(approved, personas, world, problems="帮扶资金到位慢\n驻村干部轮换频繁")
    items = list(report.items.order_by("order"))
    assert [(i.order, i.source, i.text) for i in items] == [
        (1, "problem", "帮扶资金到位慢"), (2, "problem", "驻村干部轮换频繁"),
        (3, "suggestion", "加大资金投入")]
    assert (items[0].pk, items[0].measures) == (first.pk, "已拨付")  # kept as filled in
    entry = AuditEntry.objects.get(action="outcomes.rectification.followed_correction")
    assert entry.data["removed"] == [{"text": "干部选派不足", "measures": "",
                                      "evidence_note": "", "files": []}]


def test_a_submitted_report_stays_as_it_was_submitted_after_a_correction(
        approved, personas, world):  # noqa: F811
    _release(approved, personas)
    report = services.rectification_for(round=world["round"], unit=world["unit_b"])
    services.rectification_save(report=report, actor=personas["unit_b"], summary="",
                                items={i.pk: {"measures": "措施", "status": "done"}
                                       for i in report.items.all()})
    services.rectification_submit(report=report, actor=personas["unit_b"])
    before = list(report.items.values_list("pk", "text"))
    _correct_b_to_average(approved, personas, world, problems="驻村干部轮换频繁")
    assert list(report.items.values_list("pk", "text")) == before


def test_a_page_shown_before_a_correction_saves_nothing_into_the_corrected_items(
        approved, personas, world, client):  # noqa: F811
    _release(approved, personas)
    client.force_login(personas["unit_b"])
    page = client.get(reverse("outcomes:my_result")).content.decode()
    letter = Feedback.objects.get(unit=world["unit_b"], corrected=False).pk
    assert f'name="letter" value="{letter}"' in page
    _correct_b_to_average(approved, personas, world, problems="驻村干部轮换频繁")
    response = client.post(reverse("outcomes:my_rectification_save"),
                           {"letter": letter, "summary": "总结", "measures-new1": "旧措施"},
                           follow=True)
    assert "已更正" in response.content.decode()
    report = RectificationReport.objects.get(unit=world["unit_b"])
    assert report.summary == "" and set(report.items.values_list("measures", flat=True)) == {""}
    assert report.items.get(order=1).text == "驻村干部轮换频繁"
