"""The workbook pre-check counts what openpyxl would read, from the bytes really inflated."""

import io
import zipfile

import pytest
from openpyxl import Workbook
from openpyxl.reader import excel

from kaohe.lib.xlsx_reading import WorkbookLimits, WorkbookRefused, open_workbook, scan_workbook
from tests.lib.archive_samples import (
    MAIN,
    Formula,
    MiB,
    Sheet,
    declare_size,
    many_rows_sheet,
    row_xml,
    rows_xml,
    xlsx,
    zeros,
    zip_with,
)

SMALL = WorkbookLimits(max_unpacked_bytes=4 * MiB, max_rows=50, max_columns=10)


def _refused(data: bytes, limits: WorkbookLimits = SMALL) -> WorkbookRefused:
    with pytest.raises(WorkbookRefused) as info:
        scan_workbook(data, limits)
    return info.value


def _replace(data: bytes, member: str, content: bytes, rename: str | None = None) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = {i.filename: archive.read(i) for i in archive.infolist()}
    members[member] = content
    if rename:
        members[rename] = members.pop(member)
    return zip_with(members)


@pytest.fixture
def openpyxl_never_called(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("openpyxl was asked to read the workbook")

    monkeypatch.setattr(excel.ExcelReader, "__init__", refuse)


def test_rows_and_columns_within_the_limits_are_read_whole():
    data = xlsx(Sheet("表", rows_xml([["a", 1], ["b", 2, None, "d"]])))
    with open_workbook(data, SMALL) as wb:
        sheet = wb["表"]
        assert (sheet.scan.max_row, sheet.scan.max_column) == (2, 4)
        assert list(sheet.rows()) == [("a", 1, None, None), ("b", 2, None, "d")]


@pytest.mark.parametrize("rows, message", [
    ([row_xml(["x"]) for _ in range(51)], "50 行"),  # no r attributes: counted one by one
    ([row_xml(["x"], 1), row_xml(["x"], 51)], "50 行"),  # a high row number is enough
    ([row_xml(["x"], 3)] * 51, "50 行"),  # the same row number, repeated
    ([row_xml(["x"] * 11, 1)], "10 列"),
    (['<row r="1"><c r="K1"><v>1</v></c></row>'], "10 列"),
    (['<row r="1">' + "<c><v>1</v></c>" * 11 + "</row>"], "10 列"),
    (['<row r="1">' + '<c r="A1"><v>1</v></c>' * 11 + "</row>"], "10 列"),  # one cell, 11 times
])
def test_a_sheet_over_a_limit_is_refused_naming_sheet_and_limit(rows, message,
                                                                openpyxl_never_called):
    refused = _refused(xlsx(Sheet("明细", rows)))
    assert refused.code == "limit" and refused.sheet == "明细"
    assert message in refused.reason


def test_a_dimension_that_claims_a_million_rows_pads_nothing():
    data = xlsx(Sheet("表", rows_xml([["a"], ["b"]]), dimension="A1:XFD1048576"))
    with open_workbook(data, SMALL) as wb:
        assert list(wb["表"].rows()) == [("a",), ("b",)]


def test_prefixed_spreadsheet_elements_are_counted_too():
    body = "".join(f'<x:row r="{i}"><x:c r="A{i}"><x:v>1</x:v></x:c></x:row>'
                   for i in range(1, 60))
    data = _replace(xlsx(Sheet("表", [])), "xl/worksheets/sheet1.xml",
                    f'<x:worksheet xmlns:x="{MAIN}"><x:sheetData>{body}</x:sheetData>'
                    "</x:worksheet>".encode())
    assert _refused(data).sheet == "表"


def test_a_sheet_in_utf16_or_under_another_name_is_counted_too():
    body = "".join(row_xml(["x"], i) for i in range(1, 60))
    text = f'<?xml version="1.0" encoding="UTF-16"?><worksheet xmlns="{MAIN}"><sheetData>' \
           f"{body}</sheetData></worksheet>"
    data = _replace(xlsx(Sheet("表", [])), "xl/worksheets/sheet1.xml", text.encode("utf-16"))
    assert "50 行" in _refused(data).reason
    renamed = _replace(xlsx(Sheet("表", [])), "xl/worksheets/sheet1.xml",
                       f'<worksheet xmlns="{MAIN}"><sheetData>{body}</sheetData></worksheet>'
                       .encode(), rename="xl/worksheets/sheet1.bin")
    assert "50 行" in _refused(renamed).reason


def test_drawing_anchors_are_not_rows():
    drawing = ('<xdr:wsDr xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/'
               'spreadsheetDrawing">' + "<xdr:from><xdr:col>1</xdr:col><xdr:row>2</xdr:row>"
               "</xdr:from>" * 100 + "</xdr:wsDr>")
    data = _replace(xlsx(Sheet("表", rows_xml([["a"]]))), "xl/drawings/drawing1.xml",
                    drawing.encode())
    assert scan_workbook(data, SMALL).parts["xl/worksheets/sheet1.xml"].max_row == 1


def test_a_dtd_is_refused():
    data = _replace(xlsx(Sheet("表", rows_xml([["a"]]))), "xl/sharedStrings.xml",
                    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>')
    assert _refused(data).code == "damaged"


def test_the_unpacked_total_is_counted_not_declared(openpyxl_never_called):
    honest = _replace(xlsx(Sheet("表", rows_xml([["a"]]))), "xl/media/big.bin", b"")
    with zipfile.ZipFile(io.BytesIO(honest)) as archive:
        members = {i.filename: archive.read(i) for i in archive.infolist()}
    members["xl/media/big.bin"] = zeros(5 * MiB)
    refused = _refused(zip_with(members))
    assert refused.code == "limit" and "4 MB" in refused.reason
    lying = declare_size(zip_with(members), "xl/media/big.bin", 1000)
    refused = _refused(lying, WorkbookLimits(max_unpacked_bytes=64 * MiB))
    assert "xl/media/big.bin" in refused.reason and "1000" in refused.reason


def test_400000_rows_in_a_small_file_stop_at_the_row_limit(openpyxl_never_called):
    data = xlsx(many_rows_sheet("表", ["a", "b"], ["x", 1], 400_000))
    assert len(data) < MiB
    refused = _refused(data, WorkbookLimits())
    assert refused.sheet == "表" and "20000 行" in refused.reason
    assert "20000 rows" in refused.english


def test_formulas_without_a_cached_value_are_noted_and_others_are_not():
    rows = [[Formula("1+1"), Formula("1+1", cached=2), Formula('""', cached=""),
             Formula("A1", cached="文本")]]
    data = xlsx(Sheet("表", rows_xml(rows)))
    with open_workbook(data, SMALL) as wb:
        sheet = wb["表"]
        assert [c.ref for c in sheet.unreadable()] == ["A1"]
        assert list(sheet.rows()) == [(None, 2, None, "文本")]


def test_what_openpyxl_writes_for_a_formula_is_a_formula_without_a_value():
    book = Workbook()
    book.active["B2"] = "=SUM(1,2)"
    buffer = io.BytesIO()
    book.save(buffer)
    with open_workbook(buffer.getvalue(), SMALL) as wb:
        [cell] = wb.first().unreadable()
        assert cell.ref == "B2" and "公式没有计算结果" in cell.reason


def test_merged_cells_but_the_first_are_noted_for_the_columns_read():
    data = xlsx(Sheet("表", rows_xml([["a", "b", "c"]] * 4), merged=["B2:C3"]))
    with open_workbook(data, SMALL) as wb:
        sheet = wb["表"]
        assert [c.ref for c in sheet.unreadable()] == ["C2", "B3", "C3"]
        assert [c.ref for c in sheet.unreadable(columns={2})] == ["B3"]
        assert [c.ref for c in sheet.unreadable(columns={1})] == []
        assert "B2:C3" in sheet.unreadable(columns={2})[0].reason


def test_a_merged_range_over_the_whole_sheet_costs_only_the_real_rows():
    data = xlsx(Sheet("表", rows_xml([["a"]] * 3), merged=["A1:XFD1048576"]))
    with open_workbook(data, SMALL) as wb:
        assert [c.ref for c in wb["表"].unreadable(columns={1})] == ["A2", "A3"]


def test_sheet_names_follow_the_workbook_not_the_part_names():
    data = xlsx(Sheet("第一", rows_xml([["a"]])), Sheet("第二", rows_xml([["b"]] * 60)))
    assert _refused(data).sheet == "第二"


@pytest.mark.parametrize("data", [b"", b"not a zip", zip_with({"a.txt": b"hello"})])
def test_what_is_not_a_workbook_is_refused_as_damaged(data):
    with pytest.raises(WorkbookRefused) as info, open_workbook(data, SMALL):
        pass
    assert info.value.code == "damaged"
