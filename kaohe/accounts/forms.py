from django import forms
from django.contrib.auth.forms import PasswordChangeForm
from django.utils.translation import gettext_lazy as _

from kaohe.lib.forms import StyledFormMixin


class TwoFactorCodeForm(StyledFormMixin, forms.Form):
    code = forms.CharField(
        label=_("验证码"),
        max_length=20,
        widget=forms.TextInput(attrs={
            "autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True,
        }),
    )

    def clean_code(self):
        code = "".join(self.cleaned_data["code"].split())
        if not (code.isascii() and code.isdigit() and len(code) == 6):
            raise forms.ValidationError(_("请输入认证器应用显示的 6 位数字验证码。"))
        return code


class StyledPasswordChangeForm(StyledFormMixin, PasswordChangeForm):
    pass
