"""The directory import shares the bounded reader (issue 15, items 5, 6 and 8)."""

import io
import zipfile

import pytest
from openpyxl import load_workbook
from openpyxl.reader import excel

from kaohe.directory.importing import PAIRINGS_SHEET, UNIT_COLUMNS, UNITS_SHEET
from tests.lib.archive_samples import MiB, declare_size, many_rows_sheet, xlsx, zeros, zip_with

from . import test_importing
from .test_importing import snapshot, workbook

# The import runner of test_importing and the office user it needs, as fixtures here too.
office = test_importing.office
run = test_importing.run


@pytest.fixture
def openpyxl_never_called(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("openpyxl was asked to read the workbook")

    monkeypatch.setattr(excel.ExcelReader, "__init__", refuse)


def _edited(data: bytes, edit) -> bytes:
    wb = load_workbook(io.BytesIO(data))
    edit(wb)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def test_400000_rows_are_refused_by_the_pre_check(run, world, openpyxl_never_called):
    data = xlsx(many_rows_sheet(UNITS_SHEET, UNIT_COLUMNS,
                                ["U1001", "单位", "中央企业", "是"], 400_000),
                many_rows_sheet(PAIRINGS_SHEET, ["单位编码", "县代码"], ["U1001", "130125"], 1))
    assert len(data) < MiB
    before = snapshot()
    result = run(data)
    assert not result.ok
    [problem] = result.problems
    assert problem.sheet == UNITS_SHEET and "20000" in str(problem)
    assert snapshot() == before


def test_a_lying_member_is_refused_before_openpyxl(run, world, openpyxl_never_called):
    with zipfile.ZipFile(io.BytesIO(workbook())) as archive:
        members = {i.filename: archive.read(i) for i in archive.infolist()}
    members["xl/media/image1.png"] = zeros(100 * MiB)
    data = declare_size(zip_with(members), "xl/media/image1.png", 1000)
    before = snapshot()
    result = run(data)
    assert not result.ok and "xl/media/image1.png" in str(result.problems[0])
    assert snapshot() == before


def test_a_formula_without_a_cached_value_is_named(run, world):
    def formula(wb):
        wb[UNITS_SHEET]["B3"] = '="导入测试"&"单位二"'

    before = snapshot()
    result = run(_edited(workbook(), formula))
    assert not result.ok
    [problem] = result.problems
    assert (problem.sheet, problem.row, problem.column) == (UNITS_SHEET, 3, "单位名称")
    assert "B3" in str(problem) and "公式没有计算结果" in str(problem)
    assert snapshot() == before


def test_merged_cells_in_a_column_read_are_named(run, world):
    def merge(wb):
        wb[PAIRINGS_SHEET].merge_cells("A2:A3")

    before = snapshot()
    result = run(_edited(workbook(), merge))
    assert not result.ok
    [problem] = result.problems
    assert (problem.sheet, problem.row, problem.column) == (PAIRINGS_SHEET, 3, "单位编码")
    assert "A2:A3" in str(problem)
    assert snapshot() == before
