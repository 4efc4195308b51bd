"""PDF output through WeasyPrint, with the same GB/T 9704-2012 layout as the Word output.

The faces come from kaohe.documents.fonts (the office's fonts, else Debian's Fandol faces) as
@font-face rules, with the installed CJK fonts (fonts-noto-cjk) after them, so the text is
never tofu. The type area is 28 characters × 22 lines; the 版头, the 落款 (7.3.5) and the
版记 at the foot of the last even page are placed here and measured by
tests/documents/test_layout.py.
"""

from __future__ import annotations

import base64
import threading
from itertools import combinations, pairwise

from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from kaohe.documents.fonts import font_face_css
from kaohe.documents.officialdoc import (
    Figure,
    Heading,
    OfficialDocument,
    PageBreak,
    Paragraph,
    Table,
    numbered,
    official_date,
)
from kaohe.documents.pdf_fonts import compact_fonts

PDF_TYPE = "application/pdf"


def _blocks(doc):
    for block, label in numbered(doc.blocks):
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


def render_html(doc: OfficialDocument, imprint: str = "flow", imprint_gap: float = 0) -> str:
    """The document as HTML for WeasyPrint. `imprint` places the 版记: "flow" after the
    text (with `imprint_gap` mm above it, pushing it to the foot of the page) or "foot",
    at the foot of the next even page."""
    signature = signature_layout(doc)
    return render_to_string("documents/official_pdf.html", {
        "doc": doc,
        "blocks": list(_blocks(doc)),
        "annexes": [{"label": f"附件{index}" if len(doc.annexes) > 1 else "附件",
                     "title": annex.title, "landscape": annex.landscape,
                     "blocks": list(_blocks(annex))} for index, annex in
                    enumerate(doc.annexes, start=1)],
        "title_lines": title_lines(doc.title),
        "issued_on": official_date(doc.issued_on),
        "printed_on": official_date(doc.printed_on),
        "signature": signature,
        "masthead": _masthead(doc) if doc.has_masthead else None,
        "head_lines": [line for line in (doc.copy_number, doc.secrecy, doc.urgency) if line]
        if doc.has_masthead else [],
        "imprint": imprint,
        "imprint_gap": round(imprint_gap, 3),
        "font_faces": mark_safe(font_face_css()),  # noqa: S308 - file URIs of font files
        "mark_text": doc.mark.text if doc.mark else "",
        "running_head": mark_safe(_css_string(  # noqa: S308 - escaped for CSS just above
            " · ".join(part for part in (
                DRAFT_HEAD if doc.draft else "",
                doc.classification if doc.mark else "", doc.mark.text if doc.mark else "")
                if part))),
    })


# Every page of a paper not signed off says so (signing.as_draft).
DRAFT_HEAD = "草稿（未签发，不作正式文件使用）"

# The type area of GB/T 9704: 156 mm × 225 mm, 28 characters × 22 lines of 3号 (16 pt).
AREA_WIDTH_MM, AREA_HEIGHT_MM = 156, 225
CHAR_MM = AREA_WIDTH_MM / 28
LINE_MM = 10.22             # 225 / 22, rounded down so that 22 lines always fit
MM_PER_PT = 25.4 / 72
TITLE_PT = 22
MASTHEAD_PT = 42            # the 发文机关标志: about 15 mm high


def text_width(text: str) -> float:
    """Width in characters: CJK full width, ASCII (digits) half width."""
    return sum(0.5 if ord(ch) < 128 else 1 for ch in text)


def _masthead(doc: OfficialDocument) -> dict:
    """The 发文机关标志, squeezed horizontally (never smaller) to fit the type area."""
    text = doc.masthead
    natural = text_width(text) * MASTHEAD_PT * MM_PER_PT
    limit = AREA_WIDTH_MM - (0 if doc.letter_format else 2 * CHAR_MM)
    scale = min(1.0, limit / natural) if natural else 1.0
    return {"text": text, "size": MASTHEAD_PT, "scale": round(scale, 4),
            "offset": round((AREA_WIDTH_MM - natural) / 2, 3)}


def signature_layout(doc: OfficialDocument) -> dict | None:
    """The 落款 by GB/T 9704 7.3.5: the right spaces (mm) of the 署名 and the 成文日期.

    With a seal (7.3.5.1) the date stands four characters from the right and the name is
    centred over it. Without (7.3.5.2) the name stands two characters from the right and the
    date starts two characters right of the name's start; a date longer than that stands two
    characters from the right and the name moves left with it."""
    day = official_date(doc.issued_on)
    if not doc.issuer and not day:
        return None
    name_w, day_w = text_width(doc.issuer) * CHAR_MM, text_width(day) * CHAR_MM
    if doc.is_sealed:
        day_right = 4 * CHAR_MM
        name_right = day_right + (day_w - name_w) / 2 if day else 4 * CHAR_MM
        gap_lines = 2
    else:
        name_right = 2 * CHAR_MM
        day_start = AREA_WIDTH_MM - name_right - name_w + 2 * CHAR_MM
        day_right = AREA_WIDTH_MM - day_start - day_w
        if day_right < 2 * CHAR_MM:
            shift = 2 * CHAR_MM - day_right
            day_right += shift
            name_right += shift
        gap_lines = 1
    return {"name": doc.issuer, "day": day, "name_right": round(max(name_right, 0), 3),
            "day_right": round(max(day_right, 0), 3), "gap": round(gap_lines * LINE_MM, 3)}


