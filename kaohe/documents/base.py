"""One exporter class per document.

An exporter knows its document: who may make it (`capability` plus `get_object`, which
answers 404 outside the user's scope), what to call the file, and how to build it.
`render(fmt, obj, mark)` returns a RenderedFile: name, type and bytes. Word and PDF come
from one OfficialDocument (`build`); Excel exporters override `build_xlsx`.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404

from kaohe.accounts.capabilities import has_capability
from kaohe.documents.docx_render import DOCX_TYPE, apply_draft, apply_mark, render_docx
from kaohe.documents.officialdoc import Mark, OfficialDocument
from kaohe.documents.pdf_render import PDF_TYPE, render_pdf
from kaohe.lib.spreadsheets import header_text

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ZIP_TYPE = "application/zip"
CONTENT_TYPES = {"docx": DOCX_TYPE, "pdf": PDF_TYPE, "xlsx": XLSX_TYPE, "zip": ZIP_TYPE}
FORMAT_LABELS = {"docx": "Word", "pdf": "PDF", "xlsx": "Excel", "zip": "ZIP"}


@dataclass
class RenderedFile:
    file_name: str
    content_type: str
    data: bytes


REGISTRY: dict[str, type[Exporter]] = {}


def register(cls):
    REGISTRY[cls.identifier] = cls
    return cls


def pk_or_404(key: str) -> int:
    """An object's key from a URL or the command line as a primary key; 404 if it is none."""
    try:
        return int(key)
    except (TypeError, ValueError):
        raise Http404 from None


def one_of(objects, key: str):
    """The object of a scoped queryset named by key: 404 when the key is not a number or names
    nothing in the user's scope (the same answer, so the scope is not revealed)."""
    try:
        return objects.get(pk=pk_or_404(key))
    except ObjectDoesNotExist:
        raise Http404 from None


def get_exporter(identifier: str) -> Exporter:
    try:
        return REGISTRY[identifier]()
    except KeyError:
        raise Http404 from None


class Exporter:
    identifier: str = ""
    name: str = ""
    formats: tuple[str, ...] = ("docx", "pdf")
    capability: str = ""
    # Confidential documents carry the maker's mark; the public circular does not.
    confidential: bool = True
    # Bulk exports run in the background and are kept until they expire.
    bulk: bool = False
    # Whether the office may replace the Word layout with its own docxtpl template.
    templatable: bool = True
    # Names an office template may use, shown on the template page.
    template_fields: tuple[str, ...] = ()
    # The 文种 whose 发文字号 an office sign-off assigns (kaohe.documents.signing); empty for
    # papers that are not signed off. ``upward``: a 上行文, which names its 签发人.
    sign_kind: str = ""
    upward: bool = False

    # --- what the user may export -------------------------------------------------------
    def scoped(self, user, round_):
        """The queryset of the objects this user may export in the round. An exporter of
        model rows defines this alone; objects_for and get_object follow from it."""
        raise NotImplementedError

    def objects_for(self, user, round_):
        """The objects this user may export (for the documents page); a list or queryset."""
        return self.scoped(user, round_)

    def get_object(self, user, round_, key: str):
        """The object named by key, or Http404 when it is outside the user's scope."""
        return one_of(self.scoped(user, round_), key)

    def object_key(self, obj) -> str:
        return str(obj.pk)

    def describe(self, obj) -> str:
        return str(obj)

    def file_stem(self, obj) -> str:
        return f"{self.name}-{self.describe(obj)}"

    # --- building -------------------------------------------------------------------------
    def build(self, obj, mark: Mark | None) -> OfficialDocument:
        raise NotImplementedError

    def build_xlsx(self, obj, mark: Mark | None) -> bytes:
        raise NotImplementedError

    def document(self, obj, mark: Mark | None) -> OfficialDocument:
        """The paper to print: as signed off when it was, with its 份号 when confidential."""
        from kaohe.documents.signing import prepared

        return prepared(self, obj, mark)

    def render(self, fmt: str, obj, mark: Mark | None, template: bytes | None = None,
               progress=None) -> RenderedFile:
        if fmt not in self.formats:
            raise Http404
        stem = _safe_stem(self.file_stem(obj))
        if progress:
            progress(0, 1)
        if fmt == "xlsx":
            data = self.build_xlsx(obj, mark)
        else:
            doc = self.document(obj, mark)
            doc.mark = mark
            if fmt == "pdf":
                data = render_pdf(doc)
            elif template is not None:
                data = render_with_template(template, doc)
            else:
                data = render_docx(doc)
        if progress:
            progress(1, 1)
        return RenderedFile(f"{stem}.{fmt}", CONTENT_TYPES[fmt], data)


