"""Two factors (security.md 11): the confidential roles give a TOTP code after the password,
a code works once, and until then they reach no page but the two-factor pages."""

import base64
import datetime
import re

import pytest
import qrcode
import qrcode.image.svg
import time_machine
from django.core.checks import run_checks
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from kaohe.accounts import services
from kaohe.accounts.models import Role, UserSession
from kaohe.accounts.twofactor import TWO_FACTOR_ROLES
from kaohe.audit.models import AuditEntry
from tests.accounts.conftest import actions, code_for, give_enrolment_code, sign_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

ENROL = reverse("accounts:two_factor_enrol")
VERIFY = reverse("accounts:two_factor")
# A fixed moment, so the code of a test and the code of the server are the same step.
NOON = datetime.datetime(2030, 3, 4, 12, 0, 5, tzinfo=datetime.UTC)


def _confirmed_device(user):
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def _wrong_code(device):
    return f"{(int(code_for(device)) + 1) % 1_000_000:06d}"


def test_the_confidential_roles_need_two_factors_and_the_others_do_not():
    expected = {
        Role.OFFICE, Role.WORKING_GROUP, Role.LEAD_REVIEWER, Role.ORG_DEPARTMENT,
        Role.LEADING_GROUP, Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDITOR,
    }
    assert expected == TWO_FACTOR_ROLES
    assert not {Role.UNIT, Role.PROVINCE, Role.MILITARY_INSPECTOR} & TWO_FACTOR_ROLES


@pytest.mark.parametrize("persona", ["unit", "province", "military_inspector"])
def test_roles_without_two_factors_go_straight_home(client, personas, persona):
    response = sign_in(client, personas[persona].username)
    assert response["Location"] == reverse("home")
    assert client.get(reverse("home")).status_code == 200
    assert not TOTPDevice.objects.filter(user=personas[persona]).exists()


@pytest.mark.parametrize("persona", ["office", "lead_reviewer", "auditor"])
def test_without_a_device_the_password_leads_to_enrolment_and_nothing_else(
    client, personas, persona
):
    response = sign_in(client, personas[persona].username)
    assert response["Location"].startswith(ENROL)
    # Deny by default: pages, a POST and the audit log all lead back to enrolment.
    for url in (reverse("home"), reverse("rounds:list"), reverse("audit:list"),
                reverse("accounts:password_change")):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(ENROL), url
    response = client.post(reverse("rounds:copy", kwargs={"year": 2017}), {"year": 2018})
    assert response["Location"].startswith(ENROL)
    assert client.get(ENROL).status_code == 200


def test_the_enrolment_page_draws_the_qr_code_itself_and_shows_the_secret(client, personas):
    sign_in(client, "office")
    give_enrolment_code(client, personas["office"])
    page = client.get(ENROL).content.decode()
    device = TOTPDevice.objects.get(user=personas["office"], confirmed=False)
    qr = re.search(r'<div[^>]*id="qr"[^>]*>(.*?)</div>', page, re.S).group(1)
    # Inline SVG drawn by the server: no image fetched from anywhere, no script.
    assert qr.strip().startswith("<svg ") and "<path " in qr
    assert not re.search(r"<img|src=|href=|<script", qr)
    # It encodes the device's otpauth:// URI (secret and issuer included).
    drawn = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathFillImage,
                        border=2).to_string(encoding="unicode")
    assert re.search(r' d="([^"]+)"', drawn).group(1) in qr
    assert "issuer=" in device.config_url
    secret = re.search(r'id="secret">([A-Z2-7 ]+)<', page).group(1)
    assert base64.b32decode(secret.replace(" ", "")) == device.bin_key
    # A reload shows the same secret, so a code scanned a moment ago still works.
    assert secret in client.get(ENROL).content.decode()
    assert TOTPDevice.objects.filter(user=personas["office"]).count() == 1


def test_enrolment_is_confirmed_by_a_code_and_opens_the_pages(client, personas):
    office = personas["office"]
    with time_machine.travel(NOON, tick=False):
        sign_in(client, "office")
        give_enrolment_code(client, office)
        client.get(ENROL)
        device = TOTPDevice.objects.get(user=office)
        response = client.post(ENROL, {"code": code_for(device), "next": "/rounds/"})
    assert response["Location"] == "/rounds/"
    device.refresh_from_db()
    assert device.confirmed
    assert client.get(reverse("home")).status_code == 200
    entries = AuditEntry.objects.filter(target_id=str(office.pk))
    assert actions(entries) == ["auth.login", "auth.enrolment_code.issued",
                                "auth.enrolment_code.accepted", "auth.two_factor.enrolled",
                                "auth.two_factor.verified"]


def test_a_wrong_code_is_refused_with_a_chinese_message_and_logged(client, personas):
    office = personas["office"]
    device = _confirmed_device(office)
    with time_machine.travel(NOON, tick=False):
        response = sign_in(client, "office")
        assert response["Location"].startswith(VERIFY)
        response = client.post(VERIFY, {"code": _wrong_code(device)})
    assert response.status_code == 200
    assert "验证码不正确或已使用过" in response.content.decode()
    assert client.get(reverse("home"))["Location"].startswith(VERIFY)
    failed = AuditEntry.objects.get(action="auth.two_factor.failed")
    assert failed.success is False
    assert failed.actor == office
    assert failed.data == {"step": "verify", "reason": "wrong_code"}


def test_a_malformed_code_names_the_field(client, personas):
    _confirmed_device(personas["office"])
    sign_in(client, "office")
    response = client.post(VERIFY, {"code": "12ab"})
    assert "请输入认证器应用显示的 6 位数字验证码" in response.content.decode()


