from django import forms
from django.utils.translation import gettext_lazy as _

from kaohe.accounts.models import User
from kaohe.api.services import TOKEN_ROLES
from kaohe.lib.forms import StyledFormMixin


class TokenIssueForm(StyledFormMixin, forms.Form):
    user = forms.ModelChoiceField(label=_("代表的账户"), queryset=User.objects.none())
    name = forms.CharField(label=_("令牌名称"), max_length=100,
                           help_text=_("例如：贵州省扶贫开发信息系统"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = (
            User.objects.filter(is_active=True, role__in=TOKEN_ROLES)
            .select_related("unit", "province").order_by("role", "username"))
        self.fields["user"].label_from_instance = _account_label


def _account_label(user) -> str:
    scope = f" · {user.scope_label}" if user.scope_label else ""
    return f"{user.username}（{user.get_role_display()}{scope}）"
