"""Through the pages only: a unit withdraws a seconded cadre the organization department
flagged (it cannot delete it), the department sees the withdrawal and withdraws its own
finding, and the lead department sees both in the history without being able to touch the
department's finding. Screenshots go to the test's tmp dir."""

import datetime

import pytest

from kaohe.reviews import services as review_services
from kaohe.reviews.models import SeriousProblem
from kaohe.submissions.models import SecondedCadre
from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD
from tests.submissions.conftest import matrix_self_report

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_withdrawal_of_a_flagged_cadre_and_of_the_org_departments_finding(
        world, personas, live_server, page, tmp_path, settings):
    settings.KAOHE_TODAY = "2017-12-20"
    page.on("dialog", lambda dialog: dialog.accept())
    unit = world["unit_a"]
    cadre = SecondedCadre.objects.create(round=world["round"], unit=unit,
                                         county=world["county_a"], name="钱七",
                                         post="副县长（挂职）", start=datetime.date(2017, 3, 1))
    matrix_self_report(world, unit)
    check = review_services.cadre_check_save(
        record=cadre, actor=personas["org_department"], in_post=True, in_charge=True,
        nominal_only=True, discipline_issue=False, note="长期不在岗", raise_problem=True)

    def shot(name):
        path = tmp_path / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 0
        return path

    # 1. The unit sees no 删除, only 撤回 with a reason.
    sign_in(page, live_server.url, "unit_a", PASSWORD)
    page.goto(f"{live_server.url}/reports/cadres/")
    row = page.locator("tr", has_text="钱七")
    assert row.get_by_role("button", name="删除").count() == 0
    assert "本单位自评报告已提交，不能删除" in row.inner_text()
    row.locator("input[name=reason]").fill("挂职期满，已返回原单位")
    row.get_by_role("button", name="撤回").click()
    page.wait_for_selector("text=撤回原因中央组织部可见")
    assert "已撤回" in page.locator("tr", has_text="钱七").inner_text()
    shot("withdrawal-1-unit")
    cadre.refresh_from_db()
    assert cadre.withdrawn_reason == "挂职期满，已返回原单位"

    # 2. The organization department sees the withdrawal and withdraws its finding.
    sign_in(page, live_server.url, "org", PASSWORD)
    page.goto(f"{live_server.url}/reviews/cadres/")
    row = page.locator(f"#cadre-{cadre.pk}")
    assert "已撤回" in row.inner_text() and "挂职期满，已返回原单位" in row.inner_text()
    row.locator(f"#problem-{check.problem_id} input[name=reason]").fill("复核后另行处理")
    row.get_by_role("button", name="撤回该突出问题").click()
    page.wait_for_selector("text=撤回记录保留在考核台账中")
    shot("withdrawal-2-org-department")
    problem = SeriousProblem.objects.get(pk=check.problem_id)
    assert problem.withdrawn_reason == "复核后另行处理"

    # 3. The lead department sees both in the history.
    sign_in(page, live_server.url, "lead_a", PASSWORD)
    page.goto(f"{live_server.url}/reviews/units/{unit.pk}/")
    findings = page.locator("#findings").inner_text()
    assert "已撤回" in findings and "复核后另行处理" in findings
    assert page.locator("#findings").get_by_role("button", name="撤回").count() == 0
    assert "挂职期满，已返回原单位" in page.content()
    shot("withdrawal-3-lead-department")
