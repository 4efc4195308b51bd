"""Excel import of units and pairings: all-or-nothing, every problem names sheet, row and column."""

import io
import zipfile

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from kaohe.accounts.models import Role
from kaohe.audit.models import AuditEntry
from kaohe.directory.importing import (
    PAIRING_COLUMNS,
    PAIRINGS_SHEET,
    UNIT_COLUMNS,
    UNITS_SHEET,
    import_template,
    import_units_and_pairings,
)
from kaohe.directory.models import Category, County, Pairing, Unit
from tests.conftest import make_user

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Three counties of the shipped list of 832 (code, name).
XINGTANG = ("130125", "行唐县")
LINGSHOU = ("130126", "灵寿县")
ZANHUANG = ("130129", "赞皇县")

GOOD_UNITS = [
    ["U1001", "导入测试单位一", "中央直属机关", "是"],
    ["U1002", "导入测试单位二", "enterprises", "否"],
]
GOOD_PAIRINGS = [
    ["U1001", *XINGTANG],
    ["U1001", LINGSHOU[0], ""],
    ["U1002", *ZANHUANG],
]


def workbook(units=None, pairings=None, *, unit_columns=UNIT_COLUMNS,
             pairing_columns=PAIRING_COLUMNS, sheets=(UNITS_SHEET, PAIRINGS_SHEET)) -> bytes:
    """An .xlsx built in memory; rows are lists in the order of the columns given."""
    wb = Workbook()
    wb.remove(wb.active)
    content = {
        UNITS_SHEET: (unit_columns, GOOD_UNITS if units is None else units),
        PAIRINGS_SHEET: (pairing_columns, GOOD_PAIRINGS if pairings is None else pairings),
    }
    for name in sheets:
        ws = wb.create_sheet(name)
        columns, rows = content.get(name, ([], []))
        if columns:
            ws.append(columns)
        for row in rows:
            ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def counts():
    return Unit.objects.count(), Pairing.objects.count()


def snapshot():
    return (
        sorted(Unit.objects.values_list("code", "name", "category__code", "active")),
        sorted(Pairing.objects.values_list("round_id", "unit__code", "county__code")),
    )


@pytest.fixture
def office(db):
    return make_user("importer", Role.OFFICE)


@pytest.fixture
def run(round_2017, office):
    def _run(data, file_name="units.xlsx"):
        return import_units_and_pairings(data=data, round=round_2017, actor=office,
                                         file_name=file_name)

    return _run


def assert_problem_at(result, sheet, row, column):
    """Exactly where the problem is, both in its fields and in the text the office reads."""
    matching = [p for p in result.problems if (p.sheet, p.row, p.column) == (sheet, row, column)]
    assert matching, [str(p) for p in result.problems]
    text = str(matching[0])
    assert f"「{sheet}」表" in text
    assert f"第{row}行" in text
    assert f"「{column}」列" in text
    return matching[0]


# -- A good workbook ---------------------------------------------------------------------


def test_it_imports_units_and_pairings_from_a_good_workbook(run, round_2017):
    result = run(workbook())
    assert result.ok, [str(p) for p in result.problems]
    assert (result.units_created, result.units_updated) == (2, 0)
    assert (result.pairings_created, result.pairings_removed) == (3, 0)
    one = Unit.objects.get(code="U1001")
    assert one.name == "导入测试单位一"
    assert one.category.code == "party_organs"
    assert one.active is True
    two = Unit.objects.get(code="U1002")
    assert two.category.code == "enterprises"
    assert two.active is False
    assert sorted(Pairing.objects.filter(round=round_2017, unit=one)
                  .values_list("county__code", flat=True)) == [XINGTANG[0], LINGSHOU[0]]
    assert list(Pairing.objects.filter(round=round_2017, unit=two)
                .values_list("county__code", flat=True)) == [ZANHUANG[0]]


def test_it_logs_a_completed_import(run, round_2017, office):
    run(workbook(), file_name="名单.xlsx")
    entry = AuditEntry.objects.get(action="directory.import.completed")
    assert entry.actor == office
    assert entry.target_type == "rounds.Round"
    assert entry.target_id == str(round_2017.pk)
    assert entry.success is True
    assert entry.data == {"file": "名单.xlsx", "units_created": 2, "units_updated": 0,
                          "pairings_created": 3, "pairings_removed": 0}


