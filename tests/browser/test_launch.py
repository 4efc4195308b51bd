"""Through the pages only: a lead department files its team (with its liaison) and its
category plan; the office sees both on the launch page and on the round's schedule; the
other lead department cannot open them."""

import pytest

from kaohe.accounts.models import User
from kaohe.launch.models import CategoryPlan, TeamFiling
from tests.browser.conftest import follow, sign_in
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
       b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")

TEAM = [
    ("王建国", "局长", "bureau", "010-66001001", "wangjg@example.org"),
    ("李红", "处长", "division", "010-66001002", "lihong@example.org"),
    ("陈晨", "副处长", "division", "010-66001003", "chenchen@example.org"),
]


def _sign_in(page, live_server, username):
    sign_in(page, live_server.url, username, PASSWORD)


def test_a_lead_department_files_its_team_and_plan_and_the_office_sees_both(
    world, personas, live_server, page, screenshot, tmp_path, settings
):
    settings.KAOHE_TODAY = "2017-11-15"
    lead = world["lead_a"]

    # 1. The lead department's team member opens the launch page: its own lead department.
    _sign_in(page, live_server, "lead_a")
    page.get_by_role("button", name="考核准备").click()  # the menu in the navigation bar
    follow(page, page.get_by_role("link", name="考核启动").first)
    page.wait_for_load_state("networkidle")
    assert f"/launch/lead/{lead.pk}/" in page.url
    assert lead.short_name in page.locator("h1").inner_text()
    for row, (name, post, level, phone, email) in enumerate(TEAM):
        page.fill(f"#id_m{row}-name", name)
        page.fill(f"#id_m{row}-post", post)
        page.select_option(f"#id_m{row}-level", level)
        page.fill(f"#id_m{row}-phone", phone)
        page.fill(f"#id_m{row}-email", email)
    page.check("input[name=liaison][value='1']")
    screenshot("launch-1-team-form")
    page.get_by_role("button", name="报送考核工作组").click()
    page.wait_for_selector("text=考核工作小组名单已报送考核工作组")
    team = page.locator("#team table").first
    assert "李红" in team.inner_text() and "联络员" in team.inner_text()

    plan = tmp_path / "中央直属机关分类考核具体方案.pdf"
    plan.write_bytes(PDF)
    page.set_input_files("#id_document", str(plan))
    page.fill("#id_key_points", "审阅书面材料全覆盖，座谈了解与个别核查相结合。")
    page.get_by_role("button", name="报送备案").click()
    page.wait_for_selector("text=分类考核具体方案已报考核工作组备案")
    assert page.get_by_role("link", name="中央直属机关分类考核具体方案.pdf").is_visible()
    screenshot("launch-2-team-and-plan-filed")

    filing = TeamFiling.objects.get(lead_department=lead)
    assert filing.members.count() == 3
    liaison = User.objects.get(lead_department=lead, is_liaison=True)
    assert liaison.email == "lihong@example.org" and liaison.username.startswith("lead-")
    assert CategoryPlan.objects.get(lead_department=lead).filed_on.isoformat() == "2017-11-15"

    # The other lead department cannot open them.
    _sign_in(page, live_server, "lead_b")
    assert page.goto(f"{live_server.url}/launch/lead/{lead.pk}/").status == 404
    assert page.goto(f"{live_server.url}/launch/lead/{lead.pk}/plan/download/").status == 404

    # 2. The office sees the team, the liaison and the plan, and the schedule counts them.
    _sign_in(page, live_server, "office")
    page.goto(f"{live_server.url}/launch/")
    row = page.locator(f"#lead-{lead.code}")
    assert "3 人" in row.inner_text() and "李红" in row.inner_text()
    assert "按时报送" in row.inner_text()
    assert row.get_by_role("link", name="中央直属机关分类考核具体方案.pdf").is_visible()
    assert "逾期" not in row.inner_text()
    screenshot("launch-3-office-overview")
    page.goto(f"{live_server.url}/")
    schedule = page.locator("tr", has_text="考核启动")
    assert "0/6" not in schedule.inner_text()
    assert "1/6" in schedule.inner_text()
    screenshot("launch-4-office-schedule")
    with page.expect_download() as download:
        page.goto(f"{live_server.url}/launch/")
        page.locator(f"#lead-{lead.code}").get_by_role(
            "link", name="中央直属机关分类考核具体方案.pdf").click()
    assert download.value.suggested_filename == "中央直属机关分类考核具体方案.pdf"
