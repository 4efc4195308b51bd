"""Hand-made ZIPs and workbooks for the tests of bounded reading: bombs, liars, huge sheets.

Everything is written as a stream, so a member that inflates to hundreds of megabytes costs a
few hundred kilobytes of memory to make.
"""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Iterable
from xml.sax.saxutils import escape, quoteattr

from openpyxl.utils import get_column_letter

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
MiB = 1024 * 1024


def zeros(total: int, chunk: int = MiB) -> Iterable[bytes]:
    block = bytes(chunk)
    while total > 0:
        yield block[: min(chunk, total)]
        total -= chunk


def zip_with(members: dict[str, bytes | Iterable[bytes]],
             compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A ZIP of the members; an iterable member is streamed in."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, content in members.items():
            if isinstance(content, bytes):
                archive.writestr(name, content)
            else:
                with archive.open(name, "w") as member:
                    for chunk in content:
                        member.write(chunk)
    return buffer.getvalue()


def declare_size(data: bytes, member: str, size: int) -> bytes:
    """The ZIP with `member`'s declared uncompressed size set to `size` in BOTH its local
    header and its central directory entry (the CRC is left as it was)."""
    out = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo(member)
        start_dir = archive.start_dir
    local = info.header_offset
    assert out[local:local + 4] == b"PK\x03\x04"
    struct.pack_into("<I", out, local + 22, size)
    position = start_dir
    encoded = member.encode("utf-8")
    while out[position:position + 4] == b"PK\x01\x02":
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", out, position + 28)
        name = bytes(out[position + 46:position + 46 + name_len])
        if name in (encoded, member.encode("cp437", "replace")):
            struct.pack_into("<I", out, position + 24, size)
            return bytes(out)
        position += 46 + name_len + extra_len + comment_len
    raise AssertionError(f"{member} not in the central directory")


# Workbooks ---------------------------------------------------------------------------------


def _cell_xml(column: int, row: int | None, value) -> str:
    ref = f' r="{get_column_letter(column)}{row}"' if row else ""
    if value is None:
        return ""
    if isinstance(value, bool):
        return f'<c{ref} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float):
        return f"<c{ref}><v>{value}</v></c>"
    if isinstance(value, Formula):
        cached = "" if value.cached is None else f"<v>{escape(str(value.cached))}</v>"
        kind = ' t="str"' if isinstance(value.cached, str) else ""
        return f"<c{ref}{kind}><f>{escape(value.text)}</f>{cached}</c>"
    return f'<c{ref} t="inlineStr"><is><t>{escape(str(value))}</t></is></c>'


class Formula:
    """A formula cell; cached=None writes it without a cached value, as scripts do."""

    def __init__(self, text: str, cached=None):
        self.text, self.cached = text, cached


def row_xml(values: Iterable, row: int | None = None) -> str:
    """A <row>; with row=None neither the row nor its cells carry an r attribute."""
    cells = "".join(_cell_xml(column, row, value) for column, value in enumerate(values, 1))
    return f'<row r="{row}">{cells}</row>' if row else f"<row>{cells}</row>"


def rows_xml(rows: Iterable[Iterable], start: int = 1) -> Iterable[str]:
    for number, values in enumerate(rows, start=start):
        yield row_xml(values, number)


class Sheet:
    def __init__(self, name: str, rows: Iterable[str], *, dimension: str | None = None,
                 merged: Iterable[str] = ()):
        self.name, self.rows, self.dimension, self.merged = name, rows, dimension, list(merged)

    def chunks(self) -> Iterable[bytes]:
        head = f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}">'
        if self.dimension:
            head += f'<dimension ref="{self.dimension}"/>'
        yield (head + "<sheetData>").encode()
        batch: list[str] = []
        for row in self.rows:
            batch.append(row)
            if len(batch) >= 5000:
                yield "".join(batch).encode()
                batch = []
        tail = "</sheetData>"
        if self.merged:
            tail += f'<mergeCells count="{len(self.merged)}">' + "".join(
                f'<mergeCell ref="{ref}"/>' for ref in self.merged) + "</mergeCells>"
        yield ("".join(batch) + tail + "</worksheet>").encode()


def xlsx(*sheets: Sheet, compresslevel: int = 9) -> bytes:
    """A minimal .xlsx that openpyxl and Excel open: content types, relations, the sheets."""
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for i in range(1, len(sheets) + 1))
    content_types = (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
        'package/2006/content-types"><Default Extension="rels" ContentType="application/'
        'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
        'ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType='
        '"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        f"{overrides}</Types>")
    root_rels = (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG_REL}">'
        f'<Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>")
    workbook = (
        f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{REL}">'
        "<sheets>" + "".join(
            f"<sheet name={quoteattr(s.name)} sheetId=\"{i}\" r:id=\"rId{i}\"/>"
            for i, s in enumerate(sheets, 1)) + "</sheets></workbook>")
    workbook_rels = (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG_REL}">' + "".join(
            f'<Relationship Id="rId{i}" Type="{REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, len(sheets) + 1)) + "</Relationships>")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as z:
        z.writestr("[Content_Types].xml", content_types)
        z.writestr("_rels/.rels", root_rels)
        z.writestr("xl/workbook.xml", workbook)
        z.writestr("xl/_rels/workbook.xml.rels", workbook_rels)
        for i, sheet in enumerate(sheets, 1):
            with z.open(f"xl/worksheets/sheet{i}.xml", "w") as member:
                for chunk in sheet.chunks():
                    member.write(chunk)
    return buffer.getvalue()


def many_rows_sheet(name: str, header: list[str], row: list, count: int) -> Sheet:
    """A header and `count` identical rows without r attributes: tiny when compressed."""
    body = row_xml(row)

    def rows():
        yield row_xml(header, 1)
        for _ in range(count):
            yield body

    return Sheet(name, rows())
