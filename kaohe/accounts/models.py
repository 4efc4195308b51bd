"""Users, each with one role and, where the role has one, its scope."""

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    OFFICE = "office", _("国务院扶贫办")
    WORKING_GROUP = "working_group", _("考核工作组")
    LEAD_REVIEWER = "lead_reviewer", _("牵头部门考核工作小组")
    ORG_DEPARTMENT = "org_department", _("中央组织部")
    MILITARY_INSPECTOR = "military_inspector", _("中央军委政治工作部")
    UNIT = "unit", _("中央单位")
    PROVINCE = "province", _("省级扶贫部门")
    LEADING_GROUP = "leading_group", _("国务院扶贫开发领导小组")
    SYSTEM_ADMIN = "system_admin", _("系统管理员")
    SECURITY_ADMIN = "security_admin", _("安全管理员")
    AUDITOR = "auditor", _("安全审计员")


# The scope field each scoped role needs; a role not listed has none.
ROLE_SCOPE: dict[str, str] = {
    Role.LEAD_REVIEWER: "lead_department",
    Role.UNIT: "unit",
    Role.PROVINCE: "province",
}


class User(AbstractUser):
    full_name = models.CharField(_("姓名"), max_length=50, blank=True)
    # Empty until the security administrator grants one: the system administrator opens
    # accounts without a role (三员分立), and an account without a role may do nothing.
    role = models.CharField(_("角色"), max_length=30, choices=Role.choices, blank=True)
    unit = models.ForeignKey(
        "directory.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    province = models.ForeignKey(
        "directory.Province", null=True, blank=True, on_delete=models.PROTECT,
        related_name="users",
    )
    lead_department = models.ForeignKey(
        "directory.LeadDepartment", null=True, blank=True, on_delete=models.PROTECT,
        related_name="users",
    )
    is_liaison = models.BooleanField(_("联络员"), default=False)
    post = models.CharField(_("职务"), max_length=100, blank=True)
    phone = models.CharField(_("联系电话"), max_length=40, blank=True)
    # When the password was last set; empty for accounts made before it was recorded (their
    # age then counts from date_joined). Read only where a maximum age is configured.
    password_changed_at = models.DateTimeField(_("密码修改时间"), null=True, blank=True)
    # A one-time password from the system administrator (a new account or a reset) is known
    # to them: it must be replaced by the owner before any page opens. Accounts made
    # elsewhere (the demo, the console) keep the password they were given.
    must_change_password = models.BooleanField(_("须修改密码"), default=False)
    # The last reset by an administrator, told to the owner once at their next sign-in.
    password_reset_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("密码重置人"))
    password_reset_at = models.DateTimeField(_("密码重置时间"), null=True, blank=True)
    password_reset_notice_pending = models.BooleanField(_("待告知密码重置"), default=False)

    # AbstractBaseUser.set_password() keeps the new raw password here until the save (a
    # private attribute the stubs leave out).
    _password: str | None

    class Meta:
        verbose_name = _("用户")
        constraints = [
            models.CheckConstraint(
                name="user_scope_matches_role",
                condition=(
                    models.Q(role="unit", unit__isnull=False, province__isnull=True,
                             lead_department__isnull=True)
                    | models.Q(role="province", province__isnull=False, unit__isnull=True,
                               lead_department__isnull=True)
                    | models.Q(role="lead_reviewer", lead_department__isnull=False,
                               unit__isnull=True, province__isnull=True)
                    | (~models.Q(role__in=["unit", "province", "lead_reviewer"])
                       & models.Q(unit__isnull=True, province__isnull=True,
                                  lead_department__isnull=True))
                ),
            ),
        ]

    def __str__(self):
        return self.full_name or self.username

    def save(self, *args, **kwargs):
        # set_password() leaves the new raw password in _password until the save; a hash
        # upgrade at login clears it first, so only a real change is stamped.
        if self._password is not None:
            self.password_changed_at = timezone.now()
            update_fields = kwargs.get("update_fields")
            if update_fields is not None and "password_changed_at" not in update_fields:
                kwargs["update_fields"] = [*update_fields, "password_changed_at"]
        super().save(*args, **kwargs)

    def clean(self):
        super().clean()
        needed = ROLE_SCOPE.get(self.role)
        for field in ("unit", "province", "lead_department"):
            has = getattr(self, f"{field}_id") is not None
            if field == needed and not has:
                raise ValidationError({field: _("该角色必须指定所属范围。")})
            if field != needed and has:
                raise ValidationError({field: _("该角色不应指定此范围。")})
        if self.is_liaison and self.role != Role.LEAD_REVIEWER:
            raise ValidationError({"is_liaison": _("只有牵头部门考核工作小组成员可以担任联络员。")})

    @property
    def scope_label(self) -> str:
        scope = self.unit or self.province or self.lead_department
        return str(scope) if scope else ""


