"""After release, a unit reads its feedback and files its rectification report through the
pages; its lead department marks an item accepted."""

import pytest

from kaohe.outcomes.models import ItemStatus, RectificationItem, RectificationReport
from kaohe.outcomes.services import release
from tests.browser.conftest import follow, sign_in
from tests.conftest import PASSWORD
from tests.outcomes.test_outcomes import approved  # noqa: F401 - the fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page, live_server, username):
    sign_in(page, live_server.url, username, PASSWORD)


def test_unit_reads_feedback_files_rectification_and_lead_department_accepts(
    approved, personas, world, live_server, page, screenshot, settings  # noqa: F811
):
    settings.KAOHE_TODAY = "2018-03-01"
    page.on("dialog", lambda dialog: dialog.accept())
    release(result_set=approved, actor=personas["office"])

    _sign_in(page, live_server, "unit_b")
    assert "2017年度定点扶贫工作考核等次：较差" in page.content()
    follow(page, page.get_by_role("link", name="查看反馈意见并报送整改报告"))
    assert "帮扶资金到位慢" in page.content()
    items = page.locator("textarea[name^=measures-]")
    assert items.count() == 3
    for i in range(3):
        items.nth(i).fill(f"已制定整改方案并落实第{i + 1}项。")
    page.locator("select[name^=status-]").first.select_option("done")
    page.fill("#summary", "已按反馈意见逐项整改。")
    screenshot("outcomes-1-unit-rectification")
    page.get_by_role("button", name="报送整改报告").click()
    page.wait_for_selector("text=整改报告已报送牵头部门和国务院扶贫办")
    report = RectificationReport.objects.get(unit=world["unit_b"])
    assert report.submitted_at is not None

    # The other unit sees its own result, not this one's.
    _sign_in(page, live_server, "unit_a")
    assert "帮扶资金到位慢" not in page.content()
    page.goto(f"{live_server.url}/outcomes/mine/")
    assert "帮扶资金到位慢" not in page.content() and "较差" not in page.content()

    _sign_in(page, live_server, "lead_b")
    page.goto(f"{live_server.url}/outcomes/rectification/")
    follow(page, page.get_by_role("link", name=world["unit_b"].name))
    page.locator("button", has_text="认定已完成").first.click()
    page.wait_for_selector("text=已记录审核意见")
    screenshot("outcomes-2-lead-department-accepts")
    first = RectificationItem.objects.filter(report=report).order_by("order").first()
    assert first.status == ItemStatus.DONE and first.reviewed_by.username == "lead_b"
    # The other lead department cannot open it.
    _sign_in(page, live_server, "lead_a")
    assert page.goto(
        f"{live_server.url}/outcomes/rectification/{world['unit_b'].pk}/").status == 404
