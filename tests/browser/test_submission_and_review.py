"""Through the pages only: a unit writes its self-assessment, uploads evidence and submits;
its lead department reads it, grades the unit, writes the sub-report and submits the
category; another unit and the province get 404 along the way."""

import pytest

from kaohe.reviews.models import CategorySubmission, CategorySubmissionStatus
from kaohe.submissions.models import ReportStatus, SelfReport
from tests.browser.conftest import follow, sign_in
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# A minimal valid PDF: the server checks the type by content, not by name.
PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
       b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")


def _sign_in(page, live_server, username):
    sign_in(page, live_server.url, username, PASSWORD)


def _status(page, live_server, path):
    return page.goto(f"{live_server.url}{path}").status


def test_unit_submits_and_its_lead_department_reviews_and_submits_the_category(
    world, personas, live_server, page, screenshot, tmp_path, settings
):
    settings.KAOHE_TODAY = "2017-12-20"
    page.on("dialog", lambda dialog: dialog.accept())
    unit = world["unit_a"]

    # 1. The unit writes, uploads and submits.
    _sign_in(page, live_server, "unit_a")
    page.goto(f"{live_server.url}/reports/self/")
    assert "自评报告" in page.locator("h1").inner_text()
    page.locator("textarea[name=summary]").fill("本年度定点扶贫工作总结。")
    box = page.locator("#indicator-4")
    box.locator("textarea").fill("党组会议专题研究，印发年度帮扶工作计划。")
    evidence = tmp_path / "年度工作计划.pdf"
    evidence.write_bytes(PDF)
    box.locator("input[type=file]").first.set_input_files(str(evidence))
    # The page reloads once the file is stored and attached; the text typed before the
    # upload was saved with it, not lost.
    page.wait_for_selector("text=已附上“年度工作计划.pdf”", timeout=20000)
    assert page.locator("#indicator-4 textarea").input_value().startswith("党组会议")
    assert page.locator("textarea[name=summary]").input_value() == "本年度定点扶贫工作总结。"
    screenshot("journey-1-unit-report")
    page.check("#confirm_gaps")
    page.get_by_role("button", name="提交自评报告").click()
    page.wait_for_selector("text=自评报告已提交")
    screenshot("journey-2-unit-submitted")
    report = SelfReport.objects.get(unit=unit)
    assert report.status == ReportStatus.SUBMITTED
    assert report.attachments.get().evidence.original_name == "年度工作计划.pdf"
    assert report.versions.count() == 1

    # The other unit and the province cannot open it.
    _sign_in(page, live_server, "unit_b")
    assert _status(page, live_server, f"/reports/self/{report.pk}/") == 404
    assert _status(page, live_server, f"/reviews/units/{unit.pk}/") == 404
    _sign_in(page, live_server, "prov_a")
    assert _status(page, live_server, f"/reports/self/{report.pk}/") == 404

    # 2. The lead department reads it, grades, writes the sub-report.
    _sign_in(page, live_server, "lead_a")
    page.goto(f"{live_server.url}/reviews/")
    follow(page, page.get_by_role("link", name=unit.name))
    assert "党组会议专题研究" in page.content()
    assert page.get_by_role("link", name="年度工作计划.pdf").is_visible()
    for code in ("effectiveness", "leadership", "cadres", "supervision", "satisfaction",
                 "innovation"):
        page.select_option(f"#grade-{code}", "fairly_good")
        page.fill(f"input[name=reason-{code}]", f"{code} 材料翔实，核实属实。")
    page.get_by_role("button", name="保存等次").click()
    page.wait_for_selector("text=等次已保存")
    page.fill("#sub-report textarea[name=basic_situation]", "审阅了自评报告和证明材料。")
    page.fill("#sub-report textarea[name=problems]", "个别材料不全。")
    page.fill("#sub-report textarea[name=suggestions]", "进一步加大帮扶力度。")
    page.get_by_role("button", name="保存子报告").click()
    page.wait_for_selector("text=考核子报告已保存")
    screenshot("journey-3-review-desk")

    # 3. The category report and the submission to the working group.
    page.goto(f"{live_server.url}/reviews/categories/{world['lead_a'].pk}/")
    page.fill("textarea[name=overview]", "本类别考核基本情况。")
    page.fill("textarea[name=problems]", "突出问题与不足。")
    page.fill("textarea[name=suggestions]", "意见与建议。")
    page.get_by_role("button", name="保存").click()
    page.wait_for_selector("text=综合考核报告已保存")
    page.get_by_role("button", name="报送初步考核结果").click()
    page.wait_for_selector("text=初步考核结果已报送考核工作组")
    screenshot("journey-4-category-submitted")
    submission = CategorySubmission.objects.get(lead_department=world["lead_a"])
    assert submission.status == CategorySubmissionStatus.SUBMITTED
    assert submission.snapshot["units"][0]["grades"]["leadership"] == "fairly_good"

    # The other lead department sees nothing of this category.
    _sign_in(page, live_server, "lead_b")
    assert _status(page, live_server, f"/reviews/units/{unit.pk}/") == 404
    assert _status(page, live_server, f"/reviews/categories/{world['lead_a'].pk}/") == 404
    # Nothing of the review reaches the unit.
    _sign_in(page, live_server, "unit_a")
    page.goto(f"{live_server.url}/")
    assert "材料翔实" not in page.content() and "较好" not in page.content()