def test_it_reads_numeric_county_codes_and_blank_active_as_yes(run):
    result = run(workbook(
        units=[["U2001", "数字编码单位", "中央企业", None]],
        pairings=[["U2001", int(XINGTANG[0]), XINGTANG[1]],
                  ["U2001", float(LINGSHOU[0]), None]],
    ))
    assert result.ok, [str(p) for p in result.problems]
    unit = Unit.objects.get(code="U2001")
    assert unit.active is True
    assert sorted(unit.pairings.values_list("county__code", flat=True)) == [XINGTANG[0],
                                                                           LINGSHOU[0]]


def test_it_skips_blank_rows_and_trims_cells(run):
    result = run(workbook(
        units=[[" U3001 ", " 留白单位 ", " 高等院校 ", " 是 "], [None, None, None, None]],
        pairings=[[None, None, None], ["U3001", f" {XINGTANG[0]} ", XINGTANG[1]]],
    ))
    assert result.ok, [str(p) for p in result.problems]
    unit = Unit.objects.get(code="U3001")
    assert unit.name == "留白单位"
    assert unit.category.code == "universities"
    assert unit.pairings.get().county.code == XINGTANG[0]


def test_it_accepts_a_workbook_without_the_optional_columns(run):
    result = run(workbook(
        units=[["U4001", "无可选列单位", "金融机构"]], unit_columns=UNIT_COLUMNS[:3],
        pairings=[["U4001", XINGTANG[0]]], pairing_columns=PAIRING_COLUMNS[:2],
    ))
    assert result.ok, [str(p) for p in result.problems]
    assert Unit.objects.get(code="U4001").pairings.count() == 1


# -- Re-import ---------------------------------------------------------------------------


def test_a_reimport_updates_the_unit_and_replaces_its_pairings(run, round_2017):
    assert run(workbook()).ok
    result = run(workbook(
        units=[["U1001", "导入测试单位一（更名）", "中央企业", "否"]],
        pairings=[["U1001", LINGSHOU[0], LINGSHOU[1]], ["U1001", ZANHUANG[0], ZANHUANG[1]]],
    ))
    assert result.ok, [str(p) for p in result.problems]
    assert (result.units_created, result.units_updated) == (0, 1)
    assert (result.pairings_created, result.pairings_removed) == (1, 1)
    unit = Unit.objects.get(code="U1001")
    assert unit.name == "导入测试单位一（更名）"
    assert unit.category.code == "enterprises"
    assert unit.active is False
    assert sorted(Pairing.objects.filter(round=round_2017, unit=unit)
                  .values_list("county__code", flat=True)) == [LINGSHOU[0], ZANHUANG[0]]
    # The other unit was not listed again: its pairing stays.
    assert Pairing.objects.filter(round=round_2017, unit__code="U1002").count() == 1
    assert AuditEntry.objects.filter(action="directory.import.completed").last().data[
        "pairings_removed"] == 1


def test_a_reimport_of_the_same_workbook_changes_nothing(run):
    assert run(workbook()).ok
    before = snapshot()
    result = run(workbook())
    assert result.ok
    assert (result.units_created, result.units_updated, result.pairings_created,
            result.pairings_removed) == (0, 0, 0, 0)
    assert snapshot() == before


def test_a_reimport_leaves_pairings_of_units_not_in_the_pairings_sheet(run, world):
    result = run(workbook(units=[["A001", "测试单位甲", "中央直属机关", "是"]], pairings=[]))
    assert result.ok, [str(p) for p in result.problems]
    assert Pairing.objects.get(unit=world["unit_a"]).county == world["county_a"]


def test_pairings_may_name_an_existing_unit_not_in_the_units_sheet(run, world):
    result = run(workbook(units=[], pairings=[["A001", *XINGTANG]]))
    assert result.ok, [str(p) for p in result.problems]
    # The sheet states A001's full set of counties: the old one is replaced.
    assert list(Pairing.objects.filter(unit=world["unit_a"])
                .values_list("county__code", flat=True)) == [XINGTANG[0]]


# -- Bad workbooks: each names sheet, row and column, and changes nothing ----------------

