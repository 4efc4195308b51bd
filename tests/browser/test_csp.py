"""The Content-Security-Policy breaks no page (security.md 22).

The main pages of each role are opened in Chromium with the policy the server sends: the
office's home with its chart, a unit's report page with an upload (the progress bar), a
lead department's review desk, the grading page with its charts, and the three
administrators' pages. Any console error or `securitypolicyviolation` event fails the test.
"""

import datetime

import pytest
from django.urls import reverse

from kaohe.accounts.models import Role, User
from kaohe.demo.builder import DEMO_PASSWORD, advance_demo_to_review, build_demo
from kaohe.submissions.models import ReportStatus, SelfReport
from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
       b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")

# Reported to the console, where the listener below collects it with everything else.
_REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", function (e) {
  console.error("CSP violation: " + e.violatedDirective + " blocked " + e.blockedURI
                + " at " + e.sourceFile + ":" + e.lineNumber);
});
"""


class Problems:
    """Console errors, uncaught exceptions and CSP violations, with the page they came from."""

    def __init__(self, page):
        self.page = page
        self.found: list[str] = []
        page.add_init_script(_REPORT_VIOLATIONS)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.found.append(f"{page.url}: {error}"))

    def _console(self, message):
        if message.type == "error":
            self.found.append(f"{self.page.url}: {message.text}")

    def visit(self, url: str):
        response = self.page.goto(url)
        assert response is not None and response.status == 200, (url, response and response.status)
        self.page.wait_for_load_state("networkidle")
        header = response.headers.get("content-security-policy", "")
        assert "style-src 'self'" in header and "script-src 'self'" in header, url

    def hover_chart(self, selector: str):
        """Move over the bars so that the chart draws its tooltip."""
        self.page.wait_for_selector(f"{selector} canvas")
        box = self.page.locator(selector).bounding_box()
        for fraction in (0.3, 0.5, 0.7):
            self.page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * fraction)
            self.page.wait_for_timeout(150)


@pytest.fixture
def demo(transactional_db, settings):
    settings.KAOHE_TODAY = "2017-12-20"
    build_demo(today=datetime.date(2017, 12, 20))


def _unit_with_an_open_report() -> User:
    submitted = SelfReport.objects.filter(status=ReportStatus.SUBMITTED).values("unit_id")
    return (User.objects.filter(role=Role.UNIT).exclude(unit_id__in=submitted)
            .order_by("username").first())


def test_the_harness_notices_a_violation(live_server, page, db):
    """An inline style="" added to the page is refused and reported: the test can fail."""
    problems = Problems(page)
    problems.visit(f"{live_server.url}{reverse('login')}")
    assert problems.found == []
    page.evaluate("""() => {
        const box = document.createElement("div");
        box.innerHTML = '<span style="color: red">x</span>';
        document.body.appendChild(box);
    }""")
    page.wait_for_timeout(300)
    assert any("CSP violation: style-src" in problem for problem in problems.found), problems.found


def test_the_main_pages_of_every_role_run_under_the_policy(demo, live_server, page, settings,
                                                           tmp_path, screenshot):
    base = live_server.url
    problems = Problems(page)
    page.on("dialog", lambda dialog: dialog.accept())

    problems.visit(f"{base}{reverse('login')}")

    # The office: the round's overview with its chart, the plan, a form that was styled inline.
    sign_in(page, base, "office", DEMO_PASSWORD)
    problems.visit(f"{base}/")
    problems.hover_chart("#category-chart")
    problems.visit(f"{base}{reverse('rounds:detail', kwargs={'year': 2017})}")
    problems.visit(f"{base}{reverse('rounds:schedule_edit', kwargs={'year': 2017})}")
    problems.visit(f"{base}{reverse('submissions:self_reports')}")

    # A unit: its report page, and an upload, whose progress bar is drawn by script.
    unit_user = _unit_with_an_open_report()
    sign_in(page, base, unit_user.username, DEMO_PASSWORD)
    problems.visit(f"{base}{reverse('submissions:self_reports')}")
    evidence = tmp_path / "帮扶工作计划.pdf"
    evidence.write_bytes(PDF)
    page.locator("input[type=file]").first.set_input_files(str(evidence))
    page.wait_for_selector("text=已附上“帮扶工作计划.pdf”", timeout=20000)
    page.wait_for_load_state("networkidle")
    screenshot("csp-unit-report")

    # A lead department: its queue and the desk of its first unit.
    lead = (User.objects.filter(role=Role.LEAD_REVIEWER,
                                lead_department__categories__units__isnull=False)
            .order_by("username").first())
    sign_in(page, base, lead.username, DEMO_PASSWORD)
    problems.visit(f"{base}{reverse('reviews:queue')}")
    unit = lead.lead_department.categories.first().units.order_by("code").first()
    problems.visit(f"{base}{reverse('reviews:desk', kwargs={'unit_pk': unit.pk})}")

    # The working group after the categories are reviewed: the grading page and its charts.
    settings.KAOHE_TODAY = "2018-01-20"
    advance_demo_to_review(today=datetime.date(2018, 1, 20))
    sign_in(page, base, "workgroup", DEMO_PASSWORD)
    problems.visit(f"{base}{reverse('grading:index')}")
    from kaohe.grading.models import ResultSet

    result_set = ResultSet.objects.order_by("-pk").first()
    problems.visit(f"{base}{reverse('grading:detail', kwargs={'pk': result_set.pk})}")
    problems.hover_chart("#grade-chart")
    screenshot("csp-grading")

    # The three administrators.
    someone = User.objects.get(username=unit_user.username)
    sign_in(page, base, "sysadmin", DEMO_PASSWORD)
    problems.visit(f"{base}{reverse('accounts:user_list')}")
    problems.visit(f"{base}{reverse('accounts:admin_user_detail', kwargs={'pk': someone.pk})}")
    problems.visit(f"{base}{reverse('accounts:admin_user_create')}")
    problems.visit(f"{base}{reverse('accounts:admin_settings')}")
    sign_in(page, base, "secadmin", DEMO_PASSWORD)
    problems.visit(f"{base}{reverse('accounts:admin_security_policy')}")
    problems.visit(f"{base}{reverse('accounts:admin_user_role', kwargs={'pk': someone.pk})}")
    sign_in(page, base, "auditor", DEMO_PASSWORD)
    problems.visit(f"{base}{reverse('audit:list')}?action=evidence.")
    screenshot("csp-audit")

    assert problems.found == []
