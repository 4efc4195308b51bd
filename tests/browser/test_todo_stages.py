"""Every role's home page at four stages of the round — reporting, review, approval,
rectification — leads with the right 待办 and marks the current step (issue 21).

The stages are built through the services (not by clicking) and the people are signed in
as the other tests sign them in (client.force_login stands for the whole sign-in, second
factor included; tests/browser/test_home_pages.py goes through the login page), so the
test stays short. Screenshots: test-artifacts/screenshots/todo-<stage>-<role>.png.
"""

import datetime
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone

from kaohe.grading import services as grading
from kaohe.outcomes import services as outcomes
from kaohe.reviews import services as reviews
from kaohe.reviews.models import FindingSource
from kaohe.submissions.models import (
    CountyOutcome,
    ProvincialReport,
    ReportStatus,
    SecondedCadre,
    SelfReport,
)
from tests.grading.test_result_sets import AVERAGE_ALL, GOOD_ALL, _review, _submit_category

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROLES = ["office", "working_group", "leading_group", "org_department", "military_inspector",
         "lead_reviewer", "lead_reviewer_b", "unit_b", "province_b"]


AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
# axe-core on the panel and the timeline only (test_axe.py checks whole pages).
_AXE_RUN = """async () => {
  const result = await axe.run({include: [["#todo-panel"], [".kh-timeline"]]},
    {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
     resultTypes: ["violations"]});
  return result.violations.filter(v => v.impact === "serious" || v.impact === "critical")
    .map(v => v.id + ": " + v.nodes.map(n => n.target.join(" ")).join(", "));
}"""


@pytest.fixture
def page(browser):
    """A page whose context ignores the CSP, so that axe.min.js can be added to it."""
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN",
                                  bypass_csp=True)
    page = context.new_page()
    yield page
    context.close()


