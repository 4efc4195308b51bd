"""Playwright driving Debian's Chromium (headless) against a live server.

Without Chromium the browser tests are skipped locally, but fail under CI (CI=true) or
with KAOHE_REQUIRE_BROWSER=1, so a missing install step cannot pass unnoticed.
"""

import base64
import os
import shutil
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def _chromium() -> str | None:
    configured = os.environ.get("KAOHE_CHROMIUM")
    if configured:
        return configured
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def browser():
    executable = _chromium()
    if executable is None:
        message = "Chromium not found (apt-get install chromium, or set KAOHE_CHROMIUM)"
        if os.environ.get("CI") == "true" or os.environ.get("KAOHE_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    # Playwright's sync API runs an event loop in this thread; the ORM calls made by the
    # test itself (fixtures) are still synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=executable, headless=True,
                                              args=CHROMIUM_FLAGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def screenshot(page):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def _shot(name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return _shot


# Signing in through the pages --------------------------------------------------------------

def _code_for(key: bytes, *, step=30, t0=0, digits=6, drift=0, last_t=-1) -> str:
    """The code an authenticator app would show, for a time step the server still accepts
    (django-otp takes the current step +/- 1, but never one at or before the last used)."""
    from django_otp.oath import hotp

    while True:
        now_t = int((time.time() - t0) // step) + drift
        t = max(now_t, last_t + 1)
        if t <= now_t + 1:
            return f"{hotp(key, t, digits=digits):0{digits}d}"
        time.sleep(step - (time.time() - t0) % step + 0.1)  # the same user, thrice in 30 s


def give_enrolment_code(page, username: str) -> None:
    """The enrolment page first asks for the code the security administrator gives the
    owner; here it is issued as the console operator would (`kaohe reset_two_factor`)."""
    from kaohe.accounts.models import User
    from kaohe.accounts.services import enrolment_code_issue_from_console

    code = enrolment_code_issue_from_console(user=User.objects.get(username=username),
                                             operator="browser-test")
    page.fill("#id_enrolment_code", code)
    page.get_by_role("button", name="下一步").click()
    page.wait_for_selector("#secret")


def sign_in(page, base_url: str, username: str, password: str) -> None:
    """Sign in as a person does: the login page, then for the roles that need two factors
    the code page (the device's current code) or, the first time, the enrolment page (the
    enrolment code, then a code from the secret it shows). Returns once the home page
    shows."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    page.context.clear_cookies()
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    path = urlsplit(page.url).path
    if path == "/accounts/two-factor/enrol/":
        give_enrolment_code(page, username)
        secret = "".join(page.locator("#secret").inner_text().split())
        key = base64.b32decode(secret + "=" * (-len(secret) % 8))
        page.fill("#id_code", _code_for(key))
        page.get_by_role("button", name="绑定并登录").click()
    elif path == "/accounts/two-factor/":
        device = TOTPDevice.objects.get(user__username=username, confirmed=True)
        page.fill("#id_code", _code_for(device.bin_key, step=device.step, t0=device.t0,
                                        digits=device.digits, drift=device.drift,
                                        last_t=device.last_t))
        page.get_by_role("button", name="验证").click()
    page.wait_for_url(f"{base_url}/")
    page.wait_for_load_state("networkidle")


def follow(page, link) -> None:
    """Click a link to another page and return once that page has loaded. Reading the page
    straight after the click can catch it between two documents, when its content is empty."""
    with page.expect_navigation():
        link.click()
