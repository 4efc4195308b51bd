"""Word output laid out after GB/T 9704-2012.

Page: A4, margins top 37 mm, bottom 35 mm, left 28 mm, right 26 mm, a grid of 22 lines of
28 characters. Title 2号 (22 pt) 小标宋; body 3号 (16 pt) 仿宋_GB2312; headings 黑体, 楷体,
仿宋 bold, 仿宋; page numbers 4号 (14 pt) as "— 1 —", odd pages right, even pages left.
The official fonts are named in the file; Word falls back to what the machine has, and the PDF
renderer names the installed CJK fonts as fallbacks.
"""

from __future__ import annotations

import io
from functools import cache

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from kaohe.documents.officialdoc import (
    Figure,
    Heading,
    Mark,
    OfficialDocument,
    PageBreak,
    Paragraph,
    Table,
    official_date,
)

FANGSONG = "仿宋_GB2312"
HEITI = "黑体"
KAITI = "楷体_GB2312"
XIAOBIAOSONG = "方正小标宋简体"
SONGTI = "宋体"
LATIN = "Times New Roman"

BODY_PT = 16          # 3号
TITLE_PT = 22         # 2号
NOTE_PT = 14          # 4号: page numbers, copy-to and issuing lines
TABLE_PT = 12         # 小4号, usual for tables inside official documents
MARK_PT = 9           # 小5号
LINE_PITCH_PT = 28.95  # 225 mm type area / 22 lines

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _set_fonts(run_or_style, east_asian: str, size_pt: float, bold: bool = False):
    font = run_or_style.font
    font.name = LATIN
    font.size = Pt(size_pt)
    font.bold = bold
    element = run_or_style.element
    rpr = element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    fonts.set(qn("w:eastAsia"), east_asian)
    fonts.set(qn("w:ascii"), LATIN)
    fonts.set(qn("w:hAnsi"), LATIN)


def _exact_lines(paragraph_format, pitch: float = LINE_PITCH_PT):
    paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    paragraph_format.line_spacing = Pt(pitch)
    paragraph_format.space_before = Pt(0)
    paragraph_format.space_after = Pt(0)


def _page_setup(section, landscape: bool):
    width, height = Mm(210), Mm(297)
    if landscape:
        section.orientation = WD_ORIENT.LANDSCAPE
        width, height = height, width
    section.page_width, section.page_height = width, height
    section.top_margin = Mm(37)
    section.bottom_margin = Mm(35)
    section.left_margin = Mm(28)
    section.right_margin = Mm(26)
    section.header_distance = Mm(20)
    section.footer_distance = Mm(22)
    # The 22-line grid (line pitch in twentieths of a point). A character grid would force
    # 28 characters per line in Word but spreads the text in LibreOffice and WPS; 16 pt
    # characters over the 156 mm type area give 27–28 per line without it.
    sect_pr = section._sectPr
    grid = sect_pr.find(qn("w:docGrid"))
    if grid is None:
        grid = OxmlElement("w:docGrid")
        sect_pr.append(grid)
    grid.set(qn("w:type"), "lines")
    grid.set(qn("w:linePitch"), str(round(LINE_PITCH_PT * 20)))


def _page_number(paragraph):
    """"— N —" with a PAGE field."""
    paragraph.add_run("— ")
    for kind, instruction in (("begin", None), (None, " PAGE "), ("end", None)):
        r = paragraph.add_run()
        if kind:
            fld = OxmlElement("w:fldChar")
            fld.set(qn("w:fldCharType"), kind)
            r._r.append(fld)
        else:
            text = OxmlElement("w:instrText")
            text.set(qn("xml:space"), "preserve")
            text.text = instruction
            r._r.append(text)
    paragraph.add_run(" —")


def _border(paragraph, *sides: str, size: int = 4):
    ppr = paragraph._p.get_or_add_pPr()
    borders = ppr.find(qn("w:pBdr"))
    if borders is None:
        borders = OxmlElement("w:pBdr")
        ppr.append(borders)
    for side in sides:
        edge = OxmlElement(f"w:{side}")
        edge.set(qn("w:val"), "single")
        edge.set(qn("w:sz"), str(size))
        edge.set(qn("w:space"), "1")
        edge.set(qn("w:color"), "000000")
        borders.append(edge)


