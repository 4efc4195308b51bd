"""Sign-in security: the session registry, the second factor, password changes."""

from importlib import import_module

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django_otp import devices_for_user

from kaohe.accounts import twofactor
from kaohe.accounts.capabilities import RESET_TWO_FACTOR, has_capability
from kaohe.accounts.models import User, UserSession
from kaohe.audit.services import log_action


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
def reset_two_factor(user: User, by: User) -> int:
    """The security administrator removes a user's authenticator, e.g. a lost phone.

    The user's sessions end, and the next sign-in enrols a new device. Returns the
    number of devices removed.
    """
    if not has_capability(by, RESET_TWO_FACTOR):
        raise PermissionDenied
    return _remove_devices(user, actor=by)


@transaction.atomic
def reset_two_factor_from_console(user: User, operator: str) -> int:
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
        log_action("auth.two_factor.enrolled", actor=user, target=user)
    twofactor.mark_verified(request, device)
    log_action("auth.two_factor.verified", actor=user, target=user)
    return VERIFIED


def password_changed(*, request, user) -> None:
    """After the user changed their own password: every other session has ended (the
    User save did it); keep this one under its new key."""
    log_action("auth.password_changed", actor=user, target=user)
    session_register(user=user, session=request.session)