BAD_ROWS = {
    "unknown category": (
        dict(units=[GOOD_UNITS[0], ["U1002", "导入测试单位二", "地方政府", "是"]]),
        UNITS_SHEET, 3, "类别"),
    "empty code": (
        dict(units=[GOOD_UNITS[0], [None, "导入测试单位二", "中央企业", "是"]]),
        UNITS_SHEET, 3, "单位编码"),
    "empty name": (
        dict(units=[GOOD_UNITS[0], ["U1002", "", "中央企业", "是"]]),
        UNITS_SHEET, 3, "单位名称"),
    "empty category": (
        dict(units=[GOOD_UNITS[0], ["U1002", "导入测试单位二", "  ", "是"]]),
        UNITS_SHEET, 3, "类别"),
    "duplicate unit code": (
        dict(units=[*GOOD_UNITS, ["U1001", "另一个名称", "中央企业", "是"]]),
        UNITS_SHEET, 4, "单位编码"),
    "duplicate unit name": (
        dict(units=[*GOOD_UNITS, ["U1003", "导入测试单位一", "中央企业", "是"]]),
        UNITS_SHEET, 4, "单位名称"),
    "unit code too long": (
        dict(units=[GOOD_UNITS[0], ["U" * 21, "导入测试单位二", "中央企业", "是"]]),
        UNITS_SHEET, 3, "单位编码"),
    "unit name too long": (
        dict(units=[GOOD_UNITS[0], ["U1002", "名" * 101, "中央企业", "是"]]),
        UNITS_SHEET, 3, "单位名称"),
    "bad yes/no value": (
        dict(units=[GOOD_UNITS[0], ["U1002", "导入测试单位二", "中央企业", "也许"]]),
        UNITS_SHEET, 3, "承担定点扶贫任务"),
    "empty county code": (
        dict(pairings=[GOOD_PAIRINGS[0], ["U1002", None, None]]),
        PAIRINGS_SHEET, 3, "县代码"),
    "empty unit code in pairings": (
        dict(pairings=[GOOD_PAIRINGS[0], [None, *ZANHUANG]]),
        PAIRINGS_SHEET, 3, "单位编码"),
    "unknown county code": (
        dict(pairings=[*GOOD_PAIRINGS, ["U1002", "999999", None]]),
        PAIRINGS_SHEET, 5, "县代码"),
    "county name not matching its code": (
        dict(pairings=[GOOD_PAIRINGS[0], ["U1002", ZANHUANG[0], LINGSHOU[1]]]),
        PAIRINGS_SHEET, 3, "县名称"),
    "unknown unit code in pairings": (
        dict(pairings=[*GOOD_PAIRINGS, ["X9999", *ZANHUANG]]),
        PAIRINGS_SHEET, 5, "单位编码"),
    "duplicate pairing": (
        dict(pairings=[*GOOD_PAIRINGS, ["U1001", XINGTANG[0], None]]),
        PAIRINGS_SHEET, 5, "县代码"),
    "missing column header in units": (
        dict(unit_columns=["单位编码", "单位名称", "承担定点扶贫任务"],
             units=[["U1001", "导入测试单位一", "是"]]),
        UNITS_SHEET, 1, "类别"),
    "missing column header in pairings": (
        dict(pairing_columns=["单位编码", "县名称"], pairings=[["U1001", XINGTANG[1]]]),
        PAIRINGS_SHEET, 1, "县代码"),
}


@pytest.mark.parametrize(("kwargs", "sheet", "row", "column"), list(BAD_ROWS.values()),
                         ids=list(BAD_ROWS))
def test_a_bad_workbook_names_sheet_row_and_column_and_imports_nothing(
    run, world, kwargs, sheet, row, column
):
    before = snapshot()
    result = run(workbook(**kwargs))
    assert not result.ok
    assert_problem_at(result, sheet, row, column)
    assert snapshot() == before
    assert not AuditEntry.objects.filter(action="directory.import.completed").exists()


def test_a_unit_name_used_by_another_code_is_refused(run, world):
    before = snapshot()
    result = run(workbook(units=[GOOD_UNITS[0], ["Z9999", "测试单位甲", "中央企业", "是"]],
                          pairings=[]))
    problem = assert_problem_at(result, UNITS_SHEET, 3, "单位名称")
    assert "A001" in str(problem)
    assert snapshot() == before


