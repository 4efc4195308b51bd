"""The account workflows are services (issue 22, item 4): keyword-only, each one
transaction with its audit entry; the pages only check the capability, bind the form, call
the service and show the result."""

import inspect
from importlib import import_module

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory
from django_otp.plugins.otp_totp.models import TOTPDevice

from kaohe.accounts import bulk, services, twofactor
from kaohe.audit.models import AuditEntry
from tests.conftest import PASSWORD

NEW = "Xinmima-2018-kaohe"

WORKFLOWS = [
    services.account_create, services.account_contact_update, services.account_set_active,
    services.account_password_reset, services.account_role_change, services.account_unlock,
    services.enrolment_code_issue, services.enrolment_code_issue_from_console,
    services.reset_two_factor, services.reset_two_factor_from_console,
    services.password_change, services.enrolment_code_issue_in_letter, bulk.accounts_open,
    bulk.roles_grant, bulk.letters_request, bulk.letters_take, bulk.code_letters_request,
    bulk.code_letters_issue,
]


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda workflow: workflow.__name__)
def test_every_account_workflow_takes_keyword_arguments_only(workflow):
    parameters = list(inspect.signature(workflow).parameters.values())
    assert parameters
    assert all(p.kind in (p.KEYWORD_ONLY, p.VAR_KEYWORD) for p in parameters), parameters


def _request_of(user):
    request = RequestFactory().post("/accounts/password/")
    request.user = user
    request.session = import_module(settings.SESSION_ENGINE).SessionStore()
    request.session.create()
    return request


def test_a_password_change_is_one_act_with_its_audit_entry(personas):
    unit = personas["unit"]
    unit.must_change_password = True
    unit.save(update_fields=["must_change_password"])
    request = _request_of(unit)
    # The security administrator's code, given in this session (twofactor.password_needs_code).
    request.session[twofactor.ENROLMENT_SESSION_KEY] = {"user": unit.pk, "code": 1}
    services.password_change(request=request, user=unit, password=NEW)
    unit.refresh_from_db()
    assert unit.check_password(NEW) and not unit.must_change_password
    entry = AuditEntry.objects.get(action="auth.password_changed")
    assert (entry.actor, entry.data) == (unit, {"one_time": True})


def test_a_password_change_that_fails_midway_changes_nothing(personas, monkeypatch):
    unit = personas["unit"]

    def broken(*args, **kwargs):
        raise RuntimeError("the audit log is unavailable")

    monkeypatch.setattr(services, "log_action", broken)
    with pytest.raises(RuntimeError):
        services.password_change(request=_request_of(unit), user=unit, password=NEW)
    unit.refresh_from_db()
    assert unit.check_password(PASSWORD)


def test_the_two_factor_reset_is_keyword_only_and_still_refuses_others(personas):
    office = personas["office"]
    TOTPDevice.objects.create(user=office, name="phone", confirmed=True)
    with pytest.raises(PermissionDenied):
        services.reset_two_factor(user=office, actor=personas["system_admin"])
    assert not AuditEntry.objects.filter(action="auth.two_factor.reset").exists()
    assert services.reset_two_factor(user=office, actor=personas["security_admin"]) == 1
    assert AuditEntry.objects.get(action="auth.two_factor.reset").data == {"devices": 1}
