"""Sessions (security.md 13): idle and absolute timeouts; logout, a password change and a
disabled account end every session of the user, in every browser."""

import datetime

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from kaohe.accounts.models import UserSession
from kaohe.audit.models import AuditEntry
from tests.accounts.conftest import sign_in

pytestmark = pytest.mark.django_db

HOME = reverse("home")
LOGIN = reverse("login")
START = datetime.datetime(2030, 3, 4, 9, 0, tzinfo=datetime.UTC)


def _two_browsers(user):
    first, second = Client(), Client()
    first.force_login(user)
    second.force_login(user)
    assert first.get(HOME).status_code == second.get(HOME).status_code == 200
    return first, second


def _signed_out(client) -> bool:
    response = client.get(HOME)
    return response.status_code == 302 and response["Location"].startswith(LOGIN)


def test_signing_in_registers_the_session(client, personas):
    sign_in(client, "unit_a")
    registered = UserSession.objects.get(user=personas["unit"])
    assert registered.session_key == client.session.session_key


def test_sessions_that_expired_on_their_own_are_forgotten_at_the_next_sign_in(personas):
    unit = personas["unit"]
    first = Client()
    first.force_login(unit)
    Session.objects.filter(session_key=first.session.session_key).delete()
    Client().force_login(unit)
    assert UserSession.objects.filter(user=unit).count() == 1


@pytest.mark.parametrize("persona", ["unit", "office"])
def test_logout_ends_every_session_of_the_user(personas, persona):
    user = personas[persona]
    first, second = _two_browsers(user)
    first.post(reverse("logout"))
    assert _signed_out(first) and _signed_out(second)
    assert not UserSession.objects.filter(user=user).exists()
    assert AuditEntry.objects.get(action="auth.sessions_ended").data == {
        "reason": "logout", "count": 2}


def test_a_password_reset_by_an_administrator_ends_every_session(personas):
    unit = personas["unit"]
    first, second = _two_browsers(unit)
    unit.set_password("Chongzhi#2018xy")
    unit.save()
    assert _signed_out(first) and _signed_out(second)
    assert not Session.objects.filter(
        session_key__in=UserSession.objects.values("session_key")).exists()


def test_disabling_an_account_ends_every_session(personas):
    lead = personas["lead_reviewer"]
    first, second = _two_browsers(lead)
    lead.is_active = False
    lead.save(update_fields=["is_active"])
    assert _signed_out(first) and _signed_out(second)
    entry = AuditEntry.objects.get(action="auth.sessions_ended")
    assert entry.data == {"reason": "account_disabled", "count": 2}


def test_saving_an_active_user_leaves_the_sessions_alone(personas):
    unit = personas["unit"]
    first, second = _two_browsers(unit)
    unit.phone = "010-1234"
    unit.save()
    assert first.get(HOME).status_code == second.get(HOME).status_code == 200


def test_an_idle_session_times_out_with_a_chinese_message(client, personas):
    unit = personas["unit"]
    with time_machine.travel(START, tick=False) as clock:
        client.force_login(unit)
        clock.shift(datetime.timedelta(minutes=29))
        assert client.get(HOME).status_code == 200  # activity restarts the idle clock
        clock.shift(datetime.timedelta(minutes=29))
        assert client.get(HOME).status_code == 200
        clock.shift(datetime.timedelta(minutes=31))
        response = client.get(reverse("rounds:list"))
        assert response["Location"] == f"{LOGIN}?next=%2Frounds%2F"
        page = client.get(response["Location"]).content.decode()
        assert "您已超过 30 分钟未操作，为保障安全已自动退出，请重新登录。" in page
        assert _signed_out(client)
    entry = AuditEntry.objects.get(action="auth.session_expired")
    assert (entry.actor, entry.data) == (unit, {"reason": "idle"})
    assert not UserSession.objects.filter(user=unit).exists()


def test_the_idle_limit_comes_from_the_settings(client, personas, settings):
    settings.KAOHE_SESSION_IDLE_MINUTES = 5
    with time_machine.travel(START, tick=False) as clock:
        client.force_login(personas["unit"])
        clock.shift(datetime.timedelta(minutes=6))
        assert _signed_out(client)


def test_a_session_ends_after_the_absolute_limit_even_when_busy(client, personas):
    with time_machine.travel(START, tick=False) as clock:
        client.force_login(personas["unit"])
        for _ in range(8 * 3):  # a request every 20 minutes for eight hours
            clock.shift(datetime.timedelta(minutes=20))
            assert client.get(HOME).status_code == 200
        clock.shift(datetime.timedelta(minutes=1))
        response = client.get(HOME)
        assert response["Location"].startswith(LOGIN)
        assert "本次登录已超过 8 小时" in client.get(response["Location"]).content.decode()
    assert AuditEntry.objects.get(action="auth.session_expired").data == {"reason": "absolute"}


def test_a_timeout_in_one_browser_leaves_the_other_signed_in(personas):
    unit = personas["unit"]
    with time_machine.travel(START, tick=False) as clock:
        idle, busy = Client(), Client()
        idle.force_login(unit)
        busy.force_login(unit)
        for _ in range(4):
            clock.shift(datetime.timedelta(minutes=10))
            assert busy.get(HOME).status_code == 200
        assert _signed_out(idle)
        assert busy.get(HOME).status_code == 200