def _open_home(page, live_server, user):
    """The user's home page in a browser signed in as the user."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    page.context.clear_cookies()
    page.context.add_cookies([{"name": django_settings.SESSION_COOKIE_NAME, "value": cookie,
                               "url": live_server.url}])
    page.goto(f"{live_server.url}/")
    assert page.url == f"{live_server.url}/"


def _check(page, live_server, screenshot, personas, stage, current, expected):
    """expected: role -> [(item code, text the item shows)], [] for an empty panel."""
    for role in ROLES:
        _open_home(page, live_server, personas[role])
        panel = page.locator("#todo-panel")
        assert panel.is_visible(), role
        # The panel is the first thing after the heading.
        assert page.locator("h1 + section#todo-panel").count() == 1, role
        items = expected[role]
        if not items:
            assert panel.locator("#todo-empty").is_visible(), (stage, role)
        for code, text in items:
            item = panel.locator(f"#todo-{code}")
            assert item.is_visible(), (stage, role, code)
            assert text in item.inner_text(), (stage, role, code, item.inner_text())
        codes = panel.locator("li[id^=todo-]").evaluate_all("els => els.map(e => e.id)")
        assert set(codes) >= {f"todo-{c}" for c, _t in items}
        if role not in ("office",):  # the office also sees its follow-ups, checked above
            assert len(codes) == len(items), (stage, role, codes)
        timeline = page.locator("[aria-current=step]")
        assert timeline.count() == 1, (stage, role)
        assert current in timeline.inner_text() and "当前步骤" in timeline.inner_text()
        page.add_script_tag(path=str(AXE))
        assert page.evaluate(_AXE_RUN) == [], (stage, role)
        screenshot(f"todo-{stage}-{role}")


def _at(day: str):
    """A submission time on a day of the round's schedule (not the real clock's)."""
    return timezone.make_aware(datetime.datetime.fromisoformat(f"{day} 10:30"))


def _reporting_state(world, personas):
    round_ = world["round"]
    SelfReport.objects.create(round=round_, unit=world["unit_a"], status=ReportStatus.SUBMITTED,
                              submitted_at=_at("2017-12-15"))
    SecondedCadre.objects.create(round=round_, unit=world["unit_a"], county=world["county_a"],
                                 name="张三", post="县委常委、副县长（挂职）",
                                 start=datetime.date(2016, 9, 1))


def _reports_in(world):
    round_ = world["round"]
    for unit in (world["unit_b"], world["army"]):
        SelfReport.objects.create(round=round_, unit=unit, status=ReportStatus.SUBMITTED,
                                  submitted_at=_at("2017-12-28"))
    for province, unit, county in ((world["province_a"], world["unit_a"], world["county_a"]),
                                   (world["province_b"], world["unit_b"], world["county_b"]),
                                   (world["province_b"], world["army"], world["county_b"])):
        report = ProvincialReport.objects.create(
            round=round_, province=province, unit=unit, status=ReportStatus.SUBMITTED,
            submitted_at=_at("2017-12-29"), recommended_grade="fairly_good")
        CountyOutcome.objects.create(report=report, county=county, plan_met=True,
                                     satisfaction_unit="good", satisfaction_cadres="good")


def test_each_roles_home_page_leads_with_its_todo_at_four_stages(
    world, personas, live_server, page, screenshot, settings
):
    round_ = world["round"]

    # Reporting: 12-20, unit_a has submitted, nothing else is in.
    settings.KAOHE_TODAY = "2017-12-20"
    _reporting_state(world, personas)
    review_due = ("review", "2018年1月15日")
    _check(page, live_server, screenshot, personas, "1-reporting", "单位总结", {
        "office": [("chase_self_reports", "2家单位尚未报送"),
                   ("chase_provincial_reports", "3份尚未报送")],
        "working_group": [("deliberation", "2018年1月31日")],
        "leading_group": [],
        "org_department": [("cadre_checks", "0/1")],
        "military_inspector": [("military_inspections", "0/1")],
        "lead_reviewer": [("launch_team", "已逾期"), ("launch_plan", "已逾期"), review_due],
        "lead_reviewer_b": [("launch_team", "已逾期"), ("launch_plan", "已逾期"), review_due],
        "unit_b": [("self_report", "剩 11 天")],
        "province_b": [("provincial_report", "还有2份未报送")],
    })

    # Review: 01-10, every report is in; lead department A has written its sub-report.
    settings.KAOHE_TODAY = "2018-01-10"
    _reports_in(world)
    _review(round_, world["unit_a"], personas["lead_reviewer"], GOOD_ALL)
    _check(page, live_server, screenshot, personas, "2-review", "分类考核", {
        "office": [("chase_reviews", "2个尚未报送")],
        "working_group": [("deliberation", "已有0/2个牵头部门")],
        "leading_group": [],
        "org_department": [("cadre_checks", "剩 5 天")],
        "military_inspector": [("military_inspections", "2018年1月15日")],
        "lead_reviewer": [("launch_team", "已逾期"), ("launch_plan", "已逾期"),
                          ("review", "已完成1/1")],
        "lead_reviewer_b": [("launch_team", "已逾期"), ("launch_plan", "已逾期"),
                            ("review", "已完成0/1")],
        "unit_b": [],
        "province_b": [],
    })

    # Approval: both categories in (unit_b 较差: a serious problem, the poor band widened);
    # version 1 returned by the leading group, version 2 submitted; 02-05.
    round_.method = {**round_.method, "shares": {**round_.method["shares"], "poor": "0.5"}}
    round_.save()
    _review(round_, world["unit_b"], personas["lead_reviewer_b"], AVERAGE_ALL)
    reviews.serious_problem_add(round=round_, unit=world["unit_b"],
                                actor=personas["lead_reviewer_b"],
                                kind=round_.problem_kinds.get(code="neglect"), county=None,
                                description="不重视", source=FindingSource.REVIEWER)
    _submit_category(round_, world["lead_a"], personas["lead_reviewer"])
    _submit_category(round_, world["lead_b"], personas["lead_reviewer_b"])
    wg, leader = personas["working_group"], personas["leading_group"]
    first = grading.result_set_compute(round=round_, actor=wg)
    grading.result_set_submit(result_set=first, actor=wg)
    grading.result_set_return(result_set=first, actor=leader, comments="请复核")
    second = grading.result_set_compute(round=round_, actor=wg)
    grading.result_set_submit(result_set=second, actor=wg)
    settings.KAOHE_TODAY = "2018-02-05"
    _check(page, live_server, screenshot, personas, "3-approval", "沟通反馈", {
        "office": [],
        "working_group": [],
        "leading_group": [("approval", "第2版等次建议待审定")],
        "org_department": [("cadre_checks", "已逾期")],
        "military_inspector": [("military_inspections", "已逾期")],
        "lead_reviewer": [],
        "lead_reviewer_b": [],
        "unit_b": [],
        "province_b": [],
    })
    # Approved: the office is to feed the results back.
    grading.result_set_approve(result_set=second, actor=leader)
    _open_home(page, live_server, personas["office"])
    item = page.locator("#todo-release")
    assert "第2版等次建议已审定，待反馈" in item.inner_text()
    assert "2018年2月28日" in item.inner_text()
    screenshot("todo-3-approval-office-after-approval")
    item.get_by_role("link").click()
    assert page.url.endswith("/outcomes/feedback/")
    _open_home(page, live_server, personas["leading_group"])
    assert page.locator("#todo-empty").is_visible()
    screenshot("todo-3-approval-leading_group-after-approval")

    # Rectification: released, 03-20.
    outcomes.release(result_set=second, actor=personas["office"])
    settings.KAOHE_TODAY = "2018-03-20"
    _check(page, live_server, screenshot, personas, "4-rectification", "整改落实", {
        "office": [("rectification_followup", "2家单位尚未报送整改报告"),
                   ("dispatch_org_department", "考核结果送中央组织部")],
        "working_group": [],
        "leading_group": [],
        "org_department": [],
        "military_inspector": [],
        "lead_reviewer": [],
        "lead_reviewer_b": [("summons", "1家待约谈")],
        "unit_b": [("rectification", "2018年3月31日")],
        "province_b": [],
    })
    # The unit follows its link to the rectification report.
    _open_home(page, live_server, personas["unit_b"])
    page.locator("#todo-rectification").get_by_role("link").click()
    assert "/outcomes/mine/" in page.url
