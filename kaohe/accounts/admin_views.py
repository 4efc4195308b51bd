"""The three administrator duties (等保 三员), each with its own pages.

- The system administrator (MANAGE_ACCOUNTS, VIEW_SETTINGS) opens accounts without a
  role, keeps their contact data, disables and enables them, resets their passwords (a
  one-time password the owner must change at the next sign-in), and reads the effective
  security settings. Administrator accounts are out of reach (404): the system
  administrator can neither create one nor change, disable or take over one by a password
  reset, and grants no role at all.
- The security administrator (MANAGE_ROLES, UNLOCK_ACCOUNTS, RESET_TWO_FACTOR,
  ISSUE_ENROLMENT_CODE, VIEW_SECURITY_POLICY) grants roles and scopes, administrator roles
  included but never to themself, lifts sign-in lockouts, resets a lost authenticator,
  issues the enrolment code a new authenticator needs (never their own), and reads the
  policy. They never learn a password.
- The auditor reads and exports the audit log (kaohe.audit.views) and reaches none of
  these pages.

Capabilities come from the role only, so is_superuser opens nothing here. The workflows
are services (kaohe.accounts.services), each one transaction with its audit entry; these
views parse, call and render.
"""

import logging

from django.apps import apps
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.password_validation import (
    MinimumLengthValidator,
    get_default_password_validators,
    password_validators_help_texts,
)
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from kaohe.accounts import services, twofactor
from kaohe.accounts.admin_forms import (
    SYSTEM_ADMIN_ACCOUNT_ROLES,
    AccountCreateForm,
    ActiveForm,
    ContactForm,
    RoleForm,
)
from kaohe.accounts.capabilities import (
    ISSUE_ENROLMENT_CODE,
    MANAGE_ACCOUNTS,
    MANAGE_ROLES,
    RESET_TWO_FACTOR,
    UNLOCK_ACCOUNTS,
    VIEW_ACCOUNTS,
    VIEW_SECURITY_POLICY,
    VIEW_SETTINGS,
    capability_required,
    has_capability,
)
from kaohe.accounts.models import Role, User
from kaohe.audit.services import log_action

logger = logging.getLogger(__name__)

_ACCOUNTS = User.objects.select_related("unit", "province", "lead_department")


def _any_account_or_404(pk):
    return get_object_or_404(_ACCOUNTS, pk=pk)


def _data_account_or_404(pk):
    """The system administrator's scope: accounts of the assessment's own roles, and those
    without a role yet."""
    return get_object_or_404(_ACCOUNTS.filter(role__in=SYSTEM_ADMIN_ACCOUNT_ROLES), pk=pk)


def _other_account_or_404(request, pk):
    """The security administrator's scope: any account but their own."""
    if str(pk) == str(request.user.pk):
        raise Http404
    return _any_account_or_404(pk)


# -- Sign-in state kept by django-axes and django-otp (both optional here) ----------------

def _lockout_records(user) -> list | None:
    """Failed sign-in records of the username, or None where Axes keeps none in the database."""
    if not apps.is_installed("axes"):
        return None
    from axes.models import AccessAttempt

    return list(AccessAttempt.objects.filter(username=user.get_username())
                .order_by("-attempt_time")
                .values("ip_address", "failures_since_start", "attempt_time")[:20])


def _two_factor_devices(user) -> int | None:
    if not apps.is_installed("django_otp"):
        return None
    from django_otp import devices_for_user

    return sum(1 for _device in devices_for_user(user, confirmed=None))


# -- Both administrators: the list (kaohe.accounts.views) and one account -----------------

