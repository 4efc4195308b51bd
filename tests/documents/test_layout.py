"""GB/T 9704-2012 measured on the PDFs: the type area of 28 characters by 22 lines, the red
版头 and its positions, the 落款 rules with and without seal, the 版记 at the foot of the last
even page, annexes, page numbers 7 mm below the type area, and the faces embedded."""

import os
from datetime import date

import pytest

from kaohe.documents import fonts
from kaohe.documents.officialdoc import Annex, Heading, OfficialDocument, Paragraph, Table
from kaohe.documents.pdf_render import render_pdf, title_lines
from tests.documents.pdf_measure import is_red, lines, measure, pages

TOP, BOTTOM, LEFT, RIGHT = 37, 297 - 35, 28, 210 - 26   # the type area, mm
CHAR = 156 / 28                                        # the character pitch, mm
BODY = "考核工作坚持目标导向和问题导向突出精准扶贫精准脱贫成效注重" * 12


def _letter(**kwargs):
    values = dict(title="关于反馈2017年度定点扶贫工作考核结果的函", recipient="示例单位",
                  blocks=[Heading(1, "基本情况"), Paragraph(BODY), Paragraph(BODY)],
                  issuer="国务院扶贫开发领导小组办公室", issued_on=date(2018, 2, 20),
                  copy_to="中央组织部", printed_by="国务院扶贫开发领导小组办公室",
                  printed_on=date(2018, 2, 20), classification="")
    values.update(kwargs)
    return OfficialDocument(**values)


def _body_lines(page):
    runs, _ = measure(page)
    return [line for line in lines([r for r in runs if abs(r.size - 16) < 0.5])
            if TOP - 1 < line[0] < BOTTOM + 1]


def test_a_full_line_holds_28_characters_and_a_page_22_lines():
    doc = _letter(blocks=[Paragraph(BODY * 6)], kind="", issuer="", copy_to="", printed_by="")
    data = render_pdf(doc)
    second = _body_lines(pages(data)[1])
    assert len(second) == 22, [text for _, text, _ in second]
    assert {len(text) for _, text, _ in second[:-1]} == {28}
    # The lines fill the type area: first at its top, the 22nd at its bottom.
    pitch = (second[-1][0] - second[0][0]) / 21
    assert pitch == pytest.approx(225 / 22, abs=0.05)
    assert second[0][0] == pytest.approx(TOP + 225 / 22 * 0.78, abs=1.5)
    assert min(x for _, _, x in second) == pytest.approx(LEFT, abs=0.3)


def test_the_red_masthead_of_a_file_with_number_and_separator():
    doc = _letter(title="关于2017年度中央单位定点扶贫工作考核情况的通报", kind="circular",
                  doc_number="国开办发〔2018〕3号", copy_number="000012",
                  classification="秘密", secrecy_period="1年", urgency="特急")
    page = pages(render_pdf(doc))[0]
    runs, rects = measure(page)
    red = [r for r in runs if is_red(r.colour)]
    assert "".join(r.text for r in red).replace(" ", "") == "国务院扶贫开发领导小组办公室文件"
    masthead_top = min(r.y - r.size * 0.88 * 25.4 / 72 for r in red)
    assert masthead_top == pytest.approx(TOP + 35, abs=1.5)
    assert max(r.x for r in red) < RIGHT and min(r.x for r in red) > LEFT - 0.5
    text = lines([r for r in runs if not is_red(r.colour)])
    by_text = {t: (y, x) for y, t, x in text}
    # 份号, 密级★保密期限 and 紧急程度 on the first three lines, flush left.
    assert [t for _, t, _ in text[:3]] == ["000012", "秘密★1年", "特急"]
    assert all(x == pytest.approx(LEFT, abs=0.3) for _, _, x in text[:3])
    number_y, number_x = by_text["国开办发〔2018〕3号"]
    assert number_x + 16 * 9 / 2 * 25.4 / 72 == pytest.approx(105 + 1, abs=4)  # centred
    separators = [r for r in rects if is_red(r.colour) and r.width > 150]
    assert len(separators) == 1
    assert separators[0].width == pytest.approx(156, abs=0.5)
    assert separators[0].y - number_y == pytest.approx(4 + 1.5, abs=1.5)
    title_y = min(y for y, t, _ in text if t.startswith("关于"))
    assert title_y > separators[0].y + 10


