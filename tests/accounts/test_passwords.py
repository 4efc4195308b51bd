"""Password rules (GB/T 22239 level 3): length, complexity, a change page for everyone, and a
periodic change only where an installation sets a maximum age."""

import datetime

import pytest
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kaohe.accounts.models import User, UserSession
from kaohe.accounts.validators import ComplexityValidator
from kaohe.audit.models import AuditEntry
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

CHANGE = reverse("accounts:password_change")
NEW = "Xinmima#2018ab"


@pytest.mark.parametrize("password, ok", [
    ("abcdefghij", False),       # lower case only
    ("abcdefgh12", False),       # lower case, digits
    ("ABCDEFGH!!", False),       # upper case, symbols
    ("Abcdefgh12", True),        # upper, lower, digits
    ("abcdefgh1!", True),        # lower, digits, symbol
    ("ABCDEFGH1中", True),       # upper, digit, another script counts as a symbol
    ("Abc-Def-Ghi", True),
])
def test_a_password_needs_three_kinds_of_characters(password, ok):
    validator = ComplexityValidator(min_classes=3)
    if ok:
        validator.validate(password)
    else:
        with pytest.raises(ValidationError) as raised:
            validator.validate(password)
        assert raised.value.messages == ["密码须至少包含大写字母、小写字母、数字、符号中的 3 类。"]


def test_the_configured_rules_refuse_short_simple_and_common_passwords():
    for weak in ("Ab1!xyz", "abcdefghijkl", "Password123"):
        with pytest.raises(ValidationError):
            validate_password(weak)
    validate_password(NEW)


def test_every_user_has_a_password_change_link_and_page(login, personas):
    for persona in ("unit", "office", "auditor"):
        client = login(personas[persona])
        home = client.get(reverse("home")).content.decode()
        assert f'href="{CHANGE}"' in home
        page = client.get(CHANGE).content.decode()
        assert "修改密码" in page and "至少 10 位" in page


def test_a_wrong_old_password_or_a_simple_new_one_changes_nothing(login, personas):
    unit = personas["unit"]
    client = login(unit)
    response = client.post(CHANGE, {"old_password": "nope", "new_password1": NEW,
                                    "new_password2": NEW})
    assert response.status_code == 200
    assert "旧密码不正确" in response.content.decode()
    response = client.post(CHANGE, {"old_password": PASSWORD, "new_password1": "abcdefghijk1",
                                    "new_password2": "abcdefghijk1"})
    assert "密码须至少包含大写字母、小写字母、数字、符号中的 3 类" in response.content.decode()
    unit.refresh_from_db()
    assert unit.check_password(PASSWORD)
    assert not AuditEntry.objects.filter(action="auth.password_changed").exists()


def test_changing_the_password_ends_the_other_sessions_and_keeps_this_one(personas):
    unit = personas["unit"]
    here, elsewhere = Client(), Client()
    here.force_login(unit)
    elsewhere.force_login(unit)
    before = timezone.now()

    response = here.post(CHANGE, {"old_password": PASSWORD, "new_password1": NEW,
                                  "new_password2": NEW})

    assert response["Location"] == reverse("accounts:password_change_done")
    assert "密码已修改" in here.get(response["Location"]).content.decode()
    assert here.get(reverse("home")).status_code == 200
    assert elsewhere.get(reverse("home"))["Location"].startswith(reverse("login"))
    unit.refresh_from_db()
    assert unit.check_password(NEW)
    assert unit.password_changed_at >= before
    # Only the session that made the change is still registered, under its new key.
    assert list(UserSession.objects.filter(user=unit).values_list("session_key", flat=True)) \
        == [here.session.session_key]
    changed = AuditEntry.objects.get(action="auth.password_changed")
    assert changed.actor == unit
    assert AuditEntry.objects.get(action="auth.sessions_ended").data == {
        "reason": "password_changed", "count": 2}


def test_a_password_hash_upgrade_at_login_is_not_a_change(personas, settings, client):
    """Django re-hashes a password with the preferred hasher at login; that must not
    restart the password's age nor count as a change."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher",
                                 "django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    unit = personas["unit"]
    stamped = timezone.now() - datetime.timedelta(days=40)
    User.objects.filter(pk=unit.pk).update(
        password=make_password(PASSWORD, hasher="pbkdf2_sha256"), password_changed_at=stamped)
    # Another browser is signed in: a change would end its session and log that.
    Client().force_login(unit)
    assert client.post(reverse("login"), {"username": "unit_a", "password": PASSWORD})[
        "Location"] == "/"
    unit.refresh_from_db()
    assert unit.password.startswith("md5$")  # upgraded
    assert unit.password_changed_at == stamped
    assert not AuditEntry.objects.filter(action="auth.sessions_ended").exists()


def test_an_expired_password_must_be_changed_first(login, personas, settings):
    settings.KAOHE_PASSWORD_MAX_AGE_DAYS = 90
    unit = personas["unit"]
    User.objects.filter(pk=unit.pk).update(
        password_changed_at=timezone.now() - datetime.timedelta(days=91))
    client = login(unit)
    response = client.get(reverse("rounds:list"))
    assert response["Location"] == f"{CHANGE}?next=%2Frounds%2F"
    page = client.get(response["Location"]).content.decode()
    assert "您的密码已超过 90 天未修改，请先修改密码。" in page
    client.post(CHANGE, {"old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW})
    assert client.get(reverse("rounds:list")).status_code == 200


def test_without_a_maximum_age_old_passwords_are_not_forced_to_change(login, personas,
                                                                     settings):
    settings.KAOHE_PASSWORD_MAX_AGE_DAYS = 0
    unit = personas["unit"]
    User.objects.filter(pk=unit.pk).update(
        password_changed_at=timezone.now() - datetime.timedelta(days=3650))
    assert login(unit).get(reverse("rounds:list")).status_code == 200


def test_an_account_without_a_recorded_change_counts_from_when_it_was_made(login, personas,
                                                                           settings):
    settings.KAOHE_PASSWORD_MAX_AGE_DAYS = 90
    unit = personas["unit"]
    User.objects.filter(pk=unit.pk).update(
        password_changed_at=None, date_joined=timezone.now() - datetime.timedelta(days=100))
    assert login(unit).get(reverse("home"))["Location"].startswith(CHANGE)
    User.objects.filter(pk=unit.pk).update(date_joined=timezone.now())
    assert login(unit).get(reverse("home")).status_code == 200
