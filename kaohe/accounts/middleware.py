"""Sign-in security on every request: session timeouts, the second factor, passwords.

They run after AuthenticationMiddleware, django-otp's OTPMiddleware and MessageMiddleware.
The two-factor and password checks deny by default: a user who still owes a code (or a
new password) reaches only the views named in the allowlists below. The second factor
comes first: a one-time password from the system administrator opens only the two-factor
pages, so it alone cannot even change the password of an account with an authenticator.
"""

import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.models import AnonymousUser
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from kaohe.accounts import services, sessions, twofactor
from kaohe.audit.services import log_action

# What a signed-in user who has not yet given a code may open.
TWO_FACTOR_OPEN = frozenset({
    "accounts:two_factor", "accounts:two_factor_enrol", "logout", "set_language", "login",
    "healthz",
})
# What a user whose password has expired may open.
PASSWORD_EXPIRED_OPEN = TWO_FACTOR_OPEN | {"accounts:password_change",
                                            "accounts:password_change_done"}


def _to(view_name: str, request):
    """Redirect to a view, carrying the page asked for (GET only) as ?next=."""
    url = reverse(view_name)
    if request.method == "GET":
        url = f"{url}?{urlencode({REDIRECT_FIELD_NAME: request.get_full_path()})}"
    return redirect(url)


class SessionTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated:
            reason = sessions.expiry_reason(request.session)
            if reason is not None:
                return self._expire(request, user, reason)
            sessions.touch(request.session)
        return self.get_response(request)

    def _expire(self, request, user, reason):
        log_action("auth.session_expired", actor=user, target=user, data={"reason": reason})
        services.session_forget(session_key=request.session.session_key)
        # Only this session: a timeout in one browser does not sign the user out elsewhere.
        request.session.flush()
        request.user = AnonymousUser()
        if reason == sessions.IDLE:
            text = _("您已超过 %(minutes)d 分钟未操作，为保障安全已自动退出，请重新登录。") % {
                "minutes": settings.KAOHE_SESSION_IDLE_MINUTES}
        else:
            text = _("本次登录已超过 %(hours)s 小时，为保障安全已自动退出，请重新登录。") % {
                "hours": f"{settings.SESSION_COOKIE_AGE / 3600:g}"}
        messages.warning(request, text)
        return _to("login", request)


class TwoFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not twofactor.must_verify(request.user):
            return None
        if request.resolver_match.view_name in TWO_FACTOR_OPEN:
            return None
        if twofactor.confirmed_device(request.user) is None:
            return _to("accounts:two_factor_enrol", request)
        return _to("accounts:two_factor", request)


def _reset_notice(request, user) -> None:
    """Once, at the first page after a complete sign-in: who reset the password and when,
    so that a reset the owner did not ask for is noticed."""
    taken = services.password_reset_notice_take(user=user)
    if taken is None:
        return
    by, at = taken
    if by is None:
        admin = _("（账户已删除）")
    elif by.full_name:
        admin = f"{by.full_name}（{by.get_username()}）"
    else:
        admin = by.get_username()
    when = formats.date_format(timezone.localtime(at), "Y-m-d H:i") if at else "—"
    messages.warning(request, _(
        "您的密码已于 %(time)s 由系统管理员 %(admin)s 重置。如果不是您本人申请的，"
        "请立即联系安全管理员。") % {"time": when, "admin": admin})


class PasswordExpiryMiddleware:
    """A one-time password (a new account, or a reset by the system administrator) must be
    changed before any other page opens; so must one older than the maximum age."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        max_days = settings.KAOHE_PASSWORD_MAX_AGE_DAYS
        user = request.user
        # Until the second factor is given, only TwoFactorMiddleware's pages open.
        if not user.is_authenticated or twofactor.must_verify(user):
            return None
        if user.password_reset_notice_pending:
            _reset_notice(request, user)
        if request.resolver_match.view_name in PASSWORD_EXPIRED_OPEN:
            return None
        if user.must_change_password:
            messages.warning(request, _(
                "您正在使用系统管理员发放的一次性密码，请先设置您自己的新密码。"))
            return _to("accounts:password_change", request)
        if not max_days:
            return None
        changed = user.password_changed_at or user.date_joined
        # Real time, not kaohe.lib.clock: password age is security timing.
        if timezone.now() - changed <= datetime.timedelta(days=max_days):
            return None
        messages.warning(request, _("您的密码已超过 %(days)d 天未修改，请先修改密码。") % {
            "days": max_days})
        return _to("accounts:password_change", request)
