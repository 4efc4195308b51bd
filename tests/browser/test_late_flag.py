"""A deadline closes a step before anything is typed; the office grants one unit an
extension through the page; the report sent under it is marked 逾期提交 with the extension,
and the office's late and missing list shows both units (issue 17, item 5). Screenshots in
test-artifacts/screenshots/late-flag-*.png."""

import pytest

from kaohe.submissions.models import Extension, ReportStatus, SelfReport
from tests.browser.journey_steps import (
    People,
    fill_self_report,
    open_menu,
    submit_self_report,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def people(browser, live_server):
    people = People(browser, live_server.url)
    yield people
    people.close()


def _shot(page, name):
    from tests.browser.conftest import ARTIFACTS

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"late-flag-{name}.png"), full_page=True)


def test_an_extension_reopens_the_step_and_the_late_report_is_flagged(
        world, personas, live_server, people, settings):
    settings.KAOHE_TODAY = "2018-01-05"  # the self-report step closed on 2017-12-31
    url = live_server.url

    # Closed before anything is typed: no form, and the page says until when and why.
    unit = people.at("unit_a")
    open_menu(unit, "材料报送", "自评报告")
    assert unit.get_by_role("button", name="保存草稿").count() == 0
    assert "报送截止：2017年12月31日" in unit.content() and "报送已截止" in unit.content()
    _shot(unit, "1-closed")

    # The office grants unit A an extension on the extensions page.
    office = people.at("office")
    office.goto(f"{url}/reports/deadlines/extensions/")
    office.select_option("#ext-step", "self_report")
    office.fill("#ext-unit", world["unit_a"].name)  # its code would do as well
    office.fill("#ext-until", "2018-01-20")
    office.fill("#ext-reason", "单位机构调整，材料需重新汇总")
    office.get_by_role("button", name="准予延期").click()
    office.wait_for_load_state("networkidle")
    assert Extension.objects.filter(unit=world["unit_a"], step__code="self_report").exists()
    assert "单位机构调整" in office.content()
    _shot(office, "2-extension-granted")

    # Unit A writes and submits under the extension: the report is marked late.
    unit.goto(f"{url}/")
    open_menu(unit, "材料报送", "自评报告")
    fill_self_report(unit, "甲单位2017年度定点扶贫工作总结。", "甲单位开展的工作")
    submit_self_report(unit)
    report = SelfReport.objects.get(unit=world["unit_a"], round=world["round"])
    assert report.status == ReportStatus.SUBMITTED and report.submitted_late
    assert "逾期提交（延期至2018-01-20）" in unit.content()
    _shot(unit, "3-submitted-late")

    # The office's list: unit A late under its extension, unit B missing past its deadline.
    office.goto(f"{url}/reports/deadlines/late/?step=self_report")
    late_row = office.locator("tr", has_text=world["unit_a"].name)
    assert "逾期提交" in late_row.inner_text() and "2018-01-20" in late_row.inner_text()
    missing_row = office.locator("tr", has_text=world["unit_b"].name)
    assert "逾期未报" in missing_row.inner_text()
    _shot(office, "4-late-list")
    # Nobody else sees the list or the extensions.
    assert unit.goto(f"{url}/reports/deadlines/late/").status == 404
    assert unit.goto(f"{url}/reports/deadlines/extensions/").status == 404
