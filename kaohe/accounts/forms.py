from typing import Any

from django import forms
from django.contrib.auth.forms import PasswordChangeForm
from django.utils.translation import gettext_lazy as _

from kaohe.accounts import credentials
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


class EnrolmentCodeForm(StyledFormMixin, forms.Form):
    enrolment_code = forms.CharField(
        label=_("绑定码"),
        max_length=40,
        help_text=_("由安全管理员发放，格式如 ABCD-EFGH-JKMN；不区分大小写。"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True,
                                      "autocapitalize": "characters", "spellcheck": "false"}),
    )

    def clean_enrolment_code(self):
        code = self.cleaned_data["enrolment_code"]
        if not credentials.is_well_formed_enrolment_code(code):
            raise forms.ValidationError(
                _("绑定码应为 12 位大写字母和数字（可用短横线分成 3 组），请核对后重新输入。"))
        return credentials.normalise_enrolment_code(code)


class StyledPasswordChangeForm(StyledFormMixin, PasswordChangeForm):
    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        old, new = cleaned.get("old_password"), cleaned.get("new_password2")
        # A one-time password is known to the administrator who issued it.
        if old and new and old == new:
            self.add_error("new_password2", forms.ValidationError(
                _("新密码不能与当前密码相同。"), code="password_unchanged"))
        return cleaned
