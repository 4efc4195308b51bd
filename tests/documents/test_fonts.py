"""The faces of official documents: the office's licensed fonts from KAOHE_FONT_DIR, else
Debian's free Fandol faces, else Noto CJK with a warning of the system check."""

import shutil

import pytest

from kaohe.documents import checks, fonts


@pytest.fixture
def fresh_faces():
    fonts._faces.cache_clear()
    yield
    fonts._faces.cache_clear()


def _ids(messages):
    return [m.id for m in messages]


def test_the_check_names_the_faces_in_use(fresh_faces):
    messages = checks.official_faces(None)
    assert messages[0].id == "kaohe.documents.I001"
    for label in ("仿宋", "楷体", "黑体", "宋体"):
        assert label in messages[0].msg


def test_the_office_fonts_are_used_when_configured(settings, tmp_path, fresh_faces):
    free = fonts._free_file("FandolFang-Regular.otf")
    if free is None:
        pytest.skip("texlive-lang-chinese is not installed")
    shutil.copy(free, tmp_path / "仿宋_GB2312.otf")
    settings.KAOHE_FONT_DIR = str(tmp_path)
    faces = {face.role.label: face for face in fonts.faces()}
    assert faces["仿宋"].source == "office" and faces["仿宋"].path.parent == tmp_path
    assert faces["楷体"].source == "free"
    assert f'src: url("{(tmp_path / "仿宋_GB2312.otf").as_uri()}")' in fonts.font_face_css()


def test_a_missing_face_falls_back_with_a_warning(monkeypatch, fresh_faces):
    monkeypatch.setattr(fonts, "FANDOL_DIRS", ())
    messages = checks.official_faces(None)
    assert _ids(messages).count("kaohe.documents.W003") == len(fonts.ROLES)
    assert "仿宋 Noto Serif CJK SC (fallback)" in messages[0].msg
    assert fonts.font_face_css() == ""


def _embedded(data: bytes):
    """(ToUnicode code → text, the CIDFont's /W codes, the font program, its subtype) of
    every face embedded in the first page of a PDF."""
    import io
    import re

    from pypdf import PdfReader

    page = PdfReader(io.BytesIO(data)).pages[0]
    for font in page["/Resources"]["/Font"].values():
        font = font.get_object()
        cid_font = font["/DescendantFonts"][0].get_object()
        program = cid_font["/FontDescriptor"].get_object()["/FontFile3"].get_object()
        cmap = font["/ToUnicode"].get_object().get_data().decode("latin-1")
        codes = {int(code, 16): bytes.fromhex(text).decode("utf-16-be")
                 for code, text in re.findall(r"<([0-9a-f]{4})> <([0-9a-f]+)>", cmap)}
        widths = cid_font["/W"]
        used = set()
        for first, run in zip(widths[::2], widths[1::2], strict=True):
            used.update(range(int(first), int(first) + len(run)))
        yield codes, used, program.get_data(), program["/Subtype"]


def test_each_face_is_embedded_with_only_the_glyphs_its_text_uses():
    """Issue 18: letters of at most 100 KB. WeasyPrint kept every glyph slot below the
    highest used, with its metrics, in a whole OpenType file (kaohe.documents.pdf_fonts)."""
    import io

    from fontTools.cffLib import CFFFontSet
    from fontTools.pens.boundsPen import BoundsPen
    from fontTools.ttLib import TTFont

    from kaohe.documents.officialdoc import Heading, Paragraph
    from kaohe.documents.pdf_render import render_pdf
    from tests.documents.test_layout import BODY, _letter

    faces = {face.role.key.replace(" ", "-"): face for face in fonts.faces()}
    if not all(face.path for face in faces.values()):
        pytest.skip("texlive-lang-chinese is not installed")
    data = render_pdf(_letter(blocks=[Heading(1, "考核结果"), Paragraph(BODY)]))
    checked = 0
    for codes, used, program, subtype in _embedded(data):
        assert subtype == "/CIDFontType0C"
        cff = CFFFontSet()
        cff.decompile(io.BytesIO(program), None)
        top = cff[cff.fontNames[0]]
        # .notdef and the glyphs drawn, each under its own CID: nothing else.
        assert len(top.charset) == len(used | {0})
        assert {int(name[3:]) for name in top.charset[1:]} == used - {0}
        # Each CID draws the glyph of its character in the face's own file.
        face = next(f for key, f in faces.items() if key in cff.fontNames[0]
                    or f.path.stem in cff.fontNames[0])
        original = TTFont(face.path)
        glyphs = original.getGlyphSet()
        for code, text in codes.items():
            if text.strip() and len(text) == 1 and ord(text) in original.getBestCmap():
                pen, expected = BoundsPen(None), BoundsPen(glyphs)
                top.CharStrings[f"cid{code:05d}"].draw(pen)
                glyphs[original.getBestCmap()[ord(text)]].draw(expected)
                assert pen.bounds == expected.bounds, text
                checked += 1
    assert checked > 30
