"""Word output laid out after GB/T 9704-2012.

Page: A4, margins top 37 mm, bottom 35 mm, left 28 mm, right 26 mm, 22 lines of 28
characters (exact 28.95 pt lines, characters condensed by a quarter point). Title 2号 (22 pt)
小标宋; body 3号 (16 pt) 仿宋_GB2312; headings 黑体, 楷体, 仿宋 bold, 仿宋; page numbers 4号
(14 pt) as "— 1 —", odd pages right, even pages left, 7 mm below the type area. The 版头,
落款, 附件 and 版记 follow the PDF (pdf_render), whose layout also tells where the 版记 goes.
The official fonts are named in the file; Word falls back to what the machine has, and the PDF
renderer uses kaohe.documents.fonts. tests/documents/test_libreoffice.py measures the result.

Its length (over 400 lines) is the GB/T 9704 page, 版头, body, tables and 版记 as Word XML: one
layout, measured by one set of tests.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from functools import cache

from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor, Twips
from docx.text.paragraph import Paragraph as WordParagraph

from kaohe.documents.officialdoc import (
    Annex,
    Figure,
    Heading,
    Mark,
    OfficialDocument,
    PageBreak,
    Paragraph,
    Table,
    numbered,
    official_date,
)
from kaohe.documents.pdf_render import (
    DRAFT_HEAD,
    imprint_plan,
    signature_layout,
    text_width,
    title_lines,
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
CHAR_SPACING = -5      # twentieths of a point: 28 × (16 − 0.25) pt ≤ 156 mm < 29 × …
CHAR_PT = BODY_PT + CHAR_SPACING / 20
MASTHEAD_PT = 42

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
    top, right, bottom, left = 37, 26, 35, 28
    # The page number's 一字线 7 mm below the type area (GB/T 9704 7.5), as measured in
    # LibreOffice's layout of the 4号 footer line.
    header, footer = 20.0, 24.8
    if landscape:
        # The portrait sheet turned a quarter clockwise (the table's head at the sheet's
        # left edge, GB/T 9704 10.2), as in the PDF: its margins are the portrait ones
        # turned, the sheet's foot on the left where the page number stands (_footers).
        # The footer only anchors the number's text box; the header fits in the 28 mm.
        section.orientation = WD_ORIENT.LANDSCAPE
        width, height = height, width
        top, right, bottom, left = left, top, right, bottom
        header, footer = 12.0, 10.0
    section.page_width, section.page_height = width, height
    section.top_margin = Mm(top)
    section.bottom_margin = Mm(bottom)
    section.left_margin = Mm(left)
    section.right_margin = Mm(right)
    section.header_distance = Mm(header)
    section.footer_distance = Mm(footer)
    # No document grid: the 22 lines come from the exact line spacing of 28.95 pt and the 28
    # characters from the quarter-point condensing of the Normal style. A line grid makes
    # LibreOffice give a title or mark line two grid lines and lose lines at the foot of a
    # first page; a character grid spreads the text in LibreOffice and WPS. The pitch is
    # kept for whoever switches the grid on in Word.
    sect_pr = section._sectPr
    grid = sect_pr.find(qn("w:docGrid"))
    if grid is None:
        grid = OxmlElement("w:docGrid")
        sect_pr.append(grid)
    grid.set(qn("w:type"), "default")
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


# ECMA-376 order of the w:pPr and w:rPr children Kaohe writes by hand (python-docx keeps
# the order of those it writes itself); Word refuses some files that break it.
PPR_ORDER = ("pStyle", "keepNext", "keepLines", "pageBreakBefore", "framePr", "widowControl",
             "numPr", "suppressLineNumbers", "pBdr", "shd", "tabs", "suppressAutoHyphens",
             "kinsoku", "wordWrap", "overflowPunct", "topLinePunct", "autoSpaceDE",
             "autoSpaceDN", "bidi", "adjustRightInd", "snapToGrid", "spacing", "ind",
             "contextualSpacing", "mirrorIndents", "suppressOverlap", "jc", "textDirection",
             "textAlignment", "textboxTightWrap", "outlineLvl", "divId", "cnfStyle", "rPr",
             "sectPr", "pPrChange")
RPR_ORDER = ("rStyle", "rFonts", "b", "bCs", "i", "iCs", "caps", "smallCaps", "strike",
             "dstrike", "outline", "shadow", "emboss", "imprint", "noProof", "snapToGrid",
             "vanish", "webHidden", "color", "spacing", "w", "kern", "position", "sz", "szCs",
             "highlight", "u", "effect", "bdr", "shd", "fitText", "vertAlign", "rtl", "cs", "em",
             "lang", "eastAsianLayout", "specVanish", "oMath")


def _put(parent, tag: str, order=PPR_ORDER, **attributes):
    """The child `w:tag` of parent (made where the schema's order puts it), attributes set."""
    child = parent.find(qn(f"w:{tag}"))
    if child is None:
        child = OxmlElement(f"w:{tag}")
        rank = order.index(tag)
        for index, sibling in enumerate(parent):
            name = sibling.tag.split("}")[-1]
            if name in order and order.index(name) > rank:
                parent.insert(index, child)
                break
        else:
            parent.append(child)
    for key, value in attributes.items():
        child.set(qn(f"w:{key}"), str(value))
    return child


RED = "E60012"


def _border(paragraph, *sides: str, size: int = 4, color: str = "000000", space: int = 1,
            val: str = "single"):
    borders = _put(paragraph._p.get_or_add_pPr(), "pBdr")
    for side in sides:
        edge = OxmlElement(f"w:{side}")
        edge.set(qn("w:val"), val)
        edge.set(qn("w:sz"), str(size))
        edge.set(qn("w:space"), str(space))
        edge.set(qn("w:color"), color)
        borders.append(edge)


def _numbered(paragraph, odd: bool):
    """A footer's line "— N —": 单页码居右空一字, 双页码居左空一字."""
    paragraph._p.style = _style_id("KH Page Number")
    if odd:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        paragraph.paragraph_format.right_indent = Pt(NOTE_PT)
    else:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.LEFT
        paragraph.paragraph_format.left_indent = Pt(NOTE_PT)
    _page_number(paragraph)


# A landscape page's number (GB/T 9704 10.2: where the portrait pages have theirs on the
# sheet): a text box anchored to the page in its footer, along the page's left edge (the
# sheet's foot), as long as the type area is wide on the portrait sheet (from 28 mm, 156 mm)
# so that the line's indents put the number where they do on portrait pages, its text all
# turned 90° clockwise (bodyPr vert="vert", Word's "rotate all text 90°"; VML's
# layout-flow:vertical for readers without DrawingML shapes). LibreOffice sets the line's
# baseline 5.45 mm in from the box's right edge: a box ending 31.5 mm from the page's left
# puts the 一字线 7 mm outside the type area (which starts at 35 mm), as in the PDF.
TURNED_BOX_MM = (21.5, 28.0, 10.0, 156.0)   # left, top, width, height on the page
EMU_PER_MM = 36000
TURNED_NUMBER = """<mc:AlternateContent
 xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"
 xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"
 xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"
 xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"
 xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape"
 xmlns:v="urn:schemas-microsoft-com:vml"><mc:Choice Requires="wps"><w:drawing>
<wp:anchor distT="0" distB="0" distL="0" distR="0" simplePos="0" relativeHeight="{z}"
 behindDoc="0" locked="0" layoutInCell="1" allowOverlap="1"><wp:simplePos x="0" y="0"/>
<wp:positionH relativeFrom="page"><wp:posOffset>{x}</wp:posOffset></wp:positionH>
<wp:positionV relativeFrom="page"><wp:posOffset>{y}</wp:posOffset></wp:positionV>
<wp:extent cx="{cx}" cy="{cy}"/><wp:effectExtent l="0" t="0" r="0" b="0"/><wp:wrapNone/>
<wp:docPr id="{id}" name="{name}"/><wp:cNvGraphicFramePr/><a:graphic><a:graphicData
 uri="http://schemas.microsoft.com/office/word/2010/wordprocessingShape"><wps:wsp>
<wps:cNvSpPr txBox="1"/><wps:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="{cx}" cy="{cy}"/>
</a:xfrm><a:prstGeom prst="rect"><a:avLst/></a:prstGeom><a:noFill/><a:ln><a:noFill/></a:ln>
</wps:spPr><wps:txbx><w:txbxContent/></wps:txbx><wps:bodyPr rot="0" vert="vert" wrap="square"
 lIns="0" tIns="0" rIns="0" bIns="0" anchor="t" anchorCtr="0"><a:noAutofit/></wps:bodyPr>
</wps:wsp></a:graphicData></a:graphic></wp:anchor></w:drawing></mc:Choice><mc:Fallback>
<w:pict><v:rect style="position:absolute;margin-left:{left}pt;margin-top:{top}pt;\
width:{width}pt;height:{height}pt;z-index:{z};mso-position-horizontal-relative:page;\
mso-position-vertical-relative:page" filled="f" stroked="f"><v:textbox \
style="layout-flow:vertical" inset="0,0,0,0"><w:txbxContent/></v:textbox></v:rect></w:pict>
</mc:Fallback></mc:AlternateContent>"""


def _turned_number(footer, odd: bool, shape_id: int):
    """The number of a landscape page, odd or even, in its footer (TURNED_NUMBER)."""
    left, top, width, height = TURNED_BOX_MM
    pt = 72 / 25.4
    xml = TURNED_NUMBER.format(
        x=round(left * EMU_PER_MM), y=round(top * EMU_PER_MM), cx=round(width * EMU_PER_MM),
        cy=round(height * EMU_PER_MM), id=shape_id, name=f"Page number {shape_id}",
        z=251659264 + shape_id, left=round(left * pt, 2), top=round(top * pt, 2),
        width=round(width * pt, 2), height=round(height * pt, 2))
    content = parse_xml(xml)
    for box in content.iter(qn("w:txbxContent")):
        paragraph = WordParagraph(OxmlElement("w:p"), footer)
        _numbered(paragraph, odd)
        box.append(paragraph._p)
    run = footer.paragraphs[0].add_run()
    run._r.append(content)


def _footers(document, section):
    document.settings.odd_and_even_pages_header_footer = True
    turned = section.page_width > section.page_height
    for footer, odd in ((section.footer, True), (section.even_page_footer, False)):
        paragraph = footer.paragraphs[0]
        if not turned:
            _numbered(paragraph, odd)
            continue
        # Nothing at the landscape page's own foot: the footer's line only anchors the box.
        paragraph._p.style = _style_id("KH Page Number")
        _turned_number(footer, odd, 7000 + 2 * len(document.sections) + (0 if odd else 1))


def apply_mark(document, mark: Mark | None, title: str, classification: str,
               maker: str = ""):
    """The maker's mark on every page header and in the document properties; without a
    mark the properties name the issuing office (`maker`) and the time of making."""
    props = document.core_properties
    props.title = title
    props.category = classification or "公开"
    # python-docx's template says "python-docx", 2013 and "generated by python-docx".
    props.comments = ""
    props.revision = 1
    props.author = mark.maker if mark else maker
    props.last_modified_by = mark.username if mark else maker
    # python-docx writes the time as given with a "Z": it must be UTC.
    made = (mark.made_at if mark else None) or datetime.now(UTC)
    made = made.astimezone(UTC).replace(tzinfo=None, microsecond=0) if made.tzinfo else made
    props.created = made
    props.modified = made
    if mark is None:
        return
    props.comments = mark.text
    props.keywords = f"{mark.export_code};{mark.username}"
    props.identifier = mark.export_code
    text = f"{classification} · {mark.text}".strip(" ·")
    for section in document.sections:
        for header in (section.header, section.even_page_header, section.first_page_header):
            if any(text in p.text for p in header.paragraphs):
                continue  # a header shared with the section before: marked once
            paragraph = header.add_paragraph() if header.paragraphs[0].text else (
                header.paragraphs[0])
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            run = paragraph.add_run(text)
            # Direct formatting: an office template need not have our styles.
            _set_fonts(run, SONGTI, MARK_PT)


def apply_draft(document):
    """A paper not signed off (signing.as_draft): 草稿 at the head of every page."""
    for section in document.sections:
        for header in (section.header, section.even_page_header, section.first_page_header):
            if any(DRAFT_HEAD in p.text for p in header.paragraphs):
                continue  # a header shared with the section before
            first = header.paragraphs[0]
            paragraph = first if not first.text else header.add_paragraph()
            paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            _set_fonts(paragraph.add_run(DRAFT_HEAD), HEITI, MARK_PT + 3)


J, C, L, R = (WD_ALIGN_PARAGRAPH.JUSTIFY, WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.LEFT,
              WD_ALIGN_PARAGRAPH.RIGHT)
# Paragraph styles: (east-asian font, size, bold, first-line indent in characters, alignment,
# line pitch). Text carries no direct formatting, so an official can restyle in Word.
STYLES = {
    "KH Body": (FANGSONG, BODY_PT, False, 2, J, LINE_PITCH_PT),
    "KH Plain": (FANGSONG, BODY_PT, False, 0, J, LINE_PITCH_PT),
    "KH Bold": (FANGSONG, BODY_PT, True, 2, J, LINE_PITCH_PT),
    "KH Title": (XIAOBIAOSONG, TITLE_PT, False, 0, C, LINE_PITCH_PT),
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
    "KH Masthead": (XIAOBIAOSONG, MASTHEAD_PT, False, 0, C, MASTHEAD_PT * 1.15),
    "KH Annex Label": (HEITI, BODY_PT, False, 0, L, LINE_PITCH_PT),
}
OFF_GRID = {"KH Title", "KH Masthead", "KH Note", "KH Figure Caption"}
# Styles set at their natural width (titles, tables, the 版记, page numbers).
UNCONDENSED = {"KH Title", "KH Table", "KH Table Header", "KH Note", "KH Page Number",
               "KH Masthead", "KH Figure Caption"}


def _styles(document):
    # The default font size is the body's (Word measures its grid from it).
    defaults = document.styles.element.find(qn("w:docDefaults"))
    rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    for tag in ("sz", "szCs"):
        _put(rpr, tag, RPR_ORDER, val=BODY_PT * 2)
    # Chinese text, so that Word, WPS and LibreOffice pick Chinese line breaking and fonts.
    _put(rpr, "lang", RPR_ORDER, val="zh-CN", eastAsia="zh-CN", bidi="ar-SA")
    normal = document.styles["Normal"]
    _set_fonts(normal, FANGSONG, BODY_PT)
    # Condensed by a quarter point: 28 characters of 3号 fill the 156 mm line (a character
    # grid would do it in Word but spreads the text in LibreOffice and WPS).
    _put(normal.element.get_or_add_rPr(), "spacing", RPR_ORDER, val=CHAR_SPACING)
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
        if name in UNCONDENSED:
            _put(style.element.get_or_add_rPr(), "spacing", RPR_ORDER, val=0)
        if name.startswith("KH Table") or name in OFF_GRID:
            # Table text keeps its own line height instead of snapping to the page's grid
            # (LibreOffice gives a line larger than the body's two lines of the grid).
            _put(style.element.get_or_add_pPr(), "snapToGrid", val=0)
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
    # Theme fonts resolve East Asian text by this language: ja-JP (python-docx's default)
    # would set unstyled Chinese in MS Mincho.
    _theme_language(document)
    buffer = io.BytesIO()
    document.save(buffer)
    return _chinese_theme(buffer.getvalue())


def _theme_language(document):
    found = document.settings.element.find(qn("w:themeFontLang"))
    if found is None:
        found = OxmlElement("w:themeFontLang")
        document.settings.element.append(found)
    found.set(qn("w:val"), "zh-CN")
    found.set(qn("w:eastAsia"), "zh-CN")


def _chinese_theme(data: bytes) -> bytes:
    """The theme's East Asian fonts named (宋体 for headings and body), not left empty."""
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "word/theme/theme1.xml":
                content = re.sub(rb'<a:ea typeface=""/>', '<a:ea typeface="宋体"/>'.encode(),
                                 content)
            target.writestr(item, content)
    return out.getvalue()


def _table(document, block: Table, width_mm: float = 156):
    """A table with a real grid (w:tblGrid) of fixed widths filling the type area, rows that
    do not split across pages and a header row repeated on each page."""
    if block.caption:
        _para(document, block.caption, "KH Caption")
    count = len(block.headers)
    given = len(block.widths) == count and sum(block.widths) > 0
    weights: list[float] = block.widths if given else [1.0] * count
    total_twips = round(width_mm / 25.4 * 1440)
    widths = [round(total_twips * w / sum(weights)) for w in weights]
    widths[-1] += total_twips - sum(widths)
    table = document.add_table(rows=1, cols=count)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    tbl = table._tbl
    tbl_pr = tbl.tblPr
    tbl_w = tbl_pr.find(qn("w:tblW"))
    tbl_w.set(qn("w:w"), str(total_twips))
    tbl_w.set(qn("w:type"), "dxa")
    grid = tbl.find(qn("w:tblGrid"))
    for column, width in zip(grid.findall(qn("w:gridCol")), widths, strict=True):
        column.set(qn("w:w"), str(width))

    header_style = _style_id("KH Table Header")
    cell_style = _style_id("KH Table")

    def fill(row, values, style):
        row._tr.get_or_add_trPr()
        _put(row._tr.trPr, "cantSplit", TRPR_ORDER)
        for cell, value, width in zip(row.cells, values, widths, strict=False):
            cell.width = Twips(width)
            paragraph = cell.paragraphs[0]
            paragraph._p.style = style
            paragraph.add_run(str(value))

    fill(table.rows[0], block.headers, header_style)
    _put(table.rows[0]._tr.trPr, "tblHeader", TRPR_ORDER, val="true")  # repeats on each page
    for values in block.rows:
        fill(table.add_row(), values, cell_style)
    # Breathing room after the table.
    _para(document, "", "KH Plain")


TRPR_ORDER = ("cnfStyle", "divId", "gridBefore", "gridAfter", "wBefore", "wAfter", "cantSplit",
              "trHeight", "tblHeader", "tblCellSpacing", "jc", "hidden", "ins", "del",
              "trPrChange")


HEADING_STYLES = {1: "KH Heading 1", 2: "KH Heading 2", 3: "KH Heading 3", 4: "KH Heading 4"}


def _masthead(document, doc: OfficialDocument):
    """The 版头 of GB/T 9704 7.2 (文件格式) or 10.1 (信函格式): 份号, 密级, 紧急程度 flush left,
    the red 发文机关标志, the 发文字号 (with the 签发人 of a 上行文) and the red separator."""
    heads = [line for line in (doc.copy_number, doc.secrecy, doc.urgency) if line]
    if not doc.letter_format:
        for index, text in enumerate(heads):
            _para(document, text, "KH Plain" if index == 0 and doc.copy_number
                  else "KH Classification")
    masthead = _para(document, "", "KH Masthead")
    run = masthead.add_run(doc.masthead)
    run.font.color.rgb = RGBColor.from_string(RED)
    # Squeezed horizontally (w:w, per cent) to fit the type area, never made smaller.
    natural = text_width(doc.masthead) * MASTHEAD_PT
    room = (156 - (0 if doc.letter_format else 2 * 156 / 28)) / 25.4 * 72
    if natural > room:
        _put(run._r.get_or_add_rPr(), "w", RPR_ORDER, val=max(int(100 * room / natural), 1))
    if doc.letter_format:
        # 信函格式: a red double line (thick over thin) under the mark, the 份号 and the like
        # under it on the left, the 发文字号 on the right of the last of them.
        _border(masthead, "bottom", size=18, color=RED, space=4, val="thickThinSmallGap")
        # The mark and its double line take two lines of the grid, as in the PDF.
        masthead.paragraph_format.line_spacing = Pt(2 * LINE_PITCH_PT - 7)
        lines = heads or [""]
        for index, text in enumerate(lines):
            paragraph = _para(document, text, "KH Plain" if index == 0 and doc.copy_number
                              else "KH Classification")
            if index == len(lines) - 1 and doc.number:
                paragraph.paragraph_format.tab_stops.add_tab_stop(Mm(156), alignment=2)
                # The 发文字号 in 仿宋 (7.2.4), on the line of the 密级 (黑体).
                _set_fonts(paragraph.add_run("\t" + doc.number), FANGSONG, BODY_PT)
        _para(document, "", "KH Plain")
        return
    # The mark's top edge 35 mm below the type area's top.
    masthead.paragraph_format.space_before = Pt(max(0.0, 35 / 25.4 * 72
                                                    - len(heads) * LINE_PITCH_PT))
    _para(document, "", "KH Plain")
    number = _para(document, doc.number, "KH Centered")
    if doc.signer:
        number.paragraph_format.alignment = L
        number.paragraph_format.left_indent = Pt(CHAR_PT)
        number.paragraph_format.tab_stops.add_tab_stop(Mm(156) - Pt(2 * CHAR_PT),
                                                       alignment=2)
        number.add_run("\t签发人：")
        signer = number.add_run(doc.signer)
        _set_fonts(signer, KAITI, BODY_PT)
    # The red separator 4 mm under the 发文字号, as wide as the type area.
    _border(number, "bottom", size=8, color=RED, space=11)
    _para(document, "", "KH Plain")
    _para(document, "", "KH Plain")


def _closing(document, doc: OfficialDocument):
    """附件说明 and 落款 (GB/T 9704 7.3.4, 7.3.5), kept with the text before them."""
    body = [p for p in document.paragraphs if p.text]
    # The 落款 keeps the last lines of the text with it. LibreOffice moves a whole paragraph
    # that keeps with the next, so only a short one (three lines at most) is held.
    if body and (doc.attachments or doc.issuer or doc.issued_on) and len(body[-1].text) <= 84:
        body[-1].paragraph_format.keep_with_next = True
    if doc.attachments:
        spacer = _para(document, "", "KH Plain")
        spacer.paragraph_format.keep_with_next = True
        for index, name in enumerate(doc.attachments, start=1):
            label = f"{index}．{name}" if len(doc.attachments) > 1 else name
            paragraph = _para(document, ("附件：" if index == 1 else "") + label, "KH Plain")
            paragraph.paragraph_format.left_indent = Pt(5 * CHAR_PT)
            paragraph.paragraph_format.first_line_indent = Pt(-3 * CHAR_PT) if index == 1 \
                else None
            paragraph.paragraph_format.keep_with_next = True
    layout = signature_layout(doc)
    if layout is None:
        return
    for _ in range(2 if doc.is_sealed else 1):
        _para(document, "", "KH Plain").paragraph_format.keep_with_next = True
    for text, right in ((layout["name"], layout["name_right"]),
                        (layout["day"], layout["day_right"])):
        if text:
            paragraph = _para(document, text, "KH Signature")
            paragraph.paragraph_format.right_indent = Mm(right)
            paragraph.paragraph_format.keep_with_next = True
    document.paragraphs[-1].paragraph_format.keep_with_next = False


def _annex(document, annex: Annex, label: str):
    """An annex on new pages, landscape when it says so: 附件 top left, its title centred on
    the third line (GB/T 9704 8)."""
    section = document.add_section(WD_SECTION.NEW_PAGE)
    _page_setup(section, annex.landscape)
    # A new section copies the one before: a letter's "no number on the first page" (10.1)
    # would leave the annex's first page unnumbered. Each annex has footers of its own
    # (page numbers as on portrait pages, sized for its page) and continues the numbering.
    section.different_first_page_header_footer = False
    for footer in (section.footer, section.even_page_footer):
        footer.is_linked_to_previous = False
    _footers(document, section)
    _para(document, label, "KH Annex Label")
    _para(document, "", "KH Plain")
    _para(document, annex.title, "KH Title")
    _para(document, "", "KH Plain")
    _blocks(document, numbered(annex.blocks), 225 if annex.landscape else 156)


def _imprint(document, doc: OfficialDocument, landscape_before: bool):
    """The 版记 (GB/T 9704 7.4) where the PDF's layout puts it (pdf_render.imprint_plan): at
    the foot of the last page when that page is even and has room, else at the foot of a page
    of its own, the next even page, which carries no page number. The two layouts share the
    line grid, so the same number of lines fills the same space."""
    plan = imprint_plan(doc) or ("foot", 0.0)
    mode, gap_mm = plan
    if mode == "foot" or landscape_before:
        section = document.add_section(WD_SECTION.EVEN_PAGE)
        _page_setup(section, False)
        for footer in (section.footer, section.even_page_footer):
            footer.is_linked_to_previous = False
            for paragraph in footer.paragraphs:
                for run in list(paragraph.runs):
                    run._r.getparent().remove(run._r)
    lines = []
    if doc.copy_to:
        lines.append(_para(document, f"抄送：{doc.copy_to}。", "KH Note"))
    if doc.printed_by:
        paragraph = _para(document, doc.printed_by + "\t" + official_date(doc.printed_on)
                          + "印发", "KH Note")
        paragraph.paragraph_format.tab_stops.add_tab_stop(Mm(156) - Pt(2 * NOTE_PT),
                                                          alignment=2)  # right
        lines.append(paragraph)
    # Whole lines of the grid above it (a spacing before would vanish at a page's top).
    # One line less, given back as spacing less the room the borders take.
    blank_lines = round(gap_mm / (LINE_PITCH_PT * 25.4 / 72)) - 1
    for _ in range(max(blank_lines, 0)):
        spacer = _para(document, "", "KH Plain")
        lines[0]._p.addprevious(spacer._p)
    if blank_lines >= 0:
        lines[0].paragraph_format.space_before = Pt(LINE_PITCH_PT - 8)
    for paragraph in lines:
        paragraph.paragraph_format.keep_with_next = True
        paragraph.paragraph_format.keep_together = True
    lines[-1].paragraph_format.keep_with_next = False
    _border(lines[0], "top", size=8)
    _border(lines[-1], "bottom", size=8)
    for middle in lines[1:]:
        _border(middle, "top", size=4)


def _blocks(document, numbered_blocks, width_mm: float = 156):
    for block, label in numbered_blocks:
        if isinstance(block, Heading):
            _para(document, f"{label}{block.text}", HEADING_STYLES[min(max(block.level, 1), 4)])
        elif isinstance(block, Paragraph):
            style = "KH Bold" if block.bold else "KH Body" if block.indent else "KH Plain"
            _para(document, block.text, style)
        elif isinstance(block, Table):
            _table(document, block, width_mm)
        elif isinstance(block, Figure):
            document.add_picture(io.BytesIO(block.png), width=Mm(block.width_mm))
            picture = document.paragraphs[-1]
            picture._p.style = _style_id("KH Centered")
            picture.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
            _para(document, block.caption, "KH Figure Caption")
        elif isinstance(block, PageBreak):
            document.add_page_break()


def render_docx(doc: OfficialDocument) -> bytes:
    document = Document(io.BytesIO(_base(doc.landscape)))
    # The empty paragraph python-docx's template starts with would be a stray first line.
    for stray in list(document.element.body.iterchildren(qn("w:p"))):
        document.element.body.remove(stray)
    if doc.has_masthead:
        _masthead(document, doc)
        if doc.letter_format:
            # 信函格式: no page number on the first page (GB/T 9704 10.1).
            section = document.sections[0]
            section.different_first_page_header_footer = True
    else:
        if doc.classification:
            _para(document, doc.secrecy, "KH Classification")
        if doc.number:
            _para(document, doc.number, "KH Centered")
    _para(document, "\n".join(title_lines(doc.title)), "KH Title")
    _para(document, "", "KH Plain")  # 标题下空一行
    if doc.recipient:
        _para(document, f"{doc.recipient}：", "KH Plain")
    _blocks(document, doc.numbered_blocks(), 225 if doc.landscape else 156)
    _closing(document, doc)
    for index, annex in enumerate(doc.annexes, start=1):
        _annex(document, annex, f"附件{index}" if len(doc.annexes) > 1 else "附件")
    if doc.copy_to or doc.printed_by:
        _imprint(document, doc, bool(doc.annexes and doc.annexes[-1].landscape))

    apply_mark(document, doc.mark, doc.title, doc.classification, doc.issuer or doc.printed_by)
    if doc.draft:
        apply_draft(document)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