def test_it_imports_nothing_when_one_row_is_bad(run, world):
    units = [[f"U{n:04d}", f"批量单位{n}", "中央企业", "是"] for n in range(1, 41)]
    units[26][2] = "不存在的类别"  # Excel row 28
    pairings = [[f"U{n:04d}", XINGTANG[0], XINGTANG[1]] for n in range(1, 41)]
    before_counts, before = counts(), snapshot()
    result = run(workbook(units=units, pairings=pairings))
    assert len(result.problems) == 1
    assert_problem_at(result, UNITS_SHEET, 28, "类别")
    assert counts() == before_counts
    assert snapshot() == before


def test_it_imports_nothing_when_one_pairing_is_bad(run, world):
    units = [[f"U{n:04d}", f"批量单位{n}", "中央企业", "是"] for n in range(1, 21)]
    pairings = [[f"U{n:04d}", XINGTANG[0], XINGTANG[1]] for n in range(1, 21)]
    pairings[-1][1] = "000000"  # Excel row 21
    before_counts = counts()
    result = run(workbook(units=units, pairings=pairings))
    assert len(result.problems) == 1
    assert_problem_at(result, PAIRINGS_SHEET, 21, "县代码")
    assert counts() == before_counts


def test_it_reports_every_problem_at_once(run, round_2017):
    result = run(workbook(
        units=[["U1001", "单位一", "未知", "是"], ["U1002", "", "中央企业", "未必"]],
        pairings=[["U1001", "999999", None]],
    ))
    places = {(p.sheet, p.row, p.column) for p in result.problems}
    assert places >= {(UNITS_SHEET, 2, "类别"), (UNITS_SHEET, 3, "单位名称"),
                      (UNITS_SHEET, 3, "承担定点扶贫任务"), (PAIRINGS_SHEET, 2, "县代码")}


def test_a_rejected_import_is_logged_as_unsuccessful(run, office):
    run(workbook(units=[["U1001", "单位一", "未知", "是"]], pairings=[]), file_name="bad.xlsx")
    entry = AuditEntry.objects.get(action="directory.import.rejected")
    assert entry.success is False
    assert entry.actor == office
    assert entry.data == {"file": "bad.xlsx", "problems": 1}


@pytest.mark.parametrize("missing", [UNITS_SHEET, PAIRINGS_SHEET])
def test_a_missing_sheet_is_named_and_nothing_imported(run, world, missing):
    present = tuple(s for s in (UNITS_SHEET, PAIRINGS_SHEET) if s != missing)
    before = snapshot()
    result = run(workbook(sheets=(*present, "Sheet1")))
    assert not result.ok
    assert [p.sheet for p in result.problems] == [missing]
    assert f"「{missing}」表" in str(result.problems[0])
    assert snapshot() == before


def test_a_sheet_without_a_header_row_is_named(run, round_2017):
    result = run(workbook(sheets=(UNITS_SHEET, PAIRINGS_SHEET), pairing_columns=[],
                          pairings=[]))
    assert not result.ok
    problem = result.problems[0]
    assert (problem.sheet, problem.row) == (PAIRINGS_SHEET, 1)
    assert "第1行" in str(problem)
    assert Unit.objects.filter(code__startswith="U100").count() == 0


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


NOT_XLSX = {
    "empty file": b"",
    "random bytes": bytes(range(256)) * 8,
    "csv": "单位编码,单位名称,类别\nU1001,单位一,中央企业\n".encode(),
    "csv in gbk": "单位编码,单位名称,类别\nU1001,单位一,中央企业\n".encode("gbk"),
    "zip without a workbook": _zip({"hello.txt": b"hello"}),
    "pdf": b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF",
}


@pytest.mark.parametrize("data", list(NOT_XLSX.values()), ids=list(NOT_XLSX))
def test_a_file_that_is_not_an_xlsx_is_refused_with_a_message(run, world, data):
    before = snapshot()
    result = run(data)
    assert not result.ok
    assert len(result.problems) == 1
    assert "xlsx" in str(result.problems[0])
    assert snapshot() == before


