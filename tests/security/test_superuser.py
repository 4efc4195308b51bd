"""No all-powerful superuser: capabilities come from the role only, a superuser made on the
command line is logged, and `check --deploy` warns while one exists."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from kaohe.accounts.capabilities import CAPABILITIES, has_capability
from kaohe.accounts.models import Role, User
from kaohe.audit.checks import check_no_superuser
from kaohe.audit.models import AuditEntry
from tests.conftest import make_user
from tests.test_permissions import PERSONAS, ROUTES, _url

# Pages that the matrix opens to every persona (home, sign-in, password change...).
_ANY_ACCOUNT = {route for route, (_m, _k, _d, expected) in ROUTES.items()
                if all(expected(persona) != 404 for persona in PERSONAS)}


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser("root", "root@example.cn", "a-long-root-password-1")


def test_the_pages_open_to_everyone_are_few():
    assert {"home", "login", "logout"} <= _ANY_ACCOUNT
    assert not any(route.startswith(("accounts:admin_", "audit:")) for route in _ANY_ACCOUNT)


def test_a_superuser_without_a_role_has_no_capability(superuser):
    assert superuser.is_superuser and superuser.is_staff and superuser.role == ""
    assert not any(has_capability(superuser, capability) for capability in CAPABILITIES)


def test_is_superuser_adds_nothing_to_a_role(world):
    unit_user = make_user("unit-root", Role.UNIT, unit=world["unit_a"])
    unit_user.is_superuser = unit_user.is_staff = True
    unit_user.save()
    granted = {c for c in CAPABILITIES if has_capability(unit_user, c)}
    assert granted == {c for c, roles in CAPABILITIES.items() if Role.UNIT in roles}


@pytest.mark.parametrize("route", sorted(set(ROUTES) - _ANY_ACCOUNT))
def test_a_superuser_gets_404_on_every_page_a_role_opens(client, world, personas, superuser,
                                                         route):
    method, _kwargs, data, _expected = ROUTES[route]
    client.force_login(superuser)
    response = getattr(client, method)(_url(route, world, "office"), data or {})
    assert response.status_code == 404, route


def test_a_superuser_is_told_that_the_account_has_no_role(client, superuser):
    client.force_login(superuser)
    content = client.get(reverse("home")).content.decode()
    assert "尚未授予角色" in content
    assert "各角色账户数" not in content and "最近的审计记录" not in content


def test_createsuperuser_is_logged(db):
    call_command("createsuperuser", interactive=False, username="root",
                 email="root@example.cn", verbosity=0)
    entry = AuditEntry.objects.get(action="account.superuser_created")
    root = User.objects.get(username="root")
    assert entry.target_id == str(root.pk)
    assert entry.data["username"] == "root"
    assert "os_user" in entry.data
    assert entry.actor is None


def test_making_an_existing_user_superuser_is_logged_once(world):
    user = make_user("promoted", Role.OFFICE)
    assert not AuditEntry.objects.filter(action__startswith="account.superuser").exists()
    user.is_superuser = True
    user.save()
    user.full_name = "changed"
    user.save()  # still a superuser: no second entry
    entries = AuditEntry.objects.filter(action="account.superuser_granted")
    assert entries.count() == 1
    assert entries.get().target_id == str(user.pk)


def test_ordinary_accounts_are_not_logged_as_superusers(world):
    make_user("plain", Role.OFFICE)
    assert not AuditEntry.objects.filter(action__startswith="account.superuser").exists()


def test_the_deploy_check_warns_while_a_superuser_exists(world):
    make_user("plain", Role.OFFICE)
    assert check_no_superuser() == []
    User.objects.create_superuser("root", "root@example.cn", "a-long-root-password-1")
    warnings = check_no_superuser()
    assert [w.id for w in warnings] == ["audit.W001"]
    assert "root" in warnings[0].msg
