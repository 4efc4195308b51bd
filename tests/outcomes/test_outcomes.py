"""Feedback, rectification, summons and dispatches (steps 6 and 7)."""

import re

import pytest
from django.urls import reverse

from kaohe.audit.models import AuditEntry
from kaohe.grading import services as grading
from kaohe.outcomes import services
from kaohe.outcomes.models import Feedback, ItemStatus, RectificationReport, Summons
from kaohe.reviews import services as reviews
from kaohe.reviews.models import CategorySubmission, FindingSource
from kaohe.rounds.services import round_copy
from tests.grading.test_result_sets import AVERAGE_ALL, GOOD_ALL, _review, _submit_category


@pytest.fixture
def approved(world, personas):
    """unit_a 好 areas; unit_b 一般 areas with a serious problem and the poor band widened
    to one place, so that unit_b is 较差. The result set is approved, not yet released."""
    round_ = world["round"]
    round_.method = {**round_.method, "shares": {**round_.method["shares"], "poor": "0.5"}}
    round_.save()
    _review(round_, world["unit_a"], personas["lead_reviewer"], GOOD_ALL)
    _review(round_, world["unit_b"], personas["lead_reviewer_b"], AVERAGE_ALL)
    reviews.serious_problem_add(round=round_, unit=world["unit_b"],
                                actor=personas["lead_reviewer_b"],
                                kind=round_.problem_kinds.get(code="neglect"), county=None,
                                description="不重视", source=FindingSource.REVIEWER)
    from kaohe.reviews.models import SubReport

    SubReport.objects.filter(review__unit=world["unit_b"]).update(
        problems="帮扶资金到位慢\n干部选派不足", suggestions="加大资金投入")
    _submit_category(round_, world["lead_a"], personas["lead_reviewer"])
    _submit_category(round_, world["lead_b"], personas["lead_reviewer_b"])
    wg = personas["working_group"]
    result_set = grading.result_set_compute(round=round_, actor=wg)
    grading.result_set_submit(result_set=result_set, actor=wg)
    return grading.result_set_approve(result_set=result_set, actor=personas["leading_group"])


def _release(approved, personas):
    return services.release(result_set=approved, actor=personas["office"])


def test_feedback_is_drafted_from_the_sub_report_and_editable_before_release(approved,
                                                                             personas):
    services.feedback_prepare(result_set=approved, actor=personas["office"])
    feedback = Feedback.objects.get(unit__code="B001")
    assert feedback.grade == "poor"
    assert feedback.problems == "帮扶资金到位慢\n干部选派不足"
    services.feedback_update(feedback=feedback, actor=personas["office"],
                             problems="帮扶资金到位慢", suggestions="加大资金投入")
    _release(approved, personas)
    with pytest.raises(services.OutcomeError, match="不能再修改"):
        services.feedback_update(feedback=feedback, actor=personas["office"],
                                 problems="x", suggestions="y")


def test_nothing_of_feedback_is_visible_to_units_before_release(approved, personas, client):
    services.feedback_prepare(result_set=approved, actor=personas["office"])
    client.force_login(personas["unit_b"])
    assert client.get(reverse("outcomes:my_result")).status_code == 404
    home = client.get(reverse("home")).content.decode()
    assert "较差" not in home and "帮扶资金到位慢" not in home and "考核结果与整改" not in home


def test_after_release_each_unit_sees_its_own_feedback_only(approved, personas, client):
    _release(approved, personas)
    client.force_login(personas["unit_b"])
    page = client.get(reverse("outcomes:my_result")).content.decode()
    assert "较差" in page and "帮扶资金到位慢" in page
    client.force_login(personas["unit"])
    page = client.get(reverse("outcomes:my_result")).content.decode()
    assert "帮扶资金到位慢" not in page and "较差" not in page
    assert "考核结果与整改" in client.get(reverse("home")).content.decode()


def test_every_poor_unit_gets_a_summons_record_on_release(approved, personas):
    _release(approved, personas)
    assert list(Summons.objects.values_list("unit__code", flat=True)) == ["B001"]
    summons = Summons.objects.get()
    assert (summons.summoner, summons.summoned) == ("lead_department", "leader_in_charge")


