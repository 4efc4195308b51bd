"""What an uploaded file really is, judged by its content, and the label shown for it.

puremagic reads the header and proposes a family (PDF, PNG, JPEG, OLE, ZIP, ISO media);
a structural check then confirms it and narrows it down (an OLE file is a .doc only if it
holds a WordDocument stream, a ZIP is a .docx only if its content types name the Word main
part). The result must be one of ALLOWED and agree with the extension of the file's name,
so that neither a renamed program nor a mislabelled archive is accepted.
"""

import re
import struct
import unicodedata
from dataclasses import dataclass

import puremagic
from django.conf import settings
from django.utils.translation import gettext as _

from kaohe.lib.archives import ArchiveLimits, ArchiveRefused, BoundedZip


@dataclass(frozen=True)
class FileType:
    key: str
    extensions: frozenset[str]
    content_type: str


_TYPES = [
    FileType("pdf", frozenset({"pdf"}), "application/pdf"),
    FileType("jpeg", frozenset({"jpg", "jpeg"}), "image/jpeg"),
    FileType("png", frozenset({"png"}), "image/png"),
    FileType("doc", frozenset({"doc"}), "application/msword"),
    FileType("xls", frozenset({"xls"}), "application/vnd.ms-excel"),
    FileType("docx", frozenset({"docx"}),
             "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    FileType("xlsx", frozenset({"xlsx"}),
             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    FileType("pptx", frozenset({"pptx"}),
             "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    FileType("mp4", frozenset({"mp4"}), "video/mp4"),
    FileType("mov", frozenset({"mov"}), "video/quicktime"),
    FileType("zip", frozenset({"zip"}), "application/zip"),
]
ALLOWED = {t.key: t for t in _TYPES}
ALLOWED_EXTENSIONS = frozenset().union(*(t.extensions for t in _TYPES))

# puremagic's guess (by extension it would give) -> the family to confirm structurally.
_FAMILIES = {
    ".pdf": "pdf", ".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".jfif": "jpeg",
    ".jpe": "jpeg", ".doc": "ole", ".xls": "ole", ".zip": "zip", ".docx": "zip",
    ".xlsx": "zip", ".pptx": "zip", ".mp4": "media", ".mov": "media", ".m4v": "media",
}

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_OLE_FREE = 0xFFFFFFFA  # ids at or above this end a chain (end of chain, free, FAT, DIFAT)
_OLE_MAX_SECTORS = 4096  # a directory longer than this is not an office document

# (main part, content type of the main part) that make a ZIP an OOXML document. A .docm's
# main part has a macro-enabled content type, so it is not taken for a .docx.
_OOXML = {
    "docx": ("word/document.xml",
             "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"),
    "xlsx": ("xl/workbook.xml",
             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"),
    "pptx": ("ppt/presentation.xml",
             "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"),
}
_CONTENT_TYPES_MAX = 1024 * 1024
# HEIF/AVIF pictures are ISO media files too, but not videos.
_STILL_IMAGE_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis"}

LABEL_MAX = 200
# Control, format (bidi overrides, zero-width), surrogate, private-use and unassigned.
_INVISIBLE = {"Cc", "Cf", "Cs", "Co", "Cn"}


class Refused(Exception):
    """The file is not accepted; the message is for the user."""


def zip_limits() -> tuple[int, int, int]:
    """Entries, total unpacked bytes, and overall unpacked/packed ratio a ZIP may have."""
    return (
        getattr(settings, "EVIDENCE_ZIP_MAX_ENTRIES", 10_000),
        getattr(settings, "EVIDENCE_ZIP_MAX_UNPACKED_BYTES", 4 * 1024**3),
        getattr(settings, "EVIDENCE_ZIP_MAX_RATIO", 100),
    )


def extension_of(name: str) -> str:
    stem, dot, ext = name.rpartition(".")
    return ext.lower() if dot and stem else ""


def clean_text(value: str) -> str:
    """Text safe to show on one line: no control or direction characters, spaces collapsed.

    Right-to-left overrides go too, so that "x\u202egpj.exe" cannot pose as "xexe.jpg".
    """
    value = unicodedata.normalize("NFC", value)
    # Tabs and line breaks become spaces; other invisible characters go.
    value = "".join(" " if ch.isspace() else ch for ch in value
                    if ch.isspace() or unicodedata.category(ch) not in _INVISIBLE)
    return " ".join(value.split())


def clean_label(name: str) -> str:
    """A file name as a label: its last component only, cleaned, at most LABEL_MAX long.

    The label is only ever shown and offered as a download name; the stored file is named
    by the evidence id.
    """
    name = re.split(r"[/\\]", unicodedata.normalize("NFC", name))[-1]
    name = clean_text(name).strip(" .")
    if len(name) > LABEL_MAX:
        # Shorten the stem, not the extension that decides the type.
        ext = extension_of(name)
        suffix = f".{ext}" if 0 < len(ext) <= 10 else ""
        name = name[: LABEL_MAX - len(suffix)].rstrip(" .") + suffix
    return name


def check_name(label: str) -> FileType:
    """The type a name claims; refused when its extension is missing or not allowed."""
    ext = extension_of(label)
    if not ext:
        raise Refused(_("文件名缺少扩展名，无法判断类型。允许的类型：%(allowed)s。")
                      % {"allowed": allowed_text()})
    if ext not in ALLOWED_EXTENSIONS:
        raise Refused(_("不支持的文件类型“.%(ext)s”。允许的类型：%(allowed)s。")
                      % {"ext": ext[:20], "allowed": allowed_text()})
    return next(t for t in _TYPES if ext in t.extensions)


def allowed_text() -> str:
    return "、".join(sorted(ALLOWED_EXTENSIONS))


def detect(path, *, label: str) -> FileType:
    """The type of the file at path, which must agree with the label's extension."""
    expected = check_name(label)
    with open(path, "rb") as f:
        head = f.read(4096)
        if not head:
            raise Refused(_("文件为空。"))
        f.seek(0)
        try:
            guesses = puremagic.magic_stream(f)
        except (puremagic.PureError, ValueError):
            guesses = []
        family = next((_FAMILIES[ext] for ext in (_dotted(g.extension) for g in guesses)
                       if ext in _FAMILIES), None)
        if family is None and head[4:8] == b"ftyp":
            # puremagic knows only some ISO media brands (not mp41, avc1, iso2, XAVC...).
            family = "media"
        key = _confirm(family, head, f) if family else None
    if key is None:
        raise Refused(_("无法识别文件内容，或文件类型不在允许范围内（%(allowed)s）。") % {
            "allowed": allowed_text()})
    if key != expected.key:
        raise Refused(_("文件内容（%(found)s）与扩展名“.%(ext)s”不符。") % {
            "found": key, "ext": extension_of(label)})
    return ALLOWED[key]


def _dotted(extension: str) -> str:
    return "." + extension.lower().lstrip(".")


def _confirm(family: str, head: bytes, f) -> str | None:
    if family == "pdf":
        return "pdf" if head.startswith(b"%PDF-") else None
    if family == "png":
        return "png" if head.startswith(b"\x89PNG\r\n\x1a\n") else None
    if family == "jpeg":
        return "jpeg" if head.startswith(b"\xff\xd8\xff") else None
    if family == "media":
        return _media_kind(head)
    if family == "ole":
        return _ole_kind(f)
    if family == "zip":
        return _zip_kind(f)
    return None


def _media_kind(head: bytes) -> str | None:
    """ISO base media (MP4) and QuickTime both open with an ftyp box; its brand tells them apart."""
    if len(head) < 16 or head[4:8] != b"ftyp":
        return None
    (size,) = struct.unpack(">I", head[:4])
    brand = head[8:12]
    if not 16 <= size <= 4096 or brand in _STILL_IMAGE_BRANDS:
        return None
    return "mov" if brand == b"qt  " else "mp4"


def _ole_kind(f) -> str | None:
    """Word or Excel 97-2003, told apart by the streams an OLE compound file holds.

    Installers (.msi), Visio and PowerPoint files are OLE files too, so the signature alone
    does not make a .doc. This walks only the directory chain through the FAT.
    """
    f.seek(0)
    header = f.read(512)
    if len(header) < 512 or header[:8] != _OLE_MAGIC:
        return None
    shift = struct.unpack_from("<H", header, 30)[0]
    if shift not in (9, 12):
        return None
    sector_size = 1 << shift
    first_dir, = struct.unpack_from("<I", header, 48)
    first_difat, difat_count = struct.unpack_from("<II", header, 68)
    difat = list(struct.unpack_from("<109I", header, 76))
    # Files above some megabytes list further FAT sectors in a DIFAT chain.
    next_difat = first_difat
    for _i in range(min(difat_count, _OLE_MAX_SECTORS)):
        if next_difat >= _OLE_FREE:
            break
        entries = _ole_sector(f, next_difat, sector_size)
        if entries is None:
            return None
        ids = struct.unpack(f"<{sector_size // 4}I", entries)
        difat.extend(ids[:-1])
        next_difat = ids[-1]
    per_fat_sector = sector_size // 4

    def next_sector(sector: int) -> int | None:
        index, slot = divmod(sector, per_fat_sector)
        if index >= len(difat) or difat[index] >= _OLE_FREE:
            return None
        data = _ole_sector(f, difat[index], sector_size)
        return None if data is None else struct.unpack_from("<I", data, slot * 4)[0]

    names = set()
    sector: int | None = first_dir
    seen: set[int] = set()
    while sector is not None and sector < _OLE_FREE and sector not in seen:
        if len(seen) >= _OLE_MAX_SECTORS:
            return None
        seen.add(sector)
        data = _ole_sector(f, sector, sector_size)
        if data is None:
            return None
        for offset in range(0, sector_size, 128):
            name_len = struct.unpack_from("<H", data, offset + 64)[0]
            if 2 <= name_len <= 64:
                names.add(data[offset:offset + name_len - 2].decode("utf-16-le", "replace"))
        sector = next_sector(sector)
    if "WordDocument" in names:
        return "doc"
    if "Workbook" in names or "Book" in names:
        return "xls"
    return None


def _ole_sector(f, sector: int, sector_size: int) -> bytes | None:
    f.seek((sector + 1) * sector_size)
    data = f.read(sector_size)
    return data if len(data) == sector_size else None


def _zip_kind(f) -> str | None:
    """A plain ZIP, or an OOXML document; either way within the archive limits.

    The archive is never unpacked to disk, but every member is inflated once and the bytes
    that really come out are counted (kaohe.lib.archives): a member that declares 1,000 bytes
    and inflates to 500 MB is refused at byte 1,001, so that whoever opens the file later is
    safe from a bomb (too many entries, too much unpacked data, or a suspicious ratio).
    """
    max_entries, max_unpacked, max_ratio = zip_limits()
    limits = ArchiveLimits(max_entries=max_entries, max_total_bytes=max_unpacked,
                           max_ratio=max_ratio)
    f.seek(0)
    try:
        with BoundedZip(f, limits) as archive:
            archive.check_all()
            names = set(archive.names())
            if "[Content_Types].xml" not in names:
                return "zip"
            # An OOXML document is a ZIP whose content types name the right main part.
            info = archive.getinfo("[Content_Types].xml")
            if info.file_size > _CONTENT_TYPES_MAX:
                return "zip"
            content_types = archive.read(info, max_bytes=_CONTENT_TYPES_MAX)
    except ArchiveRefused as error:
        raise Refused(str(error)) from None
    for key, (main_part, main_type) in _OOXML.items():
        if main_part in names and main_type.encode() in content_types:
            return key
    # Any other archive that happens to hold a [Content_Types].xml is just a ZIP.
    return "zip"