def _damaged(member: str, *, data: bytes | None = None, old: bytes = b"",
             new: bytes = b"") -> bytes:
    """A workbook with one member replaced by broken XML (or one stored value swapped)."""
    source = zipfile.ZipFile(io.BytesIO(data or workbook()))
    files = {}
    for name in source.namelist():
        content = source.read(name)
        if name == member:
            if old:
                assert old in content
            content = content.replace(old, new) if old else b"<not xml"
        files[name] = content
    return _zip(files)


@pytest.mark.parametrize("member", ["[Content_Types].xml", "xl/workbook.xml",
                                    "xl/worksheets/sheet1.xml"])
def test_a_damaged_xlsx_is_refused_with_a_message(run, world, member):
    before = snapshot()
    result = run(_damaged(member))
    assert not result.ok
    assert snapshot() == before


def test_a_workbook_with_a_malformed_number_cell_is_refused_with_a_message(run, world):
    data = _damaged("xl/worksheets/sheet2.xml", data=workbook(pairings=[["U1001", 130125, None]]),
                    old=b"<v>130125</v>", new=b"<v>abc</v>")
    before = snapshot()
    result = run(data)
    assert not result.ok
    assert snapshot() == before


# -- Property: arbitrary text never crashes the import ----------------------------------

# openpyxl refuses control characters in cells; everything else may be typed into Excel.
cell_text = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=30)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    category=st.one_of(cell_text, st.sampled_from(["中央企业", "enterprises", " 高等院校 "])),
    county_code=st.one_of(cell_text, st.sampled_from([XINGTANG[0], f" {ZANHUANG[0]} "])),
    extra_rows=st.integers(0, 3),
)
def test_arbitrary_category_or_county_text_imports_or_names_its_row(
    run, category, county_code, extra_rows
):
    units = [[f"P{n}", f"属性单位{n}", "中央企业", "是"] for n in range(extra_rows)]
    units.append(["PX", "属性单位X", category, "是"])
    unit_row = len(units) + 1
    pairings = [[f"P{n}", XINGTANG[0], None] for n in range(extra_rows)]
    pairings.append(["PX", county_code, None])
    pairing_row = len(pairings) + 1
    with transaction.atomic():
        before = counts()
        result = run(workbook(units=units, pairings=pairings))
        event("imported" if result.ok else "refused")
        if result.ok:
            assert Unit.objects.get(code="PX").category.name == category.strip() or (
                Unit.objects.get(code="PX").category.code == category.strip())
            assert County.objects.get(pairings__unit__code="PX").code == county_code.strip()
        else:
            assert counts() == before
            rows = {(p.sheet, p.row) for p in result.problems}
            assert rows <= {(UNITS_SHEET, unit_row), (PAIRINGS_SHEET, pairing_row)}, (
                [str(p) for p in result.problems])
            for problem in result.problems:
                assert f"第{problem.row}行" in str(problem)
                assert problem.column in {"类别", "县代码"}
        transaction.set_rollback(True)


# -- The template ------------------------------------------------------------------------


def test_the_template_has_both_sheets_with_the_exact_headers(round_2017):
    wb = load_workbook(io.BytesIO(import_template()))
    assert wb.sheetnames[:2] == [UNITS_SHEET, PAIRINGS_SHEET]
    units = list(wb[UNITS_SHEET].iter_rows(values_only=True))
    pairings = list(wb[PAIRINGS_SHEET].iter_rows(values_only=True))
    assert list(units[0]) == UNIT_COLUMNS
    assert list(pairings[0]) == PAIRING_COLUMNS
    # The instructions list the categories as they are named in the database.
    notes = "\n".join(str(r[0]) for r in wb.worksheets[2].iter_rows(values_only=True))
    for category in Category.objects.all():
        assert category.name in notes


def test_the_template_with_its_example_rows_filled_in_imports_cleanly(run, round_2017):
    wb = load_workbook(io.BytesIO(import_template()))
    units, pairings = wb[UNITS_SHEET], wb[PAIRINGS_SHEET]
    for cell, value in zip(units[2], ["T0001", "模板测试单位", "中央国家机关", "否"], strict=True):
        cell.value = value
    for cell, value in zip(pairings[2], ["T0001", *LINGSHOU], strict=True):
        cell.value = value
    buffer = io.BytesIO()
    wb.save(buffer)
    result = run(buffer.getvalue())
    assert result.ok, [str(p) for p in result.problems]
    unit = Unit.objects.get(code="T0001")
    assert (unit.name, unit.category.code, unit.active) == ("模板测试单位", "state_organs", False)
    assert unit.pairings.get(round=round_2017).county.code == LINGSHOU[0]


