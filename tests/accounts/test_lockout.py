"""Lockout (security.md 12): a username at an address is locked after repeated failures,
passwords and second-factor codes alike; the lock lives in the shared database and is logged."""

import datetime
import os
import subprocess
import sys

import pytest
import time_machine
from axes.models import AccessAttempt
from django.conf import settings
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from kaohe.audit.models import AuditEntry
from tests.accounts.conftest import code_for, sign_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

VERIFY = reverse("accounts:two_factor")
NOON = datetime.datetime(2030, 3, 4, 12, 0, 5, tzinfo=datetime.UTC)


def _fail(client, username, times, **extra):
    return [sign_in(client, username, "wrong-password", **extra) for _ in range(times)]


def test_axes_checks_before_the_password_backend():
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert settings.AXES_HANDLER == "axes.handlers.database.AxesDatabaseHandler"
    assert settings.AXES_FAILURE_LIMIT == 5


def test_five_wrong_passwords_lock_the_username_at_that_address(client, personas):
    responses = _fail(client, "unit_a", 5)
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 429]
    page = responses[-1].content.decode()
    assert "登录已锁定" in page and "30 分钟后再试" in page
    # Now even the right password is refused, and nobody is signed in.
    response = sign_in(client, "unit_a")
    assert response.status_code == 429
    assert client.get(reverse("home"))["Location"].startswith(reverse("login"))


def test_the_lock_is_logged(client, personas):
    _fail(client, "unit_a", 5)
    locked = AuditEntry.objects.get(action="auth.locked_out")
    assert (locked.actor_repr, locked.ip, locked.success) == ("unit_a", "127.0.0.1", False)
    assert locked.target_id == str(personas["unit"].pk)
    assert locked.data == {"failures": 5}
    assert AuditEntry.objects.filter(action="auth.login_failed").count() == 5


def test_the_lock_is_for_that_username_and_that_address_only(client, personas):
    _fail(client, "unit_a", 5)
    # The same person from another address, another person from the same address.
    assert sign_in(client, "unit_a", REMOTE_ADDR="10.1.2.3")["Location"] == "/"
    client.logout()
    assert sign_in(client, "unit_b")["Location"] == "/"


def test_the_lock_is_kept_in_the_database_shared_by_the_app_servers(client, personas):
    _fail(client, "unit_a", 5)
    attempt = AccessAttempt.objects.get(username="unit_a")
    assert (attempt.ip_address, attempt.failures_since_start) == ("127.0.0.1", 5)
    assert "wrong-password" not in attempt.post_data


def test_the_lock_ends_after_the_cool_off(client, personas):
    with time_machine.travel(NOON, tick=False):
        _fail(client, "unit_a", 5)
    with time_machine.travel(NOON + datetime.timedelta(minutes=29), tick=False):
        assert sign_in(client, "unit_a").status_code == 429
    with time_machine.travel(NOON + datetime.timedelta(minutes=61), tick=False):
        assert sign_in(client, "unit_a")["Location"] == "/"


