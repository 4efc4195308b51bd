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

    def clean(self):
        data = super().clean()
        if data.get("designated") and not data.get("note"):
            self.add_error("note", _("标记为深度贫困县时请填写认定依据。"))
        return data
