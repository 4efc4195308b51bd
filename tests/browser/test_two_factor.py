"""Through the pages: the office binds an authenticator on its first sign-in (the security
administrator's enrolment code, then the QR code drawn in the page), signs in again with a
code, and a wrong code is refused in Chinese."""

import base64

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from kaohe.accounts.services import enrolment_code_issue
from kaohe.audit.models import AuditEntry
from tests.browser.conftest import _code_for, sign_in
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _password(page, url, username):
    page.context.clear_cookies()
    page.goto(f"{url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def test_first_sign_in_binds_an_authenticator_then_codes_are_asked(
    personas, live_server, page, screenshot
):
    url = live_server.url
    code = enrolment_code_issue(user=personas["office"], actor=personas["security_admin"])
    _password(page, url, "office")

    # 1. Enrolment: first the enrolment code from the security administrator; a wrong one
    # is refused in Chinese, and no secret is shown before the right one.
    assert page.url.startswith(f"{url}/accounts/two-factor/enrol/")
    assert page.locator("h1").inner_text() == "输入绑定码"
    assert page.locator("#secret").count() == 0
    page.fill("#id_enrolment_code", "ABCD-EFGH-JKMN")
    page.get_by_role("button", name="下一步").click()
    expect(page.get_by_text("绑定码不正确、已使用或已过期")).to_be_visible()
    screenshot("two-factor-enrolment-code")
    page.fill("#id_enrolment_code", code.lower())
    page.get_by_role("button", name="下一步").click()
    page.wait_for_selector("#secret")

    # Then the QR code is an SVG in the page, the secret is there to type by hand.
    assert page.locator("h1").inner_text() == "绑定认证器"
    qr = page.locator("#qr svg")
    assert qr.is_visible()
    assert qr.bounding_box()["width"] >= 200
    secret = "".join(page.locator("#secret").inner_text().split())
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    assert key == TOTPDevice.objects.get(user=personas["office"]).bin_key
    screenshot("two-factor-enrol")

    # Until a code is given, no other page opens; the page asked for comes after the code.
    page.goto(f"{url}/rounds/")
    assert page.url == f"{url}/accounts/two-factor/enrol/?next=%2Frounds%2F"

    page.fill("#id_code", _code_for(key))
    page.get_by_role("button", name="绑定并登录").click()
    page.wait_for_url(f"{url}/rounds/")
    assert page.get_by_text("已绑定认证器应用").is_visible()
    assert TOTPDevice.objects.get(user=personas["office"]).confirmed

    # 2. The next sign-in asks for the app's code; a wrong one is refused.
    _password(page, url, "office")
    assert page.url.startswith(f"{url}/accounts/two-factor/?")
    assert page.locator("h1").inner_text() == "两步验证"
    device = TOTPDevice.objects.get(user=personas["office"])
    right = _code_for(device.bin_key, drift=device.drift, last_t=device.last_t)
    page.fill("#id_code", f"{(int(right) + 1) % 1_000_000:06d}")
    page.get_by_role("button", name="验证").click()
    expect(page.get_by_text("验证码不正确或已使用过")).to_be_visible()
    screenshot("two-factor-wrong-code")

    # django-otp holds the next check back for a second after a wrong code.
    page.wait_for_timeout(1100)
    device.refresh_from_db()
    page.fill("#id_code", _code_for(device.bin_key, drift=device.drift, last_t=device.last_t))
    page.get_by_role("button", name="验证").click()
    page.wait_for_url(f"{url}/")
    assert "考核工作总览" in page.locator("h1").inner_text()
    screenshot("two-factor-signed-in")

    logged = list(AuditEntry.objects.filter(actor=personas["office"]).values_list(
        "action", flat=True))
    assert logged.count("auth.two_factor.verified") == 2
    assert "auth.two_factor.enrolled" in logged and "auth.two_factor.failed" in logged


def test_the_shared_helper_signs_in_with_and_without_a_device(personas, live_server, page):
    sign_in(page, live_server.url, "wg", PASSWORD)  # enrols
    sign_in(page, live_server.url, "wg", PASSWORD)  # types the code
    sign_in(page, live_server.url, "wg", PASSWORD)  # and again, a fresh code each time
    sign_in(page, live_server.url, "unit_a", PASSWORD)  # no second factor
    assert page.url == f"{live_server.url}/"
    assert TOTPDevice.objects.get(user=personas["working_group"]).confirmed
