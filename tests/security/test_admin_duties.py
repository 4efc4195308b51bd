"""The three administrator duties (等保 三员, security.md 14): what each one does, and that
none of them can do another's work. A refused page answers 404 and changes nothing."""

import pytest
from django.conf import settings
from django.urls import reverse

from kaohe.accounts.models import Role, User
from kaohe.audit.models import AuditEntry
from tests.conftest import PASSWORD, make_user


@pytest.fixture
def target(world):
    """A unit's account, the object the administrators act upon."""
    user = make_user("liu", Role.UNIT, unit=world["unit_a"])
    user.phone = "010-6500001"
    user.save()
    return user


def _detail(user):
    return reverse("accounts:admin_user_detail", kwargs={"pk": user.pk})


def _all_entry_data() -> str:
    return " ".join(str(data) for data in AuditEntry.objects.values_list("data", flat=True))


# -- System administrator: accounts ----------------------------------------------------------

CREATE = {"username": "zhang.san", "full_name": "张三", "post": "处长", "phone": "010-6500123",
          "email": "zhangsan@example.cn"}


def test_the_system_admin_creates_an_account_with_a_one_time_password(personas, login, world):
    response = login(personas["system_admin"]).post(reverse("accounts:admin_user_create"),
                                                    CREATE)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    account = User.objects.get(username="zhang.san")
    # Without a role: the security administrator grants it (三员分立).
    assert (account.role, account.unit, account.full_name, account.phone) == (
        "", None, "张三", "010-6500123")
    assert account.must_change_password
    password = response.context["password"]
    assert len(password) >= 12
    assert password in response.content.decode()
    assert account.check_password(password)
    entry = AuditEntry.objects.get(action="account.created")
    assert entry.actor == personas["system_admin"]
    assert entry.target_id == str(account.pk)
    assert entry.data == {"username": "zhang.san", "role": ""}
    # The password is shown once and stored nowhere in clear.
    assert password not in _all_entry_data()