@capability_required(VIEW_ACCOUNTS)
def user_detail(request, pk):
    account = _any_account_or_404(pk)
    user = request.user
    is_data_account = account.role in SYSTEM_ADMIN_ACCOUNT_ROLES
    context = {
        "account": account,
        "can_manage": has_capability(user, MANAGE_ACCOUNTS) and is_data_account,
        "can_grant": has_capability(user, MANAGE_ROLES) and account.pk != user.pk,
        "can_unlock": has_capability(user, UNLOCK_ACCOUNTS),
        "can_reset_two_factor": has_capability(user, RESET_TWO_FACTOR) and account.pk != user.pk,
        "can_issue_code": has_capability(user, ISSUE_ENROLMENT_CODE) and account.pk != user.pk,
    }
    if context["can_unlock"]:
        context["lockouts"] = _lockout_records(account)
    if context["can_reset_two_factor"]:
        context["devices"] = _two_factor_devices(account)
    if context["can_issue_code"]:
        context["code_refusal"] = services.enrolment_code_refusal(account)
    return render(request, "accounts/admin_user_detail.html", context)


# -- System administrator -------------------------------------------------------------------

def _password_issued(request, account, *, created: bool, password: str):
    """The one time the new password is shown: in this response (its views are never_cache),
    never stored in clear, never in a URL or the session."""
    return render(request, "accounts/admin_password_issued.html",
                  {"account": account, "created": created, "password": password})


@capability_required(MANAGE_ACCOUNTS)
@never_cache
def user_create(request):
    form = AccountCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        account, password = services.account_create(actor=request.user, **form.cleaned_data)
        return _password_issued(request, account, created=True, password=password)
    return render(request, "accounts/admin_user_form.html", {
        "form": form, "title": _("新建账户"), "account": None,
    })


@capability_required(MANAGE_ACCOUNTS)
def user_edit(request, pk):
    account = _data_account_or_404(pk)
    form = ContactForm(request.POST or None, instance=account)
    if request.method == "POST" and form.is_valid():
        if services.account_contact_update(account=account, actor=request.user,
                                           **form.cleaned_data):
            messages.success(request, _("联系信息已保存。"))
        else:
            messages.info(request, _("没有需要保存的修改。"))
        return redirect("accounts:admin_user_detail", pk=account.pk)
    return render(request, "accounts/admin_user_form.html", {
        "form": form, "title": _("修改联系信息"), "account": account,
    })


@capability_required(MANAGE_ACCOUNTS)
@require_POST
def user_set_active(request, pk):
    account = _data_account_or_404(pk)
    form = ActiveForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请求无效：请在账户页面上选择停用或启用。"))
        return redirect("accounts:admin_user_detail", pk=account.pk)
    active = form.cleaned_data["active"]
    if not services.account_set_active(account=account, actor=request.user, active=active):
        messages.info(request, _("账户已是该状态。"))
        return redirect("accounts:admin_user_detail", pk=account.pk)
    messages.success(request, _("账户已启用。") if active else _("账户已停用，其登录会话已结束。"))
    return redirect("accounts:admin_user_detail", pk=account.pk)


@capability_required(MANAGE_ACCOUNTS)
@never_cache
@require_POST
def user_reset_password(request, pk):
    account = _data_account_or_404(pk)
    # The service also ends the account's sessions (kaohe.accounts.receivers).
    password = services.account_password_reset(account=account, actor=request.user)
    return _password_issued(request, account, created=False, password=password)


def _setting(name, default=None):
    return getattr(settings, name, default)


def _database_summary() -> str:
    database = settings.DATABASES["default"]
    engine = database.get("ENGINE", "").rsplit(".", 1)[-1]
    host = database.get("HOST") or ""
    return f"{engine} {host}".strip()


