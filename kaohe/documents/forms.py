"""The office's Word template upload: checked by content, filled once before it is kept."""

from __future__ import annotations

import io
import zipfile

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kaohe.lib.forms import StyledFormMixin

MAX_TEMPLATE_BYTES = 10 * 1024 * 1024


class TemplateForm(StyledFormMixin, forms.Form):
    file = forms.FileField(label=gettext_lazy("Word模板（.docx）"))


def check_template(exporter, uploaded) -> bytes:
    """The template's bytes, or a ValidationError naming the file and what is wrong."""
    from kaohe.documents.base import render_with_template
    from kaohe.documents.officialdoc import Heading, OfficialDocument, Paragraph

    name = uploaded.name
    if uploaded.size > MAX_TEMPLATE_BYTES:
        raise forms.ValidationError(_("文件“%(name)s”超过10MB。") % {"name": name})
    content = uploaded.read()
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            if "word/document.xml" not in archive.namelist():
                raise zipfile.BadZipFile
            if len(archive.infolist()) > 500 or sum(
                    i.file_size for i in archive.infolist()) > 100 * 1024 * 1024:
                raise forms.ValidationError(_("文件“%(name)s”内容过大。") % {"name": name})
    except zipfile.BadZipFile:
        raise forms.ValidationError(
            _("文件“%(name)s”不是Word文档（.docx），请在Word中另存为.docx后上传。") % {"name": name}
        ) from None
    sample = OfficialDocument(title="示例标题", recipient="示例单位",
                              blocks=[Heading(1, "示例"), Paragraph("示例正文。")],
                              issuer="示例机关")
    try:
        render_with_template(content, sample)
    except Exception as error:  # docxtpl raises Jinja's and XML errors of every kind
        raise forms.ValidationError(
            _("模板“%(name)s”无法填充：%(error)s") % {"name": name, "error": error}
        ) from None
    return content
