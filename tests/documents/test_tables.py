"""Excel tables: the round's progress, the ranking of a result set, the rectification tracker
and the offline entry workbooks. Content, header layout, the maker's mark, and scope."""

import datetime
import io

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from kaohe.directory.models import Pairing, Unit
from kaohe.documents import services
from kaohe.documents.base import get_exporter
from kaohe.documents.exporters.tables import RoundScope, progress_rows
from kaohe.grading import services as grading
from kaohe.grading.models import ResultSet
from kaohe.outcomes import services as outcomes
from kaohe.outcomes.models import ItemStatus, RectificationReport
from kaohe.rounds.models import Grade
from kaohe.submissions import offline
from kaohe.submissions import services as submissions
from kaohe.submissions.models import Extension
from tests.reviews.conftest import complete_review
from tests.submissions.conftest import matrix_provincial_report, matrix_self_report

OPEN_DAY = "2017-12-15"


def _book(data: bytes):
    return load_workbook(io.BytesIO(data))


def _values(sheet) -> list[list]:
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def _export(user, identifier, obj, round_):
    export, rendered = services.export_now(user, get_exporter(identifier), obj, "xlsx",
                                           round_=round_)
    assert rendered.file_name.endswith(".xlsx")
    return export, _book(rendered.data)


def _assert_layout(sheet, headers, widths: dict[str, float]):
    assert [cell.value for cell in sheet[1]] == headers
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet.freeze_panes == "A2"
    for column, width in widths.items():
        assert sheet.column_dimensions[column].width == width


def _assert_marked(workbook, user, export):
    props = workbook.properties
    assert props.keywords == f"{export.code};{user.username}"
    assert props.identifier == export.code and props.lastModifiedBy == user.username
    for sheet in workbook.worksheets:
        header = sheet.oddHeader.center.text
        assert export.code in header and user.username in header


def _refused(identifier, personas, persona, round_, key):
    exporter = get_exporter(identifier)
    assert not list(exporter.objects_for(personas[persona], round_))
    with pytest.raises(Http404):
        exporter.get_object(personas[persona], round_, key)


# Progress -------------------------------------------------------------------------------------


@pytest.fixture
def progress_world(world, personas):
    """unit_a submitted with its province's report and a complete review; unit_b a draft."""
    round_ = world["round"]
    matrix_self_report(world, world["unit_a"])
    matrix_self_report(world, world["unit_b"], submitted=False)
    matrix_provincial_report(world, world["unit_a"])
    complete_review(round_, world["unit_a"], personas["lead_reviewer"])
    return world


def test_progress_table_lists_every_unit_with_its_state(progress_world, personas):
    round_, user = progress_world["round"], personas["office"]
    exporter = get_exporter("progress_table")
    scope = exporter.get_object(user, round_, "2017")
    export, workbook = _export(user, "progress_table", scope, round_)
    assert export.file_name == "考核进度表-2017年度.xlsx"
    sheet = workbook["考核进度"]
    _assert_layout(sheet, [
        "单位编码", "单位名称", "类别", "牵头部门", "自评报告状态", "自评报告提交时间",
        "省级报告已收到", "省级报告应收到", "分类考核状态", "已评定考核内容", "考核子报告",
        "突出问题", "重大涉贫事件", "类别初步结果",
    ], {"B": 30, "F": 17})
    rows = {row[0]: row for row in _values(sheet)[1:] if row[0] in {"A001", "B001", "M001"}}
    a, b, army = rows["A001"], rows["B001"], rows["M001"]
    assert a[1:3] == ["测试单位甲", progress_world["unit_a"].category.name]
    assert a[4] == "已提交" and isinstance(a[5], datetime.datetime)
    assert a[6:12] == [1, 1, "已完成", "6/6", "已完成", 0]
    assert a[13] == "未报送"
    assert b[4] == "填报中" and b[5] is None and b[6:11] == [0, 1, "未开始", "0/6", "未完成"]
    assert army[8:11] == ["检查督导（不评定等次）", "—", "—"]
    _assert_marked(workbook, user, export)


