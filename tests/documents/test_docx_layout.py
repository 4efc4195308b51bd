"""Word files that Word, WPS and LibreOffice lay out alike: real table grids, rows that do
not split, table text off the line grid, zh-CN, valid element order, clean properties, the
版头 and the 落款 of GB/T 9704."""

import io
import re
import zipfile
from datetime import UTC, date, datetime

import pytest
from django.utils import timezone
from docx import Document
from lxml import etree

from kaohe.documents.docx_render import render_docx
from kaohe.documents.officialdoc import Annex, Mark, OfficialDocument, Paragraph, Table

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
MARK = Mark("张三", "office", timezone.make_aware(datetime(2018, 1, 30, 10, 5)), "K0000042")

# ECMA-376 sequences of w:pPr and w:rPr children (those python-docx or Kaohe may write).
PPR_ORDER = ["pStyle", "keepNext", "keepLines", "pageBreakBefore", "framePr", "widowControl",
             "numPr", "suppressLineNumbers", "pBdr", "shd", "tabs", "suppressAutoHyphens",
             "kinsoku", "wordWrap", "overflowPunct", "topLinePunct", "autoSpaceDE",
             "autoSpaceDN", "bidi", "adjustRightInd", "snapToGrid", "spacing", "ind",
             "contextualSpacing", "mirrorIndents", "suppressOverlap", "jc", "textDirection",
             "textAlignment", "textboxTightWrap", "outlineLvl", "divId", "cnfStyle", "rPr",
             "sectPr", "pPrChange"]
RPR_ORDER = ["rStyle", "rFonts", "b", "bCs", "i", "iCs", "caps", "smallCaps", "strike",
             "dstrike", "outline", "shadow", "emboss", "imprint", "noProof", "snapToGrid",
             "vanish", "webHidden", "color", "spacing", "w", "kern", "position", "sz", "szCs",
             "highlight", "u", "effect", "bdr", "shd", "fitText", "vertAlign", "rtl", "cs", "em",
             "lang", "eastAsianLayout", "specVanish", "oMath"]


def _doc(**kwargs):
    values = dict(
        title="关于2017年度中央单位定点扶贫工作考核情况的通报", recipient="各中央单位",
        blocks=[Paragraph("正文。"),
                Table(["序号", "单位", "说明"], [["1", "示例单位", "说明" * 30]],
                      widths=[1, 4, 7])],
        issuer="国务院扶贫开发领导小组办公室", issued_on=date(2018, 2, 20),
        copy_to="中央组织部", printed_by="国务院扶贫开发领导小组办公室",
        printed_on=date(2018, 2, 20), kind="circular", doc_number="国开办发〔2018〕3号",
        copy_number="000012", classification="秘密", secrecy_period="1年", urgency="特急")
    values.update(kwargs)
    return OfficialDocument(**values)


def _parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _local(tag: str) -> str:
    return tag.split("}")[-1]


def test_tables_have_a_real_grid_and_rows_that_do_not_split():
    document = Document(io.BytesIO(render_docx(_doc())))
    table = document.tables[0]._tbl
    cols = [int(c.get(f"{W}w")) for c in table.find(f"{W}tblGrid")]
    assert len(cols) == 3
    assert abs(sum(cols) - round(156 / 25.4 * 1440)) <= 3
    assert abs(cols[2] / cols[0] - 7) < 0.05
    assert table.find(f"{W}tblPr/{W}tblW").get(f"{W}type") == "dxa"
    assert table.find(f"{W}tblPr/{W}tblLayout").get(f"{W}type") == "fixed"
    for row in table.findall(f"{W}tr"):
        assert row.find(f"{W}trPr/{W}cantSplit") is not None
    # Table text keeps its own line height, off the page's line grid.
    style = document.styles["KH Table"].element
    assert style.find(f"{W}pPr/{W}snapToGrid").get(f"{W}val") == "0"


def test_east_asian_language_is_chinese_and_the_theme_has_no_japanese_surprise():
    parts = _parts(render_docx(_doc()))
    styles = etree.fromstring(parts["word/styles.xml"])
    lang = styles.find(f"{W}docDefaults/{W}rPrDefault/{W}rPr/{W}lang")
    assert lang.get(f"{W}eastAsia") == "zh-CN" and lang.get(f"{W}val") == "zh-CN"
    settings = etree.fromstring(parts["word/settings.xml"])
    assert settings.find(f"{W}themeFontLang").get(f"{W}eastAsia") == "zh-CN"
    theme = parts["word/theme/theme1.xml"].decode()
    assert '<a:ea typeface=""/>' not in theme