def test_a_report_upward_names_its_signer():
    doc = _letter(title="关于2017年度中央单位定点扶贫工作考核结果的报告", kind="report",
                  recipient="党中央、国务院", doc_number="国开办发〔2018〕4号", signer="张三")
    runs, _ = measure(pages(render_pdf(doc))[0])
    text = {t: x for _, t, x in lines(runs)}
    line = next(t for t in text if "签发人" in t)
    assert line.startswith("国开办发〔2018〕4号") and line.endswith("签发人：张三")
    assert text[line] == pytest.approx(LEFT + CHAR, abs=0.5)  # 居左空一字


def test_titles_break_between_words():
    assert title_lines("关于反馈2017年度定点扶贫工作考核结果的函") == [
        "关于反馈2017年度定点扶贫", "工作考核结果的函"]
    for title in ("关于2017年度中央单位定点扶贫工作考核综合评议情况的报告",
                  "关于2017年度中央单位定点扶贫工作考核情况的通报"):
        parts = title_lines(title)
        assert "".join(parts) == title and len(parts) == 2
        assert not any(word in title and word not in parts[0] and word not in parts[1]
                       for word in ("考核", "单位", "工作", "综合", "评议", "情况", "扶贫"))


def _signature(doc):
    page = pages(render_pdf(doc))[-1 if not doc.copy_to else 0]
    runs, _ = measure(page)
    text = {t: (y, x) for y, t, x in lines(runs)}
    name, day = text[doc.issuer], text["2018年2月20日"]
    return name, day


def test_signature_without_seal_7_3_5_2():
    doc = _letter(blocks=[Paragraph("正文。")], copy_to="", printed_by="", sealed=False,
                  issuer="考核工作组")
    (name_y, name_x), (day_y, day_x) = _signature(doc)
    # The date is longer than the name: the date 右空二字, the name's start two
    # characters left of the date's start.
    assert day_x + 11 * CHAR / 2 + 0.3 > 0  # sanity
    assert day_y - name_y == pytest.approx(225 / 22, abs=0.2)
    assert name_x == pytest.approx(day_x - 2 * CHAR, abs=0.6)


def test_signature_with_seal_7_3_5_1():
    doc = _letter(blocks=[Paragraph("正文。")], copy_to="", printed_by="", sealed=True,
                  issuer="国务院扶贫开发领导小组办公室")
    (name_y, name_x), (day_y, day_x) = _signature(doc)
    day_width = 7 * CHAR / 2 + 3 * CHAR   # 2018 2 20 half width, 年月日
    assert day_x + day_width == pytest.approx(RIGHT - 4 * CHAR, abs=2)   # 右空四字
    name_width = 14 * CHAR
    assert name_x + name_width / 2 == pytest.approx(day_x + day_width / 2, abs=2)  # centred
    assert day_y - name_y == pytest.approx(225 / 22, abs=0.2)


def _notes_and_numbers(data):
    out = []
    for index, page in enumerate(pages(data), start=1):
        runs, rects = measure(page)
        out.append((index, lines(runs), rects))
    return out


@pytest.mark.parametrize("paragraphs", [1, 3, 5])
def test_the_imprint_sits_at_the_foot_of_the_last_even_page(paragraphs):
    doc = _letter(blocks=[Paragraph(BODY) for _ in range(paragraphs)])
    measured = _notes_and_numbers(render_pdf(doc))
    assert len(measured) % 2 == 0
    last_lines = measured[-1][1]
    printed = next(y for y, t, _ in last_lines if t.startswith("国务院扶贫开发领导小组办公室")
                   and t.endswith("印发"))
    assert printed == pytest.approx(BOTTOM - 2.5, abs=3)
    for _, found, _ in measured[:-1]:
        assert not any(t.endswith("印发") for _, t, _ in found)


def test_page_numbers_7mm_below_the_type_area():
    doc = _letter(blocks=[Paragraph(BODY * 4)], copy_to="", printed_by="")
    measured = _notes_and_numbers(render_pdf(doc))
    for index, found, _ in measured[:2]:
        number = next((y, t, x) for y, t, x in found if t.startswith("—"))
        y, text, x = number
        assert text.replace(" ", "") == f"—{index}—"
        # The dash (一字线) is at about 0.35 em above the baseline of the 14 pt figures.
        assert y - 0.35 * 14 * 25.4 / 72 - BOTTOM == pytest.approx(7, abs=1)
        width = len(text.replace(" ", "")) * 0  # noqa: F841 - position by side below
        if index % 2:
            assert x > 150      # odd pages right
        else:
            assert x == pytest.approx(LEFT + 14 * 25.4 / 72, abs=0.8)   # even left, 空一字


