"""The office's Word template upload: checked by content, filled once before it is kept."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kaohe.lib.archives import ArchiveLimits, ArchiveRefused, BoundedZip
from kaohe.lib.forms import StyledFormMixin

MAX_TEMPLATE_BYTES = 10 * 1024 * 1024
# What a Word template may unpack to, counted from the bytes really inflated.
TEMPLATE_ZIP_LIMITS = ArchiveLimits(max_entries=500, max_total_bytes=100 * 1024 * 1024)


class TemplateForm(StyledFormMixin, forms.Form):
    file = forms.FileField(label=gettext_lazy("Word模板（.docx）"))


def check_template(exporter, uploaded) -> bytes:
    """The template's bytes, or a ValidationError naming the file and what is wrong."""
    from kaohe.documents.base import TemplateFillError, render_with_template
    from kaohe.documents.officialdoc import Heading, OfficialDocument, Paragraph

    name = uploaded.name
    if uploaded.size > MAX_TEMPLATE_BYTES:
        raise forms.ValidationError(_("文件“%(name)s”超过10MB。") % {"name": name})
    content = uploaded.read()
    not_word = forms.ValidationError(
        _("文件“%(name)s”不是Word文档（.docx），请在Word中另存为.docx后上传。") % {"name": name})
    try:
        # docxtpl and python-docx believe the sizes a ZIP declares: count the real ones first.
        with BoundedZip(content, TEMPLATE_ZIP_LIMITS) as archive:
            if "word/document.xml" not in archive.names():
                raise not_word
            archive.check_all()
    except ArchiveRefused as error:
        if error.code == "damaged":
            raise not_word from None
        raise forms.ValidationError(
            _("文件“%(name)s”无法使用：%(reason)s") % {"name": name, "reason": error}
        ) from None
    sample = OfficialDocument(title="示例标题", recipient="示例单位",
                              blocks=[Heading(1, "示例"), Paragraph("示例正文。")],
                              issuer="示例机关")
    # Filling the sample compiles every part docxtpl fills (body, headers, footers, footnotes,
    # properties) in the sandbox, whose check refuses any expression outside the whitelist.
    try:
        render_with_template(content, sample)
    except TemplateFillError as error:
        if error.expression:
            raise forms.ValidationError(
                _("模板“%(name)s”（%(document)s）含有不允许的表达式“%(expression)s”：%(reason)s。"
                  "模板只能使用模板页列出的填充标记。"),
                code="template_refused",
                params={"name": name, "document": exporter.name,
                        "expression": error.expression, "reason": error.reason},
            ) from None
        raise forms.ValidationError(
            _("模板“%(name)s”无法填充：%(error)s") % {"name": name, "error": error.reason}
        ) from None
    return content
