"""Signing in through the pages, as a browser does: password, then the second factor."""

import time

import pytest
from django.urls import reverse
from django_otp.oath import TOTP

from tests.conftest import PASSWORD


def sign_in(client, username, password=PASSWORD, **extra):
    """Post the login form; returns the response (a redirect when the password is right)."""
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


def code_for(device, at: float | None = None) -> str:
    """The code the user's authenticator app shows at `at` (default: now)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, 0)
    totp.time = time.time() if at is None else at
    return f"{totp.token():0{device.digits}d}"


def give_enrolment_code(client, user):
    """What an owner without an authenticator does first: type the enrolment code the
    security administrator gave them (here issued as the console operator would)."""
    from kaohe.accounts.services import enrolment_code_issue_from_console

    code = enrolment_code_issue_from_console(user=user, operator="test")
    response = client.post(reverse("accounts:two_factor_enrol"), {"enrolment_code": code})
    assert response.status_code == 302, response.status_code
    return response


def actions(entries):
    return [entry.action for entry in entries]


@pytest.fixture
def no_throttle(settings):
    """django-otp waits 1, 2, 4… seconds after a wrong code; tests that type several codes
    in a row turn that off (the wait itself is tested separately)."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