def test_annexes_follow_the_signature_with_labels_and_landscape_tables():
    wide = Table(["名次", "单位", "类别", "得分", "等次", "说明"],
                 [[str(i), f"单位{i}", "中央企业", "90", "好", "说明" * 20] for i in range(60)])
    doc = _letter(attachments=["考核综合排名"],
                  annexes=[Annex("考核综合排名", [wide], landscape=True)])
    reader = pages(render_pdf(doc))
    first = lines(measure(reader[0])[0]) + lines(measure(reader[1])[0])
    assert any(t == "附件：考核综合排名" and x == pytest.approx(LEFT + 2 * CHAR, abs=0.5)
               for _, t, x in first)
    annex_pages = [p for p in reader if float(p.mediabox.width) > float(p.mediabox.height)]
    assert annex_pages, "the wide table is on landscape pages"
    annex_first = lines(measure(annex_pages[0])[0])
    assert annex_first[0][1] == "附件" and annex_first[1][1] == "考核综合排名"
    signature_page = next(i for i, p in enumerate(reader) if "2018年2月20日" in "".join(
        t for _, t, _ in lines(measure(p)[0])))
    first_annex = next(i for i, p in enumerate(reader)
                       if float(p.mediabox.width) > float(p.mediabox.height))
    assert signature_page < first_annex


def _page_number(page, index):
    """The page number's run on a page: (its baseline's distance below the type area, where
    it starts along the line), both on the portrait sheet. A landscape page is the sheet
    turned a quarter clockwise, so its (x, y) is the sheet's (y, 297 − x)."""
    runs, _ = measure(page)
    found = [r for r in runs if r.text.replace(" ", "") == f"—{index}—"]
    assert len(found) == 1, (index, [r.text for r in runs if "—" in r.text])
    run = found[0]
    if float(page.mediabox.width) > float(page.mediabox.height):
        assert run.angle == pytest.approx(-90, abs=0.5), index   # turned with the sheet
        return 297 - run.x - BOTTOM, run.y
    assert run.angle == pytest.approx(0, abs=0.5), index
    return run.y - BOTTOM, run.x


def test_landscape_pages_have_their_numbers_where_the_portrait_pages_do():
    """GB/T 9704 8: a landscape table's page number stands where the other pages have theirs
    (页码位置与公文其他页码保持一致) — on the sheet: 7 mm below the type area, odd pages
    right and even pages left, one character in."""
    wide = Table(["名次", "单位", "类别", "得分", "等次", "说明"],
                 [[str(i), f"单位{i}", "中央企业", "90", "好", "说明" * 20] for i in range(60)])
    doc = _letter(attachments=["考核综合排名"], copy_to="", printed_by="",
                  annexes=[Annex("考核综合排名", [wide], landscape=True)])
    reader = pages(render_pdf(doc))
    landscape = [float(p.mediabox.width) > float(p.mediabox.height) for p in reader]
    assert landscape[:2] == [False, False] and sum(landscape) >= 4
    dash = 0.35 * 14 * 25.4 / 72            # the 一字线 above the figures' baseline
    starts = {}
    for index, page in enumerate(reader, start=1):
        below, start = _page_number(page, index)
        assert below - dash == pytest.approx(7, abs=1), index
        starts.setdefault((index % 2, len(str(index)), landscape[index - 1]), start)
        if index % 2 == 0:
            assert start == pytest.approx(LEFT + 14 * 25.4 / 72, abs=0.8), index  # 空一字
    # Odd pages end one character in from the right: a landscape page's number starts
    # where a portrait page's of as many digits does.
    assert starts[(1, 1, True)] == pytest.approx(starts[(1, 1, False)], abs=0.5)
    assert starts[(1, 1, False)] > 150
    # The landscape pages keep nothing at their own foot.
    for page, turned in zip(reader, landscape, strict=True):
        if turned:
            runs, _ = measure(page)
            assert not [r for r in runs if "—" in r.text and r.y > 210 - 26]