def test_progress_queries_do_not_grow_with_units(progress_world, personas):
    round_ = progress_world["round"]
    scope = RoundScope(round_, Unit.objects.all())
    with CaptureQueriesContext(connection) as few:
        assert len(progress_rows(scope)) == 3
    category = progress_world["unit_a"].category
    for n in range(5):
        unit = Unit.objects.create(code=f"A10{n}", name=f"加测单位{n}", category=category)
        Pairing.objects.create(round=round_, unit=unit, county=progress_world["county_a"])
    with CaptureQueriesContext(connection) as many:
        assert len(progress_rows(scope)) == 8
    assert len(many.captured_queries) == len(few.captured_queries)


@pytest.mark.parametrize("persona", ["lead_reviewer", "org_department", "unit", "province",
                                     "auditor"])
def test_progress_table_is_for_the_office_and_the_two_groups(world, personas, persona):
    _refused("progress_table", personas, persona, world["round"], "2017")
    exporter = get_exporter("progress_table")
    for allowed in ("office", "working_group", "leading_group"):
        assert exporter.get_object(personas[allowed], world["round"], "2017").round == world[
            "round"]
    with pytest.raises(Http404):
        exporter.get_object(personas["office"], world["round"], "2016")


# Ranking ----------------------------------------------------------------------------------------


def test_ranking_table_has_the_ranking_final_grades_and_decisions(approved, personas, world):
    wg = personas["working_group"]
    # One 好 place out of two units, so that A001 is 好 and can be lowered (section 七
    # allows lowering with a reason, never raising above the position's grade).
    round_ = world["round"]
    method = {**round_.method,
              "shares": {**round_.method["shares"], "good": "0.5", "fairly_good": "0.5"}}
    type(round_).objects.filter(pk=round_.pk).update(method=method)
    round_.refresh_from_db()
    draft = grading.result_set_compute(round=round_, actor=wg)
    grading.decision_record(result_set=draft, unit_code="A001", grade="fairly_good",
                            reason="综合考虑调研情况", actor=wg)
    exporter = get_exporter("ranking_table")
    assert set(exporter.objects_for(personas["office"], world["round"])) == {approved, draft}
    export, workbook = _export(wg, "ranking_table", exporter.get_object(
        wg, world["round"], str(draft.pk)), world["round"])
    assert export.file_name == "排名与等次建议表-2017年度第2版.xlsx"
    sheet = workbook["排名与等次"]
    _assert_layout(sheet, [
        "名次", "位次", "单位编码", "单位名称", "类别", "帮扶成效", "组织领导", "选派干部",
        "督促检查", "基层满意情况", "工作创新", "得分", "计算等次", "最终等次", "等次确定与调整",
        "说明", "提示",
    ], {"D": 28, "P": 60})
    rows = _values(sheet)[1:]
    assert [row[2] for row in rows] == ["A001", "B001"]
    a, b = rows
    assert a[:4] == [1, 1, "A001", "测试单位甲"] and a[5:11] == ["好"] * 6
    # The engine says 好, the working group lowered it to 较好 with its reason.
    assert a[12:14] == ["好", "较好"] and "综合考虑调研情况" in a[14] and "好→较好" in a[14]
    assert "得分" in a[15]
    assert b[3] == "测试单位乙" and b[5:11] == ["一般"] * 6 and b[12:14] == ["较差", "较差"]
    assert b[14] is None
    about = dict(_values(workbook["版本说明"])[1:])
    assert about["版本"] == "第2版" and about["封存校验值"] == "尚未审定，未封存"
    _assert_marked(workbook, wg, export)


def test_ranking_table_flags_a_broken_seal(approved, personas, world):
    outputs = approved.outputs
    outputs["results"][0]["score"] = 999
    ResultSet.objects.filter(pk=approved.pk).update(outputs=outputs)
    approved.refresh_from_db()
    workbook = _book(get_exporter("ranking_table").render("xlsx", approved, None).data)
    about = dict(_values(workbook["版本说明"])[1:])
    assert about["状态"] == "已审定" and "校验失败" in about["封存校验值"]


@pytest.mark.parametrize("persona", ["lead_reviewer", "org_department", "military_inspector",
                                     "unit", "unit_b", "province", "auditor"])
