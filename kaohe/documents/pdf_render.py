"""PDF output through WeasyPrint, with the same GB/T 9704-2012 layout as the Word output.

The CSS names the official fonts first and the installed CJK fonts (Debian fonts-noto-cjk)
after them, so the text is never tofu on a machine without the official fonts.
"""

from __future__ import annotations

import base64

from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from kaohe.documents.officialdoc import (
    Figure,
    Heading,
    OfficialDocument,
    PageBreak,
    Paragraph,
    Table,
    official_date,
)

PDF_TYPE = "application/pdf"


def _blocks(doc: OfficialDocument):
    for block, label in doc.numbered_blocks():
        if isinstance(block, Heading):
            yield {"kind": "heading", "level": min(max(block.level, 1), 4),
                   "text": f"{label}{block.text}"}
        elif isinstance(block, Paragraph):
            yield {"kind": "paragraph", "text": block.text, "indent": block.indent,
                   "bold": block.bold}
        elif isinstance(block, Table):
            total = sum(block.widths) or 0
            widths = [round(100 * w / total, 2) for w in block.widths] if total else []
            yield {"kind": "table", "caption": block.caption, "headers": block.headers,
                   "rows": block.rows, "widths": widths}
        elif isinstance(block, Figure):
            data = base64.b64encode(block.png).decode("ascii")
            yield {"kind": "figure", "src": f"data:image/png;base64,{data}",
                   "caption": block.caption, "width_mm": block.width_mm}
        elif isinstance(block, PageBreak):
            yield {"kind": "pagebreak"}


def render_html(doc: OfficialDocument) -> str:
    return render_to_string("documents/official_pdf.html", {
        "doc": doc,
        "blocks": list(_blocks(doc)),
        "issued_on": official_date(doc.issued_on),
        "printed_on": official_date(doc.printed_on),
        "mark_text": doc.mark.text if doc.mark else "",
        "running_head": mark_safe(_css_string(  # noqa: S308 - escaped for CSS just above
            " · ".join(part for part in (doc.classification, doc.mark.text) if part)
        )) if doc.mark else "",
    })


def _css_string(text: str) -> str:
    """A CSS string literal's content: quotes, backslashes and '<' escaped, one line."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\3C ")
    return " ".join(escaped.split())


def render_pdf(doc: OfficialDocument) -> bytes:
    # Imported here: WeasyPrint loads Pango on import, which only document work needs.
    from weasyprint import HTML

    return HTML(string=render_html(doc)).write_pdf()