def test_the_faces_of_the_right_styles_are_embedded():
    if not all(face.path for face in fonts.faces()[:4]):
        if os.environ.get("CI") == "true":
            pytest.fail("the Fandol faces (texlive-lang-chinese) are not installed")
        pytest.skip("texlive-lang-chinese is not installed")
    doc = _letter(blocks=[Heading(1, "一级"), Heading(2, "二级"), Paragraph(BODY)])
    # The name inside each embedded font program (its CFF or name table), not the PDF's label.
    programs = b""
    for page in pages(render_pdf(doc)):
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            for descendant in font.get("/DescendantFonts", [font]):
                descriptor = descendant.get_object().get("/FontDescriptor")
                if descriptor is None:
                    continue
                for key in ("/FontFile", "/FontFile2", "/FontFile3"):
                    if key in descriptor.get_object():
                        programs += descriptor.get_object()[key].get_object().get_data()
    for face in fonts.faces()[:4]:
        assert face.path.stem.split("-")[0].encode() in programs, face.path.stem


def test_a_letter_has_the_mark_at_30mm_a_red_double_line_and_no_first_page_number():
    doc = _letter(kind="letter", doc_number="国开办函〔2018〕12号",
                  blocks=[Paragraph(BODY * 3)], copy_to="", printed_by="")
    reader = pages(render_pdf(doc))
    runs, rects = measure(reader[0])
    red = [r for r in runs if is_red(r.colour)]
    assert "".join(r.text for r in red) == "国务院扶贫开发领导小组办公室"   # no 文件
    top = min(r.y - r.size * 0.88 * 25.4 / 72 for r in red)
    assert top == pytest.approx(30, abs=1.5)   # from the page's top edge
    double = sorted((r for r in rects if is_red(r.colour) and r.width > 150), key=lambda r: r.y)
    assert [round(r.width) for r in double] == [170, 170]
    assert double[0].height > double[1].height          # thick over thin
    assert double[0].y - (top + 42 * 25.4 / 72) == pytest.approx(4, abs=1)
    text = lines([r for r in runs if not is_red(r.colour)])
    number = next(line for line in text if line[1] == "国开办函〔2018〕12号")
    assert number[0] > double[1].y
    assert number[2] + 10 * CHAR == pytest.approx(RIGHT, abs=1.5)    # flush right
    assert not any(t.startswith("—") for _, t, _ in text)               # no page number
    assert any(t.replace(" ", "") == "—2—" for _, t, _ in lines(measure(reader[1])[0]))


@pytest.mark.parametrize("count", range(13, 21))
def test_the_signature_never_stands_on_a_page_without_text(count):
    # Paragraphs of one line each, so that some count ends the text at the foot of page 1.
    doc = _letter(blocks=[Paragraph("考核工作坚持目标导向。") for _ in range(count)],
                  copy_to="", printed_by="", sealed=True)
    for page in pages(render_pdf(doc)):
        found = [t for _, t, _ in lines(measure(page)[0])]
        if "2018年2月20日" in found:
            assert "考核工作坚持目标导向。" in found, (count, found)
            assert doc.issuer in found


def test_the_letters_doc_number_is_set_in_fangsong_in_pdf_and_word():
    """GB/T 9704 7.2.4: the 发文字号 in 3号仿宋, also in the 信函格式 where it stands on the
    line of the 密级 (黑体). Set in 黑体 it also carried a second copy of its glyphs in the
    letter's 黑体 subset (issue 18: letters of at most 100 KB)."""
    import io

    from docx import Document

    from kaohe.documents.docx_render import render_docx

    if not all(face.path for face in fonts.faces()):
        pytest.skip("texlive-lang-chinese is not installed")
    doc = _letter(kind="letter", doc_number="国开办函〔2018〕283号", copy_number="000012",
                  classification="内部资料 注意保密")
    runs, _ = measure(pages(render_pdf(doc))[0])
    number = [run for run in runs if "〔2018〕" in run.text or "283" in run.text]
    assert number and all("Fangsong" in run.font for run in number), [
        (run.text, run.font) for run in number]
    secrecy = [run for run in runs if "注意保密" in run.text and abs(run.size - 16) < 0.5]
    assert secrecy and all("Heiti" in run.font for run in secrecy)
    word = Document(io.BytesIO(render_docx(doc)))
    line = next(p for p in word.paragraphs if "国开办函" in p.text)
    run = next(r for r in line.runs if "国开办函" in r.text)
    fonts_of = run._r.rPr.find("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
                                "rFonts") if run._r.rPr is not None else None
    assert fonts_of is not None
    assert fonts_of.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
                        "eastAsia") == "仿宋_GB2312"
