"""Rectification resubmission with files (issue 17): the lead department finds an item
整改不到位; after the deadline the unit still revises it, uploads a file through the resumable
upload and submits again; the lead department sees the file and the history and accepts."""

import pytest

from kaohe.outcomes import services
from kaohe.outcomes.models import ItemStatus, RectificationAttachment, RectificationEvent
from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD
from tests.evidence.factories import pdf_bytes, use_data_dir
from tests.outcomes.test_outcomes import approved  # noqa: F401 - the fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def within_the_steps(settings, tmp_path):
    """Autouse fixtures come first: results are reviewed and released within their steps."""
    settings.KAOHE_TODAY = "2018-01-10"
    use_data_dir(settings, tmp_path / "data")


def test_unit_resubmits_with_a_file_after_not_accepted_and_the_history_is_kept(
    approved, personas, world, live_server, page, screenshot, settings, tmp_path  # noqa: F811
):
    page.on("dialog", lambda dialog: dialog.accept())
    services.feedback_prepare(result_set=approved, actor=personas["office"])
    services.release(result_set=approved, actor=personas["office"])
    settings.KAOHE_TODAY = "2018-03-20"
    report = services.rectification_for(round=world["round"], unit=world["unit_b"])
    items = list(report.items.all())
    services.rectification_save(report=report, actor=personas["unit_b"], summary="已整改",
                                items={i.pk: {"measures": f"措施{i.order}", "status": "done"}
                                       for i in items})
    services.rectification_submit(report=report, actor=personas["unit_b"])
    first = items[0]

    # The lead department finds the first item 整改不到位, with its reason.
    _sign_in = lambda user: sign_in(page, live_server.url, user, PASSWORD)  # noqa: E731
    _sign_in("lead_b")
    page.goto(f"{live_server.url}/outcomes/rectification/{world['unit_b'].pk}/")
    row = page.locator(f"form[action$='/items/{first.pk}/']")
    row.locator("input[name=note]").fill("资金仍未拨付到县")
    row.get_by_role("button", name="整改不到位").click()
    page.wait_for_selector("text=已记录审核意见")

    # Well after the deadline, the unit answers: revises the item, attaches a file, resubmits.
    settings.KAOHE_TODAY = "2018-05-10"
    _sign_in("unit_b")
    page.goto(f"{live_server.url}/outcomes/mine/")
    assert "资金仍未拨付到县" in page.content()
    assert page.locator("textarea[name^=measures-]").count() == 1  # the sent-back item only
    page.fill(f"textarea[name=measures-{first.pk}]", "资金已于4月全部拨付到县。")
    page.select_option(f"select[name=status-{first.pk}]", "done")
    proof = tmp_path / "资金拨付凭证.pdf"
    proof.write_bytes(pdf_bytes())
    page.locator(f"#item-{first.pk} input[type=file]").set_input_files(str(proof))
    page.wait_for_selector("text=已附上“资金拨付凭证.pdf”", timeout=20000)
    assert page.input_value(f"textarea[name=measures-{first.pk}]") == "资金已于4月全部拨付到县。"
    screenshot("rectification-1-unit-revises-with-a-file")
    page.get_by_role("button", name="重新报送整改报告").click()
    page.wait_for_selector("text=整改报告已重新报送牵头部门和国务院扶贫办")
    assert page.locator("#rectification-history").get_by_text("重新报送").count() >= 1
    screenshot("rectification-2-unit-resubmitted")
    report.refresh_from_db()
    assert report.submission_count == 2
    attachment = RectificationAttachment.objects.get(item=first)
    assert attachment.evidence.original_name == "资金拨付凭证.pdf"

    # The lead department sees the file and the history, and accepts.
    _sign_in("lead_b")
    page.goto(f"{live_server.url}/outcomes/rectification/{world['unit_b'].pk}/")
    assert "资金拨付凭证.pdf" in page.content()
    history = page.locator("#rectification-history").inner_text()
    assert "资金仍未拨付到县" in history and "重新报送" in history
    page.locator(f"form[action$='/items/{first.pk}/']").get_by_role(
        "button", name="认定已完成").click()
    page.wait_for_selector("text=已记录审核意见")
    screenshot("rectification-3-lead-department-history")
    first.refresh_from_db()
    assert first.status == ItemStatus.DONE and not first.needs_revision
    assert list(RectificationEvent.objects.filter(report=report).values_list(
        "kind", flat=True)) == ["submitted", "not_accepted", "resubmitted", "accepted"]
    # Another lead department cannot fetch the file.
    _sign_in("lead_a")
    response = page.goto(f"{live_server.url}/evidence/{attachment.evidence_id}/download/")
    assert response.status == 404
