"""No administrator can act as a business user alone (三员分立, security.md 26).

The attack this file reproduces: the system administrator opened an account with a business
role, or reset the password of `leader`, was shown the one-time password, signed in as that
user and, as an account without an authenticator enrolled one on its first sign-in (trust on
first use), read the ranking. Now the system administrator opens accounts without a role,
a one-time password must be changed at the first sign-in, and enrolling an authenticator
needs an enrolment code that only the security administrator issues (shown once, expires,
single use): the password of one administrator and the code of the other are both needed.
"""

import datetime
import os
import re
import subprocess
import sys

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from kaohe.accounts import models as account_models
from kaohe.accounts import services
from kaohe.accounts.models import Role, User
from kaohe.audit.models import AuditEntry
from tests.accounts.conftest import code_for, sign_in
from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db

ENROL = reverse("accounts:two_factor_enrol")
VERIFY = reverse("accounts:two_factor")
CHANGE = reverse("accounts:password_change")
RANKING = reverse("grading:index")
HOME = reverse("home")
NEW = "Xinmima#2018ab"
NOON = datetime.datetime(2030, 3, 4, 12, 0, 5, tzinfo=datetime.UTC)


def _create(client, **extra):
    return client.post(reverse("accounts:admin_user_create"), {
        "username": "zhao", "full_name": "赵六", "post": "", "phone": "010-6500999",
        "email": "", **extra})


def _reset_password(client, account) -> str:
    response = client.post(reverse("accounts:admin_user_password", kwargs={"pk": account.pk}))
    assert response.status_code == 200
    return response.context["password"]


def _issue_code(client, account) -> str:
    response = client.post(reverse("accounts:admin_user_enrolment_code",
                                   kwargs={"pk": account.pk}))
    assert response.status_code == 200, response.status_code
    return response.context["code"]


def _redeem(client, code) -> None:
    """Give the security administrator's code where the one-time password is replaced."""
    response = client.post(CHANGE, {"enrolment_code": code})
    assert response.status_code == 302 and response["Location"].startswith(CHANGE), response


def _all_entry_data() -> str:
    return " ".join(str(data) for data in AuditEntry.objects.values_list("data", flat=True))


def _try_to_enrol_as_the_attacker(client) -> None:
    """What the system administrator did: open the enrolment page, take the secret it
    shows, confirm it with a code from their own authenticator app."""
    page = client.get(ENROL).content.decode()
    secret = re.search(r'id="secret">([A-Z2-7 ]+)<', page)
    device = TOTPDevice.objects.filter(confirmed=False).order_by("-pk").first()
    if secret is not None and device is not None:
        client.post(ENROL, {"code": code_for(device)})


# -- The attack, step by step ----------------------------------------------------------------

def test_the_system_admin_cannot_give_a_new_account_a_business_role(personas, login):
    client = login(personas["system_admin"])
    page = client.get(reverse("accounts:admin_user_create"))
    assert "role" not in page.context["form"].fields
    assert 'name="role"' not in page.content.decode()

    response = _create(client, role=Role.LEADING_GROUP)
    assert response.status_code == 200
    account = User.objects.get(username="zhao")
    # The posted role is ignored: the account has none until the security admin grants one.
    assert account.role == ""
    assert (account.unit, account.province, account.lead_department) == (None, None, None)
    entry = AuditEntry.objects.get(action="account.created")
    assert entry.data["role"] == ""

    # Signed in with the one-time password (and the security admin's code), the account
    # sees nothing.
    them = Client()
    sign_in(them, "zhao", response.context["password"])
    _redeem(them, _issue_code(login(personas["security_admin"]), account))
    them.post(CHANGE, {"old_password": response.context["password"],
                       "new_password1": NEW, "new_password2": NEW})
    assert them.get(RANKING).status_code == 404
    assert "未授予角色" in them.get(HOME).content.decode()


