"""A starter Word template for the office to edit: our GB/T 9704 layout with docxtpl tags.

The office opens it in Word, changes fonts, spacing, the header or fixed wording, keeps the
{{ … }} and {%p … %} tags, and uploads it on the templates page. The variables, filters and
statements a template may use are whitelisted in template_sandbox (CONTEXT_VARIABLES, FILTERS);
this starter uses only those.
"""

from kaohe.documents.docx_render import render_docx
from kaohe.documents.officialdoc import OfficialDocument, Paragraph


def starter_template(exporter) -> bytes:
    def tag(text):
        return Paragraph(text, indent=False)

    blocks = [
        tag("{%p for s in sections %}"),
        tag("{%p if s.kind == 'heading' %}"),
        Paragraph("{{ s.label }}{{ s.text }}"),
        tag("{%p elif s.kind == 'paragraph' %}"),
        Paragraph("{{ s.text }}"),
        tag("{%p elif s.kind == 'table' %}"),
        tag("{{ s.caption }}"),
        tag("{%p for row in s.rows %}"),
        tag("{{ row|join('　') }}"),
        tag("{%p endfor %}"),
        tag("{%p endif %}"),
        tag("{%p endfor %}"),
    ]
    doc = OfficialDocument(
        title="{{ title }}", recipient="{{ recipient }}", blocks=blocks,
        issuer="{{ issuer }}", classification="{{ classification }}",
    )
    data = render_docx(doc)
    # The issuing date is a tag too; render_docx prints only real dates, so add it here.
    import io

    from docx import Document

    document = Document(io.BytesIO(data))
    last = document.paragraphs[-1]
    last.insert_paragraph_before("")  # keeps the signature block's spacing
    paragraph = document.add_paragraph("{{ issued_on }}")
    if last.alignment is not None:
        paragraph.alignment = last.alignment
    paragraph.paragraph_format.right_indent = last.paragraph_format.right_indent
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
