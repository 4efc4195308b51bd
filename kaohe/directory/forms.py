from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kaohe.lib.forms import StyledFormMixin

MAX_IMPORT_BYTES = 10 * 1024 * 1024


class ImportForm(StyledFormMixin, forms.Form):
    file = forms.FileField(label=_("Excel 文件（.xlsx）"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_IMPORT_BYTES:
            raise forms.ValidationError(_("文件超过 10 MB，请拆分后导入。"))
        return upload


class DesignationForm(StyledFormMixin, forms.Form):
    designated = forms.BooleanField(label=_("省定深度贫困县"), required=False)
    note = forms.CharField(label=_("认定依据（文件名称、文号）"), max_length=200, required=False)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("designated") and not data.get("note"):
            self.add_error("note", _("标记为深度贫困县时请填写认定依据。"))
        return data


class LiaisonForm(StyledFormMixin, forms.Form):
    liaison_name = forms.CharField(label=_("联络员姓名"), max_length=50, required=False)
    liaison_phone = forms.CharField(label=_("联系电话"), max_length=40, required=False)
    liaison_email = forms.EmailField(label=_("电子邮箱"), required=False,
                                     error_messages={"invalid": _("请输入有效的电子邮箱地址。")})


class FiguresImportForm(StyledFormMixin, forms.Form):
    file = forms.FileField(label=_("全国扶贫开发信息系统导出文件（CSV 或 Excel）"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_IMPORT_BYTES:
            raise forms.ValidationError(_("文件超过 10 MB，请拆分后导入。"))
        return upload
