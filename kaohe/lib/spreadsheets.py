"""Every spreadsheet and CSV file Kaohe writes: what a person typed stays text.

A spreadsheet program runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula,
and some drop a leading tab or carriage return first: ``=HYPERLINK(...)`` sends the sheet's
data elsewhere, ``=cmd|' /C calc'!A0`` starts a program. Names, measures, notes and comments
come from units, provinces and strangers at the sign-in page, so every .xlsx and .csv is
written through this module (security.md 29). Kaohe itself writes no formulas.

Excel (openpyxl): every str is written as a text cell. openpyxl would otherwise store text
starting with ``=`` as a formula and ``#N/A`` as an error. Text that a spreadsheet would read as
a formula also gets the "quote prefix" style, which is what Excel stores when someone types a
leading apostrophe. The cell shows the exact text and stays text when someone edits it, and
the offline workbooks come back on upload with their text unchanged (an apostrophe in the
value would be uploaded again, and grow on every round trip). Control characters that the
file format cannot carry are dropped instead of failing the whole export.

CSV has no cell types: text that a spreadsheet would read as a formula gets a leading
apostrophe, the usual OWASP advice. Excel and LibreOffice then show it as text.

Numbers, dates, booleans and None are written as they are: -5 is a number, and only the text
"-5" is neutralised.

No Django import: ``kaohe evaluate`` writes through this module too.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell

if TYPE_CHECKING:
    from _typeshed import SupportsWrite
    from openpyxl import Workbook
    from openpyxl.worksheet.worksheet import Worksheet

# What a spreadsheet reads as the start of a formula. The full-width forms, which Chinese input
# methods type, are neutralised as well: a precaution that costs an apostrophe in CSV only.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def looks_like_formula(text: str) -> bool:
    return text.startswith(FORMULA_PREFIXES)


def safe_cell(value: Any) -> Any:
    """The value as a CSV field: text that would be read as a formula behind an apostrophe;
    numbers, dates, booleans, None and other text unchanged."""
    if isinstance(value, str) and looks_like_formula(value):
        return "'" + value
    return value


# Excel ---------------------------------------------------------------------------------------


def _text(value: str) -> str:
    return str(ILLEGAL_CHARACTERS_RE.sub("", value))


def _keep_as_text(cell: Cell) -> None:
    cell.data_type = "s"
    if looks_like_formula(str(cell.value)):
        cell.quotePrefix = True


def set_cell(cell: Cell, value: Any) -> Cell:
    """Put a value in a cell; text is always stored as text."""
    if isinstance(value, str):
        value = _text(value)
    cell.value = value
    if isinstance(value, str):
        _keep_as_text(cell)
    return cell


def write_row(sheet: Worksheet, values: Iterable[Any]) -> list[Cell]:
    """Append a row to a worksheet, like ``sheet.append``, and return its cells."""
    cells = [set_cell(Cell(sheet), value) for value in values]
    sheet.append(cells)
    return cells


def neutralise(workbook: Workbook) -> int:
    """Make every text cell of every sheet text (the last check before a workbook is saved,
    which covers a workbook loaded from bytes or filled by ``sheet.append``); returns how
    many cells were formulas."""
    formulas = 0
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    formulas += 1
                    cell.value = str(cell.value)
                    _keep_as_text(cell)
                elif isinstance(cell.value, str):
                    _keep_as_text(cell)
    return formulas


def workbook_bytes(workbook: Workbook) -> bytes:
    """The .xlsx file of a workbook, neutralised."""
    neutralise(workbook)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def save_workbook(workbook: Workbook, path: str | os.PathLike[str]) -> None:
    """Write a workbook to a path, neutralised."""
    neutralise(workbook)
    workbook.save(path)


def header_text(text: str) -> str:
    """Text for a printed page header or footer, where ``&`` starts a code (``&F`` is the
    file's name, ``&Z`` its folder)."""
    return text.replace("&", "&&")


# CSV -----------------------------------------------------------------------------------------


class CsvWriter:
    """``csv.writer`` whose every field goes through ``safe_cell``."""

    def __init__(self, stream: SupportsWrite[str], **kwargs: Any) -> None:
        self._writer = csv.writer(stream, **kwargs)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([safe_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(stream: SupportsWrite[str], **kwargs: Any) -> CsvWriter:
    return CsvWriter(stream, **kwargs)