def test_every_paragraph_and_run_property_is_in_schema_order():
    parts = _parts(render_docx(_doc(mark=MARK)))
    for name, data in parts.items():
        if not name.endswith(".xml") or not name.startswith("word/"):
            continue
        root = etree.fromstring(data)
        for tag, order in (("pPr", PPR_ORDER), ("rPr", RPR_ORDER)):
            for element in root.iter(f"{W}{tag}"):
                children = [_local(c.tag) for c in element]
                known = [c for c in children if c in order]
                assert known == sorted(known, key=order.index), (name, tag, children)


def test_core_properties_name_the_maker_and_the_time_in_utc():
    core = _parts(render_docx(_doc(mark=MARK)))["docProps/core.xml"].decode()
    assert "python-docx" not in core and "2013-" not in core
    assert "<dc:creator>张三</dc:creator>" in core
    # 10:05 in Beijing is 02:05 UTC.
    assert re.search(r"<dcterms:created [^>]*>2018-01-30T02:05:00Z<", core), core


def test_core_properties_of_a_public_paper_without_mark():
    before = datetime.now(UTC).replace(microsecond=0)
    core = _parts(render_docx(_doc(classification="", secrecy_period="")))[
        "docProps/core.xml"].decode()
    assert "python-docx" not in core and "2013-" not in core
    assert "<dc:creator>国务院扶贫开发领导小组办公室</dc:creator>" in core
    created = re.search(r"<dcterms:created [^>]*>([^<]+)<", core).group(1)
    made = datetime.strptime(created, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert before <= made <= datetime.now(UTC)


def test_the_masthead_in_word():
    document = Document(io.BytesIO(render_docx(_doc())))
    texts = [p.text for p in document.paragraphs]
    assert texts[:3] == ["000012", "秘密★1年", "特急"]
    masthead = next(p for p in document.paragraphs if p.text == "国务院扶贫开发领导小组办公室文件")
    assert all(str(r.font.color.rgb) == "E60012" for r in masthead.runs)
    number = next(p for p in document.paragraphs if p.text == "国开办发〔2018〕3号")
    bottom = number._p.find(f"{W}pPr/{W}pBdr/{W}bottom")
    assert bottom is not None and bottom.get(f"{W}color") == "E60012"


def test_annexes_are_sections_of_their_own_after_the_signature():
    wide = Table(["名次", "单位"], [["1", "甲"]])
    document = Document(io.BytesIO(render_docx(_doc(
        attachments=["排名"], annexes=[Annex("排名", [wide], landscape=True)]))))
    texts = [p.text for p in document.paragraphs]
    assert texts.index("2018年2月20日") < texts.index("附件") < texts.index("排名")
    assert "附件：排名" in texts
    orientations = [s.page_width > s.page_height for s in document.sections]
    assert orientations[0] is False and True in orientations


def test_the_signature_follows_7_3_5_with_and_without_seal():
    char_mm = 156 / 28
    for sealed, day_right in ((True, 4 * char_mm), (False, 2 * char_mm)):
        document = Document(io.BytesIO(render_docx(_doc(sealed=sealed, issuer="考核工作组"))))
        name = next(p for p in document.paragraphs if p.text == "考核工作组")
        day = next(p for p in document.paragraphs if p.text == "2018年2月20日")
        assert day.paragraph_format.right_indent.mm == pytest.approx(day_right, abs=0.1)
        name_start = 156 - name.paragraph_format.right_indent.mm - 5 * char_mm
        day_start = 156 - day.paragraph_format.right_indent.mm - 6.5 * char_mm
        if sealed:   # the name centred over the date
            assert name_start + 2.5 * char_mm == pytest.approx(day_start + 3.25 * char_mm,
                                                               abs=0.1)
        else:        # the date is longer: the date 右空二字, the name two characters left
            assert day_start - name_start == pytest.approx(2 * char_mm, abs=0.1)


def _page_field(footer) -> bool:
    """Whether a footer holds "— PAGE —": a PAGE field between two 一字线."""
    xml = etree.tostring(footer._element, encoding="unicode")
    return ("PAGE" in "".join(footer._element.itertext())
            and 'fldCharType="begin"' in xml and xml.count("—") == 2)


WPS = "{http://schemas.microsoft.com/office/word/2010/wordprocessingShape}"
WP = "{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}"
MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
EMU_MM = 36000


def _turned_number(footer):
    """The text box of a landscape page's number: (its anchor, its body properties, its
    paragraph), Word 2010's DrawingML choice of the footer's mc:AlternateContent."""
    choices = footer._element.findall(f".//{MC}AlternateContent/{MC}Choice")
    assert len(choices) == 1 and choices[0].get("Requires") == "wps"
    anchor = choices[0].find(f"{W}drawing/{WP}anchor")
    shape = anchor.find(f".//{WPS}wsp")
    paragraphs = shape.findall(f"{WPS}txbx/{W}txbxContent/{W}p")
    assert len(paragraphs) == 1
    return anchor, shape.find(f"{WPS}bodyPr"), paragraphs[0]


@pytest.mark.parametrize("kind", ["letter", "circular", ""])
def test_landscape_annex_pages_carry_the_page_number_of_portrait_ones(kind):
    """GB/T 9704 7.5 on every page, landscape annexes included (issue 18): each section has
    its own odd and even footers "— N —" with a PAGE field, odd right and even left, one
    numbering throughout. Only the letter's first page (10.1) goes without. A landscape
    page is the portrait sheet turned (GB/T 9704 10.2): its margins are the portrait ones
    turned and its number stands where the portrait pages have theirs on the sheet, in a
    text box at the page's left edge whose text is turned 90° (vert), 7 mm outside the
    type area, odd pages at the foot of the edge and even ones at its head, 空一字."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    wide = Table(["名次", "单位", "说明"], [[str(n), "单位", "说明" * 20] for n in range(60)])
    document = Document(io.BytesIO(render_docx(_doc(
        kind=kind, doc_number="国开办发〔2018〕3号" if kind else "", copy_to="", printed_by="",
        attachments=["排名", "名单"], annexes=[Annex("排名", [wide], landscape=True),
                                            Annex("名单", [Paragraph("名单。")])]))))
    sections = list(document.sections)
    assert [s.page_width > s.page_height for s in sections] == [False, True, False]
    assert sections[0].different_first_page_header_footer is (kind == "letter")
    ids = []
    for index, section in enumerate(sections):
        if index:  # an annex's first page is numbered like any other
            assert not section.different_first_page_header_footer, index
            assert not section.footer.is_linked_to_previous, index
            assert not section.even_page_footer.is_linked_to_previous, index
            # No restart: the annex's pages continue the document's numbers.
            assert section._sectPr.find(f"{W}pgNumType") is None
        odd, even = section.footer, section.even_page_footer
        if section.page_width < section.page_height:
            assert _page_field(odd) and _page_field(even), index
            assert odd.paragraphs[0].alignment == WD_ALIGN_PARAGRAPH.RIGHT
            assert even.paragraphs[0].alignment == WD_ALIGN_PARAGRAPH.LEFT
            assert odd.paragraphs[0].style.name == "KH Page Number"
            assert section.footer_distance == sections[0].footer_distance
            assert section.bottom_margin == sections[0].bottom_margin
            continue
        # The portrait margins turned a quarter clockwise: the sheet's foot on the left.
        assert [round(m.mm) for m in (section.top_margin, section.right_margin,
                                      section.bottom_margin, section.left_margin)] == [
            28, 37, 26, 35]
        for footer, side in ((odd, "right"), (even, "left")):
            # Nothing at the landscape page's own foot.
            assert "—" not in "".join(p.text for p in footer.paragraphs), index
            anchor, body, paragraph = _turned_number(footer)
            ids.append(anchor.find(f"{WP}docPr").get("id"))
            assert body.get("vert") == "vert"   # all the text turned 90° clockwise
            xml = etree.tostring(paragraph, encoding="unicode")
            assert "PAGE" in "".join(paragraph.itertext()) and xml.count("—") == 2
            assert 'fldCharType="begin"' in xml
            assert paragraph.find(f"{W}pPr/{W}jc").get(f"{W}val") == side
            assert paragraph.find(f"{W}pPr/{W}pStyle").get(f"{W}val") == "KHPageNumber"
            # Placed on the page: along the type area's height (the sheet's width), in the
            # 35 mm margin, its right edge short of the type area.
            h, v = anchor.find(f"{WP}positionH"), anchor.find(f"{WP}positionV")
            assert h.get("relativeFrom") == v.get("relativeFrom") == "page"
            left = int(h.find(f"{WP}posOffset").text) / EMU_MM
            top = int(v.find(f"{WP}posOffset").text) / EMU_MM
            extent = anchor.find(f"{WP}extent")
            width, height = int(extent.get("cx")) / EMU_MM, int(extent.get("cy")) / EMU_MM
            assert top == pytest.approx(28, abs=0.1) and height == pytest.approx(156, abs=0.1)
            assert left > 14 and left + width < 35
            # Word 2007 and other readers without wps get the same box in VML.
            fallback = footer._element.find(f".//{MC}AlternateContent/{MC}Fallback")
            assert "layout-flow:vertical" in etree.tostring(fallback, encoding="unicode")
    assert len(set(ids)) == len(ids) == 2
