"""The faces official documents are set in, for the PDF renderer and the system check.

GB/T 9704-2012 names 仿宋 for the body, 黑体, 楷体 and 仿宋 for headings, 宋体 for page
numbers and a 小标宋 for titles and the 发文机关标志. The office's licensed files are used when
KAOHE_FONT_DIR names a folder holding them; otherwise the free Fandol faces of Debian's
texlive-lang-chinese (FandolFang 仿宋, FandolKai 楷体, FandolHei 黑体, FandolSong 宋体) stand
in, found by path because TeX Live's fonts are not registered with fontconfig. A role with no
file falls back to Noto CJK (fonts-noto-cjk) through fontconfig, and the system check says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.conf import settings

FANDOL_DIRS = (
    Path("/usr/share/texlive/texmf-dist/fonts/opentype/public/fandol"),
    Path("/usr/share/texmf/fonts/opentype/public/fandol"),
    Path("/usr/share/fonts/opentype/fandol"),
)
FONT_SUFFIXES = (".ttf", ".otf", ".ttc", ".TTF", ".OTF", ".TTC")


@dataclass(frozen=True)
class Role:
    key: str            # the CSS family name the PDF template uses
    label: str          # what the system check calls it
    office: tuple[str, ...]     # file stems of the office's licensed fonts, best first
    free: str                   # the Fandol file standing in
    fallback: str               # the fontconfig family used when neither is there
    bold_free: str = ""


ROLES = (
    Role("KH Fangsong", "仿宋", ("仿宋_GB2312", "FangSong_GB2312", "simfang", "FangSong", "仿宋"),
         "FandolFang-Regular.otf", "Noto Serif CJK SC"),
    Role("KH Kaiti", "楷体", ("楷体_GB2312", "KaiTi_GB2312", "simkai", "KaiTi", "楷体"),
         "FandolKai-Regular.otf", "Noto Serif CJK SC"),
    Role("KH Heiti", "黑体", ("黑体", "SimHei", "simhei"),
         "FandolHei-Regular.otf", "Noto Sans CJK SC", bold_free="FandolHei-Bold.otf"),
    Role("KH Songti", "宋体", ("宋体", "SimSun", "simsun"),
         "FandolSong-Regular.otf", "Noto Serif CJK SC", bold_free="FandolSong-Bold.otf"),
    Role("KH Title", "小标宋",
         ("方正小标宋简体", "FZXiaoBiaoSong-B05S", "FZXBSJW", "方正小标宋_GBK"),
         "FandolSong-Bold.otf", "Noto Serif CJK SC"),
)


@dataclass(frozen=True)
class Face:
    role: Role
    path: Path | None       # None: the fontconfig fallback
    bold_path: Path | None
    source: str             # "office", "free" or "fallback"

    @property
    def name(self) -> str:
        return self.path.stem if self.path else self.role.fallback


def _office_file(folder: Path, stems: tuple[str, ...]) -> Path | None:
    files = {p.stem.lower(): p for p in folder.iterdir()
             if p.is_file() and p.suffix in FONT_SUFFIXES}
    for stem in stems:
        if stem.lower() in files:
            return files[stem.lower()]
    return None


def _free_file(name: str) -> Path | None:
    if not name:
        return None
    for folder in FANDOL_DIRS:
        if (folder / name).is_file():
            return folder / name
    return None


@cache
def _faces(font_dir: str) -> tuple[Face, ...]:
    folder = Path(font_dir) if font_dir else None
    faces = []
    for role in ROLES:
        if folder is not None and folder.is_dir():
            found = _office_file(folder, role.office)
            if found is not None:
                faces.append(Face(role, found, None, "office"))
                continue
        free = _free_file(role.free)
        if free is not None:
            faces.append(Face(role, free, _free_file(role.bold_free), "free"))
        else:
            faces.append(Face(role, None, None, "fallback"))
    return tuple(faces)


def faces() -> tuple[Face, ...]:
    """The face used for each role, looked up once per font folder."""
    return _faces(getattr(settings, "KAOHE_FONT_DIR", "") or "")


def font_face_css() -> str:
    """@font-face rules naming the files for WeasyPrint; a role without a file has none, so
    the template's fallback families (Noto CJK through fontconfig) apply."""
    rules = []
    for face in faces():
        if face.path is None:
            continue
        rules.append(f'@font-face {{ font-family: "{face.role.key}"; '
                     f'src: url("{face.path.as_uri()}"); font-weight: normal; }}')
        if face.bold_path:  # else the renderer emboldens the regular face
            rules.append(f'@font-face {{ font-family: "{face.role.key}"; '
                         f'src: url("{face.bold_path.as_uri()}"); font-weight: bold; }}')
    return "\n".join(rules)