def _footers(document, section):
    document.settings.odd_and_even_pages_header_footer = True
    odd = section.footer.paragraphs[0]
    odd.style = document.styles["KH Page Number"]
    odd.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    odd.paragraph_format.right_indent = Pt(NOTE_PT)     # 单页码居右空一字
    _page_number(odd)
    even = section.even_page_footer.paragraphs[0]
    even.style = document.styles["KH Page Number"]
    even.alignment = WD_ALIGN_PARAGRAPH.LEFT
    even.paragraph_format.left_indent = Pt(NOTE_PT)     # 双页码居左空一字
    _page_number(even)


def apply_mark(document, mark: Mark | None, title: str, classification: str):
    """The maker's mark on every page header and in the document properties."""
    props = document.core_properties
    props.title = title
    props.category = classification or "公开"
    if mark is None:
        return
    props.author = mark.maker
    props.last_modified_by = mark.username
    props.comments = mark.text
    props.keywords = f"{mark.export_code};{mark.username}"
    props.identifier = mark.export_code
    props.created = mark.made_at
    props.modified = mark.made_at
    for section in document.sections:
        for header in (section.header, section.even_page_header, section.first_page_header):
            paragraph = header.add_paragraph() if header.paragraphs[0].text else (
                header.paragraphs[0])
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            run = paragraph.add_run(f"{classification} · {mark.text}".strip(" ·"))
            # Direct formatting: an office template need not have our styles.
            _set_fonts(run, SONGTI, MARK_PT)


J, C, L, R = (WD_ALIGN_PARAGRAPH.JUSTIFY, WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.LEFT,
              WD_ALIGN_PARAGRAPH.RIGHT)
# Paragraph styles: (east-asian font, size, bold, first-line indent in characters, alignment,
# line pitch). Text carries no direct formatting, so an official can restyle in Word.
STYLES = {
    "KH Body": (FANGSONG, BODY_PT, False, 2, J, LINE_PITCH_PT),
    "KH Plain": (FANGSONG, BODY_PT, False, 0, J, LINE_PITCH_PT),
    "KH Bold": (FANGSONG, BODY_PT, True, 2, J, LINE_PITCH_PT),
    "KH Title": (XIAOBIAOSONG, TITLE_PT, False, 0, C, TITLE_PT * 1.6),
    "KH Centered": (FANGSONG, BODY_PT, False, 0, C, LINE_PITCH_PT),
    "KH Classification": (HEITI, BODY_PT, False, 0, L, LINE_PITCH_PT),
    "KH Heading 1": (HEITI, BODY_PT, False, 2, J, LINE_PITCH_PT),
    "KH Heading 2": (KAITI, BODY_PT, False, 2, J, LINE_PITCH_PT),
    "KH Heading 3": (FANGSONG, BODY_PT, True, 2, J, LINE_PITCH_PT),
    "KH Heading 4": (FANGSONG, BODY_PT, False, 2, J, LINE_PITCH_PT),
    "KH Caption": (HEITI, BODY_PT, False, 0, C, LINE_PITCH_PT),
    "KH Figure Caption": (FANGSONG, NOTE_PT, False, 0, C, LINE_PITCH_PT),
    "KH Table": (FANGSONG, TABLE_PT, False, 0, L, TABLE_PT * 1.5),
    "KH Table Header": (HEITI, TABLE_PT, False, 0, C, TABLE_PT * 1.5),
    "KH Signature": (FANGSONG, BODY_PT, False, 0, R, LINE_PITCH_PT),
    "KH Note": (FANGSONG, NOTE_PT, False, 0, L, LINE_PITCH_PT),
    "KH Page Number": (SONGTI, NOTE_PT, False, 0, R, NOTE_PT * 1.5),
}


def _styles(document):
    # The default font size is the body's (Word measures its grid from it).
    defaults = document.styles.element.find(qn("w:docDefaults"))
    rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    for tag in ("w:sz", "w:szCs"):
        size = rpr.find(qn(tag))
        if size is None:
            size = OxmlElement(tag)
            rpr.append(size)
        size.set(qn("w:val"), str(BODY_PT * 2))
    normal = document.styles["Normal"]
    _set_fonts(normal, FANGSONG, BODY_PT)
    _exact_lines(normal.paragraph_format)
    normal.paragraph_format.alignment = J
    for name, (font, size, bold, indent, align, pitch) in STYLES.items():
        style = document.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = normal
        _set_fonts(style, font, size, bold)
        _exact_lines(style.paragraph_format, pitch)
        style.paragraph_format.alignment = align
        if indent:
            style.paragraph_format.first_line_indent = Pt(size * indent)
        if name.startswith("KH Heading") or name == "KH Caption":
            style.paragraph_format.keep_with_next = True
    document.styles["KH Signature"].paragraph_format.right_indent = Pt(BODY_PT * 4)  # 右空四字
    for name in ("KH Note",):
        document.styles[name].paragraph_format.left_indent = Pt(NOTE_PT)
        document.styles[name].paragraph_format.right_indent = Pt(NOTE_PT)