def test_rectification_items_follow_the_feedback_and_status_changes_are_audited(
    approved, personas, world, settings
):
    settings.KAOHE_TODAY = "2018-03-01"
    _release(approved, personas)
    report = services.rectification_for(round=world["round"], unit=world["unit_b"])
    items = list(report.items.all())
    assert [(i.source, i.text) for i in items] == [
        ("problem", "帮扶资金到位慢"), ("problem", "干部选派不足"), ("suggestion", "加大资金投入")]
    with pytest.raises(services.OutcomeError, match="尚未填写整改措施"):
        services.rectification_submit(report=report, actor=personas["unit_b"])
    services.rectification_save(
        report=report, actor=personas["unit_b"], summary="已整改",
        items={i.pk: {"measures": f"措施{i.order}", "status": "done"} for i in items})
    assert AuditEntry.objects.filter(action="outcomes.item.status_changed").count() == 3
    services.rectification_submit(report=report, actor=personas["unit_b"])
    with pytest.raises(services.OutcomeError, match="已报送"):
        services.rectification_save(report=report, actor=personas["unit_b"], summary="x",
                                    items={})
    with pytest.raises(services.OutcomeError, match="理由"):
        services.item_review(item=items[0], actor=personas["lead_reviewer_b"], accepted=False,
                             note="")
    services.item_review(item=items[0], actor=personas["lead_reviewer_b"], accepted=False,
                         note="资金仍未到位")
    items[0].refresh_from_db()
    assert items[0].status == ItemStatus.NOT_ACCEPTED


def test_rectification_closes_at_its_deadline(approved, personas, world, settings):
    settings.KAOHE_TODAY = "2018-04-01"
    _release(approved, personas)
    report = services.rectification_for(round=world["round"], unit=world["unit_b"])
    with pytest.raises(services.OutcomeError, match="截止"):
        services.rectification_save(report=report, actor=personas["unit_b"], summary="",
                                    items={})


def test_unit_files_rectification_and_lead_department_accepts_through_the_pages(
    approved, personas, world, client, settings
):
    settings.KAOHE_TODAY = "2018-03-01"
    _release(approved, personas)
    client.force_login(personas["unit_b"])
    page = client.get(reverse("outcomes:my_result")).content.decode()
    # The form as the page names it before the report exists: each item by its order, and
    # the letter the items come from. Its first save creates the report and submits it.
    data = {"summary": "整改总结", "submit": "1",
            "letter": re.search(r'name="letter" value="(\d+)"', page)[1]}
    orders = re.findall(r'name="measures-new(\d+)"', page)
    assert orders == ["1", "2", "3"]
    for n in orders:
        data[f"measures-new{n}"] = "已落实"
        data[f"status-new{n}"] = "done"
    client.post(reverse("outcomes:my_rectification_save"), data)
    report = RectificationReport.objects.get(unit=world["unit_b"])
    assert report.submitted_at is not None
    assert set(report.items.values_list("measures", "status")) == {("已落实", "done")}
    # Its lead department sees and accepts; the other lead department gets 404.
    item = report.items.first()
    client.force_login(personas["lead_reviewer"])
    assert client.get(reverse("outcomes:rectification_detail",
                              args=[world["unit_b"].pk])).status_code == 404
    client.force_login(personas["lead_reviewer_b"])
    assert client.get(reverse("outcomes:rectification_detail",
                              args=[world["unit_b"].pk])).status_code == 200
    client.post(reverse("outcomes:item_review", args=[world["unit_b"].pk, item.pk]),
                {"accepted": "1", "note": ""})
    item.refresh_from_db()
    assert (item.status, item.reviewed_by) == ("done", personas["lead_reviewer_b"])


def test_opening_the_result_page_writes_nothing_and_the_first_save_creates_the_report(
    approved, personas, world, client, settings
):
    settings.KAOHE_TODAY = "2018-03-01"
    _release(approved, personas)
    client.force_login(personas["unit_b"])
    for _ in range(2):
        page = client.get(reverse("outcomes:my_result")).content.decode()
        assert "帮扶资金到位慢" in page and "干部选派不足" in page and "加大资金投入" in page
        assert 'name="measures-new1"' in page and 'name="status-new3"' in page
        assert not RectificationReport.objects.filter(unit=world["unit_b"]).exists()
    letter = Feedback.objects.get(unit=world["unit_b"]).pk
    response = client.post(reverse("outcomes:my_rectification_save"),
                           {"letter": letter, "summary": "总结", "measures-new2": "增派干部"})
    assert response.status_code == 302
    report = RectificationReport.objects.get(unit=world["unit_b"])
    assert report.summary == "总结" and report.submitted_at is None
    assert [(i.order, i.text, i.measures) for i in report.items.all()] == [
        (1, "帮扶资金到位慢", ""), (2, "干部选派不足", "增派干部"), (3, "加大资金投入", "")]
    # From now on the page names the saved items by their ids.
    page = client.get(reverse("outcomes:my_result")).content.decode()
    assert 'name="letter"' not in page and 'name="measures-new1"' not in page
    assert f'name="measures-{report.items.get(order=2).pk}"' in page and "增派干部" in page


