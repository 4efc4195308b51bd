"""`kaohe evaluate` reads .xlsx through the bounded reader (issue 15, items 5, 6 and 8)."""

from __future__ import annotations

import openpyxl
import pytest
from openpyxl.reader import excel

from kaohe.grading import tabular
from tests.lib.archive_samples import MiB, declare_size, many_rows_sheet, xlsx, zeros, zip_with

HEADER = ["单位", "帮扶成效", "组织领导", "选派干部", "督促检查", "基层满意情况", "工作创新"]
ROW = ["单位A", "好", "好", "较好", "好", "好", "较好"]


@pytest.fixture
def openpyxl_never_called(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("openpyxl was asked to read the workbook")

    monkeypatch.setattr(excel.ExcelReader, "__init__", refuse)


def _book(path, edit=None):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER)
    sheet.append(ROW)
    sheet.append(["单位B", "一般", "一般", "一般", "一般", "一般", "一般"])
    if edit:
        edit(sheet)
    book.save(path)
    return path


def test_400000_rows_are_refused_before_openpyxl(tmp_path, openpyxl_never_called):
    path = tmp_path / "round.xlsx"
    path.write_bytes(xlsx(many_rows_sheet("Sheet1", HEADER, ROW, 400_000)))
    assert path.stat().st_size < MiB
    with pytest.raises(tabular.InputError, match=r"20000.*rows"):
        tabular.read_units(path)


def test_a_lying_member_is_refused(tmp_path, openpyxl_never_called):
    import io
    import zipfile

    honest = _book(tmp_path / "honest.xlsx").read_bytes()
    with zipfile.ZipFile(io.BytesIO(honest)) as archive:
        members = {i.filename: archive.read(i) for i in archive.infolist()}
    members["xl/media/image1.png"] = zeros(64 * MiB)
    path = tmp_path / "round.xlsx"
    path.write_bytes(declare_size(zip_with(members), "xl/media/image1.png", 1000))
    with pytest.raises(tabular.InputError, match=r"xl/media/image1\.png"):
        tabular.read_units(path)


def test_formulas_without_a_result_and_merged_cells_are_all_named(tmp_path):
    def edit(sheet):
        sheet["C2"] = '=IF(1,"好","较好")'
        sheet["D3"] = "=B3"
        sheet.merge_cells("E2:E3")

    with pytest.raises(tabular.InputError) as info:
        tabular.read_units(_book(tmp_path / "round.xlsx", edit))
    message = str(info.value)
    for where in ("第2行「组织领导」列", "C2", "第3行「选派干部」列", "D3",
                  "第3行「督促检查」列", "E2:E3"):
        assert where in message, where
    assert "formula" in message and "merged" in message


def test_a_formula_with_its_cached_result_is_read_as_that_result(tmp_path):
    from tests.lib.archive_samples import Formula, Sheet, rows_xml

    path = tmp_path / "round.xlsx"
    path.write_bytes(xlsx(Sheet("Sheet1", rows_xml([
        HEADER, ["单位A", Formula('IF(1,"好","较好")', cached="好"), "好", "较好", "好", "好",
                 "较好"]]))))
    [unit] = tabular.read_units(path)
    assert unit.grades["effectiveness"].label == "好"
