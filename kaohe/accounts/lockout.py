"""Lockout of a username at an address after repeated failures (django-axes).

Axes counts failed passwords through Django's user_login_failed signal. A wrong second
factor is a failure of the same sign-in, so it is counted here through the same handler,
against the same username + address, and the same limit locks both steps.
"""

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_credentials, get_lockout_response

from kaohe.lib.clientip import client_address


def client_ip(request) -> str | None:
    """The address a lock is kept for, the same as the audit log's: REMOTE_ADDR, or the
    client behind KAOHE_TRUSTED_PROXIES."""
    return client_address(request)


def _credentials(user) -> dict:
    return get_credentials(user.get_username())


def is_locked(request, user) -> bool:
    return not AxesProxyHandler.is_allowed(request, _credentials(user))


def count_failure(request, user) -> bool:
    """Record one failed attempt for the user at this address; True if it locks them out."""
    AxesProxyHandler.user_login_failed(sender=__name__, credentials=_credentials(user),
                                       request=request)
    return bool(getattr(request, "axes_locked_out", False))


def lockout_response(request, user):
    """The lockout page, as Axes renders it after a failed password (status 429)."""
    return get_lockout_response(request, None, _credentials(user))