def test_the_ranking_is_internal_to_the_office_and_the_two_groups(approved, personas, world,
                                                                  persona):
    _refused("ranking_table", personas, persona, world["round"], str(approved.pk))


# Rectification -----------------------------------------------------------------------------------


@pytest.fixture
def rectifying(released, personas, world, settings):
    """unit_b's rectification report with its items, one measure written; unit_a has none."""
    settings.KAOHE_TODAY = "2018-03-01"
    report = outcomes.rectification_for(round=world["round"], unit=world["unit_b"])
    first = report.items.order_by("order").first()
    outcomes.rectification_save(report=report, actor=personas["unit_b"], summary="整改中",
                                items={first.pk: {"measures": "已追加拨付资金",
                                                  "status": ItemStatus.IN_PROGRESS}})
    # A decision left from before (items are reviewed only once the report is submitted,
    # which this one is not): set as stored, for the table to show.
    report.items.filter(pk=report.items.order_by("order").last().pk).update(
        status=ItemStatus.NOT_ACCEPTED, review_note="未见成效",
        reviewed_by=personas["lead_reviewer_b"])
    return report


def test_rectification_tracker_lists_items_and_overdue_units(rectifying, personas, world,
                                                             settings):
    settings.KAOHE_TODAY = "2018-04-10"  # the rectification step closed on 2018-03-31
    step = world["round"].steps.get(code="rectification")
    Extension.objects.create(step=step, unit=world["unit_a"], until="2018-04-30",
                             reason="机构调整", granted_by=personas["office"])
    user = personas["office"]
    exporter = get_exporter("rectification_tracker")
    scope = exporter.get_object(user, world["round"], "2017")
    export, workbook = _export(user, "rectification_tracker", scope, world["round"])
    sheet = workbook["整改情况"]
    _assert_layout(sheet, [
        "单位编码", "单位名称", "类别", "序号", "来源", "问题或建议", "整改措施", "佐证材料",
        "状态", "审核意见", "报送时间", "报送截止", "是否逾期",
    ], {"B": 28, "F": 40})
    rows = _values(sheet)[1:]
    a_rows = [row for row in rows if row[0] == "A001"]
    b_rows = [row for row in rows if row[0] == "B001"]
    assert len(a_rows) == 1 and a_rows[0][5] == "尚未报送整改报告"
    assert a_rows[0][11] == datetime.datetime(2018, 4, 30) and a_rows[0][12] == "否"
    # unit_b's draft is its own: one row that says nothing came in, and it is late.
    assert [(r[5], r[12]) for r in b_rows] == [("尚未报送整改报告", "是")]
    _assert_marked(workbook, user, export)
    # Submitted (late, as stored), its items are listed.
    submitted = datetime.datetime(2018, 4, 8, 9, 30, tzinfo=datetime.UTC)
    RectificationReport.objects.filter(pk=rectifying.pk).update(submitted_at=submitted)
    export, workbook = _export(user, "rectification_tracker", scope, world["round"])
    b_rows = [row for row in _values(workbook["整改情况"])[1:] if row[0] == "B001"]
    assert [(r[3], r[4], r[5]) for r in b_rows] == [
        (1, "突出问题与不足", "帮扶资金到位慢"), (2, "突出问题与不足", "干部选派不足"),
        (3, "意见建议", "加大资金投入")]
    assert b_rows[0][6] == "已追加拨付资金" and b_rows[0][8] == "整改中"
    assert b_rows[2][8] == "整改不到位" and b_rows[2][9] == "未见成效"
    assert all(r[10] is not None and r[12] == "否" for r in b_rows)


def test_a_lead_department_tracks_only_its_own_units(rectifying, personas, world):
    exporter = get_exporter("rectification_tracker")

    def codes(persona):
        scope = exporter.get_object(personas[persona], world["round"], "2017")
        sheet = _book(exporter.render("xlsx", scope, None).data)["整改情况"]
        return {row[0] for row in _values(sheet)[1:]}

    own = exporter.get_object(personas["lead_reviewer_b"], world["round"], "2017")
    assert exporter.describe(own) == f"2017年度（{world['lead_b'].name}）"
    assert codes("lead_reviewer_b") == {"B001"}
    assert codes("lead_reviewer") == {"A001"}
    assert codes("office") == {"A001", "B001"}
    for persona in ("unit", "unit_b", "province", "working_group", "org_department"):
        _refused("rectification_tracker", personas, persona, world["round"], "2017")


