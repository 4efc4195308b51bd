"""Idle and absolute session timeouts, kept in the session itself.

The session cookie dies with the browser, but a server-side session would live on as long
as it is used; the sign-in time caps it (SESSION_COOKIE_AGE, from SESSION_MAX_AGE_SECONDS)
and the last activity ends an unattended one (KAOHE_SESSION_IDLE_MINUTES). Times are the
real clock (seconds since the epoch), never the demo's simulated date.
"""

import time

from django.conf import settings

LOGIN_AT = "kaohe_login_at"
SEEN_AT = "kaohe_seen_at"
IDLE = "idle"
ABSOLUTE = "absolute"
# The last activity is written at most this often, not on every request.
TOUCH_EVERY_SECONDS = 30


def start(session, now: float | None = None) -> None:
    now = time.time() if now is None else now
    session[LOGIN_AT] = now
    session[SEEN_AT] = now


def expiry_reason(session, now: float | None = None) -> str | None:
    """IDLE or ABSOLUTE if the session has timed out, else None."""
    now = time.time() if now is None else now
    login_at = session.get(LOGIN_AT)
    seen_at = session.get(SEEN_AT)
    if not isinstance(login_at, int | float) or not isinstance(seen_at, int | float):
        return None
    if now - login_at > settings.SESSION_COOKIE_AGE:
        return ABSOLUTE
    if now - seen_at > settings.KAOHE_SESSION_IDLE_MINUTES * 60:
        return IDLE
    return None


def touch(session, now: float | None = None) -> None:
    """Record activity; a session from before timeouts were kept starts counting now."""
    now = time.time() if now is None else now
    if not isinstance(session.get(LOGIN_AT), int | float):
        start(session, now)
    elif now - session.get(SEEN_AT, 0) >= TOUCH_EVERY_SECONDS:
        session[SEEN_AT] = now
