from django.conf import settings
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth import views as auth_views
from django.contrib.auth.models import AnonymousUser
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from kaohe.accounts import lockout, services, twofactor
from kaohe.accounts.capabilities import VIEW_ACCOUNTS, capability_required
from kaohe.accounts.forms import EnrolmentCodeForm, StyledPasswordChangeForm, TwoFactorCodeForm
from kaohe.accounts.models import Role, User
from kaohe.lib import paging


@capability_required(VIEW_ACCOUNTS)
def user_list(request):
    users = User.objects.select_related("unit", "province", "lead_department").order_by(
        "role", "username"
    )
    role = request.GET.get("role", "")
    if role in Role.values:
        users = users.filter(role=role)
    page = Paginator(users, paging.ROWS).get_page(request.GET.get("page"))
    return render(request, "accounts/user_list.html",
                  {"page": page, "roles": Role.choices, "role": role})


# Signing in --------------------------------------------------------------------------------

def _next_url(request) -> str:
    candidate = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME)
    if candidate and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return candidate
    return reverse(settings.LOGIN_REDIRECT_URL)


def _with_next(view_name: str, next_url: str) -> str:
    return f"{reverse(view_name)}?{urlencode({REDIRECT_FIELD_NAME: next_url})}"


class LoginView(auth_views.LoginView):
    """Django's login (Axes checks the lockout in authenticate); users of the two-factor
    roles go on to the code page."""

    redirect_authenticated_user = True

    def get_success_url(self):
        url = super().get_success_url()
        user = self.request.user
        if twofactor.should_offer(user):
            page = ("accounts:two_factor" if twofactor.confirmed_device(user)
                    else "accounts:two_factor_enrol")
            return _with_next(page, url)
        return url


def locked_out(request, original_response=None, credentials=None):
    """The lockout page (Axes' AXES_LOCKOUT_CALLABLE), also after too many wrong codes."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "accounts/lockout.html",
                  {"failure_limit": settings.AXES_FAILURE_LIMIT, "minutes": minutes},
                  status=settings.AXES_HTTP_RESPONSE_CODE)


def _lock_out(request, user):
    """Too many wrong codes: this session ends and the lockout page is shown."""
    services.session_forget(session_key=request.session.session_key)
    request.session.flush()
    request.user = AnonymousUser()
    return lockout.lockout_response(request, user)


_CODE_ERRORS = {
    services.WRONG: gettext_lazy("验证码不正确或已使用过，请输入认证器应用中的最新验证码。"),
    services.THROTTLED: gettext_lazy("验证码错误次数过多，请稍候几秒再试。"),
}


def _check_code(request, device, form):
    """(result, response): a response when the code settles the request, else None and
    the form says why."""
    user = request.user
    result = services.two_factor_confirm(request=request, device=device,
                                         code=form.cleaned_data["code"])
    if result == services.VERIFIED:
        return result, redirect(_next_url(request))
    if result == services.WRONG and lockout.count_failure(request, user):
        return result, _lock_out(request, user)
    form.add_error("code", str(_CODE_ERRORS[result]))
    return result, None


@never_cache
def two_factor(request):
    """The code page after the password, for users who have an authenticator."""
    user = request.user
    next_url = _next_url(request)
    if not twofactor.should_offer(user):
        return redirect(next_url)
    device = twofactor.confirmed_device(user)
    if device is None:
        return redirect(_with_next("accounts:two_factor_enrol", next_url))
    if lockout.is_locked(request, user):
        return _lock_out(request, user)
    form = TwoFactorCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        _result, response = _check_code(request, device, form)
        if response is not None:
            return response
    return render(request, "accounts/two_factor_verify.html", {
        "form": form, "next": next_url, "optional": twofactor.mode() == twofactor.OPTIONAL,
    })


_ENROLMENT_CODE_ERROR = gettext_lazy(
    "绑定码不正确、已使用或已过期。绑定码由安全管理员发放，只能使用一次；如已失效，请联系安全管理员重新发放。")


def _enrolment_code(request, next_url, *, then="accounts:two_factor_enrol",
                    template="accounts/two_factor_enrol_code.html"):
    """The enrolment code from the security administrator, so that a password alone (known
    to the system administrator after a reset) enrols nothing and, for an account without
    an authenticator, sets no new password: before the QR code, or before the new password
    (`then`)."""
    user = request.user
    form = EnrolmentCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = services.enrolment_code_redeem(request=request,
                                                code=form.cleaned_data["enrolment_code"])
        if result == services.ACCEPTED:
            return redirect(_with_next(then, next_url))
        if lockout.count_failure(request, user):
            return _lock_out(request, user)
        form.add_error("enrolment_code", str(_ENROLMENT_CODE_ERROR))
    return render(request, template, {
        "form": form, "next": next_url, "optional": twofactor.mode() == twofactor.OPTIONAL,
        "hours": settings.KAOHE_ENROLMENT_CODE_HOURS,
    })


@never_cache
def two_factor_enrol(request):
    """First sign-in of a two-factor role: the enrolment code, then scan the QR code and
    confirm with a first code."""
    user = request.user
    next_url = _next_url(request)
    if not twofactor.should_offer(user):
        return redirect(next_url)
    if twofactor.confirmed_device(user) is not None:
        return redirect(_with_next("accounts:two_factor", next_url))
    if lockout.is_locked(request, user):
        return _lock_out(request, user)
    if not twofactor.enrolment_unlocked(request):
        return _enrolment_code(request, next_url)
    device = twofactor.pending_device(user)
    form = TwoFactorCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result, response = _check_code(request, device, form)
        if result == services.VERIFIED:
            messages.success(request, _("已绑定认证器应用，今后登录时请输入其中的验证码。"))
        if response is not None:
            return response
    return render(request, "accounts/two_factor_enrol.html", {
        "form": form, "next": next_url, "qr": twofactor.qr_svg(device),
        "secret": twofactor.secret_text(device),
        "optional": twofactor.mode() == twofactor.OPTIONAL,
    })


# Passwords ---------------------------------------------------------------------------------

class PasswordChangeView(auth_views.PasswordChangeView):
    form_class = StyledPasswordChangeForm
    template_name = "registration/password_change_form.html"
    success_url = reverse_lazy("accounts:password_change_done")

    def dispatch(self, request, *args, **kwargs):
        # A one-time password of an account without an authenticator: the security
        # administrator's code first (twofactor.password_needs_code).
        user = request.user
        if twofactor.password_needs_code(user) and not twofactor.enrolment_unlocked(request):
            if lockout.is_locked(request, user):
                return _lock_out(request, user)
            return _enrolment_code(request, _next_url(request),
                                   then="accounts:password_change",
                                   template="accounts/password_change_code.html")
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
        services.password_change(request=self.request, user=form.user,
                                 password=form.cleaned_data["new_password1"])
        return HttpResponseRedirect(self.get_success_url())


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "registration/password_change_done.html"
