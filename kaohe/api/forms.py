from django import forms
from django.utils.translation import gettext_lazy as _

from kaohe.accounts.models import User
from kaohe.api.services import TOKEN_ROLES
from kaohe.lib.forms import StyledFormMixin


class _AccountField(forms.ModelChoiceField):
    """An account a token may act for, named with its role and scope."""

    def label_from_instance(self, obj: User) -> str:
        scope = f" · {obj.scope_label}" if obj.scope_label else ""
        return f"{obj.username}（{obj.get_role_display()}{scope}）"


class TokenIssueForm(StyledFormMixin, forms.Form):
    # Lazy: the active accounts of the token roles as they are when the form is shown.
    user = _AccountField(
        label=_("代表的账户"),
        queryset=(User.objects.filter(is_active=True, role__in=TOKEN_ROLES)
                  .select_related("unit", "province").order_by("role", "username")))
    name = forms.CharField(label=_("令牌名称"), max_length=100,
                           help_text=_("例如：贵州省扶贫开发信息系统"))