# Offline entry workbooks ------------------------------------------------------------------------


def test_a_unit_gets_its_own_offline_workbook_marked_and_it_still_imports(world, personas,
                                                                         settings):
    settings.KAOHE_TODAY = OPEN_DAY
    user = personas["unit"]
    report = submissions.self_report_for(round=world["round"], unit=world["unit_a"])
    exporter = get_exporter("offline_templates")
    assert list(exporter.objects_for(user, world["round"])) == [report]
    key = exporter.object_key(report)
    assert key == f"self-{report.pk}"
    export, workbook = _export(user, "offline_templates", exporter.get_object(
        user, world["round"], key), world["round"])
    assert export.file_name == "2017-自评报告-A001.xlsx"
    assert workbook.sheetnames[:2] == [offline.SELF_SHEET, offline.SUMMARY_SHEET]
    _assert_layout(workbook[offline.SELF_SHEET], offline.SELF_COLUMNS, {"G": 80})
    _assert_marked(workbook, user, export)
    # Filled in offline and uploaded again, the marked workbook imports as the plain one does.
    sheet = workbook[offline.SELF_SHEET]
    numbers = [cell.value for cell in sheet["B"]]
    sheet.cell(numbers.index(4) + 1, 7, "离线填写的年度计划")
    buffer = io.BytesIO()
    workbook.save(buffer)
    report.refresh_from_db()
    offline.self_report_import(report=report, data=buffer.getvalue(), actor=user,
                               revision=report.revision)
    assert report.answers.get(indicator__number=4).text == "离线填写的年度计划"


def test_a_province_gets_its_own_provincial_workbook(world, personas):
    user = personas["province"]
    report = submissions.provincial_report_for(round=world["round"], province=world["province_a"],
                                               unit=world["unit_a"])
    exporter = get_exporter("offline_templates")
    assert list(exporter.objects_for(user, world["round"])) == [report]
    export, workbook = _export(user, "offline_templates", exporter.get_object(
        user, world["round"], f"provincial-{report.pk}"), world["round"])
    assert export.file_name == f"2017-省级总结-{world['province_a'].code}-A001.xlsx"
    rows = _values(workbook[offline.OUTCOME_SHEET])
    assert rows[0] == offline.OUTCOME_COLUMNS and rows[1][:2] == [world["county_a"].code,
                                                                  world["county_a"].name]
    _assert_marked(workbook, user, export)


def test_offline_workbooks_only_for_their_own_unit_or_province(world, personas):
    round_ = world["round"]
    own = submissions.self_report_for(round=round_, unit=world["unit_a"])
    provincial = submissions.provincial_report_for(round=round_, province=world["province_a"],
                                                   unit=world["unit_a"])
    exporter = get_exporter("offline_templates")
    for persona in ("unit_b", "province", "province_b", "office", "lead_reviewer"):
        with pytest.raises(Http404):
            exporter.get_object(personas[persona], round_, f"self-{own.pk}")
    for persona in ("unit", "province_b", "office", "lead_reviewer"):
        with pytest.raises(Http404):
            exporter.get_object(personas[persona], round_, f"provincial-{provincial.pk}")
    for persona in ("office", "working_group", "lead_reviewer", "auditor"):
        assert list(exporter.objects_for(personas[persona], round_)) == []
    for key in ("", "self", f"provincial-{own.pk}x", f"other-{own.pk}"):
        with pytest.raises(Http404):
            exporter.get_object(personas["unit"], round_, key)


def test_grades_do_not_feed_the_tables_of_units(world, personas):
    """A unit's own grades stay internal: no table offers a unit anything with grades."""
    complete_review(world["round"], world["unit_a"], personas["lead_reviewer"], Grade.GOOD)
    for identifier in ("progress_table", "ranking_table", "rectification_tracker"):
        for persona in ("unit", "province"):
            assert not list(get_exporter(identifier).objects_for(personas[persona],
                                                                 world["round"]))