class RoundExporter(Exporter):
    """A document of the whole round, keyed by its year, offered once `ready` says so."""

    def ready(self, round_) -> bool:
        return True

    def objects_for(self, user, round_):
        if not has_capability(user, self.capability) or round_ is None:
            return []
        return [round_] if self.ready(round_) else []

    def get_object(self, user, round_, key):
        if (not has_capability(user, self.capability) or round_ is None
                or key != str(round_.year) or not self.ready(round_)):
            raise Http404
        return round_

    def object_key(self, obj):
        return str(obj.year)

    def describe(self, obj):
        return f"{obj.year}年度"


def _safe_stem(text: str) -> str:
    """A file name without path separators or control characters."""
    cleaned = "".join("_" if ch in '/\\:*?"<>|' or ord(ch) < 32 else ch for ch in text)
    return cleaned.strip(" .")[:120] or "document"


class TemplateFillError(Exception):
    """The office's Word template could not be filled. `expression` is set when the sandbox
    refused one of its expressions (then `reason` says why); otherwise `reason` is the error."""

    def __init__(self, reason: str, expression: str = ""):
        super().__init__(reason, expression)
        self.reason, self.expression = reason, expression

    def __str__(self):
        return f"{self.expression}: {self.reason}" if self.expression else self.reason


def render_with_template(template: bytes, doc: OfficialDocument) -> bytes:
    """The office's own Word template filled by docxtpl in the sandbox (template_sandbox);
    the mark is added afterwards, so a template cannot drop it."""
    from docx import Document
    from docxtpl import DocxTemplate

    from kaohe.documents.forms import TEMPLATE_ZIP_LIMITS
    from kaohe.documents.template_sandbox import (
        TemplateRefused,
        TemplateTooLarge,
        template_environment,
    )
    from kaohe.lib.archives import ArchiveRefused, BoundedZip

    try:
        # A template stored before the upload counted its real size is counted again here.
        with BoundedZip(template, TEMPLATE_ZIP_LIMITS) as archive:
            archive.check_all()
    except ArchiveRefused as error:
        raise TemplateFillError(str(error)) from error
    try:
        tpl = DocxTemplate(io.BytesIO(template))
        tpl.render(doc.as_context(), jinja_env=template_environment(), autoescape=True)
        filled = io.BytesIO()
        tpl.save(filled)
    except TemplateRefused as error:
        raise TemplateFillError(error.reason, error.expression) from error
    except TemplateTooLarge as error:
        raise TemplateFillError(str(error)) from error
    except Exception as error:  # docxtpl raises Jinja's, XML and zip errors of every kind
        raise TemplateFillError(f"{type(error).__name__}: {error}") from error
    document = Document(io.BytesIO(filled.getvalue()))
    apply_mark(document, doc.mark, doc.title, doc.classification, doc.issuer or doc.printed_by)
    if doc.draft:
        apply_draft(document)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def mark_workbook(workbook, mark: Mark | None, title: str):
    """The maker's mark in every sheet's printed header and in the workbook properties.
    Save the workbook with kaohe.lib.spreadsheets.workbook_bytes, which keeps text as text."""
    workbook.properties.title = title
    if mark is None:
        return
    workbook.properties.creator = mark.maker
    workbook.properties.lastModifiedBy = mark.username
    workbook.properties.description = mark.text
    workbook.properties.keywords = f"{mark.export_code};{mark.username}"
    workbook.properties.identifier = mark.export_code
    for sheet in workbook.worksheets:
        # The mark names the user; "&" would start a header code, not show.
        sheet.oddHeader.center.text = f"内部资料 注意保密 · {header_text(mark.text)}"
        sheet.oddHeader.center.size = 8
        sheet.evenHeader.center.text = sheet.oddHeader.center.text
        sheet.oddFooter.center.text = "第 &P 页，共 &N 页"