def test_a_new_account_must_change_its_one_time_password_first(personas, login):
    password = _create(login(personas["system_admin"])).context["password"]
    them = Client()
    assert sign_in(them, "zhao", password).status_code == 302
    for url in (HOME, reverse("rounds:list")):
        response = them.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(CHANGE), url
    assert them.get(CHANGE).status_code == 200
    _redeem(them, _issue_code(login(personas["security_admin"]),
                              User.objects.get(username="zhao")))
    response = them.post(CHANGE, {"old_password": password, "new_password1": NEW,
                                  "new_password2": NEW})
    assert response.status_code == 302
    assert them.get(HOME).status_code == 200
    assert not User.objects.get(username="zhao").must_change_password


def test_the_one_time_password_cannot_be_kept_as_the_new_one(personas, login):
    password = _create(login(personas["system_admin"])).context["password"]
    them = Client()
    sign_in(them, "zhao", password)
    _redeem(them, _issue_code(login(personas["security_admin"]),
                              User.objects.get(username="zhao")))
    response = them.post(CHANGE, {"old_password": password, "new_password1": password,
                                  "new_password2": password})
    assert response.status_code == 200
    assert "新密码不能与当前密码相同" in response.content.decode()
    assert User.objects.get(username="zhao").must_change_password


def test_a_reset_password_of_a_leader_without_a_device_reaches_no_ranking(personas, login):
    """The reported attack: reset `leader`, sign in as leader, enrol a new authenticator."""
    leader = personas["leading_group"]
    assert not TOTPDevice.objects.filter(user=leader).exists()
    password = _reset_password(login(personas["system_admin"]), leader)

    attacker = Client()
    with time_machine.travel(NOON, tick=False):
        response = sign_in(attacker, "leader", password)
        assert response["Location"].startswith(ENROL)
        _try_to_enrol_as_the_attacker(attacker)
    # No authenticator was enrolled; the ranking and the password change stay out of reach.
    assert not TOTPDevice.objects.filter(user=leader, confirmed=True).exists()
    for url in (RANKING, HOME, CHANGE):
        response = attacker.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(ENROL), url
    page = attacker.get(ENROL).content.decode()
    assert 'id="secret"' not in page and "<svg" not in page
    assert "绑定码" in page
    assert not TOTPDevice.objects.filter(user=leader).exists()  # not even a pending one


def test_a_reset_password_of_a_leader_with_a_device_does_not_pass_the_second_factor(
    personas, login
):
    leader = personas["leading_group"]
    device = TOTPDevice.objects.create(user=leader, name="phone", confirmed=True)
    password = _reset_password(login(personas["system_admin"]), leader)
    leader.refresh_from_db()
    assert leader.must_change_password
    assert TOTPDevice.objects.filter(user=leader).count() == 1  # the reset keeps the device

    attacker = Client()
    with time_machine.travel(NOON, tick=False):
        assert sign_in(attacker, "leader", password)["Location"].startswith(VERIFY)
        wrong = f"{(int(code_for(device)) + 1) % 1_000_000:06d}"
        attacker.post(VERIFY, {"code": wrong})
    for url in (RANKING, CHANGE, ENROL):
        response = attacker.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(VERIFY), url


def test_the_sysadmin_cannot_issue_an_enrolment_code(personas, login):
    leader = personas["leading_group"]
    response = login(personas["system_admin"]).post(
        reverse("accounts:admin_user_enrolment_code", kwargs={"pk": leader.pk}))
    assert response.status_code == 404
    with pytest.raises(PermissionDenied):
        services.enrolment_code_issue(user=leader, actor=personas["system_admin"])
    assert not account_models.EnrolmentCode.objects.exists()


# -- Two people: the password of one, the code of the other ----------------------------------

