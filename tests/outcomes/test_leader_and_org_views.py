"""The leading group reads results, summons and rectification progress without changing
them; the organization department reads the results list once released and sent to it
(issue 21)."""

import pytest
from django.urls import reverse

from kaohe.outcomes import services
from kaohe.outcomes.models import DispatchKind, RectificationReport, Summons
from tests.outcomes.test_outcomes import approved  # noqa: F401 - a fixture used here

pytestmark = pytest.mark.django_db


def _release(result_set, personas):
    services.feedback_prepare(result_set=result_set, actor=personas["office"])
    return services.release(result_set=result_set, actor=personas["office"])


def _send_to_org_department(world, personas):
    services.dispatch_record(round=world["round"], actor=personas["office"],
                             kind=DispatchKind.ORG_DEPARTMENT, recipients="中央组织部",
                             sent_on=world["round"].steps.last().due)


def _page(client, name, **kwargs):
    response = client.get(reverse(name, kwargs=kwargs or None))
    assert response.status_code == 200, name
    return response.content.decode()


# The leading group ---------------------------------------------------------------------


def test_the_leader_reads_rectification_and_summons_without_any_write_control(
        client, world, personas, approved, settings):  # noqa: F811
    settings.KAOHE_TODAY = "2018-03-01"
    _release(approved, personas)
    report = services.rectification_for(round=world["round"], unit=world["unit_b"])
    items = list(report.items.all())
    services.rectification_save(
        report=report, actor=personas["unit_b"], summary="整改总体情况",
        items={i.pk: {"measures": f"措施{i.order}", "status": "done"} for i in items})
    services.rectification_submit(report=report, actor=personas["unit_b"])
    client.force_login(personas["leading_group"])

    tracker = _page(client, "outcomes:rectification_list")
    assert "测试单位乙" in tracker and "已报送" in tracker
    assert reverse("outcomes:rectification_extend", kwargs={"unit_pk": world["unit_b"].pk}) \
        not in tracker
    detail = _page(client, "outcomes:rectification_detail", unit_pk=world["unit_b"].pk)
    assert "措施1" in detail and "整改总体情况" in detail
    assert "<form" not in detail.split('id="main"')[1]
    assert "认定已完成" not in detail
    summons = _page(client, "outcomes:summons")
    assert "测试单位乙" in summons
    assert reverse("outcomes:summons_update", kwargs={"pk": Summons.objects.get().pk}) \
        not in summons
    assert 'name="minutes"' not in summons

    # Its POSTs are still refused, and change nothing.
    assert client.post(reverse("outcomes:item_review", kwargs={
        "unit_pk": world["unit_b"].pk, "item_pk": items[0].pk}),
        {"accepted": "1"}).status_code == 404
    assert client.post(reverse("outcomes:summons_update", kwargs={
        "pk": Summons.objects.get().pk}), {"minutes": "m"}).status_code == 404
    assert client.post(reverse("outcomes:rectification_extend", kwargs={
        "unit_pk": world["unit_b"].pk}), {"until": "2018-05-01", "reason": "r"}
    ).status_code == 404
    assert Summons.objects.get().minutes == ""
    assert not RectificationReport.objects.get(pk=report.pk).items.filter(
        reviewed_by__isnull=False).exists()


def test_the_leaders_approval_page_links_to_the_follow_up_pages(client, personas,
                                                                approved):  # noqa: F811
    client.force_login(personas["leading_group"])
    page = _page(client, "grading:detail", pk=approved.pk)
    assert reverse("outcomes:rectification_list") in page
    assert reverse("outcomes:summons") in page
    # The ranking of every unit is folded away: the summary comes first, compact.
    assert 'id="ranking"' in page and '<details class="card mb-3" id="ranking"' in page
    nav = _page(client, "home")
    assert reverse("outcomes:rectification_list") in nav and reverse("outcomes:summons") in nav


# The organization department -----------------------------------------------------------


def test_the_org_department_sees_no_results_before_release_even_if_recorded_as_sent(
        client, world, personas, approved):  # noqa: F811
    _send_to_org_department(world, personas)
    client.force_login(personas["org_department"])
    assert client.get(reverse("outcomes:org_results")).status_code == 404
    home = _page(client, "home")
    assert reverse("outcomes:org_results") not in home
    assert "较差" not in home


def test_the_org_department_sees_no_results_released_but_not_sent(
        client, world, personas, approved):  # noqa: F811
    _release(approved, personas)
    client.force_login(personas["org_department"])
    assert client.get(reverse("outcomes:org_results")).status_code == 404


def test_the_org_department_reads_the_list_it_received(client, world, personas,
                                                       approved):  # noqa: F811
    _release(approved, personas)
    _send_to_org_department(world, personas)
    client.force_login(personas["org_department"])
    page = _page(client, "outcomes:org_results")
    # Every unit with its released grade, in words; counts by grade; when it was sent.
    assert "测试单位甲" in page and "测试单位乙" in page
    assert "较差" in page
    assert "中央组织部" in page
    # Nothing internal: no score, rank reasons or the method.
    assert "得分" not in page and "敏感性" not in page
    home = _page(client, "home")
    assert reverse("outcomes:org_results") in home
    # No other role reads this page.
    for persona in ("office", "leading_group", "unit", "lead_reviewer", "province"):
        client.force_login(personas[persona])
        assert client.get(reverse("outcomes:org_results")).status_code == 404, persona
