from django import forms
from django.utils.translation import gettext_lazy as _

from kaohe.accounts.models import User
from kaohe.api.services import TOKEN_ROLES
from kaohe.lib.forms import StyledFormMixin


class TokenIssueForm(StyledFormMixin, forms.Form):
    # The account is named by its username, not chosen in a list of every unit's and
    # province's account (issue 19: the page grew with the units); any active account of
    # the token roles, as it is when the form is sent.
    user = forms.ModelChoiceField(
        label=_("代表的账户"), to_field_name="username", widget=forms.TextInput,
        queryset=User.objects.filter(is_active=True, role__in=TOKEN_ROLES),
        help_text=_("填写该账户的用户名（中央单位、省级扶贫部门或国务院扶贫办的账户）。"),
        error_messages={"invalid_choice": _("没有这个用户名的中央单位、省级扶贫部门或国务院"
                                            "扶贫办账户，或该账户已停用。")})
    name = forms.CharField(label=_("令牌名称"), max_length=100,
                           help_text=_("例如：贵州省扶贫开发信息系统"))