@pytest.mark.parametrize(("extra", "field", "message"), [
    ({"phone": "call me maybe"}, "phone", "有效的联系电话"),
    ({"username": "has space"}, "username", ""),
    ({"username": "liu"}, "username", ""),
    ({"full_name": ""}, "full_name", ""),
])
def test_an_invalid_account_is_refused_naming_the_field(personas, login, world, target, extra,
                                                        field, message):
    data = {**CREATE, **extra}
    before = User.objects.count()
    response = login(personas["system_admin"]).post(reverse("accounts:admin_user_create"), data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors
    assert "password" not in response.context
    if message:
        assert message in " ".join(errors[field])
    assert User.objects.count() == before
    assert not AuditEntry.objects.filter(action="account.created").exists()


@pytest.mark.parametrize("role", [Role.LEADING_GROUP, Role.OFFICE, Role.WORKING_GROUP,
                                  Role.UNIT, Role.AUDITOR, Role.SECURITY_ADMIN])
def test_a_role_posted_by_the_system_admin_is_not_granted(personas, login, world, role):
    """Issue 15: the system admin opened a leading-group account, signed in with its
    one-time password and read the ranking. Roles are the security admin's to grant."""
    client = login(personas["system_admin"])
    assert "role" not in client.get(reverse("accounts:admin_user_create")).context["form"].fields
    client.post(reverse("accounts:admin_user_create"),
                {**CREATE, "role": role, "unit": world["unit_a"].pk,
                 "lead_department": world["lead_a"].pk, "is_liaison": "on"})
    account = User.objects.get(username="zhang.san")
    assert (account.role, account.unit, account.lead_department, account.is_liaison) == (
        "", None, None, False)
    assert account.must_change_password


def test_the_system_admin_edits_contact_data(personas, login, target):
    client = login(personas["system_admin"])
    response = client.post(reverse("accounts:admin_user_edit", kwargs={"pk": target.pk}),
                           {"full_name": "刘备", "post": "副司长", "phone": "010-6500002",
                            "email": ""})
    assert response.status_code == 302
    target.refresh_from_db()
    assert (target.full_name, target.post, target.phone) == ("刘备", "副司长", "010-6500002")
    entry = AuditEntry.objects.get(action="account.contact_changed")
    assert entry.data["changed"]["phone"] == ["010-6500001", "010-6500002"]
    assert "role" not in entry.data["changed"]


def test_the_contact_form_cannot_change_the_role(personas, login, target):
    login(personas["system_admin"]).post(
        reverse("accounts:admin_user_edit", kwargs={"pk": target.pk}),
        {"full_name": "刘", "phone": "010-6500001", "role": Role.OFFICE, "unit": "",
         "is_superuser": "on"})
    target.refresh_from_db()
    assert target.role == Role.UNIT and target.unit_id is not None
    assert not target.is_superuser


def test_a_bad_phone_number_is_refused_and_nothing_is_saved(personas, login, target):
    response = login(personas["system_admin"]).post(
        reverse("accounts:admin_user_edit", kwargs={"pk": target.pk}),
        {"full_name": "刘备", "phone": "<script>"})
    assert response.status_code == 200
    assert "有效的联系电话" in response.content.decode()
    target.refresh_from_db()
    assert target.full_name == "liu"
    assert not AuditEntry.objects.filter(action="account.contact_changed").exists()


def test_the_system_admin_disables_and_enables_an_account(personas, login, target, client):
    client.force_login(target)
    assert client.get(reverse("home")).status_code == 200
    admin = login  # the same client: sign in as the administrator afterwards
    admin(personas["system_admin"]).post(
        reverse("accounts:admin_user_active", kwargs={"pk": target.pk}), {"active": "0"})
    target.refresh_from_db()
    assert not target.is_active
    assert AuditEntry.objects.filter(action="account.disabled", target_id=str(target.pk)).exists()
    assert not client.login(username="liu", password=PASSWORD)
    client.force_login(personas["system_admin"])
    client.post(reverse("accounts:admin_user_active", kwargs={"pk": target.pk}), {"active": "1"})
    target.refresh_from_db()
    assert target.is_active
    assert AuditEntry.objects.filter(action="account.enabled").count() == 1


def test_a_disabled_account_loses_its_open_session(personas, target, client):
    from django.test import Client

    theirs = Client()
    theirs.force_login(target)
    assert theirs.get(reverse("home")).status_code == 200
    client.force_login(personas["system_admin"])
    client.post(reverse("accounts:admin_user_active", kwargs={"pk": target.pk}), {"active": "0"})
    response = theirs.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_bad_active_value_changes_nothing(personas, login, target):
    response = login(personas["system_admin"]).post(
        reverse("accounts:admin_user_active", kwargs={"pk": target.pk}), {"active": "maybe"})
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.is_active
    assert not AuditEntry.objects.filter(action__startswith="account.").exists()


def test_the_system_admin_resets_a_password(personas, login, target):
    response = login(personas["system_admin"]).post(
        reverse("accounts:admin_user_password", kwargs={"pk": target.pk}))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    password = response.context["password"]
    target.refresh_from_db()
    assert target.check_password(password)
    assert not target.check_password(PASSWORD)
    # One-time: changed at the next sign-in, which tells the owner who reset it.
    assert target.must_change_password and target.password_reset_notice_pending
    assert target.password_reset_by == personas["system_admin"]
    entry = AuditEntry.objects.get(action="account.password_reset")
    assert entry.actor == personas["system_admin"] and entry.target_id == str(target.pk)
    assert password not in _all_entry_data()


def test_two_resets_give_two_different_passwords(personas, login, target):
    client = login(personas["system_admin"])
    url = reverse("accounts:admin_user_password", kwargs={"pk": target.pk})
    assert client.post(url).context["password"] != client.post(url).context["password"]


def test_a_password_reset_needs_a_post(personas, login, target):
    response = login(personas["system_admin"]).get(
        reverse("accounts:admin_user_password", kwargs={"pk": target.pk}))
    assert response.status_code == 405
    target.refresh_from_db()
    assert target.check_password(PASSWORD)


@pytest.mark.parametrize("admin", ["sys", "sec", "aud"])
def test_the_system_admin_cannot_touch_an_administrator_account(personas, login, admin):
    account = User.objects.get(username=admin)
    client = login(personas["system_admin"])
    kwargs = {"pk": account.pk}
    assert client.get(reverse("accounts:admin_user_edit", kwargs=kwargs)).status_code == 404
    assert client.post(reverse("accounts:admin_user_edit", kwargs=kwargs),
                       {"full_name": "x", "phone": "010-1"}).status_code == 404
    assert client.post(reverse("accounts:admin_user_active", kwargs=kwargs),
                       {"active": "0"}).status_code == 404
    assert client.post(reverse("accounts:admin_user_password", kwargs=kwargs)).status_code == 404
    account.refresh_from_db()
    assert account.is_active and account.check_password(PASSWORD)
    assert not AuditEntry.objects.filter(action__startswith="account.").exists()


def test_the_system_admin_reads_the_settings_without_secrets(personas, login):
    response = login(personas["system_admin"]).get(reverse("accounts:admin_settings"))
    content = response.content.decode()
    assert response.status_code == 200
    for name in ("SECURE_HSTS_SECONDS", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_HTTPONLY",
                 "CONTENT_SECURITY_POLICY", "AUDIT_RETENTION_DAYS", "ALLOWED_HOSTS"):
        assert name in content
    assert "frame-ancestors &#x27;none&#x27;" in content
    assert settings.SECRET_KEY not in content
    assert "SECRET_KEY" not in content
    assert AuditEntry.objects.filter(action="security.settings.viewed",
                                     actor=personas["system_admin"]).count() == 1


@pytest.mark.parametrize(("method", "route", "kwargs"), [
    ("get", "audit:list", False), ("get", "audit:export", False),
    ("get", "accounts:admin_user_role", True), ("post", "accounts:admin_user_role", True),
    ("post", "accounts:admin_user_unlock", True),
    ("post", "accounts:admin_user_two_factor_reset", True),
    ("post", "accounts:admin_user_enrolment_code", True),
    ("get", "accounts:admin_security_policy", False),
])
def test_the_system_admin_cannot_do_the_other_duties(personas, login, target, method, route,
                                                     kwargs):
    url = reverse(route, kwargs={"pk": target.pk} if kwargs else None)
    response = getattr(login(personas["system_admin"]), method)(
        url, {"role": Role.AUDITOR, "unit": ""})
    assert response.status_code == 404
    target.refresh_from_db()
    assert target.role == Role.UNIT


# -- Security administrator: roles, lockouts, second factors -------------------------------

def test_the_security_admin_grants_another_role_and_scope(personas, login, world, target):
    response = login(personas["security_admin"]).post(
        reverse("accounts:admin_user_role", kwargs={"pk": target.pk}),
        {"role": Role.PROVINCE, "province": world["province_a"].pk})
    assert response.status_code == 302
    target.refresh_from_db()
    assert (target.role, target.unit, target.province) == (
        Role.PROVINCE, None, world["province_a"])
    entry = AuditEntry.objects.get(action="account.role_changed")
    assert entry.actor == personas["security_admin"]
    assert entry.data["from"]["role"] == Role.UNIT
    assert entry.data["from"]["unit"] == world["unit_a"].pk
    assert entry.data["to"] == {"role": Role.PROVINCE, "unit": None,
                                "province": world["province_a"].pk, "lead_department": None,
                                "is_liaison": False}


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN])
def test_the_security_admin_grants_administrator_roles(personas, login, target, role):
    login(personas["security_admin"]).post(
        reverse("accounts:admin_user_role", kwargs={"pk": target.pk}), {"role": role})
    target.refresh_from_db()
    assert target.role == role and target.unit is None


