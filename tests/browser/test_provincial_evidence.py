"""Provincial evidence (issue 17, item 9): a province fills indicator 2 for its deep-poverty
county, uploads the provincial leading group's approval document and a piece of evidence
for one county through the resumable upload, and submits; the lead department of the unit
sees the data and the files on its review desk."""

import pytest

from kaohe.directory.models import County, Pairing
from kaohe.rounds.models import Grade
from kaohe.submissions import services
from kaohe.submissions.models import ProvincialAttachment, ReportStatus
from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD
from tests.evidence.factories import pdf_bytes, use_data_dir

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def within_the_step(settings, tmp_path):
    settings.KAOHE_TODAY = "2017-12-15"
    use_data_dir(settings, tmp_path / "data")


def test_a_province_attaches_its_approval_document_and_evidence_and_submits(
        world, personas, live_server, page, screenshot, tmp_path):
    page.on("dialog", lambda dialog: dialog.accept())
    deep = County.objects.get(code="533301")  # 怒江州: a three-areas county of 云南
    Pairing.objects.create(round=world["round"], unit=world["unit_a"], county=deep)
    report = services.provincial_report_for(round=world["round"], province=world["province_b"],
                                            unit=world["unit_a"])
    assert list(report.outcomes.values_list("county", flat=True)) == [deep.pk]

    sign_in(page, live_server.url, "prov_b", PASSWORD)
    page.goto(f"{live_server.url}/reports/provincial/{report.pk}/")
    # Indicator 2, named as the round's data names it, only for the deep-poverty county.
    indicator = services.deep_poverty_indicator(world["round"])
    assert indicator.name in page.locator(".kh-deep-poverty").inner_text()
    prefix = f"c{deep.pk}"
    # A negative amount is refused by the page itself (the server's own refusal, naming the
    # county and the field, is tested in tests/submissions/test_provincial_evidence.py).
    page.fill(f"[name={prefix}-deep_funds]", "-3")
    assert page.locator(f"[name={prefix}-deep_funds]").evaluate("e => e.validity.valid") is False
    page.select_option(f"[name={prefix}-plan_met]", "yes")
    page.select_option(f"[name={prefix}-satisfaction_unit]", Grade.GOOD)
    page.select_option(f"[name={prefix}-satisfaction_cadres]", Grade.GOOD)
    page.fill(f"[name={prefix}-deep_funds]", "1250.5")
    page.fill(f"[name={prefix}-deep_projects]", "12")
    page.fill(f"[name={prefix}-deep_support]", "援建产业扶贫项目12个")
    page.fill("[name=work_text]", "该单位在我省帮扶成效明显")
    page.select_option("[name=recommended_grade]", Grade.GOOD)
    page.fill("[name=approved_on]", "2017-12-28")
    page.get_by_role("button", name="保存", exact=True).click()
    page.wait_for_selector("text=已保存。")
    assert "省级扶贫开发领导小组审定文件" in page.content()  # still missing before submitting

    # The approval document, then evidence for the county, by the resumable upload.
    approval = tmp_path / "省扶贫开发领导小组审定文件.pdf"
    approval.write_bytes(pdf_bytes(5000))
    page.select_option("#attach-kind", "approval")
    page.locator("#attachments input[type=file]").set_input_files(str(approval))
    page.wait_for_selector("text=已附上“省扶贫开发领导小组审定文件.pdf”", timeout=20000)
    proof = tmp_path / "项目清单.pdf"
    proof.write_bytes(pdf_bytes(4000))
    page.select_option("#attach-kind", "evidence")
    page.select_option("#attach-county", str(deep.pk))
    page.locator("#attachments input[type=file]").set_input_files(str(proof))
    page.wait_for_selector("text=已附上“项目清单.pdf”", timeout=20000)
    screenshot("provincial-evidence-1-attached")
    assert {(a.kind, a.county_id, a.evidence.original_name)
            for a in ProvincialAttachment.objects.select_related("evidence")} == {
        ("approval", None, "省扶贫开发领导小组审定文件.pdf"), ("evidence", deep.pk, "项目清单.pdf")}

    page.get_by_role("button", name="报送国务院扶贫办").click()
    page.wait_for_selector("text=省级总结报告已报送国务院扶贫办")
    report.refresh_from_db()
    assert report.status == ReportStatus.SUBMITTED

    # The unit's lead department sees indicator 2 and the files on its review desk.
    sign_in(page, live_server.url, "lead_a", PASSWORD)
    page.goto(f"{live_server.url}/reviews/units/{world['unit_a'].pk}/")
    desk = page.content()
    assert "援建产业扶贫项目12个" in desk and "1250.50" in desk
    assert "省扶贫开发领导小组审定文件.pdf" in desk and "项目清单.pdf" in desk
    screenshot("provincial-evidence-2-review-desk")
