"""Reading an uploaded .xlsx within bounds, without reading any cell as blank by mistake.

A 1 MB workbook can hold 400,000 rows (242 MB of XML); opened the ordinary way, openpyxl
builds an object per cell and holds gigabytes for minutes. Here nothing reaches openpyxl
before a pre-check that streams the file once (security.md 30):

- every member of the ZIP is inflated and counted by kaohe.lib.archives (the unpacked total
  is bounded by the bytes that really come out, never by the sizes the ZIP declares);
- as they inflate, the XML members go through expat, which counts the SpreadsheetML rows and
  cells openpyxl would read: the highest row number and the number of rows, the highest
  column and the cells of one row. Past a limit the file is refused at once, with a message
  naming the sheet and the limit;
- the same pass notes what openpyxl would read as blank although it is not: formula cells
  without a cached result (data_only gives None for them) and merged ranges (read-only
  openpyxl does not report them; every cell but the first reads as blank).

Only then is the workbook opened with ``load_workbook(read_only=True, data_only=True)`` and
its rows streamed, with the real bounds of each sheet: read-only openpyxl believes the
sheet's <dimension>, which pads a small sheet to a million empty rows, or drops rows and
columns, when it lies.

The limits (settings, environment): KAOHE_IMPORT_MAX_UNPACKED_BYTES (20 MiB),
KAOHE_IMPORT_MAX_ROWS (20,000 per sheet), KAOHE_IMPORT_MAX_COLUMNS (100 per sheet). No
Django import at module level: ``kaohe evaluate`` uses the defaults.

Its length (over 400 lines) is the pre-check and the reader, which must agree on every
bound; they are kept side by side on purpose.
"""

from __future__ import annotations

import functools
import io
import posixpath
import re
import warnings
import zipfile
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn
from xml.parsers import expat

from kaohe.lib.archives import ArchiveLimits, ArchiveRefused, BoundedZip, human_size
from kaohe.lib.archives import translate as _

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
# expat reports "namespace local-name" with this separator.
_ROW, _CELL, _FORMULA, _VALUE, _INLINE = (f"{_MAIN} {t}" for t in ("row", "c", "f", "v", "is"))
_MERGE, _SHEET = f"{_MAIN} mergeCell", f"{_MAIN} sheet"
_RELATIONSHIP, _REL_ID = f"{_PKG_REL} Relationship", f"{_REL} id"
_REF = re.compile(r"\$?([A-Za-z]{1,3})\$?([0-9]{1,7})")
# Notes kept per sheet about unreadable cells; a sheet with more is refused as a whole.
_MAX_NOTES = 10_000
_MAX_REPORTED = 1_000

MiB = 1024 * 1024


@dataclass(frozen=True)
class WorkbookLimits:
    max_unpacked_bytes: int = 20 * MiB
    max_rows: int = 20_000
    max_columns: int = 100
    # Parts inside the ZIP; Excel writes about ten, a workbook with many pictures some dozens.
    max_entries: int = 1_000

    @classmethod
    def current(cls) -> WorkbookLimits:
        """The settings' limits where Django is configured, the defaults elsewhere."""
        try:
            return cls.from_settings()
        except Exception:  # ImproperlyConfigured, or no Django at all
            return cls()

    @classmethod
    def from_settings(cls) -> WorkbookLimits:
        from django.conf import settings

        return cls(
            max_unpacked_bytes=getattr(settings, "KAOHE_IMPORT_MAX_UNPACKED_BYTES",
                                       cls.max_unpacked_bytes),
            max_rows=getattr(settings, "KAOHE_IMPORT_MAX_ROWS", cls.max_rows),
            max_columns=getattr(settings, "KAOHE_IMPORT_MAX_COLUMNS", cls.max_columns),
        )


class WorkbookRefused(Exception):
    """The workbook is not read. `code` is "damaged" (not a readable .xlsx: each importer
    says so in its own words) or "limit"; `reason` is the Chinese text for the user, naming
    the limit, `english` the same in English; `sheet` is the sheet concerned, if one is."""

    def __init__(self, code: str, reason: str, english: str, *, sheet: str | None = None):
        super().__init__(reason)
        self.code, self.reason, self.english, self.sheet = code, reason, english, sheet


