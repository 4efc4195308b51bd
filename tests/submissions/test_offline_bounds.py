"""Offline imports are bounded and never guess (issue 15, items 5, 6 and 8).

A 1 MB workbook of 400,000 rows is refused by the pre-check, before openpyxl sees it; a ZIP
member that lies about its size is refused; a number beyond the range of its field, a formula
without a cached value and a merged cell are named errors, and nothing is saved.
"""

import io
import re
import zipfile

import pytest
from openpyxl import load_workbook
from openpyxl.reader import excel

from kaohe.submissions import offline
from tests.lib.archive_samples import MiB, declare_size, many_rows_sheet, zeros, zip_with

from . import test_offline
from .test_offline import _bytes, _col, _import_prov, _import_self, _prov_state, _row_of, _state

# The workbooks of test_offline, filled in, as fixtures here too.
self_book = test_offline.self_book
prov_report = test_offline.prov_report
prov_book = test_offline.prov_book

TWENTY_DIGITS = 12345678901234567890


@pytest.fixture
def openpyxl_never_called(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("openpyxl was asked to read the workbook")

    monkeypatch.setattr(excel.ExcelReader, "__init__", refuse)


def _rewrite(data: bytes, extra: dict | None = None, edit=None) -> bytes:
    """The workbook's members, optionally edited (name -> bytes -> bytes) and extended."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = {i.filename: archive.read(i) for i in archive.infolist()}
    if edit:
        members = {name: edit(name, content) for name, content in members.items()}
    members.update(extra or {})
    return zip_with(members)


# Item 5: bounded before parsing ----------------------------------------------------------


def test_a_small_file_of_400000_rows_is_refused_by_the_pre_check(world, personas, report_a,
                                                                 openpyxl_never_called):
    data = _400k_rows()
    assert len(data) < 1.5 * MiB
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert sum(i.file_size for i in archive.infolist()) > 100 * MiB
    before = _state(report_a)
    with pytest.raises(offline.OfflineImportError) as info:
        _import_self(report_a, personas["unit"], data)
    message = str(info.value)
    assert "「自评报告」" in message and "20000" in message and "行" in message
    assert _state(report_a) == before


def _400k_rows() -> bytes:
    from tests.lib.archive_samples import xlsx

    row = ["帮扶成效", 3, "帮扶资金", "", "", "评价依据", "工作情况" * 10]
    return xlsx(many_rows_sheet(offline.SELF_SHEET, offline.SELF_COLUMNS, row, 400_000))


def test_the_row_limit_comes_from_the_settings(world, personas, report_a, settings,
                                               openpyxl_never_called):
    from tests.lib.archive_samples import xlsx

    settings.KAOHE_IMPORT_MAX_ROWS = 500
    data = xlsx(many_rows_sheet(offline.SELF_SHEET, offline.SELF_COLUMNS, ["x", 3], 600))
    with pytest.raises(offline.OfflineImportError, match=r"「自评报告」.*500"):
        _import_self(report_a, personas["unit"], data)


def test_a_workbook_over_the_unpacked_limit_is_refused(world, personas, report_a, self_book,
                                                       settings, openpyxl_never_called):
    settings.KAOHE_IMPORT_MAX_UNPACKED_BYTES = 2 * MiB
    data = _rewrite(_bytes(self_book), {"xl/media/padding.bin": zeros(3 * MiB)})
    before = _state(report_a)
    with pytest.raises(offline.OfflineImportError, match="2 MB"):
        _import_self(report_a, personas["unit"], data)
    assert _state(report_a) == before


def test_a_cell_beyond_the_column_limit_is_refused(world, personas, report_a, self_book,
                                                   settings, openpyxl_never_called):
    settings.KAOHE_IMPORT_MAX_COLUMNS = 30
    self_book[offline.SELF_SHEET].cell(3, 40, "远处的单元格")
    with pytest.raises(offline.OfflineImportError, match=r"「自评报告」.*30 列"):
        _import_self(report_a, personas["unit"], self_book)


def test_a_dimension_that_understates_the_sheet_loses_nothing(world, personas, report_a,
                                                              self_book):
    """Read-only openpyxl trusts <dimension>; rows and columns come from the real cells."""

    def shrink(name, content):
        if name.startswith("xl/worksheets/"):
            return re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:A1"/>', content)
        return content

    data = _rewrite(_bytes(self_book), edit=shrink)
    assert b'<dimension ref="A1:A1"/>' in zipfile.ZipFile(io.BytesIO(data)).read(
        "xl/worksheets/sheet1.xml")
    _import_self(report_a, personas["unit"], data)
    assert report_a.answers.count() == 17
    report_a.refresh_from_db()
    assert report_a.summary == "离线填写的工作总结"


# Item 6: members that lie about their size -----------------------------------------------


def test_a_workbook_with_a_lying_member_is_refused_before_openpyxl(world, personas, report_a,
                                                                   self_book,
                                                                   openpyxl_never_called):
    data = declare_size(_rewrite(_bytes(self_book), {"xl/media/image1.png": zeros(300 * MiB)}),
                        "xl/media/image1.png", 1000)
    before = _state(report_a)
    with pytest.raises(offline.OfflineImportError) as info:
        _import_self(report_a, personas["unit"], data)
    assert "xl/media/image1.png" in str(info.value)
    assert _state(report_a) == before


# Item 8: nothing read silently as blank, no number out of range -------------------------


def test_a_formula_without_a_cached_value_is_named_and_nothing_saved(world, personas,
                                                                    report_a, self_book):
    ws = self_book[offline.SELF_SHEET]
    row = _row_of(ws, 5)
    ws.cell(row, _col(ws, "工作情况"), "=B2&\"：见附件\"")  # openpyxl stores no result
    before = _state(report_a)
    with pytest.raises(offline.OfflineImportError) as info:
        _import_self(report_a, personas["unit"], self_book)
    message = str(info.value)
    assert f"「自评报告」表第{row}行「工作情况」列" in message
    assert f"G{row}" in message and "公式没有计算结果" in message
    assert _state(report_a) == before
    assert report_a.summary == ""


def test_merged_answer_cells_are_named_and_nothing_saved(world, personas, report_a, self_book):
    ws = self_book[offline.SELF_SHEET]
    first = _row_of(ws, 5)
    ws.merge_cells(start_row=first, start_column=7, end_row=first + 2, end_column=7)
    before = _state(report_a)
    with pytest.raises(offline.OfflineImportError) as info:
        _import_self(report_a, personas["unit"], self_book)
    message = str(info.value)
    assert f"G{first}:G{first + 2}" in message and "合并单元格" in message
    assert f"第{first + 1}行「工作情况」列" in message
    assert f"第{first + 2}行「工作情况」列" in message
    assert _state(report_a) == before


def test_merged_cells_outside_the_columns_read_do_no_harm(world, personas, report_a,
                                                          self_book):
    ws = self_book[offline.SELF_SHEET]
    first = _row_of(ws, 5)
    ws.merge_cells(start_row=first, start_column=1, end_row=first + 1, end_column=1)
    _import_self(report_a, personas["unit"], self_book)
    assert report_a.answers.count() == 17


def test_a_formula_in_the_summary_cell_is_named(world, personas, report_a, self_book):
    self_book[offline.SUMMARY_SHEET]["A2"] = "=1+1"
    with pytest.raises(offline.OfflineImportError,
                       match=r"「工作总结」表第2行.*A2.*公式没有计算结果"):
        _import_self(report_a, personas["unit"], self_book)


@pytest.mark.parametrize("value", [TWENTY_DIGITS, str(TWENTY_DIGITS), 10**8, -1])
@pytest.mark.parametrize("header", ["计划脱贫人口", "实际脱贫人口"])
def test_a_people_count_out_of_range_is_a_named_error_and_nothing_saved(
        world, personas, prov_report, prov_book, header, value):
    ws = prov_book[offline.OUTCOME_SHEET]
    ws.cell(2, _col(ws, header), value)
    before = _prov_state(prov_report)
    with pytest.raises(offline.OfflineImportError, match=rf"「县级情况」表第2行「{header}」列"):
        _import_prov(prov_report, personas["province"], prov_book)
    assert _prov_state(prov_report) == before


def test_a_plausible_people_count_still_imports(world, personas, prov_report, prov_book):
    ws = prov_book[offline.OUTCOME_SHEET]
    ws.cell(2, _col(ws, "计划脱贫人口"), 9_999_999)
    _import_prov(prov_report, personas["province"], prov_book)
    assert prov_report.outcomes.get().planned_exit == 9_999_999


def test_a_formula_in_the_provincial_overall_sheet_is_named(world, personas, prov_report,
                                                            prov_book):
    prov_book[offline.OVERALL_SHEET]["B3"] = '=IF(1,"好","较好")'
    before = _prov_state(prov_report)
    with pytest.raises(offline.OfflineImportError,
                       match=r"「总体意见」表第3行.*B3.*公式没有计算结果"):
        _import_prov(prov_report, personas["province"], prov_book)
    assert _prov_state(prov_report) == before


def test_an_unchanged_download_still_round_trips(world, personas, report_a):
    data = offline.self_report_workbook(report_a)
    wb = load_workbook(io.BytesIO(data))
    assert not wb[offline.SELF_SHEET].merged_cells.ranges
    _import_self(report_a, personas["unit"], data)
    report_a.refresh_from_db()
    assert report_a.revision == 1
