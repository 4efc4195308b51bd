"""Accounts and sign-in security: the administrators' account workflows, the session
registry, the second factor and its enrolment codes, password changes.

Each workflow is a keyword-only function that checks the actor's capability, owns its
transaction and writes its audit entry; no secret (password, enrolment code) is logged.

三员分立: no administrator can act as a business user alone. The system administrator opens
accounts without a role and resets passwords; the one-time password must be changed at the
first sign-in. The security administrator grants roles and issues enrolment codes (never
for themself) but never learns a password. A two-factor account with an authenticator
cannot be entered with a reset password alone; one without needs the security
administrator's enrolment code to enrol, so taking it over needs both administrators.

Its length (over 400 lines) is the three administrators' workflows side by side: split,
the separation of their duties would no longer read in one place.
"""

import datetime
from importlib import import_module

from django.apps import apps
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp import devices_for_user
from django_otp.plugins.otp_totp.models import TOTPDevice

from kaohe.accounts import credentials, twofactor
from kaohe.accounts.capabilities import (
    ISSUE_ENROLMENT_CODE,
    MANAGE_ACCOUNTS,
    MANAGE_ROLES,
    RESET_TWO_FACTOR,
    UNLOCK_ACCOUNTS,
    has_capability,
)
from kaohe.accounts.models import EnrolmentCode, User, UserSession
from kaohe.api.services import tokens_revoke_of
from kaohe.audit.services import log_action


def _require(actor, capability: str) -> None:
    if not has_capability(actor, capability):
        raise PermissionDenied


def _system_admin_scope(account) -> None:
    """The system administrator keeps the accounts of the assessment's roles and those
    without a role yet, never an administrator's."""
    from kaohe.accounts.admin_forms import SYSTEM_ADMIN_ACCOUNT_ROLES

    if account.role not in SYSTEM_ADMIN_ACCOUNT_ROLES:
        raise PermissionDenied


# -- Accounts: the system administrator ----------------------------------------------------

CONTACT_FIELDS = ("full_name", "post", "phone", "email")


@transaction.atomic
def account_create(*, actor, username: str, full_name: str, post: str = "", phone: str = "",
                   email: str = "") -> tuple[User, str]:
    """Open an account without a role; returns it and its one-time password, which the
    caller shows once. The security administrator grants the role; the owner must replace
    the password at the first sign-in."""
    _require(actor, MANAGE_ACCOUNTS)
    account = User(username=username, full_name=full_name, post=post, phone=phone,
                   email=email, role="", must_change_password=True)
    password = credentials.one_time_password(account)
    account.set_password(password)
    account.full_clean()
    account.save()
    log_action("account.created", actor=actor, target=account,
               data={"username": account.username, "role": ""})
    return account, password


@transaction.atomic
def account_contact_update(*, account, actor, **contact) -> dict:
    """Change name, post, phone or e-mail; returns {field: [old, new]} of what changed."""
    _require(actor, MANAGE_ACCOUNTS)
    stored = User.objects.select_for_update().get(pk=account.pk)
    _system_admin_scope(stored)
    changed = {name: [getattr(stored, name), contact[name]] for name in CONTACT_FIELDS
               if name in contact and getattr(stored, name) != contact[name]}
    if changed:
        for name, (_old, new) in changed.items():
            setattr(stored, name, new)
        stored.full_clean()
        stored.save(update_fields=list(changed))
        log_action("account.contact_changed", actor=actor, target=stored,
                   data={"changed": changed})
    return changed


@transaction.atomic
def account_set_active(*, account, actor, active: bool) -> bool:
    """Disable or enable; False if it already was. Disabling ends the account's sessions
    (kaohe.accounts.receivers) and revokes its API tokens."""
    _require(actor, MANAGE_ACCOUNTS)
    stored = User.objects.select_for_update().get(pk=account.pk)
    _system_admin_scope(stored)
    if stored.is_active == active:
        return False
    stored.is_active = active
    stored.save(update_fields=["is_active"])
    log_action("account.enabled" if active else "account.disabled", actor=actor,
               target=stored)
    if not active:  # enabling it again does not bring its tokens back
        tokens_revoke_of(user=stored, actor=actor, reason="account.disabled")
    return True


