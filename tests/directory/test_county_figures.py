"""County figures from the national information system (issue 20, item 4): the office
imports its export (CSV or Excel); a bad file is refused naming row and field, and nothing
is half-imported; the figures pre-fill indicator 1 for provinces and show to reviewers with
their source."""

import io

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from kaohe.audit.models import AuditEntry
from kaohe.directory import figures
from kaohe.directory.models import CountyFigure

HEADER = "县代码,年度,计划脱贫人口,实际脱贫人口,是否摘帽,贫困发生率（%）\n"


def _csv(*rows, header=HEADER, encoding="utf-8-sig"):
    return (header + "".join(row + "\n" for row in rows)).encode(encoding)


def _import(data, actor, name="export.csv"):
    return figures.import_county_figures(data=data, file_name=name, actor=actor)


def test_the_office_imports_a_csv_and_a_second_import_updates(personas, world):
    code_a, code_b = world["county_a"].code, world["county_b"].code
    result = _import(_csv(f"{code_a},2017,1200,1250,是,2.35", f"{code_b},2017,800,,否,"),
                     personas["office"])
    assert result.ok, result.problems
    assert (result.created, result.updated) == (2, 0)
    figure = CountyFigure.objects.get(county=world["county_a"], year=2017)
    assert (figure.planned_exit, figure.actual_exit, figure.exited) == (1200, 1250, True)
    assert str(figure.poverty_incidence) == "2.35"
    assert figure.source_file == "export.csv" and figure.imported_by == "office"
    other = CountyFigure.objects.get(county=world["county_b"], year=2017)
    assert other.actual_exit is None and other.exited is False
    result = _import(_csv(f"{code_a},2017,1200,1300,是,2.1"), personas["office"])
    assert (result.created, result.updated) == (0, 1)
    assert CountyFigure.objects.get(county=world["county_a"], year=2017).actual_exit == 1300
    assert AuditEntry.objects.filter(action="directory.county_figures.imported").count() == 2


def test_an_excel_export_imports_too(personas, world):
    book = Workbook()
    sheet = book.active
    sheet.append(["县代码", "年度", "计划脱贫人口", "实际脱贫人口", "是否摘帽", "贫困发生率（%）"])
    sheet.append([world["county_a"].code, 2017, 500, 520, "否", 4.5])
    buffer = io.BytesIO()
    book.save(buffer)
    result = _import(buffer.getvalue(), personas["office"], name="export.xlsx")
    assert result.ok, result.problems
    assert CountyFigure.objects.get(county=world["county_a"]).planned_exit == 500


@pytest.mark.parametrize(("row", "message"), [
    ("999999999999,2017,1,1,是,1", "第3行「县代码」列"),
    ("{a},二〇一七,1,1,是,1", "第3行「年度」列"),
    ("{a},2017,-5,1,是,1", "第3行「计划脱贫人口」列"),
    ("{a},2017,1,很多,是,1", "第3行「实际脱贫人口」列"),
    ("{a},2017,1,²,是,1", "第3行「实际脱贫人口」列"),  # a digit to str.isdigit, not to int
    ("{a},2017,1," + "9" * 5000 + ",是,1", "第3行「实际脱贫人口」列"),  # int() refuses it
    ("{a},２０１７,1,1,是,1", "第3行「年度」列"),  # full-width digits
    ("{a},2017,1,1,也许,1", "第3行「是否摘帽」列"),
    ("{a},2017,1,1,是,130", "第3行「贫困发生率（%）」列"),
    ("{b},2017,1,1,是,1", "第3行：与第2行重复"),
])
def test_a_bad_row_is_named_and_nothing_is_imported(personas, world, row, message):
    good = f"{world['county_b'].code},2017,10,10,否,1"
    bad = row.format(a=world["county_a"].code, b=world["county_b"].code)
    result = _import(_csv(good, bad), personas["office"])
    assert not result.ok
    assert any(message in str(p) for p in result.problems), [str(p) for p in result.problems]
    assert not CountyFigure.objects.exists()
    assert AuditEntry.objects.get(action="directory.county_figures.rejected").success is False


def test_a_wrong_header_or_an_unreadable_file_is_refused_in_chinese(personas, world):
    result = _import(_csv("x,2017", header="代码,年份\n"), personas["office"])
    assert "缺少此列" in str(result.problems[0]) and "县代码" in str(result.problems[0])
    result = _import(b"\x00\xff\xfe binary", personas["office"])
    assert not result.ok and "CSV" in str(result.problems[0])
    result = _import(b"PK\x03\x04 not really a zip", personas["office"], name="x.xlsx")
    assert not result.ok
    assert not CountyFigure.objects.exists()


def test_too_many_rows_are_refused(personas, world):
    rows = [f"{world['county_a'].code},{2000 + i % 30},1,1,是,1" for i in range(30)]
    result = figures.import_county_figures(data=_csv(*rows), file_name="big.csv",
                                           actor=personas["office"], max_rows=20)
    assert not result.ok and "20" in str(result.problems[0])
    assert not CountyFigure.objects.exists()


@pytest.mark.parametrize("persona", ["province", "working_group", "system_admin", "unit"])
def test_only_the_office_imports(personas, world, persona):
    with pytest.raises(PermissionDenied):
        _import(_csv(f"{world['county_a'].code},2017,1,1,是,1"), personas[persona])


def test_the_import_page_takes_a_file_and_names_the_errors(personas, world, login):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = login(personas["office"])
    url = reverse("directory:figures_import")
    assert client.get(url).status_code == 200
    bad = SimpleUploadedFile("e.csv", _csv(f"{world['county_a'].code},2017,x,1,是,1"))
    response = client.post(url, {"file": bad})
    assert response.status_code == 400
    assert "第2行「计划脱贫人口」列" in response.content.decode()
    good = SimpleUploadedFile("e.csv", _csv(f"{world['county_a'].code},2017,7,8,是,1"))
    response = client.post(url, {"file": good})
    assert response.status_code == 302
    assert CountyFigure.objects.get().planned_exit == 7


def test_figures_prefill_the_provinces_report_and_show_to_reviewers(personas, world, login):
    from tests.submissions.conftest import matrix_provincial_report

    _import(_csv(f"{world['county_a'].code},2017,4321,4400,是,1.25"), personas["office"])
    report = matrix_provincial_report(world, world["unit_a"], submitted=False)
    page = login(personas["province"]).get(
        reverse("submissions:provincial_report", kwargs={"pk": report.pk})).content.decode()
    assert 'value="4321"' in page and 'value="4400"' in page
    assert "全国扶贫开发信息系统" in page
    desk = login(personas["lead_reviewer"]).get(
        reverse("reviews:desk", kwargs={"unit_pk": world["unit_a"].pk})).content.decode()
    assert "全国扶贫开发信息系统" in desk and "4321" in desk


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cells=st.lists(st.text(max_size=12), min_size=6, max_size=6),
       raw=st.binary(max_size=200))
def test_any_row_or_any_bytes_give_an_answer_and_never_half_import(personas, world, cells, raw):
    """Whatever the file holds: either every row is right and all of it is imported, or a
    Chinese message names the problem and nothing is written (no exception either way)."""
    row = ",".join('"' + c.replace('"', '""') + '"' for c in cells)
    for data in (_csv(f"{world['county_b'].code},2017,1,1,是,1", row), raw):
        before = CountyFigure.objects.count()
        result = _import(data, personas["office"])
        if result.ok:
            assert CountyFigure.objects.count() >= before
        else:
            assert CountyFigure.objects.count() == before
            assert all(str(p) for p in result.problems)