def test_a_reset_account_enrols_with_the_security_admins_code_then_changes_its_password(
    personas, login
):
    leader = personas["leading_group"]
    owner = Client()
    with time_machine.travel(NOON, tick=False):
        password = _reset_password(login(personas["system_admin"]), leader)
        code = _issue_code(login(personas["security_admin"]), leader)
        sign_in(owner, "leader", password)
        response = owner.post(ENROL, {"enrolment_code": code.lower().replace("-", " "),
                                      "next": "/grading/"})
        assert response.status_code == 302
        assert response["Location"].startswith(ENROL)
        page = owner.get(ENROL).content.decode()
        assert 'id="secret"' in page and "<svg" in page
        device = TOTPDevice.objects.get(user=leader, confirmed=False)
        response = owner.post(ENROL, {"code": code_for(device), "next": "/grading/"})
        assert response["Location"] == "/grading/"
    device.refresh_from_db()
    assert device.confirmed
    # Then the one-time password, before anything else.
    response = owner.get(RANKING)
    assert response["Location"].startswith(CHANGE)
    owner.post(CHANGE, {"old_password": password, "new_password1": NEW, "new_password2": NEW})
    assert owner.get(RANKING).status_code == 200

    used = account_models.EnrolmentCode.objects.get(user=leader)
    assert used.used_at is not None
    assert code not in str(used.code_hash) and len(used.code_hash) == 64
    logged = list(AuditEntry.objects.filter(target_id=str(leader.pk)).values_list(
        "action", flat=True))
    for action in ("account.password_reset", "auth.enrolment_code.issued",
                   "auth.enrolment_code.accepted", "auth.two_factor.enrolled",
                   "auth.password_changed"):
        assert action in logged, action
    # Neither secret is written anywhere in the log.
    data = _all_entry_data()
    assert password not in data and code not in data and code.replace("-", "") not in data


def test_the_enrolment_code_is_shown_once_and_not_cached(personas, login):
    leader = personas["leading_group"]
    response = login(personas["security_admin"]).post(
        reverse("accounts:admin_user_enrolment_code", kwargs={"pk": leader.pk}))
    assert "no-store" in response["Cache-Control"]
    code = response.context["code"]
    assert code in response.content.decode()
    assert len(code.replace("-", "")) >= 12
    entry = AuditEntry.objects.get(action="auth.enrolment_code.issued")
    assert entry.actor == personas["security_admin"] and entry.target_id == str(leader.pk)
    assert code not in str(entry.data)
    # The detail page never shows it again.
    detail = login(personas["security_admin"]).get(
        reverse("accounts:admin_user_detail", kwargs={"pk": leader.pk})).content.decode()
    assert code not in detail


def test_an_enrolment_code_works_once(personas):
    leader = personas["leading_group"]
    code = services.enrolment_code_issue(user=leader, actor=personas["security_admin"])
    first = Client()
    sign_in(first, "leader")
    assert first.post(ENROL, {"enrolment_code": code})["Location"].startswith(ENROL)
    second = Client()
    sign_in(second, "leader")
    response = second.post(ENROL, {"enrolment_code": code})
    assert response.status_code == 200
    assert "绑定码不正确、已使用或已过期" in response.content.decode()
    assert 'id="secret"' not in second.get(ENROL).content.decode()
    failed = AuditEntry.objects.get(action="auth.enrolment_code.failed")
    assert failed.success is False and failed.data == {"reason": "used"}


def test_an_enrolment_code_expires(personas, settings):
    settings.KAOHE_ENROLMENT_CODE_HOURS = 72
    leader = personas["leading_group"]
    with time_machine.travel(NOON, tick=False):
        code = services.enrolment_code_issue(user=leader, actor=personas["security_admin"])
    expires_at = account_models.EnrolmentCode.objects.get().expires_at
    assert expires_at == NOON + datetime.timedelta(hours=72)
    client = Client()
    with time_machine.travel(NOON + datetime.timedelta(hours=72, seconds=1), tick=False):
        sign_in(client, "leader")
        response = client.post(ENROL, {"enrolment_code": code})
    assert "绑定码不正确、已使用或已过期" in response.content.decode()
    assert AuditEntry.objects.get(action="auth.enrolment_code.failed").data == {
        "reason": "expired"}


def test_a_new_code_replaces_the_previous_one(personas):
    leader, admin = personas["leading_group"], personas["security_admin"]
    old = services.enrolment_code_issue(user=leader, actor=admin)
    new = services.enrolment_code_issue(user=leader, actor=admin)
    client = Client()
    sign_in(client, "leader")
    assert client.post(ENROL, {"enrolment_code": old}).status_code == 200
    assert client.post(ENROL, {"enrolment_code": new}).status_code == 302


