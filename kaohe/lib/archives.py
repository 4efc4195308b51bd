"""Reading ZIP archives (and so .docx, .xlsx, .pptx) without believing what they say of themselves.

A ZIP declares each member's size twice, in its local header and in the central directory.
A bomb declares 1,000 bytes and inflates to gigabytes; a check that adds up the declared sizes
lets it through, and whoever opens the file later (openpyxl, python-docx, a reviewer's unzip)
gets the gigabytes. BoundedZip inflates every member itself and counts the bytes that really
come out, stopping at the first limit (security.md 30):

- the central directory is bounded before zipfile reads it whole into memory;
- entries are counted after it is parsed;
- every member's real size must equal what both headers declare and its CRC must match, so
  that any reader that trusts the headers reads exactly what was counted here; a member that
  produces one byte more than it declares is refused at that byte;
- the real total, each member's real size, and the real total against the archive's own size
  (a ratio) have their limits.

Encrypted members cannot be counted and are refused, and so are compression methods other
than stored, deflate and bzip2 (what Office, Windows, macOS and 7-Zip write for .zip).

No Django import: ``kaohe evaluate`` reads workbooks through this module too. Messages are
Chinese (translated when Django's translation is active), with an English text beside them
for the bilingual command line.
"""

from __future__ import annotations

import bz2
import io
import os
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

_CHUNK = 64 * 1024
_LOCAL_HEADER = struct.Struct("<4s5H3L2H")  # as zipfile's structFileHeader
_CENTRAL_HEADER_SIZE = 46
_ENCRYPTED = 0x1
_DATA_DESCRIPTOR = 0x8
_PATCHED_OR_STRONG = 0x20 | 0x40
_UTF8_NAME = 0x800
_STORED, _DEFLATED, _BZIP2 = 0, 8, 12
# Bytes of central directory allowed per allowed entry (a 46-byte header, a name, extra
# fields): generous for real archives, small enough that parsing it costs little.
DIRECTORY_BYTES_PER_ENTRY = 1024


def translate(message: str) -> str:
    """gettext when Django's translation machinery is there, the Chinese msgid otherwise."""
    try:
        from django.utils.translation import gettext

        return gettext(message)
    except Exception:  # no Django settings (a plain script): keep the Chinese text
        return message


_ = translate


