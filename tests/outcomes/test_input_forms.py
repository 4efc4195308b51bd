"""The outcomes pages read their input through Django forms (issue 22, item 4): a text
over its limit is refused with a Chinese message naming the field, and nothing is saved.
It used to be cut silently at the limit."""

import pytest
from django.urls import reverse

from kaohe.audit.models import AuditEntry
from kaohe.outcomes import services
from kaohe.outcomes.models import Dispatch, Feedback, ItemStatus, RectificationReport, Summons
from tests.documents.conftest import released  # noqa: F401 - a fixture used here
from tests.outcomes.test_outcomes import approved  # noqa: F401 - a fixture used here


@pytest.fixture(autouse=True)
def _review_day(settings):
    # Autouse fixtures come first: results are reviewed and released within their steps.
    settings.KAOHE_TODAY = "2018-01-10"


@pytest.fixture
def results(released, settings):  # noqa: F811
    """Released results, on a day the rectification form is open."""
    settings.KAOHE_TODAY = "2018-03-20"
    return released


def _errors(response) -> list[str]:
    """The error messages the page shows after the request."""
    return [str(m) for m in response.context["messages"] if m.level_tag == "error"]


def _audited(action: str) -> int:
    return AuditEntry.objects.filter(action=action).count()


def test_over_long_feedback_is_refused_naming_the_field_and_kept_on_the_page(
        approved, personas, client):  # noqa: F811
    services.feedback_prepare(result_set=approved, actor=personas["office"])
    feedback = Feedback.objects.get(unit__code="B001")
    before = (feedback.problems, feedback.suggestions)
    client.force_login(personas["office"])
    typed = "问" * 20001
    response = client.post(reverse("outcomes:feedback_edit", args=[feedback.pk]),
                           {"problems": typed, "suggestions": "加大资金投入"})
    assert response.status_code == 200
    [error] = _errors(response)
    assert "突出问题与不足" in error and "20000" in error and "20001" in error
    assert typed in response.content.decode()  # what was typed is not lost
    feedback.refresh_from_db()
    assert (feedback.problems, feedback.suggestions) == before
    assert _audited("outcomes.feedback.edited") == 0
    # At the limit the text is saved whole.
    response = client.post(reverse("outcomes:feedback_edit", args=[feedback.pk]),
                           {"problems": "问" * 20000, "suggestions": ""})
    assert response.status_code == 302
    feedback.refresh_from_db()
    assert len(feedback.problems) == 20000


def _rectification_data(report, measures):
    data = {"summary": "整改总结"}
    for item in report.items.all():
        data[f"measures-{item.pk}"] = measures
        data[f"status-{item.pk}"] = ItemStatus.DONE
    return data


@pytest.mark.parametrize("submit", ["", "1"])
def test_over_long_measures_are_refused_and_nothing_is_saved_or_submitted(
        results, personas, world, client, submit):
    report = services.rectification_for(round=world["round"], unit=world["unit_b"])
    first = report.items.order_by("order").first()
    data = {**_rectification_data(report, "措施"), "submit": submit}
    data[f"measures-{first.pk}"] = "措" * 10001
    client.force_login(personas["unit_b"])
    response = client.post(reverse("outcomes:my_rectification_save"), data, follow=True)
    [error] = _errors(response)
    assert f"第{first.order}项" in error and "整改措施" in error and "10000" in error
    report = RectificationReport.objects.get(pk=report.pk)
    assert report.summary == "" and report.submitted_at is None
    assert set(report.items.values_list("measures", flat=True)) == {""}
    assert _audited("outcomes.rectification.saved") == 0


def test_an_over_long_summary_is_refused(results, personas, world, client):
    report = services.rectification_for(round=world["round"], unit=world["unit_b"])
    client.force_login(personas["unit_b"])
    data = {**_rectification_data(report, "措施"), "summary": "总" * 20001}
    response = client.post(reverse("outcomes:my_rectification_save"), data, follow=True)
    [error] = _errors(response)
    assert "整改情况总体说明" in error and "20000" in error
    assert not RectificationReport.objects.get(pk=report.pk).summary