def test_a_code_is_for_its_own_account_only(personas):
    office = personas["office"]
    code = services.enrolment_code_issue(user=office, actor=personas["security_admin"])
    client = Client()
    sign_in(client, "leader")
    assert client.post(ENROL, {"enrolment_code": code}).status_code == 200
    assert AuditEntry.objects.get(action="auth.enrolment_code.failed").data == {
        "reason": "wrong"}


def test_wrong_enrolment_codes_count_towards_the_lockout(personas):
    client = Client()
    sign_in(client, "leader")
    statuses = [client.post(ENROL, {"enrolment_code": f"ABCD-EFGH-JKM{'NPQRSTUVWX'[n]}"})
                .status_code for n in range(settings.AXES_FAILURE_LIMIT)]
    assert statuses == [200] * (settings.AXES_FAILURE_LIMIT - 1) + [429]
    # The session ended; the password is locked too, even with a right code later.
    assert client.get(HOME)["Location"].startswith(reverse("login"))
    assert sign_in(client, "leader").status_code == 429
    assert AuditEntry.objects.filter(action="auth.enrolment_code.failed").count() == (
        settings.AXES_FAILURE_LIMIT)
    assert AuditEntry.objects.filter(action="auth.locked_out").exists()


def test_a_malformed_enrolment_code_names_the_field(personas):
    client = Client()
    sign_in(client, "leader")
    response = client.post(ENROL, {"enrolment_code": "<script>"})
    assert response.status_code == 200
    assert "绑定码" in " ".join(response.context["form"].errors["enrolment_code"])


def test_the_confirm_step_needs_an_accepted_code(personas, rf):
    """The service refuses to confirm a pending device in a session without a code."""
    leader = personas["leading_group"]
    device = TOTPDevice.objects.create(user=leader, name="x", confirmed=False)
    client = Client()
    sign_in(client, "leader")
    request = rf.post(ENROL)
    request.user = leader
    request.session = client.session
    with pytest.raises(PermissionDenied):
        services.two_factor_confirm(request=request, device=device, code=code_for(device))
    device.refresh_from_db()
    assert not device.confirmed


# -- The security administrator's side -------------------------------------------------------

def test_the_security_admin_cannot_issue_a_code_for_themself(personas, login):
    me = personas["security_admin"]
    client = login(me)
    response = client.post(reverse("accounts:admin_user_enrolment_code", kwargs={"pk": me.pk}))
    assert response.status_code == 404
    with pytest.raises(PermissionDenied):
        services.enrolment_code_issue(user=me, actor=me)
    assert not account_models.EnrolmentCode.objects.exists()


@pytest.mark.parametrize("persona", ["auditor", "office", "leading_group", "unit"])
def test_no_one_else_issues_enrolment_codes(personas, login, persona):
    leader = personas["lead_reviewer"]
    response = login(personas[persona]).post(
        reverse("accounts:admin_user_enrolment_code", kwargs={"pk": leader.pk}))
    assert response.status_code == 404
    assert not account_models.EnrolmentCode.objects.exists()


def test_no_code_for_an_account_that_has_a_device_or_needs_none(personas, login):
    client = login(personas["security_admin"])
    office = personas["office"]
    TOTPDevice.objects.create(user=office, name="phone", confirmed=True)
    for account in (office, personas["unit"]):
        response = client.post(reverse("accounts:admin_user_enrolment_code",
                                       kwargs={"pk": account.pk}), follow=True)
        assert response.status_code == 200
        assert "code" not in response.context
    assert not account_models.EnrolmentCode.objects.exists()
    content = response.content.decode()
    assert "无需两步验证" in content


def test_the_security_admins_reset_of_a_device_gives_no_password(personas, login):
    office = personas["office"]
    TOTPDevice.objects.create(user=office, name="phone", confirmed=True)
    response = login(personas["security_admin"]).post(
        reverse("accounts:admin_user_two_factor_reset", kwargs={"pk": office.pk}), follow=True)
    assert "password" not in response.context
    office.refresh_from_db()
    assert office.check_password(PASSWORD)
    assert not office.must_change_password
    # The security admin's code alone: without the password nobody signs in.
    code = _issue_code(login(personas["security_admin"]), office)
    client = Client()
    assert sign_in(client, "office", "not-the-password-1").status_code == 200
    assert client.post(ENROL, {"enrolment_code": code})["Location"].startswith(reverse("login"))