# Words a title may break around (GB/T 9704 7.3.1: 回行时词意完整); a run of other characters
# is kept whole unless it is longer than a line.
TITLE_WORDS = (
    "关于", "反馈", "印发", "转发", "开展", "做好", "中央单位", "中央企业", "定点扶贫",
    "扶贫开发", "领导小组", "办公室", "国务院", "党中央", "工作", "考核", "成效", "结果",
    "情况", "综合", "评议", "问题", "整改", "约谈", "有关", "事项", "实施", "方案", "办法",
    "报告", "通知", "通报", "请示", "自评", "分报告", "汇总", "反馈意见", "省级", "各省",
)
PARTICLES = ("的", "和", "与", "及", "、", "函")
TITLE_CHARS = 18            # a title line keeps about a character clear at each side


def _title_tokens(title: str) -> list[str]:
    tokens: list[str] = []
    i = 0
    while i < len(title):
        if title[i].isascii() and title[i].isalnum():
            j = i
            while j < len(title) and title[j].isascii() and title[j].isalnum():
                j += 1
            # A year stays with its 年 / 年度.
            for unit in ("年度", "年"):
                if title.startswith(unit, j):
                    j += len(unit)
                    break
            tokens.append(title[i:j])
            i = j
            continue
        word = next((w for w in sorted(TITLE_WORDS, key=len, reverse=True)
                     if title.startswith(w, i)), None)
        if word is None and title[i] in PARTICLES:
            word = title[i]
        if word is not None:
            tokens.append(word)
            i += len(word)
        elif tokens and tokens[-1].startswith("\0"):
            tokens[-1] += title[i]
            i += 1
        else:
            tokens.append("\0" + title[i])
            i += 1
    return [t.removeprefix("\0") for t in tokens]


def title_lines(title: str, limit: float = TITLE_CHARS) -> list[str]:
    """The title in as few lines as fit, broken between words, the lines as even as can be
    (the upper one the longer on a tie)."""
    if text_width(title) <= limit:
        return [title]
    tokens = _title_tokens(title)
    best: tuple | None = None
    n = len(tokens)
    for lines_count in (2, 3, 4):
        for cuts in _cut_sets(n, lines_count - 1):
            bounds = (0, *cuts, n)
            parts = ["".join(tokens[a:b]) for a, b in pairwise(bounds)]
            widths = [text_width(p) for p in parts]
            if max(widths) > limit:
                continue
            key = (max(widths), [-w for w in widths])
            if best is None or key < best[0]:
                best = (key, parts)
        if best is not None:
            return best[1]
    return [title]  # a title longer than four lines wraps where it must


def _cut_sets(n: int, k: int):
    return combinations(range(1, n), k)


def _css_string(text: str) -> str:
    """A CSS string literal's content: quotes, backslashes and '<' escaped, one line."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\3C ")
    return " ".join(escaped.split())


def render_pdf(doc: OfficialDocument) -> bytes:
    """The PDF, laid out twice when it has a 版记: the first layout shows where the text
    ends, the second puts the 版记 at the foot of the last page, which must be even (the back
    of the last sheet), adding a page when needed."""
    # Imported here: WeasyPrint loads Pango on import, which only document work needs.
    from weasyprint import HTML

    fonts = _font_configuration()
    rendered = HTML(string=render_html(doc)).render(font_config=fonts)
    plan = _plan_imprint(doc, rendered)
    if plan is not None:
        rendered = HTML(string=render_html(doc, *plan)).render(font_config=fonts)
    return rendered.write_pdf(finisher=compact_fonts)


_local = threading.local()


def _font_configuration():
    """One WeasyPrint font configuration per thread: the faces' files are loaded once, not
    for every document (three times faster for a letter)."""
    from weasyprint.text.fonts import FontConfiguration

    if getattr(_local, "fonts", None) is None:
        _local.fonts = FontConfiguration()
    return _local.fonts


def imprint_plan(doc: OfficialDocument) -> tuple[str, float] | None:
    """Where the 版记 goes, from a layout of the PDF: ("flow", gap) on the last page, which is
    even, `gap` mm below the text; ("foot", gap) on a page of its own at the next even page,
    `gap` mm down; None without a 版记. The Word renderer follows the same plan."""
    from weasyprint import HTML

    if not (doc.copy_to or doc.printed_by):
        return None
    return _plan_imprint(doc, HTML(string=render_html(doc)).render(
        font_config=_font_configuration()))


def _plan_imprint(doc: OfficialDocument, rendered) -> tuple[str, float] | None:
    if not (doc.copy_to or doc.printed_by):
        return None
    found = _imprint_position(rendered)
    if found is None:
        return None
    page, top_mm, height_mm = found
    if page == len(rendered.pages) and page % 2 == 0:
        return "flow", max(0.0, AREA_HEIGHT_MM + 37 - top_mm - height_mm - 0.3)
    return "foot", max(0.0, AREA_HEIGHT_MM - height_mm - 0.3)


def _imprint_position(rendered) -> tuple[int, float, float] | None:
    """(1-based page, top and height in mm) of the 版记's border box when on one page."""
    hits = []
    for number, page in enumerate(rendered.pages, start=1):
        for box in _descendants(page._page_box):
            element = getattr(box, "element", None)
            if element is not None and element.get("id") == "imprint":
                top = box.position_y + box.margin_top
                hits.append((number, top / 96 * 25.4, box.border_height() / 96 * 25.4))
                break
    if len(hits) != 1:
        return None
    return hits[0]


def _descendants(box):
    stack = [box]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(getattr(current, "children", ()))