def test_fields_the_form_did_not_post_keep_their_values(results, personas, world,
                                                        client):
    """The upload page posts only what it holds: an absent field is no change (as before)."""
    report = services.rectification_for(round=world["round"], unit=world["unit_b"])
    first, *rest = report.items.order_by("order")
    services.rectification_save(report=report, actor=personas["unit_b"], summary="总结",
                                items={first.pk: {"measures": "已有措施", "status": "done"}})
    client.force_login(personas["unit_b"])
    response = client.post(reverse("outcomes:my_rectification_save"),
                           {f"measures-{rest[0].pk}": "新措施"})
    assert response.status_code == 302
    report.refresh_from_db()
    first.refresh_from_db()
    assert report.summary == "总结" and (first.measures, first.status) == ("已有措施", "done")
    assert report.items.get(pk=rest[0].pk).measures == "新措施"


def test_an_over_long_review_note_is_refused(results, personas, world, client):
    report = services.rectification_for(round=world["round"], unit=world["unit_b"])
    client.force_login(personas["unit_b"])
    client.post(reverse("outcomes:my_rectification_save"),
                {**_rectification_data(report, "措施"), "submit": "1"})
    item = report.items.order_by("order").first()
    client.force_login(personas["lead_reviewer_b"])
    response = client.post(reverse("outcomes:item_review", args=[world["unit_b"].pk, item.pk]),
                           {"accepted": "0", "note": "注" * 2001}, follow=True)
    [error] = _errors(response)
    assert "审核意见" in error and "2000" in error
    item.refresh_from_db()
    assert (item.status, item.review_note, item.reviewed_by) == (ItemStatus.DONE, "", None)
    assert _audited("outcomes.item.reviewed") == 0


@pytest.mark.parametrize("field, label, limit", [
    ("minutes", "约谈纪要", 20000), ("follow_up", "后续跟踪", 20000)])
def test_over_long_summons_text_is_refused(results, personas, client, field, label,
                                           limit):
    summons = Summons.objects.get()
    client.force_login(personas["office"])
    response = client.post(reverse("outcomes:summons_update", args=[summons.pk]),
                           {"summoner": summons.summoner, "summoned": summons.summoned,
                            "held_on": "2018-03-05", field: "纪" * (limit + 1)}, follow=True)
    [error] = _errors(response)
    assert label in error and str(limit) in error
    summons.refresh_from_db()
    assert (summons.held_on, summons.minutes, summons.follow_up) == (None, "", "")
    assert _audited("outcomes.summons.updated") == 0


def test_a_bad_summons_date_is_refused(results, personas, client):
    summons = Summons.objects.get()
    client.force_login(personas["office"])
    response = client.post(reverse("outcomes:summons_update", args=[summons.pk]),
                           {"held_on": "2018-13-45", "minutes": "纪要"}, follow=True)
    assert _errors(response) == ["约谈时间格式不正确。"]
    summons.refresh_from_db()
    assert summons.minutes == ""


@pytest.mark.parametrize("field, label, limit", [
    ("recipients", "报送对象", 300), ("reference", "文号", 100), ("note", "备注", 5000)])
def test_over_long_dispatch_text_is_refused(results, personas, client, field, label,
                                            limit):
    client.force_login(personas["office"])
    data = {"kind": "org_department", "recipients": "中央组织部", "sent_on": "2018-03-05",
            field: "文" * (limit + 1)}
    response = client.post(reverse("outcomes:dispatches"), data, follow=True)
    [error] = _errors(response)
    assert label in error and str(limit) in error
    assert not Dispatch.objects.exists()


def test_a_dispatch_without_date_or_recipients_is_refused(results, personas,
                                                          client):
    client.force_login(personas["office"])
    response = client.post(reverse("outcomes:dispatches"),
                           {"kind": "org_department", "recipients": " "}, follow=True)
    errors = _errors(response)
    assert any("报送日期" in e for e in errors) and any("报送对象" in e for e in errors)
    assert not Dispatch.objects.exists()