@pytest.mark.parametrize(("data", "field"), [
    ({"role": Role.PROVINCE}, "province"),
    ({"role": Role.AUDITOR, "unit": "keep"}, "unit"),
    ({"role": Role.OFFICE, "is_liaison": "on"}, "is_liaison"),
    ({"role": "root"}, "role"),
])
def test_a_role_without_its_scope_is_refused_and_nothing_changes(personas, login, target, data,
                                                                 field):
    if data.get("unit") == "keep":
        data = {**data, "unit": target.unit_id}
    response = login(personas["security_admin"]).post(
        reverse("accounts:admin_user_role", kwargs={"pk": target.pk}), data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    target.refresh_from_db()
    assert target.role == Role.UNIT and target.unit is not None
    assert not AuditEntry.objects.filter(action="account.role_changed").exists()


def test_the_security_admin_cannot_change_their_own_role(personas, login):
    me = personas["security_admin"]
    client = login(me)
    url = reverse("accounts:admin_user_role", kwargs={"pk": me.pk})
    assert client.get(url).status_code == 404
    assert client.post(url, {"role": Role.AUDITOR}).status_code == 404
    me.refresh_from_db()
    assert me.role == Role.SECURITY_ADMIN


def _fail_to_sign_in(client, username, times):
    for _i in range(times):
        client.post(reverse("login"), {"username": username, "password": "wrong-password-1"})


def test_the_security_admin_unlocks_a_locked_out_login(personas, client, target):
    from django.test import Client

    stranger = Client()
    _fail_to_sign_in(stranger, "liu", settings.AXES_FAILURE_LIMIT)
    refused = stranger.post(reverse("login"), {"username": "liu", "password": PASSWORD})
    assert refused.status_code == settings.AXES_HTTP_RESPONSE_CODE

    client.force_login(personas["security_admin"])
    detail = client.get(_detail(target))
    assert "127.0.0.1" in detail.content.decode()  # where the failures came from
    response = client.post(reverse("accounts:admin_user_unlock", kwargs={"pk": target.pk}))
    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="account.unlocked")
    assert entry.actor == personas["security_admin"] and entry.target_id == str(target.pk)
    assert entry.data["attempts_cleared"] >= 1

    signed_in = Client().post(reverse("login"), {"username": "liu", "password": PASSWORD})
    assert signed_in.status_code == 302


