"""A person signs in through the login page and sees the home page of their role."""

import datetime

import pytest
from playwright.sync_api import expect

from kaohe.demo.builder import DEMO_PASSWORD, build_demo
from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(transactional_db, settings):
    settings.KAOHE_TODAY = "2017-12-20"
    build_demo(today=datetime.date(2017, 12, 20))


def _sign_in(page, live_server, username):
    page.goto(f"{live_server.url}/")
    assert "/accounts/login/" in page.url
    assert page.locator("h1").inner_text() == "中央单位定点扶贫工作考核系统"
    sign_in(page, live_server.url, username, DEMO_PASSWORD)


def test_office_signs_in_and_sees_the_round_overview_with_its_chart(
    demo, live_server, page, screenshot
):
    _sign_in(page, live_server, "office")
    assert page.url == f"{live_server.url}/"
    assert "考核工作总览" in page.locator("h1").inner_text()
    assert page.get_by_text("分类别自评报告进度").is_visible()
    # ECharts draws into a canvas inside the chart container once its script has loaded.
    page.wait_for_selector("#category-chart canvas")
    assert page.locator("table").first.get_by_text("单位自评").is_visible()
    screenshot("office-home")
    # A category's figure opens its units, filtered, on the unit progress page.
    row = page.locator("tr", has_text="中央企业").first
    submitted = int(row.locator("td").nth(3).inner_text())
    with page.expect_navigation():
        row.locator("td").nth(3).get_by_role("link").click()
    assert "考核工作总览" not in page.locator("h1").inner_text()
    assert page.locator("h1").inner_text().startswith("分单位进度")
    assert page.locator("#progress-category").input_value() == "enterprises"
    assert page.locator("#progress-status").input_value() == "submitted"
    listed = page.locator("main tbody tr")
    assert listed.count() == min(submitted, 20)
    assert listed.first.get_by_text("已提交").is_visible()
    screenshot("office-unit-progress")


def test_unit_signs_in_and_sees_its_own_home_page(demo, live_server, page, screenshot):
    _sign_in(page, live_server, "u0136")
    heading = page.locator("h1").inner_text()
    assert heading.startswith("示例")
    assert "本单位自评报告" in page.content()
    assert "考核工作总览" not in page.content()
    screenshot("unit-home")


def test_wrong_password_shows_a_chinese_error(demo, live_server, page, screenshot):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "office")
    page.fill("#id_password", "wrong-password")
    page.click("button[type=submit]")
    expect(page.get_by_text("用户名或密码不正确，请重新输入。")).to_be_visible()
    screenshot("login-error")