def _damaged(english: str, sheet: str | None = None) -> WorkbookRefused:
    return WorkbookRefused("damaged", _("无法读取该文件，不是有效的 Excel（.xlsx）文件。"),
                           english, sheet=sheet)


@dataclass(frozen=True)
class UnreadableCell:
    """A cell the import cannot read: its row and column (1-based) and why, for the user."""

    row: int
    column: int
    reason: str
    english: str

    @property
    def ref(self) -> str:
        return f"{_letter(self.column)}{self.row}"


def _letter(column: int) -> str:
    letters = ""
    while column:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _column_index(letters: str) -> int:
    index = 0
    for ch in letters.upper():
        index = index * 26 + ord(ch) - 64
    return index


# Column letters as cell references write them (A..ZZ), looked up rather than computed.
_COLUMNS = {_letter(i): i for i in range(1, 26 * 27 + 1)}


@dataclass
class SheetScan:
    """What the pre-check saw in one worksheet part."""

    part: str
    rows: int = 0  # <row> elements
    max_row: int = 0
    max_column: int = 0
    # (first row, first column, last row, last column, "G3:G5")
    merged: list[tuple[int, int, int, int, str]] = field(default_factory=list)
    formulas_without_value: list[tuple[int, int]] = field(default_factory=list)

    def unreadable(self, columns: Collection[int] | None = None,
                   rows: range | None = None) -> list[UnreadableCell]:
        """The cells among those read (columns, rows; None for all) that would read as blank
        although they are not: formulas without a cached result, merged cells but the first."""
        def wanted(row: int, column: int) -> bool:
            return ((columns is None or column in columns)
                    and (rows is None or row in rows) and row <= self.max_row)

        found = []
        for row, column in self.formulas_without_value:
            if wanted(row, column):
                ref = f"{_letter(column)}{row}"
                found.append(UnreadableCell(
                    row, column,
                    _("单元格 %(cell)s 的公式没有计算结果，请在 Excel 中打开并保存后再导入")
                    % {"cell": ref},
                    f"cell {ref} holds a formula without a computed value: open and save "
                    "the file in Excel, then import it again"))
        for first_row, first_col, last_row, last_col, ref in self.merged:
            cols = [c for c in (columns if columns is not None
                                else range(first_col, min(last_col, self.max_column) + 1))
                    if first_col <= c <= last_col]
            last = min(last_row, self.max_row)
            for row in range(first_row, last + 1):
                if len(found) > _MAX_REPORTED:
                    break
                for column in cols:
                    if (row, column) != (first_row, first_col) and wanted(row, column):
                        cell = f"{_letter(column)}{row}"
                        found.append(UnreadableCell(
                            row, column,
                            _("单元格 %(cell)s 属于合并单元格 %(range)s，无法逐格读取，"
                              "请取消合并后在每个单元格中分别填写")
                            % {"cell": cell, "range": ref},
                            f"cell {cell} is part of the merged cells {ref} and cannot be "
                            "read cell by cell: unmerge them and fill in every cell"))
        found.sort(key=lambda c: (c.row, c.column))
        return found


class _Refuse(Exception):
    """Raised inside expat's callbacks; carries the WorkbookRefused out of the parser."""

    def __init__(self, refused: WorkbookRefused):
        self.refused = refused


