"""Two rounds side by side (issue 16): 2017 is released and in rectification while the office
copies, prepares and starts 2018; the unit sees its 2017 result and letter beside its 2018
report; the office switches years; the leading group has one unit's 2017 grade corrected, and
the unit reads the corrected letter with the earlier one on record. Screenshots in
test-artifacts/screenshots/two-years-*.png."""

import pytest
from django.utils import timezone

from kaohe.grading.models import ResultSet, ResultSetStatus
from kaohe.outcomes import services as outcomes
from kaohe.outcomes.models import Feedback
from kaohe.reviews.models import SeriousProblem
from kaohe.rounds.models import Round, RoundStatus
from tests.browser.journey_steps import People, expect_message
from tests.outcomes.test_outcomes import approved  # noqa: F401 - the fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def before_review_deadline(settings):
    """The reviews of the fixture are written before the lead departments' deadline."""
    settings.KAOHE_TODAY = "2018-01-10"


@pytest.fixture
def people(browser, live_server):
    people = People(browser, live_server.url)
    yield people
    people.close()


def _shot(page, screenshot_dir, name):
    screenshot_dir.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(screenshot_dir / f"two-years-{name}.png"), full_page=True)


def test_two_rounds_side_by_side_and_a_correction_of_the_first(
        before_review_deadline, approved, personas, world, live_server, people,  # noqa: F811
        settings):
    from tests.browser.conftest import ARTIFACTS

    url = live_server.url
    office = personas["office"]
    outcomes.feedback_prepare(result_set=approved, actor=office)
    outcomes.release(result_set=approved, actor=office)
    settings.KAOHE_TODAY = "2018-03-01"  # 2017 in rectification
    first_letter = Feedback.objects.get(unit=world["unit_b"], result_set=approved)

    # The office copies 2017 into 2018 (a round in preparation) and starts it on purpose.
    page = people.at("office")
    page.goto(f"{url}/rounds/2017/")
    page.locator("input[name=year]").fill("2018")
    page.get_by_role("button", name="复制为新年度").click()
    page.wait_for_load_state("networkidle")
    assert Round.objects.get(year=2018).status == RoundStatus.PREPARING
    page.goto(f"{url}/rounds/2018/activate/")
    page.locator("input[name=confirm]").check()
    page.get_by_role("button", name="启动本年度考核").click()
    page.wait_for_load_state("networkidle")
    assert Round.objects.get(year=2018).status == RoundStatus.ACTIVE
    assert Round.objects.get(year=2017).status == RoundStatus.ACTIVE  # 2017 goes on
    _shot(page, ARTIFACTS, "1-office-started-2018")

    # The unit: its 2017 result and letter beside its 2018 report.
    unit = people.at("unit_b")
    content = unit.content()
    assert "历年考核结果" in content and "2018" in content
    results = unit.locator(".card", has_text="历年考核结果")
    assert "较差" in results.inner_text()
    _shot(unit, ARTIFACTS, "2-unit-home-two-years")
    letter_link = results.get_by_role("link", name="PDF").first.get_attribute("href")
    unit.goto(f"{url}/outcomes/mine/?year=2017")
    assert "较差" in unit.content() and "帮扶资金到位慢" in unit.content()
    letter = unit.request.get(f"{url}{letter_link}")
    assert letter.status == 200 and letter.body()[:4] == b"%PDF"

    # The office switches years with the selector in the header.
    page.goto(f"{url}/")
    page.locator("#year-selector button").click()
    page.locator("#year-selector .dropdown-menu").get_by_role("link", name="2017年度").click()
    page.wait_for_load_state("networkidle")
    assert "2017年度" in page.locator("#year-selector button").inner_text()
    _shot(page, ARTIFACTS, "3-office-switched-to-2017")

    # The leading group opens a correction of the released 2017 version, with a reason.
    lead = people.at("leader")
    lead.goto(f"{url}/grading/{approved.pk}/?year=2017")
    lead.fill("#reason", "乙单位的突出问题经核实不成立，予以更正")
    lead.get_by_role("button", name="提出更正").click()
    lead.wait_for_load_state("networkidle")
    # The finding behind unit B's 较差 is withdrawn (recorded, not erased).
    SeriousProblem.objects.filter(unit=world["unit_b"]).update(
        withdrawn_at=timezone.now(), withdrawn_by=personas["lead_reviewer_b"],
        withdrawn_reason="经核实不成立")

    # The working group computes the corrected version and submits it.
    wg = people.at("wg")
    wg.goto(f"{url}/grading/?year=2017")
    wg.get_by_role("button", name="依据已报送结果生成新版等次建议").click()
    wg.wait_for_load_state("networkidle")
    corrected = ResultSet.objects.filter(round=approved.round,
                                         correction__isnull=False).order_by("-version")[0]
    assert corrected.final_grades()["B001"] == "average"
    wg.goto(f"{url}/grading/{corrected.pk}/")
    wg.get_by_role("button", name="报领导小组审定").click()
    expect_message(wg, "已报")

    # The leader sees the correction and approves it.
    lead.goto(f"{url}/grading/{corrected.pk}/")
    assert "更正" in lead.content()
    lead.fill("#comments", "同意更正")
    _shot(lead, ARTIFACTS, "4-leader-approves-correction")
    lead.get_by_role("button", name="审定同意").click()
    lead.wait_for_load_state("networkidle")
    corrected.refresh_from_db()
    assert corrected.status == ResultSetStatus.APPROVED

    # The office drafts the letters of the corrected version and releases it.
    page.goto(f"{url}/outcomes/feedback/?year=2017")
    page.get_by_role("button", name=f"起草反馈意见（第{corrected.version}版）").click()
    page.wait_for_load_state("networkidle")
    page.goto(f"{url}/grading/{corrected.pk}/")
    page.get_by_role("button", name="向各单位反馈更正后的考核结果").click()
    page.wait_for_load_state("networkidle")
    corrected.refresh_from_db()
    assert corrected.status == ResultSetStatus.RELEASED

    # The unit reads its corrected result; the earlier letter stays on record.
    unit.goto(f"{url}/")
    home = unit.content()
    assert "更正" in home
    unit.goto(f"{url}/outcomes/mine/?year=2017")
    mine = unit.content()
    assert "一般" in mine and "更正" in mine and "较差" in mine
    _shot(unit, ARTIFACTS, "5-unit-reads-corrected-result")
    first_letter.refresh_from_db()
    assert first_letter.grade == "poor"
    assert Feedback.objects.get(unit=world["unit_b"], result_set=corrected).replaces == first_letter