def test_unlocking_an_account_that_is_not_locked_says_so(personas, login, target):
    client = login(personas["security_admin"])
    response = client.post(reverse("accounts:admin_user_unlock", kwargs={"pk": target.pk}),
                           follow=True)
    assert "没有登录失败记录" in response.content.decode()
    assert AuditEntry.objects.get(action="account.unlocked").data == {"attempts_cleared": 0}


def test_the_security_admin_resets_a_second_factor(personas, login):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    office = personas["office"]
    TOTPDevice.objects.create(user=office, name="phone", confirmed=True)
    client = login(personas["security_admin"])
    assert "已绑定 1 个验证器" in client.get(_detail(office)).content.decode()
    response = client.post(reverse("accounts:admin_user_two_factor_reset",
                                   kwargs={"pk": office.pk}))
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=office).exists()
    entry = AuditEntry.objects.get(action="auth.two_factor.reset")
    assert entry.actor == personas["security_admin"] and entry.target_id == str(office.pk)


def test_the_security_admin_cannot_reset_their_own_second_factor(personas, login):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    me = personas["security_admin"]
    client = login(me)  # the test sign-in gives the security admin a device
    devices = TOTPDevice.objects.filter(user=me).count()
    response = client.post(reverse("accounts:admin_user_two_factor_reset", kwargs={"pk": me.pk}))
    assert response.status_code == 404
    assert TOTPDevice.objects.filter(user=me).count() == devices


def test_the_security_admin_reads_the_security_policy(personas, login):
    response = login(personas["security_admin"]).get(reverse("accounts:admin_security_policy"))
    content = response.content.decode()
    assert response.status_code == 200
    assert f"连续失败 {settings.AXES_FAILURE_LIMIT} 次后锁定" in content
    assert "最短长度：10 个字符" in content
    for role in ("国务院扶贫办", "安全审计员", "牵头部门考核工作小组"):
        assert role in content
    assert "至少保存 180 天" in content
    assert AuditEntry.objects.filter(action="security.policy.viewed").count() == 1


