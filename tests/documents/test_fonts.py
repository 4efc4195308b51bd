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