def test_wrong_codes_count_towards_the_same_lock(client, personas, no_throttle):
    device = TOTPDevice.objects.create(user=personas["office"], name="phone", confirmed=True)
    with time_machine.travel(NOON, tick=False):
        _fail(client, "office", 2)
        sign_in(client, "office")
        wrong = f"{(int(code_for(device)) + 1) % 1_000_000:06d}"
        statuses = [client.post(VERIFY, {"code": wrong}).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
        # The session of the locked-out sign-in has ended; the password is locked too.
        assert client.get(reverse("home"))["Location"].startswith(reverse("login"))
        assert sign_in(client, "office").status_code == 429
    assert AuditEntry.objects.filter(action="auth.two_factor.failed").count() == 3
    assert AuditEntry.objects.filter(action="auth.locked_out").exists()


def test_a_locked_user_cannot_try_codes(client, personas):
    device = TOTPDevice.objects.create(user=personas["office"], name="phone", confirmed=True)
    with time_machine.travel(NOON, tick=False):
        sign_in(client, "office")
        _fail(client.__class__(), "office", 5)  # someone else, from the same address
        response = client.post(VERIFY, {"code": code_for(device)})
    assert response.status_code == 429
    device.refresh_from_db()
    assert device.last_t == -1  # the code was never checked


@pytest.mark.parametrize("env, error", [
    ({"KAOHE_LOGIN_FAILURE_LIMIT": "7", "KAOHE_LOGIN_COOLOFF_MINUTES": "45"}, None),
    ({"KAOHE_LOGIN_FAILURE_LIMIT": "0"}, "KAOHE_LOGIN_FAILURE_LIMIT"),
    ({"KAOHE_LOGIN_FAILURE_LIMIT": "five"}, "KAOHE_LOGIN_FAILURE_LIMIT"),
    ({"KAOHE_TWO_FACTOR": "sometimes"}, "KAOHE_TWO_FACTOR"),
    ({"KAOHE_SESSION_IDLE_MINUTES": "0"}, "KAOHE_SESSION_IDLE_MINUTES"),
    ({"KAOHE_TRUSTED_PROXIES": "127.0.0.1,10.0.0.0/33"}, "'10.0.0.0/33' is not an IP"),
    ({"KAOHE_TRUSTED_PROXIES": "nginx.local"}, "KAOHE_TRUSTED_PROXIES: 'nginx.local'"),
])
def test_the_settings_come_from_the_environment_and_refuse_bad_values(env, error, tmp_path):
    script = ("import kaohe.settings as s; "
              "print(s.AXES_FAILURE_LIMIT, int(s.AXES_COOLOFF_TIME.total_seconds() // 60))")
    result = subprocess.run(  # noqa: S603 - the test's own interpreter and script
        [sys.executable, "-c", script], capture_output=True, text=True, check=False,
        env={**os.environ, "SECRET_KEY": "x", "KAOHE_DATA_DIR": str(tmp_path), **env},
    )
    if error is None:
        assert result.stdout.split() == ["7", "45"]
    else:
        assert result.returncode != 0
        assert "ImproperlyConfigured" in result.stderr and error in result.stderr


def test_client_login_still_works_with_axes(client, personas):
    assert client.login(username="unit_a", password=PASSWORD)
    assert client.get(reverse("home")).status_code == 200


# -- Behind a proxy (security.md 31) ------------------------------------------------------


@pytest.fixture
def behind_proxy(settings):
    from kaohe.lib.clientip import parse_trusted_proxies

    settings.KAOHE_TRUSTED_PROXIES = parse_trusted_proxies(["10.0.0.0/8"], name="test")
    return {"REMOTE_ADDR": "10.0.0.2"}


def test_behind_a_proxy_the_lock_is_for_the_client_address(client, personas, behind_proxy):
    _fail(client, "unit_a", 5, HTTP_X_FORWARDED_FOR="203.0.113.5", **behind_proxy)
    assert sign_in(client, "unit_a", HTTP_X_FORWARDED_FOR="203.0.113.5",
                   **behind_proxy).status_code == 429
    # The real user, behind the same proxy at another address, is not locked out.
    assert sign_in(client, "unit_a", HTTP_X_FORWARDED_FOR="198.51.100.20",
                   **behind_proxy)["Location"] == "/"
    attempt = AccessAttempt.objects.get(username="unit_a")
    assert attempt.ip_address == "203.0.113.5"
    assert set(AuditEntry.objects.filter(action="auth.locked_out").values_list(
        "ip", flat=True)) == {"203.0.113.5"}
    assert set(AuditEntry.objects.filter(action="auth.login_failed").values_list(
        "ip", flat=True)) == {"203.0.113.5"}
    assert AuditEntry.objects.get(action="auth.login").ip == "198.51.100.20"


def test_a_forged_forwarded_address_does_not_escape_the_lock(client, personas, behind_proxy):
    _fail(client, "unit_a", 5, HTTP_X_FORWARDED_FOR="203.0.113.5", **behind_proxy)
    # The attacker prepends another address: the proxy still appends the real one.
    forged = "198.51.100.20, 203.0.113.5"
    assert sign_in(client, "unit_a", HTTP_X_FORWARDED_FOR=forged,
                   **behind_proxy).status_code == 429


def test_without_a_trusted_proxy_the_forwarded_header_is_ignored(client, personas):
    for n in range(5):
        sign_in(client, "unit_a", "wrong-password", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
    assert sign_in(client, "unit_a", HTTP_X_FORWARDED_FOR="198.51.100.20").status_code == 429
    assert AccessAttempt.objects.get(username="unit_a").ip_address == "127.0.0.1"
