"""Forms of the administrator duties: accounts (system administrator) and roles (security
administrator). The secrets they hand out are made in kaohe.accounts.credentials.

Every form validates through User.full_clean (a ModelForm does), so the model's own rule
that a role has exactly the scope it needs is the one that decides.
"""

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from kaohe.accounts.models import Role, User
from kaohe.directory.models import LeadDepartment, Province, Unit
from kaohe.lib.forms import StyledFormMixin, model_choice_field

ADMIN_ROLES = frozenset({Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDITOR})
# The roles that work on the assessment itself.
DATA_ROLES = tuple(role for role in Role if role not in ADMIN_ROLES)
# The accounts the system administrator keeps: those of the assessment's roles, and those
# opened without a role that the security administrator has not granted one yet.
SYSTEM_ADMIN_ACCOUNT_ROLES = (*DATA_ROLES, "")

_phone = RegexValidator(r"^[0-9+()\- ]{5,40}$",
                        _("请输入有效的联系电话（数字，可含 + - 括号和空格）。"))


class _ScopeFields(forms.ModelForm):
    """Role, scope and liaison; the model's clean() says which scope a role needs."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        model_choice_field(self, "unit").queryset = Unit.objects.order_by("code")
        model_choice_field(self, "province").queryset = Province.objects.order_by("code")
        model_choice_field(self, "lead_department").queryset = (
            LeadDepartment.objects.order_by("order"))
        self.fields["unit"].label = _("所属中央单位")
        self.fields["province"].label = _("所属省份")
        self.fields["lead_department"].label = _("所属牵头部门")
        for name in ("unit", "province", "lead_department"):
            self.fields[name].help_text = ""
        self.fields["unit"].help_text = _("角色为中央单位时必填。")
        self.fields["province"].help_text = _("角色为省级扶贫部门时必填。")
        self.fields["lead_department"].help_text = _("角色为牵头部门考核工作小组时必填。")


class AccountCreateForm(StyledFormMixin, forms.ModelForm):
    """The system administrator opens an account for someone working on the assessment.

    Without a role: the security administrator grants it (三员分立). A role, scope or any
    other field posted here is not a field of the form and is ignored.
    """

    class Meta:
        model = User
        fields = ["username", "full_name", "post", "phone", "email"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["full_name"].required = True
        self.fields["phone"].validators.append(_phone)
        self.style_fields()


class ContactForm(StyledFormMixin, forms.ModelForm):
    """Name, post and how to reach the person: nothing that grants anything."""

    class Meta:
        model = User
        fields = ["full_name", "post", "phone", "email"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["full_name"].required = True
        self.fields["phone"].validators.append(_phone)


class RoleForm(StyledFormMixin, _ScopeFields):
    """The security administrator grants a role (administrator roles included) and scope."""

    role = forms.TypedChoiceField(label=_("角色"), choices=Role.choices)

    class Meta:
        model = User
        fields = ["role", "unit", "province", "lead_department", "is_liaison"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.style_fields()


class ActiveForm(forms.Form):
    active = forms.TypedChoiceField(choices=[("1", "1"), ("0", "0")],
                                    coerce=lambda value: value == "1")