def effective_settings() -> list[tuple[str, str, object]]:
    """(label, setting, value) of what decides the installation's security; no secrets."""
    from csp.utils import build_policy

    return [
        (_("调试模式（生产环境必须关闭）"), "DEBUG", settings.DEBUG),
        (_("允许的主机名"), "ALLOWED_HOSTS", ", ".join(settings.ALLOWED_HOSTS)),
        (_("可信的跨站来源"), "CSRF_TRUSTED_ORIGINS", ", ".join(settings.CSRF_TRUSTED_ORIGINS)),
        (_("强制 HTTPS 跳转"), "SECURE_SSL_REDIRECT", settings.SECURE_SSL_REDIRECT),
        (_("代理传递的 HTTPS 标头"), "SECURE_PROXY_SSL_HEADER",
         _setting("SECURE_PROXY_SSL_HEADER")),
        (_("可信的反向代理（按其 X-Forwarded-For 确定客户端地址）"), "KAOHE_TRUSTED_PROXIES",
         ", ".join(str(network) for network in settings.KAOHE_TRUSTED_PROXIES)),
        (_("HSTS 有效期（秒）"), "SECURE_HSTS_SECONDS", settings.SECURE_HSTS_SECONDS),
        (_("HSTS 包含子域名"), "SECURE_HSTS_INCLUDE_SUBDOMAINS",
         settings.SECURE_HSTS_INCLUDE_SUBDOMAINS),
        (_("HSTS 预加载"), "SECURE_HSTS_PRELOAD", settings.SECURE_HSTS_PRELOAD),
        (_("会话 Cookie 仅限 HTTPS"), "SESSION_COOKIE_SECURE", settings.SESSION_COOKIE_SECURE),
        (_("会话 Cookie 禁止脚本读取"), "SESSION_COOKIE_HTTPONLY",
         settings.SESSION_COOKIE_HTTPONLY),
        (_("CSRF Cookie 仅限 HTTPS"), "CSRF_COOKIE_SECURE", settings.CSRF_COOKIE_SECURE),
        (_("CSRF Cookie 禁止脚本读取"), "CSRF_COOKIE_HTTPONLY", settings.CSRF_COOKIE_HTTPONLY),
        (_("会话最长时间（秒）"), "SESSION_COOKIE_AGE", settings.SESSION_COOKIE_AGE),
        (_("关闭浏览器即结束会话"), "SESSION_EXPIRE_AT_BROWSER_CLOSE",
         settings.SESSION_EXPIRE_AT_BROWSER_CLOSE),
        (_("禁止被其他网站嵌入"), "X_FRAME_OPTIONS", settings.X_FRAME_OPTIONS),
        (_("禁止内容类型猜测"), "SECURE_CONTENT_TYPE_NOSNIFF",
         settings.SECURE_CONTENT_TYPE_NOSNIFF),
        (_("来源信息策略"), "SECURE_REFERRER_POLICY", settings.SECURE_REFERRER_POLICY),
        (_("内容安全策略"), "CONTENT_SECURITY_POLICY", build_policy()),
        (_("密码哈希算法"), "PASSWORD_HASHERS", settings.PASSWORD_HASHERS[0].rsplit(".", 1)[-1]),
        (_("数据库"), "DATABASES", _database_summary()),
        (_("审计日志保存天数（不少于 180 天）"), "AUDIT_RETENTION_DAYS",
         settings.AUDIT_RETENTION_DAYS),
        (_("单个证明材料上限（字节）"), "EVIDENCE_MAX_FILE_BYTES",
         _setting("EVIDENCE_MAX_FILE_BYTES")),
        (_("单次上传请求上限（字节）"), "EVIDENCE_MAX_REQUEST_BYTES",
         _setting("EVIDENCE_MAX_REQUEST_BYTES")),
        (_("邮件发送方式"), "EMAIL_BACKEND", settings.EMAIL_BACKEND.rsplit(".", 1)[-1]),
        (_("邮件使用 TLS"), "EMAIL_USE_TLS", settings.EMAIL_USE_TLS),
        (_("超级用户账户数（应为 0）"), "is_superuser",
         User.objects.filter(is_superuser=True).count()),
    ]


@capability_required(VIEW_SETTINGS)
def settings_view(request):
    log_action("security.settings.viewed", actor=request.user)
    return render(request, "accounts/admin_settings.html", {"rows": effective_settings()})


# -- Security administrator -----------------------------------------------------------------

@capability_required(MANAGE_ROLES)
def user_role(request, pk):
    account = _other_account_or_404(request, pk)
    form = RoleForm(request.POST or None, instance=account)
    if request.method == "POST" and form.is_valid():
        if services.account_role_change(account=account, actor=request.user,
                                        **form.cleaned_data):
            messages.success(request, _("角色与范围已保存。"))
        else:
            messages.info(request, _("没有需要保存的修改。"))
        return redirect("accounts:admin_user_detail", pk=account.pk)
    if request.method == "POST":
        # The instance took the refused values while validating: show the stored ones.
        account.refresh_from_db()
    return render(request, "accounts/admin_user_role.html", {"form": form, "account": account})