class UserSession(models.Model):
    """The sessions a user is signed in with, so that all of them can be ended at once
    (logout, password change, a disabled account, a reset of the second factor)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="sessions")
    session_key = models.CharField(max_length=40, unique=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("登录会话")

    def __str__(self):
        return f"{self.user} · {self.created:%Y-%m-%d %H:%M}"


class EnrolmentCode(models.Model):
    """A code from the security administrator that lets its user enrol an authenticator.

    Without it, an account that has no authenticator would enrol one on first sign-in
    (trust on first use), so whoever knows the password (e.g. the system administrator
    after a reset) could. Only the SHA-256 of the code is kept; a code works once, for its
    own user, until it expires; issuing a new one revokes the unused ones before it.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="enrolment_codes")
    code_hash = models.CharField(max_length=64, unique=True)
    issued_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    # Who issued it as the audit log names them (the console operator has no account).
    issued_by_repr = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("认证器绑定码")

    def __str__(self):
        return f"{self.user} · {self.created_at:%Y-%m-%d %H:%M}"

    def state(self, now=None) -> str:
        """"valid", "used", "revoked" or "expired"."""
        now = now or timezone.now()
        if self.used_at is not None:
            return "used"
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= now:
            return "expired"
        return "valid"


class AccountOpening(models.Model):
    """An account the system administrator opened in one act for a unit, a province or a
    lead department's filed team member (kaohe.accounts.bulk).

    It remembers what the account is for while it has no role: the security administrator
    grants the matching role from it, and the credential letters name it. A team member's
    account already exists (the filing made it); its opening only queues its letter.
    """

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="opening")
    unit = models.ForeignKey("directory.Unit", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+")
    province = models.ForeignKey("directory.Province", null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    lead_department = models.ForeignKey("directory.LeadDepartment", null=True, blank=True,
                                        on_delete=models.PROTECT, related_name="+")
    # False for a team member's account, which the filing had already made.
    created_account = models.BooleanField(default=True)
    opened_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField(default=timezone.now)
    # The credential letters this account's one-time password goes into: the batch key of
    # the export that claimed it, and when the password was issued into it.
    letter_batch = models.CharField(max_length=32, blank=True, db_index=True)
    letter_issued_at = models.DateTimeField(null=True, blank=True)
    # The security administrator's letters with the account's enrolment code (the second
    # secret a one-time password needs, security.md 26), claimed and issued the same way.
    code_batch = models.CharField(max_length=32, blank=True, db_index=True)
    code_issued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("批量开设的账户")
        constraints = [
            models.CheckConstraint(
                name="opening_one_target",
                condition=(
                    models.Q(unit__isnull=False, province__isnull=True,
                             lead_department__isnull=True)
                    | models.Q(unit__isnull=True, province__isnull=False,
                               lead_department__isnull=True)
                    | models.Q(unit__isnull=True, province__isnull=True,
                               lead_department__isnull=False)
                ),
            ),
            models.UniqueConstraint(fields=["unit"], condition=models.Q(unit__isnull=False),
                                    name="opening_one_per_unit"),
            models.UniqueConstraint(fields=["province"],
                                    condition=models.Q(province__isnull=False),
                                    name="opening_one_per_province"),
        ]

    def __str__(self):
        return f"{self.user} · {self.target}"

    @property
    def target(self):
        return self.unit or self.province or self.lead_department

    @property
    def role(self) -> str:
        """The role the account is opened for."""
        if self.unit_id:
            return Role.UNIT
        if self.province_id:
            return Role.PROVINCE
        return Role.LEAD_REVIEWER
