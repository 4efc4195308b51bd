"""The Word files laid out by LibreOffice: 28 characters × 22 lines, the same number of pages
as the PDF of the same document (±1), and renders of the first and last page of every
document (PDF and Word) in the test artifacts, to be looked at.

Without LibreOffice (soffice, Debian's libreoffice-writer-nogui) or pdftoppm (poppler-utils)
these tests are skipped locally but fail under CI (CI=true).
"""

import io
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from kaohe.documents.base import REGISTRY
from kaohe.documents.docx_render import render_docx
from kaohe.documents.officialdoc import Paragraph
from kaohe.documents.pdf_render import render_pdf
from tests.documents.pdf_measure import lines, measure
from tests.documents.test_layout import BODY, BOTTOM, TOP, _letter

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots" / "documents"
PERSONAS = ("office", "unit", "lead_reviewer", "province", "org_department", "working_group",
            "leading_group")


def _tool(name: str, package: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    if os.environ.get("CI") == "true":
        pytest.fail(f"{name} is missing: install Debian's {package}")
    pytest.skip(f"{name} is not installed ({package})")


def _convert(docx_files: list[Path], out: Path) -> None:
    soffice = _tool("soffice", "libreoffice-writer-nogui")
    profile = out / "profile"
    subprocess.run(  # noqa: S603 - fixed arguments, files made by the test
        [soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless",
         "--convert-to", "pdf", "--outdir", str(out), *map(str, docx_files)],
        check=True, capture_output=True, timeout=600)


def _png(pdf: Path, stem: str) -> None:
    pdftoppm = _tool("pdftoppm", "poppler-utils")
    count = len(PdfReader(pdf).pages)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for label, page in (("first", 1), ("last", count)):
        subprocess.run(  # noqa: S603
            [pdftoppm, "-png", "-r", "50", "-singlefile", "-f", str(page), "-l", str(page),
             str(pdf), str(ARTIFACTS / f"{stem}-{label}")], check=True, timeout=120)


def test_libreoffice_sets_28_characters_by_22_lines(tmp_path):
    doc = _letter(blocks=[Paragraph(BODY * 6)], kind="", issuer="", copy_to="", printed_by="")
    path = tmp_path / "grid.docx"
    path.write_bytes(render_docx(doc))
    _convert([path], tmp_path)
    page = PdfReader(tmp_path / "grid.pdf").pages[1]
    runs, _ = measure(page)
    body = [line for line in lines([r for r in runs if abs(r.size - 16) < 0.6])
            if TOP - 1 < line[0] < BOTTOM + 1]
    assert len(body) == 22, [t for _, t, _ in body]
    assert {len(t) for _, t, _ in body[:-1]} == {28}, [t for _, t, _ in body]
    y, text, x = next(line for line in lines(runs) if line[1].startswith("—"))
    assert text.replace(" ", "") == "—2—"
    assert y - 0.35 * 14 * 25.4 / 72 - BOTTOM == pytest.approx(7, abs=1)
    assert x == pytest.approx(28 + 14 * 25.4 / 72, abs=0.8)  # even page: left, 空一字


def test_every_word_file_has_the_pages_of_its_pdf(released, personas, world, tmp_path):
    round_ = world["round"]
    made = {}
    for identifier, cls in sorted(REGISTRY.items()):
        exporter = cls()
        if not {"docx", "pdf"} <= set(exporter.formats):
            continue
        obj = next((o for name in PERSONAS
                    for o in list(exporter.objects_for(personas[name], round_))[:1]), None)
        if obj is None:
            continue
        rendered = {fmt: exporter.render(fmt, obj, None) for fmt in ("docx", "pdf")}
        if not rendered["docx"].file_name.endswith(".docx"):
            continue  # a bundle (ZIP) of letters, each made as the single letter is
        for fmt, file in rendered.items():
            (tmp_path / f"{identifier}.{fmt}").write_bytes(file.data)
        made[identifier] = len(PdfReader(io.BytesIO(
            (tmp_path / f"{identifier}.pdf").read_bytes())).pages)
    assert len(made) >= 5, made
    word = tmp_path / "word"
    word.mkdir()
    _convert([tmp_path / f"{name}.docx" for name in made], word)
    counts = {}
    for identifier, pdf_pages in made.items():
        counts[identifier] = (pdf_pages, len(PdfReader(word / f"{identifier}.pdf").pages))
        _png(tmp_path / f"{identifier}.pdf", f"{identifier}-pdf")
        _png(word / f"{identifier}.pdf", f"{identifier}-docx")
    assert all(abs(a - b) <= 1 for a, b in counts.values()), counts


def test_renders_of_the_masthead_and_the_imprint(tmp_path):
    for name, doc in {
        "sample-circular": _letter(
            title="关于2017年度中央单位定点扶贫工作考核情况的通报", kind="circular",
            doc_number="国开办发〔2018〕3号", copy_number="000012", classification="秘密",
            secrecy_period="1年", urgency="特急", blocks=[Paragraph(BODY)] * 3),
        "sample-letter": _letter(kind="letter", doc_number="国开办函〔2018〕12号"),
        "sample-report": _letter(title="关于2017年度中央单位定点扶贫工作考核结果的报告",
                                 kind="report", recipient="党中央、国务院",
                                 doc_number="国开办发〔2018〕4号", signer="张三"),
    }.items():
        (tmp_path / f"{name}.pdf").write_bytes(render_pdf(doc))
        (tmp_path / f"{name}.docx").write_bytes(render_docx(doc))
        _png(tmp_path / f"{name}.pdf", f"{name}-pdf")
    _convert([tmp_path / f"{name}.docx" for name in
              ("sample-circular", "sample-letter", "sample-report")], tmp_path / "word")
    for name in ("sample-circular", "sample-letter", "sample-report"):
        _png(tmp_path / "word" / f"{name}.pdf", f"{name}-docx")
        # The 版记 at the foot of the last page, an even one, in Word's layout too.
        word = PdfReader(tmp_path / "word" / f"{name}.pdf").pages
        assert len(word) % 2 == 0, name
        printed = next(y for y, t, _ in lines(measure(word[-1])[0]) if t.endswith("印发"))
        assert printed == pytest.approx(BOTTOM - 2.5, abs=3), name
    assert (ARTIFACTS / "sample-circular-pdf-first.png").stat().st_size > 1000


def _number_on_sheet(page):
    """A page's number (its 4号 runs with the 一字线, joined along their line) and where it
    stands on the portrait sheet: (text, angle, its baseline's distance below the type
    area, where it starts along the line), in mm. A landscape page is the sheet turned a
    quarter clockwise, so its (x, y) is the sheet's (y, 297 − x)."""
    runs = [r for r in measure(page)[0] if abs(r.size - 14) < 0.5]
    if not any("—" in r.text for r in runs):
        return None
    turned = float(page.mediabox.width) > float(page.mediabox.height)
    angles = {r.angle for r in runs}
    assert len(angles) == 1, [(r.text, r.angle) for r in runs]
    runs.sort(key=lambda r: r.y if turned else r.x)
    text = "".join(r.text for r in runs).replace(" ", "")
    if turned:
        return text, angles.pop(), 297 - runs[0].x - BOTTOM, runs[0].y
    return text, angles.pop(), runs[0].y - BOTTOM, runs[0].x


def test_landscape_annex_pages_are_numbered_in_word_as_in_the_pdf(tmp_path):
    """Word's landscape annex pages (a wide ranking) carry "— N —" where the portrait pages
    have theirs on the sheet (GB/T 9704 10.2), as the PDF does: turned with the sheet, at
    the landscape page's left edge, 7 mm outside the type area, odd pages right and even ones
    left (空一字) as the sheet is held portrait, the numbering continuing the body's. Only the
    letter's first page (10.1) has none."""
    from kaohe.documents.officialdoc import Annex, Table

    wide = Table(["名次", "单位", "说明"], [[str(n), "单位", "说明" * 20] for n in range(80)],
                 widths=[1, 3, 8])
    doc = _letter(kind="letter", doc_number="国开办函〔2018〕12号", copy_to="", printed_by="",
                  blocks=[Paragraph(BODY)] * 2, attachments=["排名"],
                  annexes=[Annex("排名", [wide], landscape=True)])
    # Where the PDF puts a landscape page's number, by side and number of digits.
    expected = {}
    for number, page in enumerate(PdfReader(io.BytesIO(render_pdf(doc))).pages, start=1):
        found = _number_on_sheet(page)
        if found and float(page.mediabox.width) > float(page.mediabox.height):
            expected.setdefault((number % 2, len(str(number))), found)
    assert {key[0] for key in expected} == {0, 1}, expected
    path = tmp_path / "annex.docx"
    path.write_bytes(render_docx(doc))
    _convert([path], tmp_path)
    pages = PdfReader(tmp_path / "annex.pdf").pages
    landscape = [n for n, page in enumerate(pages, start=1)
                 if page.mediabox.width > page.mediabox.height]
    assert len(landscape) >= 3 and landscape[-1] == len(pages), landscape
    dash = 0.35 * 14 * 25.4 / 72            # the 一字线 above the figures' baseline
    char = 14 * 25.4 / 72
    compared = 0
    for number, page in enumerate(pages, start=1):
        found = _number_on_sheet(page)
        if number == 1:
            assert found is None, found
            continue
        assert found is not None, number
        text, angle, below, start = found
        assert text == f"—{number}—", (number, text)
        assert below - dash == pytest.approx(7, abs=1), (number, below)
        if number % 2 == 0:
            assert start == pytest.approx(28 + char, abs=0.8), number  # 空一字
        if number not in landscape:
            assert angle == pytest.approx(0, abs=0.5), number
            continue
        # Turned with the sheet, as in the PDF, and where the PDF has it (the faces
        # LibreOffice falls back to are a little wider or narrower than the PDF's).
        assert angle == pytest.approx(-90, abs=0.5), number
        pdf = expected.get((number % 2, len(str(number))))
        if pdf is not None:
            compared += 1
            assert below == pytest.approx(pdf[2], abs=1), (number, below, pdf)
            assert start == pytest.approx(pdf[3], abs=1.5), (number, start, pdf)
        if number % 2:
            assert start > 150, number  # at the right of the sheet held portrait
        # Nothing at the landscape page's own foot.
        assert not [r for r in measure(page)[0] if "—" in r.text and r.y > 210 - 26], number
    assert compared >= 3, compared
    _png(tmp_path / "annex.pdf", "landscape-annex-docx")