def test_the_console_operator_resets_a_device_and_gets_a_code(personas, capsys):
    admin = personas["security_admin"]
    TOTPDevice.objects.create(user=admin, name="phone", confirmed=True)
    call_command("reset_two_factor", admin.username, "--operator", "zhang")
    out = capsys.readouterr().out
    code = re.search(r"([A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4})", out).group(1)
    issued = AuditEntry.objects.get(action="auth.enrolment_code.issued")
    assert issued.actor_id is None and "zhang" in issued.actor_repr
    assert code not in _all_entry_data()
    client = Client()
    sign_in(client, admin.username)
    assert client.post(ENROL, {"enrolment_code": code})["Location"].startswith(ENROL)


# -- The owner is told --------------------------------------------------------------------

def test_the_owner_is_told_once_who_reset_the_password_and_when(personas, login):
    unit = personas["unit"]
    admin = personas["system_admin"]
    admin.full_name = "张管理"
    admin.save()
    with time_machine.travel(NOON, tick=False):
        password = _reset_password(login(admin), unit)
    owner = Client()
    sign_in(owner, "unit_a", password)
    page = owner.get(HOME, follow=True).content.decode()
    # 2030-03-04 12:00 UTC is 20:00 in Beijing.
    assert "您的密码已于 2030-03-04 20:00 由系统管理员 张管理（sys） 重置" in page
    owner.post(CHANGE, {"old_password": password, "new_password1": NEW, "new_password2": NEW})
    assert "由系统管理员" not in owner.get(HOME).content.decode()
    owner.post(reverse("logout"))
    sign_in(owner, "unit_a", NEW)
    assert "由系统管理员" not in owner.get(HOME).content.decode()
    assert AuditEntry.objects.filter(action="account.password_reset_notice_shown").count() == 1


def test_the_notice_waits_for_the_second_factor(personas, login):
    """Whoever cannot pass the second factor does not take the owner's notice away."""
    leader = personas["leading_group"]
    TOTPDevice.objects.create(user=leader, name="phone", confirmed=True)
    password = _reset_password(login(personas["system_admin"]), leader)
    attacker = Client()
    sign_in(attacker, "leader", password)
    assert "由系统管理员" not in attacker.get(VERIFY).content.decode()
    leader.refresh_from_db()
    assert leader.password_reset_notice_pending


def test_units_follow_the_same_rules(personas, login, world):
    """Units sign in without a second factor; the reset password is still one-time."""
    password = _reset_password(login(personas["system_admin"]), personas["unit"])
    them = Client()
    assert sign_in(them, "unit_a", password)["Location"] == HOME
    assert them.get(HOME)["Location"].startswith(CHANGE)


# -- A role that signs in with a password only (security.md 26) -------------------------------

PASSWORD_ONLY = ["unit", "province", "military_inspector"]


@pytest.mark.parametrize("persona", PASSWORD_ONLY)
def test_the_system_admin_cannot_take_over_a_password_only_account(personas, login, persona):
    """The attack: reset a unit's (province's, inspector's) password, sign in with the
    one-time password it showed, set a password only the administrator knows, act."""
    account = personas[persona]
    before = User.objects.get(pk=account.pk).password
    password = _reset_password(login(personas["system_admin"]), account)
    attacker = Client()
    sign_in(attacker, account.username, password)
    # Every page sends to the password change, which asks for the security admin's code.
    for url in (HOME, reverse("rounds:list"), CHANGE):
        response = attacker.get(url, follow=True)
        assert "accounts/password_change_code.html" in [t.name for t in response.templates]
    # A hand-made POST of the password form sets nothing.
    response = attacker.post(CHANGE, {"old_password": password, "new_password1": NEW,
                                      "new_password2": NEW})
    assert response.status_code == 200
    assert "accounts/password_change_code.html" in [t.name for t in response.templates]
    stored = User.objects.get(pk=account.pk)
    assert stored.must_change_password and stored.password != before
    assert stored.check_password(password) and not stored.check_password(NEW)
    assert attacker.get(HOME)["Location"].startswith(CHANGE)
    assert not AuditEntry.objects.filter(action="auth.password_changed").exists()