class _PartScanner:
    """Feeds one member to expat, counting SpreadsheetML rows and cells as openpyxl reads
    them (rows by their r attribute or one after the other, cells likewise)."""

    def __init__(self, part: str, limits: WorkbookLimits, sheet_name: Callable[[], str | None]):
        self.scan = SheetScan(part)
        self.limits = limits
        self.sheet_name = sheet_name  # callable: the sheet's name for messages
        self.failed = False
        self.spreadsheet = False  # saw rows, cells or merged ranges
        self.sheets: list[tuple[str, str]] = []  # workbook part: (name, relationship id)
        self.relationships: dict[str, str] = {}  # relationships part: id -> target
        self._row = 0
        self._col = 0
        self._cells = 0
        self._cell: list[Any] | None = None  # [row, column, has formula, has value, type]
        parser = expat.ParserCreate(namespace_separator=" ")
        parser.buffer_text = True
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.StartDoctypeDeclHandler = self._doctype
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        self.parser = parser

    def feed(self, chunk: bytes, final: bool = False) -> None:
        if self.failed:
            return
        try:
            self.parser.Parse(chunk, final)
        except _Refuse as refuse:
            raise refuse.refused from None
        except expat.ExpatError:
            # Pictures and other parts that are not XML stop here; a worksheet that is not
            # well-formed is refused, as openpyxl would fail on it anyway.
            if self.spreadsheet:
                raise _damaged(f"{self.scan.part} is not well-formed XML",
                               self.sheet_name()) from None
            self.failed = True

    def _limit(self, reason: str, english: str) -> NoReturn:
        raise _Refuse(WorkbookRefused("limit", reason, english, sheet=self.sheet_name()))

    def _doctype(self, *args: object) -> NoReturn:
        # Excel never writes a DTD; entities are how XML bombs grow.
        raise _Refuse(_damaged(f"{self.scan.part} has a DTD", self.sheet_name()))

    def _start(self, tag: str, attrs: dict[str, str]) -> None:
        scan, limits = self.scan, self.limits
        if tag == _ROW:
            self.spreadsheet = True
            row = self._row_number(attrs.get("r"))
            scan.rows += 1
            scan.max_row = max(scan.max_row, row)
            if scan.max_row > limits.max_rows or scan.rows > limits.max_rows:
                self._limit(
                    _("行数超过 %(max)d 行的上限，请删除多余的行后再导入")
                    % {"max": limits.max_rows},
                    f"more than the limit of {limits.max_rows} rows")
            self._col = 0
            self._cells = 0
        elif tag == _CELL:
            self.spreadsheet = True
            ref = attrs.get("r")
            if ref:
                column = _COLUMNS.get(ref.rstrip("0123456789"))
                if column is None:
                    column = self._column_of(ref)
                self._col = column
            else:
                self._col += 1
            self._cells += 1
            if self._col > scan.max_column:
                scan.max_column = self._col
            if scan.max_column > limits.max_columns or self._cells > limits.max_columns:
                self._limit(
                    _("列数超过 %(max)d 列的上限，请删除多余的列后再导入")
                    % {"max": limits.max_columns},
                    f"more than the limit of {limits.max_columns} columns")
            self._cell = [self._row, self._col, False, False, attrs.get("t", "n")]
        elif self._cell is not None and tag == _FORMULA:
            self._cell[2] = True
        elif self._cell is not None and tag == _VALUE:
            if self._cell[4] == "str":
                self._cell[3] = True  # a formula whose result is the empty text
            self.parser.CharacterDataHandler = self._value_text
        elif self._cell is not None and tag == _INLINE:
            self._cell[3] = True
        elif tag == _MERGE:
            self.spreadsheet = True
            self._merge(attrs.get("ref", ""))
        elif tag == _SHEET and "name" in attrs:
            self.sheets.append((attrs["name"], attrs.get(_REL_ID, "")))
        elif tag == _RELATIONSHIP and "Id" in attrs:
            self.relationships[attrs["Id"]] = attrs.get("Target", "")

    def _column_of(self, ref: str) -> int:
        match = _REF.fullmatch(ref)
        if match is None:
            raise _Refuse(_damaged(f"bad cell reference {ref[:20]!r}", self.sheet_name()))
        return _column_index(match.group(1))

    def _row_number(self, number: str | None) -> int:
        if number is None:
            self._row += 1
        elif number.isascii() and number.isdigit() and len(number) <= 8:  # not "²" (int fails)
            self._row = int(number)
        else:
            raise _Refuse(_damaged(f"bad row number {number[:20]!r}", self.sheet_name()))
        return self._row

    def _value_text(self, text: str) -> None:
        if self._cell is not None and text.strip():
            self._cell[3] = True

    def _end(self, tag: str) -> None:
        if tag == _VALUE:
            self.parser.CharacterDataHandler = None
        elif tag == _CELL and self._cell is not None:
            row, column, formula, value, _type = self._cell
            self._cell = None
            if formula and not value:
                self._note(self.scan.formulas_without_value, (row, column))

    def _merge(self, ref: str) -> None:
        first, _sep, last = ref.partition(":")
        start, end = _REF.fullmatch(first), _REF.fullmatch(last or first)
        if start is None or end is None:
            raise _Refuse(_damaged(f"bad merged range {ref[:40]!r}", self.sheet_name()))
        r1, c1 = int(start.group(2)), _column_index(start.group(1))
        r2, c2 = int(end.group(2)), _column_index(end.group(1))
        r1, r2 = sorted((r1, r2))
        c1, c2 = sorted((c1, c2))
        if (r1, c1) != (r2, c2):
            self._note(self.scan.merged, (r1, c1, r2, c2, f"{_letter(c1)}{r1}:{_letter(c2)}{r2}"))

    def _note(self, notes: list[Any], item: Any) -> None:
        if len(notes) >= _MAX_NOTES:
            self._limit(
                _("合并单元格或没有计算结果的公式超过 %(max)d 处，请整理后再导入")
                % {"max": _MAX_NOTES},
                f"more than {_MAX_NOTES} merged ranges or formulas without a result")
        notes.append(item)