@transaction.atomic
def account_password_reset(*, account, actor) -> str:
    """A new random one-time password, returned to be shown once.

    It must be changed at the next sign-in, which also tells the owner who reset it and
    when. The authenticator stays: with one, the password alone opens nothing; without
    one, enrolling needs the security administrator's code. The sessions end
    (kaohe.accounts.receivers)."""
    _require(actor, MANAGE_ACCOUNTS)
    stored = User.objects.select_for_update().get(pk=account.pk)
    _system_admin_scope(stored)
    password = credentials.one_time_password(stored)
    stored.set_password(password)
    stored.must_change_password = True
    stored.password_reset_by = actor
    stored.password_reset_at = timezone.now()
    stored.password_reset_notice_pending = True
    stored.save()
    log_action("account.password_reset", actor=actor, target=stored,
               data={"must_change": True})
    return password


# -- Accounts: the security administrator ----------------------------------------------------

ROLE_FIELDS = ("role", "unit", "province", "lead_department", "is_liaison")


def role_and_scope(user) -> dict:
    return {"role": user.role, "unit": user.unit_id, "province": user.province_id,
            "lead_department": user.lead_department_id, "is_liaison": user.is_liaison}


@transaction.atomic
def account_role_change(*, account, actor, role: str, unit=None, province=None,
                        lead_department=None, is_liaison: bool = False) -> bool:
    """Grant a role and its scope (administrator roles included, never to oneself);
    False if nothing changed. A change revokes the account's API tokens."""
    _require(actor, MANAGE_ROLES)
    if account.pk == actor.pk:
        raise PermissionDenied
    stored = User.objects.select_for_update().get(pk=account.pk)
    before = role_and_scope(stored)
    stored.role, stored.unit, stored.province = role, unit, province
    stored.lead_department, stored.is_liaison = lead_department, is_liaison
    after = role_and_scope(stored)
    if after == before:
        return False
    stored.full_clean()
    stored.save(update_fields=list(ROLE_FIELDS))
    log_action("account.role_changed", actor=actor, target=stored,
               data={"from": before, "to": after})
    # A token acts for the organization it was authorized for, not for the new role.
    tokens_revoke_of(user=stored, actor=actor, reason="account.role_changed")
    return True


def _reset_lockout(user) -> int | None:
    """Clear the failed attempts of the username at every address; None without Axes."""
    try:
        from axes.utils import reset
    except ImportError:  # the lockout is not installed in this deployment
        return None
    if not apps.is_installed("axes"):
        return None
    return reset(username=user.get_username())


@transaction.atomic
def account_unlock(*, account, actor) -> int | None:
    """Lift a sign-in lockout; the number of failure records cleared, None without Axes."""
    _require(actor, UNLOCK_ACCOUNTS)
    cleared = _reset_lockout(account)
    if cleared is not None:
        log_action("account.unlocked", actor=actor, target=account,
                   data={"attempts_cleared": cleared})
    return cleared


# -- Enrolment codes -------------------------------------------------------------------------

ACCEPTED = "accepted"


def enrolment_code_refusal(user) -> str | None:
    """Why no enrolment code can be issued for the account, or None if one can: an account
    without an authenticator needs one to enrol (a two-factor role) or to replace its
    one-time password (any role; twofactor.password_needs_code)."""
    if not user.is_active:
        return _("该账户已停用，不能发放绑定码。")
    two_factor = user.role in twofactor.TWO_FACTOR_ROLES
    if two_factor and twofactor.confirmed_device(user) is not None:
        # Its sign-in asks for the device: the holder sets the password after that code.
        return _("该账户已绑定验证器。手机丢失或更换时，请先重置双因素认证，再发放绑定码。")
    if not two_factor and not user.must_change_password:
        return _("该账户的角色登录时无需两步验证，且未在使用一次性密码，不需要绑定码。")
    return None


@transaction.atomic
def enrolment_code_issue(*, user, actor) -> str:
    """The security administrator issues the code `user` needs to enrol an authenticator;
    returned to be shown once. Never for oneself: one's own enrolment takes another
    security administrator or the console operator."""
    _check_issuable(user, actor)
    return _issue_code(user, issued_by=actor, actor_repr=None)