def test_the_password_service_refuses_a_one_time_password_without_the_code(personas, login,
                                                                           rf):
    """The rule lives in the service: any path that replaces the password asks for it."""
    unit = personas["unit"]
    _reset_password(login(personas["system_admin"]), unit)
    unit.refresh_from_db()
    request = rf.post(CHANGE)
    request.user = unit
    request.session = Client().session
    with pytest.raises(PermissionDenied):
        services.password_change(request=request, user=unit, password=NEW)
    unit.refresh_from_db()
    assert unit.must_change_password and not unit.check_password(NEW)


@pytest.mark.parametrize("persona", PASSWORD_ONLY)
def test_the_owner_sets_the_password_with_the_security_admins_code(personas, login, persona):
    account = personas[persona]
    password = _reset_password(login(personas["system_admin"]), account)
    code = _issue_code(login(personas["security_admin"]), account)
    owner = Client()
    sign_in(owner, account.username, password)
    _redeem(owner, code)
    response = owner.post(CHANGE, {"old_password": password, "new_password1": NEW,
                                   "new_password2": NEW})
    assert response.status_code == 302
    assert owner.get(HOME).status_code == 200
    account.refresh_from_db()
    assert not account.must_change_password and account.check_password(NEW)
    # With its own password the account needs no code; the next one-time password needs
    # a new one (the code worked once).
    assert "无需两步验证" in services.enrolment_code_refusal(account)
    password = _reset_password(login(personas["system_admin"]), account)
    again = Client()
    sign_in(again, account.username, password)
    assert again.post(CHANGE, {"enrolment_code": code}).status_code == 200
    assert User.objects.get(pk=account.pk).must_change_password


def test_a_code_given_in_one_session_does_not_open_another(personas, login):
    """The owner's code lets the session that gave it set the password, not the system
    administrator's session signed in with the same one-time password."""
    unit = personas["unit"]
    password = _reset_password(login(personas["system_admin"]), unit)
    code = _issue_code(login(personas["security_admin"]), unit)
    owner, attacker = Client(), Client()
    sign_in(owner, "unit_a", password)
    sign_in(attacker, "unit_a", password)
    _redeem(owner, code)
    attacker.post(CHANGE, {"old_password": password, "new_password1": NEW,
                           "new_password2": NEW})
    assert not User.objects.get(pk=unit.pk).check_password(NEW)


def test_the_sysadmin_cannot_issue_the_code_for_a_password_only_account(personas, login):
    unit = personas["unit"]
    _reset_password(login(personas["system_admin"]), unit)
    response = login(personas["system_admin"]).post(
        reverse("accounts:admin_user_enrolment_code", kwargs={"pk": unit.pk}))
    assert response.status_code == 404
    assert not account_models.EnrolmentCode.objects.exists()
    with pytest.raises(PermissionDenied):
        services.enrolment_code_issue(user=unit, actor=personas["system_admin"])


def test_no_code_for_a_password_only_account_without_a_one_time_password(personas, login):
    unit = personas["unit"]
    assert not unit.must_change_password
    assert "无需两步验证" in services.enrolment_code_refusal(unit)
    _reset_password(login(personas["system_admin"]), unit)
    unit.refresh_from_db()
    assert services.enrolment_code_refusal(unit) is None
    detail = login(personas["security_admin"]).get(
        reverse("accounts:admin_user_detail", kwargs={"pk": unit.pk})).content.decode()
    assert "首次修改一次性密码" in detail and "发放绑定码" in detail
    issued = login(personas["security_admin"]).post(
        reverse("accounts:admin_user_enrolment_code", kwargs={"pk": unit.pk}))
    assert "首次登录修改一次性密码所需的绑定码" in issued.content.decode()