def human_size(size: int) -> str:
    """1,048,576 -> "1 MB"; whole numbers where the size is one."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"


@dataclass(frozen=True)
class ArchiveLimits:
    max_entries: int
    max_total_bytes: int
    max_member_bytes: int | None = None
    # Real unpacked bytes per byte of the archive file; None for no ratio limit.
    max_ratio: int | None = None

    @property
    def max_directory_bytes(self) -> int:
        return self.max_entries * DIRECTORY_BYTES_PER_ENTRY + 64 * 1024


class ArchiveRefused(Exception):
    """The archive is not accepted. `code` says why, `str()` is the Chinese message for the
    user, `english` the same in English.

    Codes: entries, directory, total, member, ratio (a limit was reached: `limit` holds it),
    declared_size (a member inflates to other than it declares), encrypted, method, damaged.
    """

    def __init__(self, code: str, message: str, english: str, *, member: str = "",
                 limit: int | None = None):
        super().__init__(message)
        self.code, self.english, self.member, self.limit = code, english, member, limit

    @property
    def is_limit(self) -> bool:
        return self.code in {"entries", "directory", "total", "member", "ratio"}


def _damaged(detail: str = "") -> ArchiveRefused:
    return ArchiveRefused("damaged", _("压缩文件已损坏或无法读取。"),
                          "the archive is damaged or cannot be read" + (f" ({detail})"
                                                                         if detail else ""))


class BoundedZip:
    """A ZIP opened for counted reading. Use as a context manager.

        with BoundedZip(stream, limits) as archive:
            archive.check_all()               # every member inflated and counted once
            data = archive.read("[Content_Types].xml", max_bytes=1 << 20)

    Every byte inflated by iter_member, read or check_all counts towards the limits; the
    first one over a limit raises ArchiveRefused.
    """

    def __init__(self, source: BinaryIO | bytes | str | os.PathLike[str],
                 limits: ArchiveLimits) -> None:
        self.limits = limits
        self.bytes_read = 0
        self._own = not hasattr(source, "read")
        if isinstance(source, bytes | bytearray | memoryview):
            self._fp: BinaryIO = io.BytesIO(source)
        elif isinstance(source, str | os.PathLike):
            self._fp = open(source, "rb")  # noqa: SIM115 - closed by close()
        else:
            self._fp = source
        try:
            self._fp.seek(0, os.SEEK_END)
            self.archive_bytes = self._fp.tell()
            self._fp.seek(0)
            self._bound_directory()
            try:
                self._zip = zipfile.ZipFile(self._fp)
            except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError,
                    NotImplementedError, UnicodeDecodeError, struct.error) as error:
                raise _damaged(type(error).__name__) from None
            self._infos = self._zip.infolist()
            if len(self._infos) > limits.max_entries:
                raise ArchiveRefused(
                    "entries",
                    _("压缩包内文件过多（%(count)d 个，上限 %(max)d 个）。")
                    % {"count": len(self._infos), "max": limits.max_entries},
                    f"too many entries ({len(self._infos)}, the limit is {limits.max_entries})",
                    limit=limits.max_entries)
        except BaseException:
            self.close()
            raise

    # -- opening ---------------------------------------------------------------------

    def _bound_directory(self) -> None:
        """zipfile reads the whole central directory into memory and makes an object per
        entry; bound its size first, found exactly as zipfile finds it."""
        try:
            # The same function ZipFile uses (stable since Python 2), so that the bound
            # applies to exactly the bytes it is about to read.
            endrec = zipfile._EndRecData(self._fp)  # type: ignore[attr-defined]
        except (OSError, zipfile.BadZipFile, struct.error) as error:
            raise _damaged(type(error).__name__) from None
        if not endrec:
            raise _damaged("no end of central directory")
        size: int = endrec[zipfile._ECD_SIZE]  # type: ignore[attr-defined]
        if size > self.limits.max_directory_bytes:
            raise ArchiveRefused(
                "directory",
                _("压缩包的文件目录过大（%(size)s，上限 %(max)s），文件过多或文件名过长。")
                % {"size": human_size(size), "max": human_size(self.limits.max_directory_bytes)},
                f"the archive's directory is too large ({human_size(size)}, the limit is "
                f"{human_size(self.limits.max_directory_bytes)})",
                limit=self.limits.max_directory_bytes)
        self._fp.seek(0)

    def close(self) -> None:
        zip_ = getattr(self, "_zip", None)
        if zip_ is not None:
            zip_.close()
        if self._own:
            self._fp.close()

    def __enter__(self) -> BoundedZip:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- what is inside --------------------------------------------------------------

    def infolist(self) -> list[zipfile.ZipInfo]:
        return list(self._infos)

    def names(self) -> list[str]:
        return [info.filename for info in self._infos]

    def getinfo(self, name: str) -> zipfile.ZipInfo:
        try:
            return self._zip.getinfo(name)
        except KeyError:
            raise _damaged(f"no member {name!r}") from None

    # -- reading ---------------------------------------------------------------------

    def check_all(self) -> None:
        """Inflate every member once, counting, and verify its size and CRC."""
        for info in self._infos:
            for _chunk in self.iter_member(info):
                pass

    def read(self, name: str | zipfile.ZipInfo, max_bytes: int | None = None) -> bytes:
        """A member's bytes; ArchiveRefused if it is larger than max_bytes."""
        info = name if isinstance(name, zipfile.ZipInfo) else self.getinfo(name)
        parts, size = [], 0
        for chunk in self.iter_member(info):
            size += len(chunk)
            if max_bytes is not None and size > max_bytes:
                raise self._over_member(info, max_bytes)
            parts.append(chunk)
        return b"".join(parts)

    def iter_member(self, info: zipfile.ZipInfo) -> Iterator[bytes]:
        """The member's bytes as they inflate, in chunks of at most 64 KiB, counted."""
        name = info.filename
        if info.flag_bits & _ENCRYPTED:
            raise ArchiveRefused(
                "encrypted", _("压缩包内的“%(name)s”已加密，无法检查其内容。") % {"name": name},
                f"{name!r} is encrypted and cannot be checked", member=name)
        if info.flag_bits & _PATCHED_OR_STRONG or info.compress_type not in (
                _STORED, _DEFLATED, _BZIP2):
            raise ArchiveRefused(
                "method",
                _("压缩包内的“%(name)s”使用了不支持的压缩方式（%(method)d），"
                  "请用常规 ZIP 格式重新压缩。") % {"name": name, "method": info.compress_type},
                f"{name!r} uses an unsupported compression method ({info.compress_type})",
                member=name)
        start = self._data_start(info)
        produced, crc = 0, 0
        limits = self.limits
        for chunk in self._inflate(info, start):
            produced += len(chunk)
            self.bytes_read += len(chunk)
            if produced > info.file_size:
                raise self._lying(info)
            if limits.max_member_bytes is not None and produced > limits.max_member_bytes:
                raise self._over_member(info, limits.max_member_bytes)
            if self.bytes_read > limits.max_total_bytes:
                raise ArchiveRefused(
                    "total",
                    _("压缩包解压后过大：超过 %(max)s 的上限，疑似压缩炸弹。")
                    % {"max": human_size(limits.max_total_bytes)},
                    f"the archive unpacks to more than the limit of "
                    f"{human_size(limits.max_total_bytes)}",
                    member=name, limit=limits.max_total_bytes)
            if limits.max_ratio is not None and self.bytes_read > limits.max_ratio * max(
                    self.archive_bytes, 1):
                raise ArchiveRefused(
                    "ratio",
                    _("压缩包解压后超过其自身大小的 %(ratio)d 倍，疑似压缩炸弹。")
                    % {"ratio": limits.max_ratio},
                    f"the archive unpacks to more than {limits.max_ratio} times its own size",
                    member=name, limit=limits.max_ratio)
            crc = zlib.crc32(chunk, crc)
            yield chunk
        if produced != info.file_size:
            raise self._lying(info)
        if crc != info.CRC:
            raise _damaged(f"bad CRC in {name!r}")

    # -- the raw member --------------------------------------------------------------

    def _data_start(self, info: zipfile.ZipInfo) -> int:
        """Where the member's compressed bytes begin, from its local header, which must agree
        with the central directory (as ZipFile.open checks the name; sizes are checked too)."""
        self._fp.seek(info.header_offset)
        header = self._fp.read(_LOCAL_HEADER.size)
        if len(header) != _LOCAL_HEADER.size:
            raise _damaged("truncated local header")
        (signature, _version, flags, method, _time, _date, _crc, compressed, size, name_len,
         extra_len) = _LOCAL_HEADER.unpack(header)
        if signature != b"PK\x03\x04" or method != info.compress_type:
            raise _damaged("bad local header")
        raw_name = self._fp.read(name_len)
        name = raw_name.decode("utf-8" if flags & _UTF8_NAME else "cp437", "replace")
        if name != info.orig_filename:
            raise _damaged("local and central names differ")
        # Sizes are zero in the local header when a data descriptor follows the data, and
        # 0xFFFFFFFF when they are in a ZIP64 extra field.
        if not flags & _DATA_DESCRIPTOR and 0xFFFFFFFF not in (compressed, size) and (
                compressed != info.compress_size or size != info.file_size):
            raise self._lying(info)
        start: int = info.header_offset + _LOCAL_HEADER.size + name_len + extra_len
        if start + info.compress_size > self.archive_bytes:
            raise _damaged("member beyond the end of the file")
        return start

    def _inflate(self, info: zipfile.ZipInfo, start: int) -> Iterator[bytes]:
        """The member's real output, from its compressed bytes, never more than _CHUNK at once."""
        self._fp.seek(start)
        left = info.compress_size
        if info.compress_type == _STORED:
            while left > 0:
                data = self._fp.read(min(_CHUNK, left))
                if not data:
                    raise _damaged("truncated member")
                left -= len(data)
                yield data
            return
        decompressor: zlib._Decompress | bz2.BZ2Decompressor = (
            zlib.decompressobj(-15) if info.compress_type == _DEFLATED else bz2.BZ2Decompressor())
        position = start
        try:
            while left > 0 and not decompressor.eof:
                # Other members are read in between (iter_member is a generator): seek back.
                self._fp.seek(position)
                data = self._fp.read(min(_CHUNK, left))
                if not data:
                    raise _damaged("truncated member")
                left -= len(data)
                position += len(data)
                yield from self._drain(decompressor, data)
            if not isinstance(decompressor, bz2.BZ2Decompressor):
                # What zlib still holds once all input is in: at most one match (258 bytes).
                tail = decompressor.flush()
                for offset in range(0, len(tail), _CHUNK):
                    yield tail[offset:offset + _CHUNK]
        except (zlib.error, OSError, EOFError, ValueError) as error:
            raise _damaged(type(error).__name__) from None
        if not decompressor.eof:
            raise _damaged("compressed stream cut short")

    @staticmethod
    def _drain(decompressor: zlib._Decompress | bz2.BZ2Decompressor,
               data: bytes) -> Iterator[bytes]:
        """All the output of one input chunk, in pieces of at most _CHUNK bytes."""
        if isinstance(decompressor, bz2.BZ2Decompressor):
            chunk = decompressor.decompress(data, max_length=_CHUNK)
            while True:
                if chunk:
                    yield chunk
                if decompressor.eof or decompressor.needs_input:
                    return
                chunk = decompressor.decompress(b"", max_length=_CHUNK)
        chunk = decompressor.decompress(data, _CHUNK)
        while True:
            if chunk:
                yield chunk
            if not decompressor.unconsumed_tail or decompressor.eof:
                return
            chunk = decompressor.decompress(decompressor.unconsumed_tail, _CHUNK)

    # -- messages --------------------------------------------------------------------

    @staticmethod
    def _lying(info: zipfile.ZipInfo) -> ArchiveRefused:
        name = info.filename
        return ArchiveRefused(
            "declared_size",
            _("压缩包内的“%(name)s”实际解压后的大小与文件头声明的 %(declared)d 字节不符，"
              "疑似压缩炸弹或文件已损坏。") % {"name": name, "declared": info.file_size},
            f"{name!r} does not unpack to the {info.file_size} bytes its headers declare "
            "(a zip bomb or a damaged file)", member=name)

    @staticmethod
    def _over_member(info: zipfile.ZipInfo, limit: int) -> ArchiveRefused:
        name = info.filename
        return ArchiveRefused(
            "member",
            _("压缩包内的“%(name)s”解压后超过 %(max)s 的上限。")
            % {"name": name, "max": human_size(limit)},
            f"{name!r} unpacks to more than the limit of {human_size(limit)}",
            member=name, limit=limit)