@transaction.atomic
def enrolment_code_issue_from_console(*, user, operator: str) -> str:
    """`kaohe reset_two_factor`: the server's operator, e.g. when the only security
    administrator lost their phone. Logged with the operator's name."""
    return _issue_code(user, issued_by=None, actor_repr=f"命令行：{operator}"[:150])


def enrolment_code_issue_in_letter(*, user, actor, code: str) -> None:
    """A code the security administrator's code letters printed (kaohe.accounts.bulk),
    issued once the letters are made; the caller holds the batch's locks."""
    _check_issuable(user, actor)
    _issue_code(user, issued_by=actor, actor_repr=None, code=code)


def _check_issuable(user, actor) -> None:
    """The security administrator, for another's account that needs a code now."""
    _require(actor, ISSUE_ENROLMENT_CODE)
    if user.pk == actor.pk:
        raise PermissionDenied
    refusal = enrolment_code_refusal(user)
    if refusal is not None:
        raise ValidationError(refusal)


def _issue_code(user, *, issued_by, actor_repr, code: str | None = None) -> str:
    now = timezone.now()  # security timing (expiry of the code): real time, not kaohe.lib.clock
    # One valid code per account: a new one replaces any unused one.
    revoked = EnrolmentCode.objects.filter(user=user, used_at__isnull=True,
                                           revoked_at__isnull=True).update(revoked_at=now)
    code = code or credentials.new_enrolment_code()
    record = EnrolmentCode.objects.create(
        user=user, code_hash=credentials.hash_enrolment_code(code), issued_by=issued_by,
        issued_by_repr=actor_repr or issued_by.get_username(), created_at=now,
        expires_at=now + datetime.timedelta(hours=settings.KAOHE_ENROLMENT_CODE_HOURS))
    log_action("auth.enrolment_code.issued", actor=issued_by, actor_repr=actor_repr,
               target=user, data={"code_id": record.pk, "revoked": revoked,
                                  "expires_at": record.expires_at.isoformat()})
    return code


@transaction.atomic
def enrolment_code_redeem(*, request, code: str) -> str:
    """ACCEPTED or WRONG (the caller counts a wrong code towards the lockout).

    A valid code of this user is spent at once and lets this session, and no other,
    enrol an authenticator. A secret shown before (an abandoned attempt) is discarded, so
    the one to scan is new."""
    user = request.user
    record = (EnrolmentCode.objects.select_for_update()
              .filter(user=user, code_hash=credentials.hash_enrolment_code(code)).first())
    reason = "wrong" if record is None else record.state()
    if record is None or reason != "valid":
        log_action("auth.enrolment_code.failed", actor=user, target=user, success=False,
                   data={"reason": reason})
        return WRONG
    record.used_at = timezone.now()
    record.save(update_fields=["used_at"])
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    twofactor.unlock_enrolment(request.session, record)
    log_action("auth.enrolment_code.accepted", actor=user, target=user,
               data={"code_id": record.pk})
    return ACCEPTED


def _session_store():
    return import_module(settings.SESSION_ENGINE).SessionStore


def session_register(*, user, session) -> None:
    """Remember that this session belongs to the user; forget the user's sessions that
    have already expired on their own."""
    if session.session_key is None:
        session.save()
    store = _session_store()
    stale = [key for key in UserSession.objects.filter(user=user).exclude(
        session_key=session.session_key).values_list("session_key", flat=True)
        if not store().exists(key)]
    UserSession.objects.filter(session_key__in=stale).delete()
    UserSession.objects.update_or_create(session_key=session.session_key,
                                         defaults={"user": user})


def session_forget(*, session_key: str | None) -> None:
    if session_key:
        UserSession.objects.filter(session_key=session_key).delete()


def end_user_sessions(*, user, reason: str, actor=None) -> int:
    """End every session the user is signed in with, on every server (they share the
    session store). Returns how many were ended."""
    store = _session_store()
    keys = list(UserSession.objects.filter(user=user).values_list("session_key", flat=True))
    for key in keys:
        store(session_key=key).delete()
    UserSession.objects.filter(session_key__in=keys).delete()
    # A plain logout ends the session it came from, already logged as auth.logout;
    # anything more is worth its own entry.
    if keys and (reason != "logout" or len(keys) > 1):
        log_action("auth.sessions_ended", actor=actor or user, target=user,
                   data={"reason": reason, "count": len(keys)})
    return len(keys)