def test_the_system_admin_manages_the_accounts_they_opened(personas, login):
    client = login(personas["system_admin"])
    _create(client)
    account = User.objects.get(username="zhao")
    detail = client.get(reverse("accounts:admin_user_detail", kwargs={"pk": account.pk}))
    assert "重置密码" in detail.content.decode()
    _reset_password(client, account)


def test_the_security_admin_grants_the_role_and_the_code_completes_the_account(
    personas, login
):
    """The whole way for a new leading-group member: three steps by two people."""
    password = _create(login(personas["system_admin"])).context["password"]
    account = User.objects.get(username="zhao")
    sec = login(personas["security_admin"])
    sec.post(reverse("accounts:admin_user_role", kwargs={"pk": account.pk}),
             {"role": Role.LEADING_GROUP})
    owner = Client()
    with time_machine.travel(NOON, tick=False):
        code = _issue_code(login(personas["security_admin"]), account)
        sign_in(owner, "zhao", password)
        owner.post(ENROL, {"enrolment_code": code})
        owner.get(ENROL)
        device = TOTPDevice.objects.get(user=account)
        owner.post(ENROL, {"code": code_for(device)})
    owner.post(CHANGE, {"old_password": password, "new_password1": NEW, "new_password2": NEW})
    assert owner.get(RANKING).status_code == 200


def test_demo_style_accounts_need_no_change(world):
    """Accounts made outside the administrators' pages (the demo, tests) keep their password."""
    user = User(username="demo-x", role=Role.UNIT, unit=world["unit_a"],
                password=make_password(PASSWORD))
    user.save()
    assert not user.must_change_password
    make_user("demo-y", Role.OFFICE)
    assert not User.objects.get(username="demo-y").must_change_password


@pytest.mark.parametrize(("value", "ok"), [("48", True), ("0", False), ("721", False),
                                           ("soon", False)])
def test_the_enrolment_code_hours_come_from_the_environment(value, ok, tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", "import kaohe.settings as s; print(s.KAOHE_ENROLMENT_CODE_HOURS)"],
        capture_output=True, text=True, check=False,
        env={**os.environ, "SECRET_KEY": "x", "KAOHE_DATA_DIR": str(tmp_path),
             "KAOHE_ENROLMENT_CODE_HOURS": value},
    )
    if ok:
        assert result.stdout.split() == [value]
    else:
        assert result.returncode != 0
        assert "KAOHE_ENROLMENT_CODE_HOURS" in result.stderr


def test_an_authenticator_kept_from_an_earlier_role_is_no_second_party(personas, login):
    """A lead reviewer made a unit keeps its authenticator, which a unit's sign-in never
    asks for: the reset password alone still sets no new one, and the owner can be given
    the code."""
    unit = personas["unit"]
    TOTPDevice.objects.create(user=unit, name="phone", confirmed=True)
    password = _reset_password(login(personas["system_admin"]), unit)
    attacker = Client()
    sign_in(attacker, "unit_a", password)
    attacker.post(CHANGE, {"old_password": password, "new_password1": NEW,
                           "new_password2": NEW})
    assert not User.objects.get(pk=unit.pk).check_password(NEW)
    assert attacker.get(HOME)["Location"].startswith(CHANGE)
    code = _issue_code(login(personas["security_admin"]), unit)
    owner = Client()
    sign_in(owner, "unit_a", password)
    _redeem(owner, code)
    owner.post(CHANGE, {"old_password": password, "new_password1": NEW, "new_password2": NEW})
    assert User.objects.get(pk=unit.pk).check_password(NEW)


def test_a_two_factor_account_that_passed_its_device_needs_no_code(personas, login):
    """The office's holder, after the device's code, replaces a reset password directly."""
    office = personas["office"]
    device = TOTPDevice.objects.create(user=office, name="phone", confirmed=True)
    password = _reset_password(login(personas["system_admin"]), office)
    owner = Client()
    with time_machine.travel(NOON, tick=False):
        sign_in(owner, "office", password)
        owner.post(VERIFY, {"code": code_for(device)})
        response = owner.post(CHANGE, {"old_password": password, "new_password1": NEW,
                                       "new_password2": NEW})
    assert response.status_code == 302
    assert User.objects.get(pk=office.pk).check_password(NEW)
