"""Accessibility to WCAG 2.1 AA: axe-core on the key page of every role (issue 21).

axe-core (from npm, node_modules/axe-core) is injected into each page after it loads; the
page's Content-Security-Policy would refuse the script, so this browser context bypasses
it (the CSP itself is tested in test_csp.py). Any serious or critical violation of the
WCAG 2.0/2.1 A and AA rules fails the test, listed with the page and the elements.
"""

import datetime
from pathlib import Path

import pytest
from django.urls import reverse

from kaohe.accounts.models import Role, User
from kaohe.demo.builder import DEMO_PASSWORD, advance_demo_to_review, build_demo
from kaohe.submissions.models import ProvincialReport, ReportStatus, SelfReport
from tests.browser.conftest import ARTIFACTS, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = {"serious", "critical"}

_RUN = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags},
                                          resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 40).map(n => n.target.join(" ") + " :: " + n.failureSummary)
  }));
}"""


@pytest.fixture
def axe_page(browser):
    """A page whose context ignores the CSP, so that axe.min.js can be added to it."""
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN",
                                  bypass_csp=True)
    page = context.new_page()
    yield page
    context.close()


class Audit:
    def __init__(self, page, base):
        self.page, self.base = page, base
        self.found: list[str] = []
        self.checked: list[str] = []

    def check(self, path: str, *, wait_for: str | None = None):
        response = self.page.goto(f"{self.base}{path}")
        assert response is not None and response.status == 200, (path, response and response.status)
        self.page.wait_for_load_state("networkidle")
        if wait_for:
            self.page.wait_for_selector(wait_for)
        self.page.add_script_tag(path=str(AXE))
        for violation in self.page.evaluate(_RUN, TAGS):
            if violation["impact"] in BLOCKING:
                self.found.append(f"{path} [{violation['impact']}] {violation['id']}: "
                                  f"{violation['help']}\n    " + "\n    ".join(violation["nodes"]))
        self.checked.append(path)


def _tab_to(page, selector: str, limit: int = 12) -> dict:
    """Press Tab until the element matching `selector` has the focus; its focus ring."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return page.evaluate("""() => {
                const style = getComputedStyle(document.activeElement);
                return {style: style.outlineStyle, width: parseFloat(style.outlineWidth),
                        color: style.outlineColor};
            }""")
    raise AssertionError(f"Tab never reached {selector}")


@pytest.fixture
def demo(transactional_db, settings):
    settings.KAOHE_TODAY = "2017-12-20"
    build_demo(today=datetime.date(2017, 12, 20))


def test_axe_finds_what_it_should(live_server, axe_page, db):
    """The harness notices a violation (an image button with no name): it can fail."""
    audit = Audit(axe_page, live_server.url)
    audit.check(reverse("login"))
    assert audit.found == []
    axe_page.evaluate("""() => {
        const b = document.createElement("button");
        b.innerHTML = "<svg width='10' height='10'></svg>";
        document.querySelector("main").appendChild(b);
    }""")
    violations = axe_page.evaluate(_RUN, TAGS)
    assert "button-name" in {v["id"] for v in violations}


def test_the_key_page_of_every_role_has_no_serious_violation(demo, live_server, axe_page,
                                                             settings):
    base = live_server.url
    audit = Audit(axe_page, base)
    audit.check(reverse("login"))

    sign_in(axe_page, base, "office", DEMO_PASSWORD)
    audit.check("/", wait_for="#category-chart canvas")
    audit.check(reverse("unit_progress") + "?status=submitted")
    # Keyboard focus is visible: a solid white ring on the navbar's red (it was 1.05:1).
    ring = _tab_to(axe_page, ".kh-navbar .nav-link[href='/']")
    assert ring["style"] == "solid" and ring["width"] >= 2 and ring["color"] == "rgb(255, 255, 255)"

    # A unit's report page (with its uploads), a province's report on a unit.
    submitted = SelfReport.objects.filter(status=ReportStatus.SUBMITTED).values("unit_id")
    unit_user = (User.objects.filter(role=Role.UNIT).exclude(unit_id__in=submitted)
                 .order_by("username").first())
    sign_in(axe_page, base, unit_user.username, DEMO_PASSWORD)
    report = SelfReport.objects.filter(unit=unit_user.unit).first()
    audit.check(reverse("submissions:self_report", kwargs={"pk": report.pk}) if report
                else reverse("submissions:self_reports"))
    province_user = User.objects.filter(role=Role.PROVINCE).order_by("username").first()
    sign_in(axe_page, base, province_user.username, DEMO_PASSWORD)
    provincial = ProvincialReport.objects.filter(province=province_user.province).first()
    audit.check(reverse("submissions:provincial_report", kwargs={"pk": provincial.pk})
                if provincial else reverse("submissions:provincial_reports"))

    # A lead department's review desk; the organization department's checklist; the army's
    # inspection.
    lead = (User.objects.filter(role=Role.LEAD_REVIEWER,
                                lead_department__categories__units__isnull=False)
            .order_by("username").first())
    sign_in(axe_page, base, lead.username, DEMO_PASSWORD)
    unit = lead.lead_department.categories.first().units.order_by("code").first()
    audit.check(reverse("reviews:desk", kwargs={"unit_pk": unit.pk}))
    sign_in(axe_page, base, "orgdept", DEMO_PASSWORD)
    for tab in ("cadres", "secretaries", "coverage"):
        audit.check(reverse("reviews:org_cadres") + f"?show={tab}")
    sign_in(axe_page, base, "military", DEMO_PASSWORD)
    audit.check(reverse("reviews:military"))

    # The administrators.
    sign_in(axe_page, base, "sysadmin", DEMO_PASSWORD)
    audit.check(reverse("accounts:user_list"))
    sign_in(axe_page, base, "auditor", DEMO_PASSWORD)
    audit.check(reverse("audit:list"))

    # After the categorized assessment: the working group's result set with its charts,
    # and the same version as the leading group approves it.
    settings.KAOHE_TODAY = "2018-01-20"
    advance_demo_to_review(today=datetime.date(2018, 1, 20))
    from kaohe.grading.models import ResultSet

    result_set = ResultSet.objects.order_by("-pk").first()
    detail = reverse("grading:detail", kwargs={"pk": result_set.pk})
    sign_in(axe_page, base, "workgroup", DEMO_PASSWORD)
    audit.check(detail, wait_for="#grade-chart canvas")
    sign_in(axe_page, base, "leader", DEMO_PASSWORD)
    audit.check("/")
    audit.check(detail, wait_for="#grade-chart canvas")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    axe_page.screenshot(path=str(ARTIFACTS / "axe-leader-result-set.png"), full_page=True)

    assert audit.found == [], "\n".join(audit.found)
    assert len(audit.checked) == 15