# -- Views -------------------------------------------------------------------------------


def upload(data, name="units.xlsx"):
    return SimpleUploadedFile(name, data, content_type=XLSX)


def test_the_office_sees_the_import_page(personas, login):
    response = login(personas["office"]).get(reverse("directory:import"))
    assert response.status_code == 200
    assert reverse("directory:import_template") in response.content.decode()


def test_a_bad_upload_answers_400_listing_the_problems_in_chinese(personas, login):
    before = snapshot()
    data = workbook(units=[["U1001", "单位一", "地方政府", "是"]], pairings=[["U1001", "999999"]])
    response = login(personas["office"]).post(reverse("directory:import"),
                                              {"file": upload(data)})
    assert response.status_code == 400
    content = response.content.decode()
    assert "发现 2 处错误，未导入任何数据" in content
    assert "「单位」表第2行「类别」列：未知类别「地方政府」" in content
    assert "「结对关系」表第2行「县代码」列：县代码「999999」不在贫困县名录中" in content
    assert snapshot() == before


def test_an_upload_that_is_not_an_xlsx_answers_400(personas, login):
    before = snapshot()
    response = login(personas["office"]).post(
        reverse("directory:import"), {"file": upload(b"a,b\n1,2\n", name="units.csv")})
    assert response.status_code == 400
    assert "无法读取该文件" in response.content.decode()
    assert snapshot() == before


def test_a_good_upload_redirects_with_a_success_message(personas, login):
    client = login(personas["office"])
    response = client.post(reverse("directory:import"), {"file": upload(workbook())})
    assert response.status_code == 302
    assert response["Location"] == reverse("directory:import")
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert messages == ["导入完成：新增单位2个，更新0个；新增结对3条，移除0条。"]
    assert Unit.objects.filter(code__in=["U1001", "U1002"]).count() == 2
    entry = AuditEntry.objects.get(action="directory.import.completed")
    assert entry.actor == personas["office"]
    assert entry.data["file"] == "units.xlsx"


def test_the_template_downloads_as_an_xlsx_attachment(personas, login):
    response = login(personas["office"]).get(reverse("directory:import_template"))
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert response["Content-Disposition"].startswith("attachment;")
    assert ".xlsx" in response["Content-Disposition"]
    assert load_workbook(io.BytesIO(response.content)).sheetnames[:2] == [UNITS_SHEET,
                                                                          PAIRINGS_SHEET]


NOT_OFFICE = ["working_group", "leading_group", "org_department", "military_inspector",
              "lead_reviewer", "lead_reviewer_b", "unit", "unit_b", "province", "province_b",
              "system_admin", "security_admin", "auditor"]


@pytest.mark.parametrize("persona", NOT_OFFICE)
def test_only_the_office_reaches_the_import_page_and_template(personas, login, persona):
    client = login(personas[persona])
    before = snapshot()
    assert client.get(reverse("directory:import")).status_code == 404
    assert client.post(reverse("directory:import"),
                       {"file": upload(workbook())}).status_code == 404
    assert client.get(reverse("directory:import_template")).status_code == 404
    assert client.post(reverse("directory:import_template")).status_code == 404
    assert snapshot() == before


def test_an_anonymous_upload_is_sent_to_login_and_imports_nothing(client, world):
    before = snapshot()
    response = client.post(reverse("directory:import"), {"file": upload(workbook())})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert snapshot() == before


# -- County designation ------------------------------------------------------------------


@pytest.fixture
def plain_county(world):
    county = County.objects.get(code=XINGTANG[0])
    assert not county.deep_poverty
    return county