def test_a_closed_rounds_result_page_writes_nothing_and_its_report_is_refused(
    approved, personas, world, client
):
    from kaohe.rounds.services import round_close

    _release(approved, personas)
    round_close(round=world["round"], actor=personas["office"])
    client.force_login(personas["unit_b"])
    url = reverse("outcomes:my_result") + f"?year={world['round'].year}"
    page = client.get(url).content.decode()
    assert not RectificationReport.objects.filter(unit=world["unit_b"]).exists()
    assert "只能查阅" in page and "帮扶资金到位慢" in page
    assert 'name="measures-new1"' not in page  # nothing to fill in
    letter = Feedback.objects.get(unit=world["unit_b"]).pk
    response = client.post(reverse("outcomes:my_rectification_save")
                           + f"?year={world['round'].year}",
                           {"letter": letter, "summary": "总结", "measures-new1": "措施"},
                           follow=True)
    assert "只能查阅" in response.content.decode()
    with pytest.raises(services.OutcomeError):
        services.rectification_for(round=world["round"], unit=world["unit_b"])
    assert not RectificationReport.objects.filter(unit=world["unit_b"]).exists()


def test_unfinished_items_carry_into_the_next_round(approved, personas, world, settings):
    settings.KAOHE_TODAY = "2018-03-01"
    _release(approved, personas)
    report = services.rectification_for(round=world["round"], unit=world["unit_b"])
    first, *rest = list(report.items.all())
    services.rectification_save(
        report=report, actor=personas["unit_b"], summary="",
        items={first.pk: {"status": "done", "measures": "完成"},
               **{i.pk: {"status": "in_progress", "measures": "推进中"} for i in rest}})
    new_round = round_copy(source=world["round"], year=2018, actor=personas["office"])
    carried = services.rectification_for(round=new_round, unit=world["unit_b"])
    texts = [(i.source, i.text) for i in carried.items.all()]
    assert texts == [("carried", "干部选派不足"), ("carried", "加大资金投入")]
    assert all(i.carried_from_id for i in carried.items.all())


def test_the_unit_page_shows_grades_across_rounds_and_open_follow_ups(approved, personas,
                                                                      world, client):
    _release(approved, personas)
    Summons.objects.update(follow_up="三个月内报送整改情况")
    client.force_login(personas["unit_b"])
    page = client.get(reverse("directory:unit_detail", args=[world["unit_b"].pk])).content
    page = page.decode()
    assert "历年考核等次" in page and "较差" in page and "三个月内报送整改情况" in page
    client.force_login(personas["province_b"])
    page = client.get(reverse("directory:unit_detail", args=[world["unit_b"].pk])).content
    assert "历年考核等次" not in page.decode()


def test_dispatches_are_recorded_by_the_office_only(approved, personas, client, world):
    _release(approved, personas)
    client.force_login(personas["office"])
    client.post(reverse("outcomes:dispatches"), {
        "kind": "org_department", "recipients": "中央组织部", "sent_on": "2018-03-05",
        "reference": "国开办函〔2018〕1号"})
    assert "中央组织部" in client.get(reverse("outcomes:dispatches")).content.decode()
    for persona in ("working_group", "unit", "lead_reviewer"):
        client.force_login(personas[persona])
        assert client.get(reverse("outcomes:dispatches")).status_code == 404


def test_release_needs_an_approved_and_intact_result_set(world, personas):
    CategorySubmission.objects.all().delete()
    _review(world["round"], world["unit_a"], personas["lead_reviewer"], GOOD_ALL)
    _submit_category(world["round"], world["lead_a"], personas["lead_reviewer"])
    draft = grading.result_set_compute(round=world["round"], actor=personas["working_group"])
    with pytest.raises(services.OutcomeError, match="审定"):
        services.release(result_set=draft, actor=personas["office"])


def test_the_schedule_counts_steps_four_to_seven(approved, personas, client):
    client.force_login(personas["office"])
    steps = {p.step.code: (p.done, p.total) for p in client.get(reverse("home")).context["steps"]}
    assert steps["review"] == (2, 2)
    assert steps["deliberation"] == (1, 1)
    assert steps["feedback"] == (0, 1)
    assert steps["rectification"] == (None, None)  # nothing to count before release
    _release(approved, personas)
    steps = {p.step.code: (p.done, p.total) for p in client.get(reverse("home")).context["steps"]}
    assert steps["feedback"] == (1, 1) and steps["rectification"] == (0, 2)
    client.force_login(personas["unit_b"])
    steps = {p.step.code: (p.done, p.total) for p in client.get(reverse("home")).context["steps"]}
    assert steps["rectification"] == (0, 1)  # its own report only
    client.force_login(personas["lead_reviewer"])
    steps = {p.step.code: (p.done, p.total) for p in client.get(reverse("home")).context["steps"]}
    assert steps["review"] == (1, 1)  # its own category only