@capability_required(UNLOCK_ACCOUNTS)
@require_POST
def user_unlock(request, pk):
    account = _any_account_or_404(pk)
    cleared = services.account_unlock(account=account, actor=request.user)
    if cleared is None:
        messages.error(request, _("本系统未启用登录失败锁定，无需解锁。"))
    elif cleared:
        messages.success(request, _("已解除锁定，清除了 %(n)d 条登录失败记录。") % {"n": cleared})
    else:
        messages.info(request, _("该账户没有登录失败记录，无需解锁。"))
    return redirect("accounts:admin_user_detail", pk=account.pk)


@capability_required(RESET_TWO_FACTOR)
@require_POST
def user_reset_two_factor(request, pk):
    account = _other_account_or_404(request, pk)
    # reset_two_factor writes its own audit entry and ends the account's sessions; the
    # password stays as it was (the security administrator never learns one).
    removed = services.reset_two_factor(user=account, actor=request.user)
    if removed:
        messages.success(
            request, _("已重置双因素认证。该用户重新绑定验证器时需要绑定码，请为其发放。"))
    else:
        messages.info(request, _("该用户尚未绑定验证器。"))
    return redirect("accounts:admin_user_detail", pk=account.pk)


@capability_required(ISSUE_ENROLMENT_CODE)
@never_cache
@require_POST
def user_enrolment_code(request, pk):
    """The code the account needs to enrol an authenticator or, without one, to replace its
    one-time password (twofactor.password_needs_code), shown in this response only
    (never stored in clear, never in a URL or the session)."""
    account = _other_account_or_404(request, pk)
    try:
        code = services.enrolment_code_issue(user=account, actor=request.user)
    except ValidationError as refused:
        messages.error(request, " ".join(refused.messages))
        return redirect("accounts:admin_user_detail", pk=account.pk)
    return render(request, "accounts/admin_enrolment_code_issued.html", {
        "account": account, "code": code, "hours": settings.KAOHE_ENROLMENT_CODE_HOURS,
        "two_factor": account.role in twofactor.TWO_FACTOR_ROLES,
    })


def security_policy() -> dict:
    """The policy as configured: passwords, lockout, sessions, two factors."""
    min_length = next((v.min_length for v in get_default_password_validators()
                       if isinstance(v, MinimumLengthValidator)), None)
    roles = [Role(role).label for role in Role if role in twofactor.TWO_FACTOR_ROLES]
    return {
        "password_rules": password_validators_help_texts(),
        "min_length": min_length,
        "password_max_age_days": _setting("KAOHE_PASSWORD_MAX_AGE_DAYS"),
        "lockout_enabled": apps.is_installed("axes") and _setting("AXES_ENABLED", True),
        "failure_limit": _setting("AXES_FAILURE_LIMIT"),
        "cooloff": _setting("AXES_COOLOFF_TIME"),
        "lockout_parameters": _setting("AXES_LOCKOUT_PARAMETERS"),
        "session_age": settings.SESSION_COOKIE_AGE,
        "session_idle_minutes": _setting("KAOHE_SESSION_IDLE_MINUTES"),
        "expire_at_browser_close": settings.SESSION_EXPIRE_AT_BROWSER_CLOSE,
        "two_factor_mode": _setting("KAOHE_TWO_FACTOR"),
        "enrolment_code_hours": settings.KAOHE_ENROLMENT_CODE_HOURS,
        "two_factor_roles": roles,
        "audit_retention_days": settings.AUDIT_RETENTION_DAYS,
    }


@capability_required(VIEW_SECURITY_POLICY)
def security_policy_view(request):
    log_action("security.policy.viewed", actor=request.user)
    return render(request, "accounts/admin_security_policy.html", {"policy": security_policy()})