def _style_id(name: str) -> str:
    """python-docx's id for a style it created: the name without spaces."""
    return name.replace(" ", "")


def _para(document, text, style="KH Body"):
    # Setting the style id directly: python-docx's by-name setter searches every style.
    paragraph = document.add_paragraph(text)
    paragraph._p.style = _style_id(style)
    return paragraph


@cache
def _base(landscape: bool) -> bytes:
    """An empty document with the page, the styles and the page numbers set up, made once
    per process: each document starts from a copy of it."""
    document = Document()
    _page_setup(document.sections[0], landscape)
    _styles(document)
    for name in STYLES:
        assert document.styles[name].style_id == _style_id(name)
    _footers(document, document.sections[0])
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _table(document, block: Table):
    if block.caption:
        _para(document, block.caption, "KH Caption")
    table = document.add_table(rows=1, cols=len(block.headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    total = sum(block.widths) if block.widths else 0

    header_style = _style_id("KH Table Header")
    cell_style = _style_id("KH Table")

    def fill(cells, values, style):
        for cell, value in zip(cells, values, strict=False):
            paragraph = cell.paragraphs[0]
            paragraph._p.style = style
            paragraph.add_run(str(value))

    fill(table.rows[0].cells, block.headers, header_style)
    # The header row repeats on every page.
    tr_pr = table.rows[0]._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    tr_pr.append(repeat)
    for values in block.rows:
        fill(table.add_row().cells, values, cell_style)
    if total:
        for index, width in enumerate(block.widths):
            for cell in table.columns[index].cells:
                cell.width = Mm(150 * width / total)
    # Breathing room after the table.
    document.add_paragraph()


HEADING_STYLES = {1: "KH Heading 1", 2: "KH Heading 2", 3: "KH Heading 3", 4: "KH Heading 4"}


def render_docx(doc: OfficialDocument) -> bytes:
    document = Document(io.BytesIO(_base(doc.landscape)))
    if doc.classification:
        _para(document, doc.classification, "KH Classification")
    if doc.reference:
        _para(document, doc.reference, "KH Centered")
    _para(document, doc.title, "KH Title")
    _para(document, "", "KH Plain")  # 标题下空一行
    if doc.recipient:
        _para(document, f"{doc.recipient}：", "KH Plain")

    for block, label in doc.numbered_blocks():
        if isinstance(block, Heading):
            _para(document, f"{label}{block.text}", HEADING_STYLES[min(max(block.level, 1), 4)])
        elif isinstance(block, Paragraph):
            style = "KH Bold" if block.bold else "KH Body" if block.indent else "KH Plain"
            _para(document, block.text, style)
        elif isinstance(block, Table):
            _table(document, block)
        elif isinstance(block, Figure):
            document.add_picture(io.BytesIO(block.png), width=Mm(block.width_mm))
            picture = document.paragraphs[-1]
            picture._p.style = _style_id("KH Centered")
            picture.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
            _para(document, block.caption, "KH Figure Caption")
        elif isinstance(block, PageBreak):
            document.add_page_break()

    if doc.attachments:
        _para(document, "", "KH Plain")
        for index, name in enumerate(doc.attachments, start=1):
            prefix = "附件：" if index == 1 else "　　　"
            label = f"{index}．{name}" if len(doc.attachments) > 1 else name
            _para(document, f"{prefix}{label}")
    if doc.issuer or doc.issued_on:
        _para(document, "", "KH Plain")
        _para(document, "", "KH Plain")
        for text in (doc.issuer, official_date(doc.issued_on)):
            if text:
                _para(document, text, "KH Signature")

    if doc.copy_to or doc.printed_by:
        _para(document, "", "KH Plain")
        lines = []
        if doc.copy_to:
            lines.append(_para(document, f"抄送：{doc.copy_to}。", "KH Note"))
        if doc.printed_by:
            paragraph = _para(document, doc.printed_by + "\t" + official_date(doc.printed_on)
                              + "印发", "KH Note")
            paragraph.paragraph_format.tab_stops.add_tab_stop(Mm(150), alignment=2)  # right
            lines.append(paragraph)
        _border(lines[0], "top", size=8)
        _border(lines[-1], "bottom", size=8)
        for middle in lines[1:]:
            _border(middle, "top", size=4)

    apply_mark(document, doc.mark, doc.title, doc.classification)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
