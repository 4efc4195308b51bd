"""Page helpers for the journey test (test_journey.py): one signed-in browser per person,
404 probes, numbered screenshots and the form interactions that repeat for every unit.
Signing in is the shared sign_in of tests/browser/conftest.py (two factors included)."""

from tests.browser.conftest import follow, sign_in
from tests.conftest import PASSWORD


def status_of(page, base_url: str, path: str) -> int:
    return page.goto(f"{base_url}{path}").status


def assert_not_found(page, base_url: str, *paths: str) -> None:
    """Every path answers 404 to the person signed in now; then back to the home page."""
    for path in paths:
        assert status_of(page, base_url, path) == 404, f"{path} did not answer 404"
    page.goto(f"{base_url}/")


def open_menu(page, menu: str, item: str) -> None:
    """Open a menu of the navigation bar and follow one of its items."""
    page.get_by_role("button", name=menu).click()
    follow(page, page.locator(".dropdown-menu.show").get_by_role("link", name=item))
    page.wait_for_load_state("networkidle")


def expect_message(page, text: str) -> None:
    """A flash message after a form; an error message instead fails with its own text."""
    alert = page.locator(".alert", has_text=text)
    try:
        alert.first.wait_for(timeout=15000)
    except Exception:
        errors = page.locator(".alert-danger, .alert-warning").all_inner_texts()
        raise AssertionError(f"expected “{text}” on {page.url}; the page says {errors}") from None


class People:
    """Each person works in their own browser (context), signed in once when first needed;
    switching between people is switching windows, as in an office full of desks."""

    def __init__(self, browser, base_url: str):
        self.browser, self.base_url = browser, base_url
        self.pages: dict[str, object] = {}

    def at(self, username: str):
        page = self.pages.get(username)
        if page is None:
            context = self.browser.new_context(viewport={"width": 1366, "height": 900},
                                               locale="zh-CN")
            page = context.new_page()
            page.set_default_timeout(20000)
            page.on("dialog", lambda dialog: dialog.accept())  # the "确认提交？" questions
            # The shared helper: the login page, then the two-factor pages where the role
            # needs them (enrolment with the secret shown the first time).
            sign_in(page, self.base_url, username, PASSWORD)
            self.pages[username] = page
        else:
            page.goto(f"{self.base_url}/")  # back at their desk: the home page
        return page

    def close(self) -> None:
        for page in self.pages.values():
            page.context.close()


class Shots:
    """test-artifacts/screenshots/journey-NN-name.png, numbered in the order taken."""

    def __init__(self, folder):
        self.folder = folder
        self.taken: list[str] = []

    def __call__(self, page, name: str):
        self.folder.mkdir(parents=True, exist_ok=True)
        full = f"journey-{len(self.taken) + 1:02d}-{name}"
        self.taken.append(full)
        page.screenshot(path=str(self.folder / f"{full}.png"), full_page=True)


def grade_unit(page, grades: dict[str, str], reason: str) -> None:
    """On a unit's review desk: one grade and reason per area, then save."""
    for area, grade in grades.items():
        page.select_option(f"#grade-{area}", grade)
        page.fill(f"input[name=reason-{area}]", f"{reason}（{area}）")
    page.get_by_role("button", name="保存等次").click()
    expect_message(page, "等次已保存")


def write_sub_report(page, basic: str, problems: str, suggestions: str) -> None:
    page.fill("#sub-report textarea[name=basic_situation]", basic)
    page.fill("#sub-report textarea[name=problems]", problems)
    page.fill("#sub-report textarea[name=suggestions]", suggestions)
    page.get_by_role("button", name="保存子报告").click()
    expect_message(page, "考核子报告已保存")


def submit_category(page, overview: str) -> None:
    """On the lead department's category page: the summary report, then the submission."""
    page.fill("textarea[name=overview]", overview)
    page.fill("textarea[name=problems]", "个别单位督促检查不够深入，材料归集不够规范。")
    page.fill("textarea[name=suggestions]", "进一步压实帮扶责任，加强对定点扶贫县的督促检查。")
    page.get_by_role("button", name="保存", exact=True).click()
    expect_message(page, "综合考核报告已保存")
    page.get_by_role("button", name="报送初步考核结果").click()
    expect_message(page, "初步考核结果已报送考核工作组")


def fill_self_report(page, summary: str, answer: str) -> int:
    """Type the summary and a text for every indicator slot of the self-report form."""
    page.fill("textarea[name=summary]", summary)
    answers = page.locator("textarea[name^=answer-]")
    for i in range(answers.count()):
        answers.nth(i).fill(f"{answer}（第{i + 1}项）")
    return answers.count()


def submit_self_report(page) -> None:
    """Submit, confirming the gaps the page lists (the confirm dialog is accepted)."""
    confirm = page.locator("#confirm_gaps")
    if confirm.count():
        confirm.check()
    page.get_by_role("button", name="提交自评报告").click()
    expect_message(page, "自评报告已提交，报送牵头部门并抄送国务院扶贫办")