@pytest.mark.parametrize(("method", "route", "kwargs"), [
    ("get", "audit:list", False), ("get", "audit:export", False),
    ("post", "accounts:admin_user_create", False), ("get", "accounts:admin_user_create", False),
    ("post", "accounts:admin_user_edit", True), ("post", "accounts:admin_user_active", True),
    ("post", "accounts:admin_user_password", True), ("get", "accounts:admin_settings", False),
])
def test_the_security_admin_cannot_do_the_other_duties(personas, login, target, method, route,
                                                       kwargs):
    before = User.objects.count()
    url = reverse(route, kwargs={"pk": target.pk} if kwargs else None)
    response = getattr(login(personas["security_admin"]), method)(
        url, {**CREATE, "role": Role.OFFICE, "active": "0"})
    assert response.status_code == 404
    target.refresh_from_db()
    assert target.is_active and target.check_password(PASSWORD) and target.full_name == "liu"
    assert User.objects.count() == before


# -- The auditor reaches no account page ------------------------------------------------------

@pytest.mark.parametrize(("method", "route", "kwargs"), [
    ("get", "accounts:user_list", False), ("get", "accounts:admin_user_detail", True),
    ("post", "accounts:admin_user_create", False), ("post", "accounts:admin_user_edit", True),
    ("post", "accounts:admin_user_active", True), ("post", "accounts:admin_user_password", True),
    ("post", "accounts:admin_user_role", True), ("post", "accounts:admin_user_unlock", True),
    ("post", "accounts:admin_user_two_factor_reset", True),
    ("post", "accounts:admin_user_enrolment_code", True),
    ("get", "accounts:admin_settings", False), ("get", "accounts:admin_security_policy", False),
])
def test_the_auditor_reaches_no_account_page(personas, login, target, method, route, kwargs):
    url = reverse(route, kwargs={"pk": target.pk} if kwargs else None)
    response = getattr(login(personas["auditor"]), method)(
        url, {**CREATE, "role": Role.AUDITOR, "active": "0"})
    assert response.status_code == 404
    target.refresh_from_db()
    assert target.role == Role.UNIT and target.is_active


# -- Data roles reach none of it ------------------------------------------------------------

@pytest.mark.parametrize("persona", ["office", "working_group", "leading_group", "unit",
                                     "lead_reviewer", "province"])
def test_data_roles_reach_no_administrator_page(personas, login, target, persona):
    client = login(personas[persona])
    for route, kwargs in [("accounts:admin_user_detail", True), ("accounts:admin_user_role", True),
                          ("accounts:admin_user_edit", True), ("accounts:admin_settings", False),
                          ("accounts:admin_security_policy", False), ("audit:export", False)]:
        url = reverse(route, kwargs={"pk": target.pk} if kwargs else None)
        assert client.get(url).status_code == 404, route


# -- The detail page offers each administrator only their own duty ---------------------------

def test_each_administrator_sees_only_their_own_buttons(personas, login, target):
    sys_page = login(personas["system_admin"]).get(_detail(target)).content.decode()
    assert "重置密码" in sys_page and "停用账户" in sys_page
    assert "授予角色与范围" not in sys_page and "解除锁定" not in sys_page
    assert "绑定码" not in sys_page
    sec_page = login(personas["security_admin"]).get(_detail(target)).content.decode()
    assert "授予角色与范围" in sec_page and "解除锁定" in sec_page
    assert "重置密码" not in sec_page and "停用账户" not in sec_page


def test_the_security_admin_is_offered_an_enrolment_code_where_one_is_needed(personas, login):
    client = login(personas["security_admin"])
    leader_page = client.get(_detail(personas["leading_group"])).content.decode()
    assert "发放绑定码" in leader_page
    # A unit signs in without a second factor; the security admin's own page offers none.
    assert "发放绑定码" not in client.get(_detail(personas["unit"])).content.decode()
    assert "发放绑定码" not in client.get(_detail(personas["security_admin"])).content.decode()
