"""A unit is reminded of its deadline: `kaohe remind` writes the notice and sends the e-mail
(a real SMTP server), the unit sees it on its home page and in the navbar, opens it and is
taken to its report; the notice is then read."""

import datetime

import pytest
from django.core.management import call_command

from kaohe.accounts.models import Role, User
from kaohe.demo.builder import DEMO_PASSWORD, build_demo
from kaohe.submissions.models import ReportStatus, SelfReport
from tests.browser.conftest import sign_in
from tests.notifications.conftest import BASE_URL, assert_no_grade, receiving_smtp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(transactional_db, settings):
    settings.KAOHE_TODAY = "2017-12-24"
    build_demo(today=datetime.date(2017, 12, 24))


@pytest.fixture
def smtp(settings):
    with receiving_smtp(settings) as inbox:
        yield inbox


def test_a_unit_is_reminded_and_opens_its_report_from_the_notice(
        demo, smtp, live_server, page, screenshot):
    submitted = SelfReport.objects.filter(status=ReportStatus.SUBMITTED).values("unit")
    user = (User.objects.filter(role=Role.UNIT, is_active=True).exclude(unit__in=submitted)
            .order_by("username").first())
    user.email = "liaison@example.org"
    user.save(update_fields=["email"])
    call_command("remind")
    [message] = smtp.to("liaison@example.org")
    assert user.unit.name in message["subject"] and user.unit.name in message["body"]
    assert f"{BASE_URL}/reports/self/?year=2017" in message["body"]
    assert_no_grade(message["body"])

    page.goto(f"{live_server.url}/")
    sign_in(page, live_server.url, user.username, DEMO_PASSWORD)
    panel = page.locator("#notification-panel")
    assert "2017年12月31日截止" in panel.inner_text()
    assert page.locator("#unread-notifications .badge").inner_text() != ""
    screenshot("notification-panel")
    panel.get_by_role("button", name="查看").first.click()
    page.wait_for_url("**/reports/self/**")
    page.goto(f"{live_server.url}/notifications/")
    assert "已读" in page.locator("main").inner_text()
    screenshot("notification-list")