@dataclass
class WorkbookScan:
    """The pre-check's findings: per worksheet part, and the sheet names it could resolve."""

    parts: dict[str, SheetScan]
    names: dict[str, str]  # part -> sheet name
    unpacked_bytes: int
    members: frozenset[str] = frozenset()


def _archive_reason(error: ArchiveRefused, limits: WorkbookLimits) -> WorkbookRefused:
    if error.code == "damaged":
        return _damaged(error.english)
    if error.code == "total":
        return WorkbookRefused(
            "limit",
            _("文件解压后的内容超过 %(max)s 的上限，请删除多余的内容（如图片）后再导入")
            % {"max": human_size(limits.max_unpacked_bytes)},
            f"the file unpacks to more than the limit of "
            f"{human_size(limits.max_unpacked_bytes)}")
    if error.code in ("entries", "directory"):
        return WorkbookRefused(
            "limit",
            _("文件内部的部件超过 %(max)d 个的上限，不是正常的 Excel 填报表")
            % {"max": limits.max_entries},
            f"the file holds more than the limit of {limits.max_entries} parts")
    # A member that lies about its size, is encrypted or compressed in an unknown way.
    return WorkbookRefused("limit", str(error), error.english)


def _resolve_names(scanners: dict[str, _PartScanner]) -> dict[str, str]:
    """Worksheet part -> sheet name, from the workbook part and its relationships."""
    names = {}
    for part, scanner in scanners.items():
        if not scanner.sheets:
            continue
        folder, base = posixpath.split(part)
        rels = scanners.get(posixpath.join(folder, "_rels", f"{base}.rels"))
        if rels is None:
            continue
        for name, rel_id in scanner.sheets:
            target = rels.relationships.get(rel_id)
            if target:
                path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
                    posixpath.join(folder, target))
                names[path] = name
    return names


def scan_workbook(data: bytes, limits: WorkbookLimits) -> WorkbookScan:
    """The pre-check: refuses (WorkbookRefused) a file over a limit or not a readable ZIP."""
    archive_limits = ArchiveLimits(max_entries=limits.max_entries,
                                   max_total_bytes=limits.max_unpacked_bytes)
    scanners: dict[str, _PartScanner] = {}
    names: dict[str, str] = {}
    try:
        with BoundedZip(data, archive_limits) as archive:
            infos = archive.infolist()
            # The workbook part and its relationships first, so that a limit reached in a
            # sheet can name the sheet; they are small.
            infos.sort(key=lambda i: 0 if re.search(r"workbook\.xml(\.rels)?$", i.filename)
                       else 1)
            for info in infos:
                if info.is_dir():
                    continue
                part = info.filename
                scanner = _PartScanner(part, limits, functools.partial(names.get, part, part))
                scanners[part] = scanner
                for chunk in archive.iter_member(info):
                    scanner.feed(chunk)
                scanner.feed(b"", final=True)
                if scanner.sheets or scanner.relationships:
                    names.update(_resolve_names(scanners))
            unpacked = archive.bytes_read
    except ArchiveRefused as error:
        raise _archive_reason(error, limits) from None
    parts = {part: s.scan for part, s in scanners.items() if s.spreadsheet}
    return WorkbookScan(parts=parts, names=_resolve_names(scanners), unpacked_bytes=unpacked,
                        members=frozenset(scanners))