@transaction.atomic
def reset_two_factor(*, user: User, actor: User) -> int:
    """The security administrator removes a user's authenticator, e.g. a lost phone.

    The user's sessions end, and the next sign-in enrols a new device. Returns the
    number of devices removed.
    """
    _require(actor, RESET_TWO_FACTOR)
    return _remove_devices(user, actor=actor)


@transaction.atomic
def reset_two_factor_from_console(*, user: User, operator: str) -> int:
    """`kaohe reset_two_factor`: for the server's operator when no security administrator
    can sign in (the only one lost their phone). Logged with the operator's name."""
    return _remove_devices(user, actor=None, actor_repr=f"命令行：{operator}"[:150])


def _remove_devices(user: User, *, actor, actor_repr: str | None = None) -> int:
    removed = 0
    for device in list(devices_for_user(user, confirmed=None)):
        device.delete()
        removed += 1
    log_action("auth.two_factor.reset", actor=actor, actor_repr=actor_repr, target=user,
               data={"devices": removed})
    end_user_sessions(user=user, reason="two_factor_reset", actor=actor)
    return removed


VERIFIED = "verified"
WRONG = "wrong"
THROTTLED = "throttled"


@transaction.atomic
def two_factor_confirm(*, request, device, code: str) -> str:
    """Check a code from the user's authenticator: VERIFIED, WRONG or THROTTLED.

    A code works once (django-otp keeps the last accepted time step), and after a wrong
    code the device waits 1, 2, 4… seconds before it checks another. Enrolment confirms a
    pending device with its first code.
    """
    user = request.user
    device = type(device).objects.select_for_update().get(pk=device.pk, user=user)
    step = "verify" if device.confirmed else "enrol"
    if step == "enrol" and not twofactor.enrolment_unlocked(request):
        raise PermissionDenied  # no enrolment without a code (enrolment_code_redeem)
    allowed, _details = device.verify_is_allowed()
    if not allowed:
        log_action("auth.two_factor.failed", actor=user, target=user, success=False,
                   data={"step": step, "reason": "throttled"})
        return THROTTLED
    if not device.verify_token(code.strip()):
        log_action("auth.two_factor.failed", actor=user, target=user, success=False,
                   data={"step": step, "reason": "wrong_code"})
        return WRONG
    if step == "enrol":
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        # Other pending devices of this user are abandoned attempts.
        type(device).objects.filter(user=user, confirmed=False).delete()
        twofactor.forget_enrolment(request.session)
        log_action("auth.two_factor.enrolled", actor=user, target=user)
    twofactor.mark_verified(request, device)
    log_action("auth.two_factor.verified", actor=user, target=user)
    return VERIFIED


@transaction.atomic
def password_change(*, request, user, password: str) -> None:
    """The user replaces their own password (the form checked the old one and the rules).

    Saving it ends every session of the user (kaohe.accounts.receivers); this one goes on
    under a new key, registered again. A one-time password stops being one."""
    from django.contrib.auth import update_session_auth_hash

    one_time = user.must_change_password
    if twofactor.password_needs_code(user) and not twofactor.enrolment_unlocked(request):
        # The system administrator knows the one-time password: alone it sets no new one.
        raise PermissionDenied
    user.set_password(password)
    user.must_change_password = False
    user.save()
    update_session_auth_hash(request, user)
    if one_time:
        twofactor.forget_enrolment(request.session)
    log_action("auth.password_changed", actor=user, target=user,
               data={"one_time": True} if one_time else None)
    session_register(user=user, session=request.session)


@transaction.atomic
def password_reset_notice_take(*, user) -> tuple[User | None, datetime.datetime] | None:
    """(who, when) of the last reset by an administrator, once: None when already told."""
    told = User.objects.filter(pk=user.pk, password_reset_notice_pending=True).update(
        password_reset_notice_pending=False)
    user.password_reset_notice_pending = False
    if not told:
        return None
    log_action("account.password_reset_notice_shown", actor=user, target=user)
    return user.password_reset_by, user.password_reset_at