def test_the_office_designates_a_deep_poverty_county_and_it_is_logged(
    personas, login, plain_county
):
    response = login(personas["office"]).post(
        reverse("directory:county_designation", args=[plain_county.pk]),
        {"designated": "on", "note": "冀政字〔2017〕12号"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("directory:county_detail", args=[plain_county.pk])
    plain_county.refresh_from_db()
    assert plain_county.province_designated is True
    assert plain_county.deep_poverty is True
    assert plain_county.designation_note == "冀政字〔2017〕12号"
    entry = AuditEntry.objects.get(action="directory.county.designation_changed")
    assert entry.actor == personas["office"]
    assert entry.target_id == str(plain_county.pk)
    assert entry.data == {"old": {"designated": False, "note": ""},
                          "new": {"designated": True, "note": "冀政字〔2017〕12号"}}


def test_the_office_withdraws_a_designation_and_the_note_is_cleared(
    personas, login, plain_county
):
    plain_county.province_designated = True
    plain_county.designation_note = "旧文件"
    plain_county.save()
    login(personas["office"]).post(
        reverse("directory:county_designation", args=[plain_county.pk]), {"note": "ignored"})
    plain_county.refresh_from_db()
    assert plain_county.province_designated is False
    assert plain_county.designation_note == ""
    assert not plain_county.deep_poverty


def test_a_designation_without_a_note_is_refused_with_a_message(personas, login, plain_county):
    response = login(personas["office"]).post(
        reverse("directory:county_designation", args=[plain_county.pk]),
        {"designated": "on", "note": ""},
    )
    assert response.status_code == 302
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert messages == ["标记为深度贫困县时请填写认定依据。"]
    plain_county.refresh_from_db()
    assert plain_county.province_designated is False
    assert not AuditEntry.objects.filter(action="directory.county.designation_changed").exists()


@pytest.mark.parametrize("persona", ["province", "province_b", "unit", "working_group"])
def test_other_roles_cannot_designate_a_county(personas, login, world, persona):
    county = world["county_a"]  # in the province persona's own province
    before = county.province_designated
    response = login(personas[persona]).post(
        reverse("directory:county_designation", args=[county.pk]),
        {"designated": "on", "note": "自行认定"},
    )
    assert response.status_code == 404
    county.refresh_from_db()
    assert county.province_designated == before
    assert not AuditEntry.objects.filter(action="directory.county.designation_changed").exists()


def test_the_designation_page_refuses_get(personas, login, plain_county):
    response = login(personas["office"]).get(
        reverse("directory:county_designation", args=[plain_county.pk]))
    assert response.status_code == 405


def test_a_unit_that_took_part_in_another_round_keeps_its_category(world, office):
    """Its category decides which lead department reads its records in every round: next
    year's import may not hand 2017's reports to another lead department (a preparing
    round does not count); nothing of the workbook is imported."""
    from kaohe.rounds.services import round_copy

    new = round_copy(source=world["round"], year=2018, actor=office)
    unit_a = world["unit_a"]
    before = snapshot()
    other = Category.objects.exclude(pk=unit_a.category_id).first()
    result = import_units_and_pairings(
        data=workbook(units=[GOOD_UNITS[0], [unit_a.code, unit_a.name, other.name, "是"]],
                      pairings=[["U1001", *XINGTANG], [unit_a.code, *LINGSHOU]]),
        round=new, actor=office, file_name="2018.xlsx")
    problem = assert_problem_at(result, UNITS_SHEET, 3, "类别")
    assert "2017年度" in problem.message and other.name in problem.message
    assert snapshot() == before
    # The same unit renamed, its category kept: imported.
    result = import_units_and_pairings(
        data=workbook(units=[[unit_a.code, unit_a.name + "（更名）", unit_a.category.name, "是"]],
                      pairings=[[unit_a.code, *LINGSHOU]]),
        round=new, actor=office, file_name="2018.xlsx")
    assert result.ok, [str(p) for p in result.problems]
    # A unit whose only other round is still being prepared may move.
    newcomer = Unit.objects.create(code="P001", name="新单位", category=unit_a.category)
    Pairing.objects.create(round=new, unit=newcomer, county=County.objects.get(code=ZANHUANG[0]))
    result = import_units_and_pairings(
        data=workbook(units=[["P001", "新单位", other.name, "是"]], pairings=[]),
        round=world["round"], actor=office, file_name="2017.xlsx")
    assert result.ok, [str(p) for p in result.problems]