class Sheet:
    """One worksheet of an open workbook: its rows within their real bounds."""

    def __init__(self, worksheet: Any, scan: SheetScan) -> None:
        self._ws = worksheet
        self.scan = scan
        self.title: str = worksheet.title

    def rows(self, min_row: int = 1, max_row: int | None = None) -> Iterator[tuple[Any, ...]]:
        """Values of each row from min_row, as many as the sheet really has; every row has
        the same length (the sheet's highest column)."""
        last = self.scan.max_row if max_row is None else min(max_row, self.scan.max_row)
        if last < min_row or self.scan.max_column == 0:
            return
        iterator = self._ws.iter_rows(min_row=min_row, max_row=last,
                                      max_col=self.scan.max_column, values_only=True)
        while True:
            try:
                with warnings.catch_warnings():
                    # openpyxl warns and reads "#VALUE!" for a date out of range.
                    warnings.simplefilter("ignore")
                    values = next(iterator)
            except StopIteration:
                return
            # Cells are parsed lazily in read-only mode: a damaged one fails here.
            except (ValueError, TypeError, KeyError, IndexError, SyntaxError, OverflowError,
                    zipfile.BadZipFile, expat.ExpatError) as error:
                raise _damaged(f"{type(error).__name__} in sheet {self.title!r}",
                               self.title) from None
            yield values

    def value(self, row: int, column: int) -> Any:
        for values in self.rows(min_row=row, max_row=row):
            return values[column - 1] if column <= len(values) else None
        return None

    def unreadable(self, columns: Collection[int] | None = None,
                   rows: range | None = None) -> list[UnreadableCell]:
        return self.scan.unreadable(columns, rows)


class Workbook:
    def __init__(self, book: Any, scan: WorkbookScan) -> None:
        self._book = book
        self.scan = scan
        self.sheetnames: list[str] = list(book.sheetnames)

    def __contains__(self, name: str) -> bool:
        return name in self.sheetnames

    def __getitem__(self, name: str) -> Sheet:
        return self._sheet(self._book[name])

    def first(self) -> Sheet | None:
        worksheets = self._book.worksheets
        return self._sheet(worksheets[0]) if worksheets else None

    def _sheet(self, worksheet: Any) -> Sheet:
        # The part openpyxl will stream is the one the pre-check counted; a sheet without
        # rows has no scan of its own and is empty.
        part = getattr(worksheet, "_worksheet_path", None)
        title = getattr(worksheet, "title", None)
        if part is None or part.lstrip("/") not in self.scan.members:
            # Never stream a part the pre-check did not count.
            raise _damaged(f"worksheet {part!r} was not checked", title)
        return Sheet(worksheet, self.scan.parts.get(part.lstrip("/"), SheetScan(part)))

    def close(self) -> None:
        self._book.close()


@contextmanager
def open_workbook(source: bytes | str | Path,
                  limits: WorkbookLimits | None = None) -> Iterator[Workbook]:
    """The workbook, read-only and streamed, after the pre-check; WorkbookRefused otherwise."""
    from openpyxl import load_workbook

    limits = limits or WorkbookLimits()
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    scan = scan_workbook(data, limits)
    try:
        with warnings.catch_warnings():
            # openpyxl warns about features it drops (data validation, styles); they do not
            # matter for reading values.
            warnings.simplefilter("ignore")
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises anything at all for a damaged file
        raise _damaged(f"openpyxl: {type(error).__name__}") from None
    workbook = Workbook(book, scan)
    try:
        yield workbook
    finally:
        workbook.close()