def test_a_device_owner_gives_a_code_after_the_password(client, personas):
    device = _confirmed_device(personas["working_group"])
    with time_machine.travel(NOON, tick=False):
        response = sign_in(client, "wg")
        assert response["Location"] == f"{VERIFY}?next=%2F"
        response = client.post(VERIFY, {"code": code_for(device), "next": "/"})
    assert response["Location"] == "/"
    assert client.get(reverse("home")).status_code == 200


def test_a_code_works_only_once(client, personas):
    """Replaying a code (from a shoulder or a proxy log) fails even within its 30 seconds."""
    device = _confirmed_device(personas["office"])
    with time_machine.travel(NOON, tick=False):
        code = code_for(device)
        sign_in(client, "office")
        assert client.post(VERIFY, {"code": code})["Location"] == "/"
        client.post(reverse("logout"))
        sign_in(client, "office")
        response = client.post(VERIFY, {"code": code})
        assert response.status_code == 200
        assert "验证码不正确或已使用过" in response.content.decode()
        assert client.get(reverse("home"))["Location"].startswith(VERIFY)
        # The next code of the app (30 seconds later) is accepted.
        later = code_for(device, at=NOON.timestamp() + 30)
    with time_machine.travel(NOON + datetime.timedelta(seconds=30), tick=False):
        assert client.post(VERIFY, {"code": later})["Location"] == "/"


def test_codes_right_after_a_wrong_one_are_held_back(client, personas):
    device = _confirmed_device(personas["office"])
    with time_machine.travel(NOON, tick=False):
        sign_in(client, "office")
        client.post(VERIFY, {"code": _wrong_code(device)})
        response = client.post(VERIFY, {"code": code_for(device)})
    assert "请稍候几秒再试" in response.content.decode()
    assert client.get(reverse("home"))["Location"].startswith(VERIFY)
    with time_machine.travel(NOON + datetime.timedelta(seconds=2), tick=False):
        assert client.post(VERIFY, {"code": code_for(device)})["Location"] == "/"


def test_the_next_page_must_be_on_this_site(client, personas):
    device = _confirmed_device(personas["office"])
    with time_machine.travel(NOON, tick=False):
        sign_in(client, "office")
        response = client.post(VERIFY, {"code": code_for(device),
                                        "next": "https://evil.example/"})
    assert response["Location"] == reverse("home")


def test_logout_is_open_before_the_code(client, personas):
    sign_in(client, "office")
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("home"))["Location"].startswith(reverse("login"))


def test_optional_mode_offers_the_second_factor_without_forcing_it(client, personas, settings):
    settings.KAOHE_TWO_FACTOR = "optional"
    response = sign_in(client, "office")
    assert response["Location"].startswith(ENROL)  # offered after the password
    page = client.get(response["Location"]).content.decode()
    assert "暂不绑定，继续（演示环境）" in page
    assert client.get(reverse("home")).status_code == 200  # but not forced


def test_the_deploy_check_warns_unless_two_factors_are_required(settings):
    def ids():
        return {m.id for m in run_checks(include_deployment_checks=True)}

    assert "kaohe.accounts.W001" not in ids()
    settings.KAOHE_TWO_FACTOR = "optional"
    assert "kaohe.accounts.W001" in ids()
    assert "kaohe.accounts.W001" not in {m.id for m in run_checks()}  # deploy only


# The security administrator's reset -------------------------------------------------------

def test_the_security_admin_resets_a_lost_device(client, personas):
    office, admin = personas["office"], personas["security_admin"]
    client.force_login(office)  # a complete sign-in with a (test) device
    assert client.get(reverse("home")).status_code == 200
    assert TOTPDevice.objects.filter(user=office).exists()

    assert services.reset_two_factor(user=office, actor=admin) == 1

    assert not TOTPDevice.objects.filter(user=office).exists()
    # The sessions of the user end; the next sign-in enrols a new device.
    assert client.get(reverse("home"))["Location"].startswith(reverse("login"))
    assert not UserSession.objects.filter(user=office).exists()
    assert sign_in(client, "office")["Location"].startswith(ENROL)
    entry = AuditEntry.objects.get(action="auth.two_factor.reset")
    assert (entry.actor, entry.target_id, entry.data) == (admin, str(office.pk), {"devices": 1})
    ended = AuditEntry.objects.get(action="auth.sessions_ended")
    assert ended.data == {"reason": "two_factor_reset", "count": 1}


@pytest.mark.parametrize("persona", ["system_admin", "auditor", "office", "unit"])
def test_only_the_security_admin_may_reset_a_device(personas, persona):
    office = personas["office"]
    _confirmed_device(office)
    with pytest.raises(PermissionDenied):
        services.reset_two_factor(user=office, actor=personas[persona])
    assert TOTPDevice.objects.filter(user=office).exists()
    assert not AuditEntry.objects.filter(action="auth.two_factor.reset").exists()


def test_the_test_clients_sign_in_includes_the_second_factor(client, personas):
    """tests/conftest.py: force_login and login stand for a whole sign-in."""
    client.force_login(personas["office"])
    assert client.get(reverse("home")).status_code == 200
    client.logout()
    assert client.login(username="wg", password=PASSWORD)
    assert client.get(reverse("home")).status_code == 200
    assert not client.login(username="wg", password="wrong")


def test_the_operator_resets_a_device_from_the_console_and_it_is_logged(personas):
    from django.core.management import CommandError, call_command

    user = personas["security_admin"]
    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    call_command("reset_two_factor", user.username, "--operator", "zhang")
    assert not TOTPDevice.objects.filter(user=user).exists()
    entry = AuditEntry.objects.filter(action="auth.two_factor.reset").latest("pk")
    assert entry.actor_id is None and "zhang" in entry.actor_repr
    with pytest.raises(CommandError, match="no user"):
        call_command("reset_two_factor", "nobody")
