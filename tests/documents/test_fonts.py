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
                # As drawn, within pdf_fonts.straighten's tolerance (1 unit of 1,000 an em).
                assert all(abs(a - b) <= 1 for a, b in zip(pen.bounds, expected.bounds,
                                                           strict=True)), text
                checked += 1
    assert checked > 30


def test_straighten_draws_near_straight_curves_and_lines_as_lines():
    """Issue 18: the outlines are most of a letter, and many traced curves are straight
    within a hair. A curve within the tolerance of its chord becomes that chord, a run of
    lines within it one line; a bulging or overshooting curve stays as it is."""
    from kaohe.documents.pdf_fonts import curve_deviation, straighten

    assert curve_deviation((0, 0), (10, 1), (20, 1), (30, 0)) == pytest.approx(0.75)
    assert curve_deviation((0, 0), (10, 0), (20, 0), (30, 0)) == 0
    assert curve_deviation((0, 0), (-10, 0.1), (40, 0.1), (30, 0)) is None   # overshoots
    flat = [("moveTo", ((0, 0),)), ("curveTo", ((10, 0.3), (20, 0.3), (30, 0))),
            ("lineTo", ((40, 0.2),)), ("lineTo", ((50, 0),)),
            ("curveTo", ((60, 5), (70, 5), (80, 0))), ("lineTo", ((80, -50),)),
            ("closePath", ())]
    assert straighten(flat, 1) == [
        ("moveTo", ((0, 0),)), ("lineTo", ((50, 0),)),
        ("curveTo", ((60, 5), (70, 5), (80, 0))), ("lineTo", ((80, -50),)),
        ("closePath", ())]
    # A run is merged only while every segment in it stays within the tolerance.
    zigzag = [("moveTo", ((0, 0),)), ("lineTo", ((10, 0.8),)), ("lineTo", ((20, 0),)),
              ("lineTo", ((30, 2),)), ("lineTo", ((40, 4),)), ("endPath", ())]
    assert straighten(zigzag, 1) == [
        ("moveTo", ((0, 0),)), ("lineTo", ((20, 0),)), ("lineTo", ((40, 4),)),
        ("endPath", ())]
    assert straighten(flat, 0.1) == flat


def _outline(glyph, samples: int) -> list:
    """The contours of a glyph as arrays of points along them (``samples`` a segment)."""
    import numpy as np
    from fontTools.pens.recordingPen import RecordingPen

    recording = RecordingPen()
    glyph.draw(recording)
    contours, points, current = [], [], (0, 0)
    steps = np.linspace(0, 1, samples + 1)[1:, None]
    for operator, args in recording.value:
        if operator == "moveTo":
            if points:
                contours.append(np.vstack(points))
            current = args[0]
            points = [np.array([current], dtype=float)]
        elif operator == "lineTo":
            points.append(np.array(current) + steps * (np.array(args[0]) - current))
            current = args[0]
        elif operator == "curveTo":
            p0, p1, p2, p3 = (np.array(p, dtype=float) for p in (current, *args))
            u = 1 - steps
            points.append(u ** 3 * p0 + 3 * u * u * steps * p1 + 3 * u * steps * steps * p2
                          + steps ** 3 * p3)
            current = args[-1]
    if points:
        contours.append(np.vstack(points))
    return contours


def _farthest(points, path) -> float:
    """How far the farthest of ``points`` is from the polyline ``path``."""
    import numpy as np

    start, end = path[:-1], path[1:]
    direction = end - start
    length2 = np.maximum((direction ** 2).sum(axis=1), 1e-12)
    offset = points[:, None, :] - start[None, :, :]
    t = np.clip((offset * direction[None]).sum(axis=2) / length2, 0, 1)
    nearest = start[None] + t[..., None] * direction[None]
    return float(np.sqrt(((points[:, None, :] - nearest) ** 2).sum(axis=2)).min(axis=1).max())


def test_the_embedded_outlines_stay_within_a_unit_of_the_faces_own():
    """Issue 18: straightened outlines (kaohe.documents.pdf_fonts) keep the look: each
    contour of each glyph embedded in a letter lies within 1/1000 em of the face's own, and
    the reverse."""
    import io

    from fontTools.cffLib import CFFFontSet
    from fontTools.ttLib import TTFont

    from kaohe.documents.officialdoc import Heading, Paragraph
    from kaohe.documents.pdf_render import render_pdf
    from tests.documents.test_layout import BODY, _letter

    faces = {face.role.key.replace(" ", "-"): face for face in fonts.faces()}
    if not all(face.path for face in faces.values()):
        pytest.skip("texlive-lang-chinese is not installed")
    data = render_pdf(_letter(blocks=[Heading(1, "考核结果"), Paragraph(BODY)]))
    checked = straightened = 0
    for codes, _used, program, _subtype in _embedded(data):
        cff = CFFFontSet()
        cff.decompile(io.BytesIO(program), None)
        top = cff[cff.fontNames[0]]
        face = next(f for key, f in faces.items() if key in cff.fontNames[0]
                    or f.path.stem in cff.fontNames[0])
        original = TTFont(face.path)
        glyphs, cmap = original.getGlyphSet(), original.getBestCmap()
        own = original["CFF "].cff.topDictIndex[0].CharStrings
        for code, text in codes.items():
            if not (text.strip() and len(text) == 1 and ord(text) in cmap):
                continue
            embedded = top.CharStrings[f"cid{code:05d}"]
            # Points along one outline against the other drawn finer (its curves as 32
            # chords, each within 0.1 unit of the curve): 1 unit and that 0.1 at most.
            for a, b in ((embedded, glyphs[cmap[ord(text)]]),
                         (glyphs[cmap[ord(text)]], embedded)):
                points, path = _outline(a, 4), _outline(b, 32)
                assert len(points) == len(path), text
                for contour, other in zip(points, path, strict=True):
                    assert _farthest(contour, other) <= 1.1, text
            embedded.decompile()
            own[cmap[ord(text)]].decompile()
            straightened += len(embedded.program) < len(own[cmap[ord(text)]].program) - 10
            checked += 1
    assert checked > 30 and straightened > checked / 2
