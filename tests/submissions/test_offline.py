"""The offline Excel round trip: download the workbook, fill it, upload it.

A workbook with any error imports nothing, and every error names its sheet, row and column.
"""

import datetime
import io

import pytest
from openpyxl import Workbook, load_workbook

from kaohe.rounds.models import Grade
from kaohe.submissions import offline, services
from kaohe.submissions.models import ReportStatus

from .conftest import attach_approval, slot_key


def _book(data: bytes):
    return load_workbook(io.BytesIO(data))


def _bytes(wb) -> bytes:
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _col(ws, header):
    return [c.value for c in ws[1]].index(header) + 1


def _state(report):
    report.refresh_from_db()
    return (report.revision, report.summary,
            sorted(report.answers.values_list("indicator__number", "county_id", "text")))


# Self-report ---------------------------------------------------------------------------


@pytest.fixture
def self_book(two_counties, report_a):
    """The downloaded workbook with every 工作情况 cell filled."""
    wb = _book(offline.self_report_workbook(report_a))
    ws = wb[offline.SELF_SHEET]
    text_col = _col(ws, "工作情况")
    for row in range(2, ws.max_row + 1):
        number = ws.cell(row, _col(ws, "指标序号")).value
        code = ws.cell(row, _col(ws, "县代码")).value or "-"
        ws.cell(row, text_col, f"离线填写：指标{number}/{code}")
    wb[offline.SUMMARY_SHEET]["A2"] = "离线填写的工作总结"
    return wb


def _import_self(report, user, wb_or_bytes):
    data = wb_or_bytes if isinstance(wb_or_bytes, bytes) else _bytes(wb_or_bytes)
    report.refresh_from_db()
    return offline.self_report_import(report=report, data=data, actor=user,
                                      revision=report.revision)


def test_the_workbook_lists_every_slot_with_its_text(two_counties, personas, report_a):
    services.self_report_save(report=report_a, actor=personas["unit"],
                              revision=report_a.revision,
                              answers={slot_key(two_counties["round"], 4): "已有的内容"})
    ws = _book(offline.self_report_workbook(report_a))[offline.SELF_SHEET]
    assert [c.value for c in ws[1]] == offline.SELF_COLUMNS
    rows = [(r[1], r[3] or None) for r in ws.iter_rows(min_row=2, values_only=True)]
    slots = [(s.indicator.number, s.county.code if s.county else None)
             for s in services.self_report_slots(report_a)]
    assert rows == slots
    texts = {r[1]: r[6] for r in ws.iter_rows(min_row=2, values_only=True)}
    assert texts[4] == "已有的内容"


def test_a_filled_workbook_saves_every_text_and_the_summary(two_counties, personas, report_a,
                                                            self_book):
    _import_self(report_a, personas["unit"], self_book)
    report_a.refresh_from_db()
    assert report_a.summary == "离线填写的工作总结"
    slots = services.self_report_slots(report_a)
    answers = {(a.indicator.number, a.county.code if a.county else "-"): a.text
               for a in report_a.answers.select_related("indicator", "county")}
    assert len(answers) == len(slots) == 17
    for (number, code), text in answers.items():
        assert text == f"离线填写：指标{number}/{code}"
    assert services.self_report_gaps(report_a)  # evidence is still owed


def test_a_blank_cell_clears_the_text(world, personas, report_a):
    key = slot_key(world["round"], 4)
    services.self_report_save(report=report_a, actor=personas["unit"],
                              revision=report_a.revision, answers={key: "旧内容"})
    wb = _book(offline.self_report_workbook(report_a))
    ws = wb[offline.SELF_SHEET]
    for row in range(2, ws.max_row + 1):
        if ws.cell(row, 2).value == 4:
            ws.cell(row, _col(ws, "工作情况")).value = None
    _import_self(report_a, personas["unit"], wb)
    assert report_a.answers.get(indicator__number=4).text == ""


def test_an_import_on_a_stale_revision_is_a_conflict(world, personas, report_a, self_book):
    stale = report_a.revision
    services.self_report_save(report=report_a, actor=personas["unit"], revision=stale,
                              answers={slot_key(world["round"], 4): "网上改的"})
    with pytest.raises(services.ConflictError):
        offline.self_report_import(report=report_a, data=_bytes(self_book),
                                   actor=personas["unit"], revision=stale)
    assert report_a.answers.get().text == "网上改的"


def _row_of(ws, number, code=None):
    for row in range(2, ws.max_row + 1):
        if ws.cell(row, 2).value == number and (ws.cell(row, 4).value or None) == code:
            return row
    raise AssertionError((number, code))


def _break_unknown_indicator(wb, world):
    ws = wb[offline.SELF_SHEET]
    row = _row_of(ws, 13)
    ws.cell(row, 2, 99)
    return rf"「自评报告」表第{row}行「指标序号」列：指标99不是本单位"


def _break_county_not_paired(wb, world):
    ws = wb[offline.SELF_SHEET]
    row = _row_of(ws, 3, world["county_a"].code)
    ws.cell(row, 4, world["county_b"].code)
    return rf"「自评报告」表第{row}行「县代码」列：指标3（县代码{world['county_b'].code}）"


def _break_duplicate(wb, world):
    ws = wb[offline.SELF_SHEET]
    first = _row_of(ws, 4)
    ws.append([c.value for c in ws[first]])
    return rf"「自评报告」表第{ws.max_row}行「指标序号」列：与第{first}行重复"


def _break_not_a_number(wb, world):
    ws = wb[offline.SELF_SHEET]
    row = _row_of(ws, 5)
    ws.cell(row, 2, "五")
    return rf"「自评报告」表第{row}行「指标序号」列：「五」不是指标序号"


def _break_missing_column(wb, world):
    ws = wb[offline.SELF_SHEET]
    ws.cell(1, _col(ws, "工作情况"), "说明")
    return r"「自评报告」表第1行「工作情况」列：缺少此列"


def _break_missing_sheet(wb, world):
    wb[offline.SELF_SHEET].title = "Sheet1"
    return r"「自评报告」表：缺少此工作表"


def _break_too_long(wb, world):
    ws = wb[offline.SELF_SHEET]
    row = _row_of(ws, 9)
    ws.cell(row, _col(ws, "工作情况"), "字" * (services.MAX_ANSWER_CHARS + 1))
    return rf"「自评报告」表第{row}行「工作情况」列：超过"


@pytest.mark.parametrize("breaker", [
    _break_unknown_indicator, _break_county_not_paired, _break_duplicate, _break_not_a_number,
    _break_missing_column, _break_missing_sheet, _break_too_long,
], ids=lambda f: f.__name__.removeprefix("_break_"))
def test_a_bad_self_report_workbook_names_the_cell_and_imports_nothing(
        world, personas, report_a, self_book, breaker):
    expected = breaker(self_book, world)
    before = _state(report_a)
    with pytest.raises(offline.OfflineImportError, match=expected):
        _import_self(report_a, personas["unit"], self_book)
    assert _state(report_a) == before
    assert report_a.summary == ""  # not even the good summary sheet


@pytest.mark.parametrize("data", [
    b"not a workbook", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", "指标序号,工作情况\n3,内容\n".encode(),
    b"PK\x03\x04broken zip",
])
def test_a_file_that_is_not_an_xlsx_is_refused(world, personas, report_a, data):
    before = _state(report_a)
    with pytest.raises(offline.OfflineImportError, match="无法读取该文件"):
        _import_self(report_a, personas["unit"], data)
    assert _state(report_a) == before


def test_every_problem_of_a_workbook_is_reported_at_once(world, personas, report_a, self_book):
    first = _break_unknown_indicator(self_book, world)
    second = _break_not_a_number(self_book, world)
    with pytest.raises(offline.OfflineImportError) as info:
        _import_self(report_a, personas["unit"], self_book)
    assert len(info.value.problems) == 2
    message = str(info.value)
    assert first.split("：")[0] in message and second.split("：")[0] in message


def test_a_number_typed_as_a_decimal_still_matches(world, personas, report_a):
    wb = _book(offline.self_report_workbook(report_a))
    ws = wb[offline.SELF_SHEET]
    row = _row_of(ws, 4)
    ws.cell(row, 2, 4.0)
    ws.cell(row, _col(ws, "工作情况"), "小数序号")
    _import_self(report_a, personas["unit"], wb)
    assert report_a.answers.get(indicator__number=4).text == "小数序号"


def test_a_submitted_report_cannot_be_imported(world, personas, report_a, self_book):
    services.self_report_submit(report=report_a, actor=personas["unit"],
                                revision=report_a.revision, confirm_gaps=True)
    with pytest.raises(services.LockedError):
        _import_self(report_a, personas["unit"], self_book)
    assert not report_a.answers.exists()


# Provincial report ---------------------------------------------------------------------


@pytest.fixture
def prov_report(world):
    return services.provincial_report_for(round=world["round"], province=world["province_a"],
                                          unit=world["unit_a"])


@pytest.fixture
def prov_book(prov_report):
    """The downloaded provincial workbook, filled in completely."""
    wb = _book(offline.provincial_report_workbook(prov_report))
    ws = wb[offline.OUTCOME_SHEET]
    assert [c.value for c in ws[1]] == offline.OUTCOME_COLUMNS
    assert ws.max_row == 2
    for header, value in [("计划脱贫人口", 1200), ("实际脱贫人口", "1250"), ("当年摘帽", "否"),
                          ("完成年度脱贫攻坚任务", "是"), ("对中央单位帮扶工作的满意情况", "好"),
                          ("对挂职扶贫干部工作的满意情况", "较好"), ("说明", "按期完成")]:
        ws.cell(2, _col(ws, header), value)
    overall = wb[offline.OVERALL_SHEET]
    rows = {overall.cell(r, 1).value: r for r in range(2, overall.max_row + 1)}
    for label, value in [("中央单位在本地开展定点扶贫情况", "帮扶力度大"), ("评价等次意见", "好"),
                         ("等次意见理由", "成效显著"),
                         ("省级领导小组审定日期", datetime.datetime(2017, 12, 28)),
                         ("审定文件或会议", "省扶贫开发领导小组会议")]:
        overall.cell(rows[label], 2, value)
    return wb


def _import_prov(report, user, wb_or_bytes):
    data = wb_or_bytes if isinstance(wb_or_bytes, bytes) else _bytes(wb_or_bytes)
    report.refresh_from_db()
    return offline.provincial_report_import(report=report, data=data, actor=user,
                                            revision=report.revision)


def _prov_state(report):
    report.refresh_from_db()
    return (report.revision, report.work_text, report.recommended_grade, report.approved_on,
            list(report.outcomes.values("planned_exit", "actual_exit", "county_exited",
                                        "plan_met", "satisfaction_unit",
                                        "satisfaction_cadres", "note")))


def test_a_good_provincial_workbook_fills_outcomes_and_overall_fields(world, personas,
                                                                      prov_report, prov_book):
    _import_prov(prov_report, personas["province"], prov_book)
    prov_report.refresh_from_db()
    assert prov_report.work_text == "帮扶力度大"
    assert prov_report.recommended_grade == Grade.GOOD
    assert prov_report.recommendation_reason == "成效显著"
    assert prov_report.approved_on == datetime.date(2017, 12, 28)
    assert prov_report.approval_reference == "省扶贫开发领导小组会议"
    outcome = prov_report.outcomes.get()
    assert (outcome.planned_exit, outcome.actual_exit, outcome.county_exited,
            outcome.plan_met) == (1200, 1250, False, True)
    assert (outcome.satisfaction_unit, outcome.satisfaction_cadres, outcome.note) == (
        Grade.GOOD, Grade.FAIRLY_GOOD, "按期完成")
    attach_approval(prov_report, personas["province"])
    services.provincial_report_submit(report=prov_report, actor=personas["province"],
                                      revision=prov_report.revision)
    prov_report.refresh_from_db()
    assert prov_report.status == ReportStatus.SUBMITTED


def test_the_provincial_workbook_round_trips_what_was_saved(world, personas, prov_report,
                                                            prov_book):
    _import_prov(prov_report, personas["province"], prov_book)
    before = _prov_state(prov_report)
    downloaded = offline.provincial_report_workbook(prov_report)
    _import_prov(prov_report, personas["province"], downloaded)
    after = _prov_state(prov_report)
    assert after[1:] == before[1:]


def test_a_date_typed_as_text_is_accepted(world, personas, prov_report, prov_book):
    overall = prov_book[offline.OVERALL_SHEET]
    overall.cell(5, 2, "2017/12/29")
    _import_prov(prov_report, personas["province"], prov_book)
    prov_report.refresh_from_db()
    assert prov_report.approved_on == datetime.date(2017, 12, 29)


def _set_outcome(header, value):
    def breaker(wb, world):
        ws = wb[offline.OUTCOME_SHEET]
        ws.cell(2, _col(ws, header), value)
        return rf"「县级情况」表第2行「{header}」列"
    breaker.__name__ = f"{header}={value}"
    return breaker


def _unknown_county(wb, world):
    wb[offline.OUTCOME_SHEET].cell(2, 1, world["county_b"].code)
    return rf"「县级情况」表第2行「县代码」列：「{world['county_b'].code}」不是本报告的县"


def _duplicate_county(wb, world):
    ws = wb[offline.OUTCOME_SHEET]
    ws.append([c.value for c in ws[2]])
    return r"「县级情况」表第3行「县代码」列：与第2行重复"


def _bad_date(wb, world):
    wb[offline.OVERALL_SHEET].cell(5, 2, "2017年13月")
    return r"「总体意见」表第5行「内容」列：「2017年13月」不是日期"


def _bad_overall_grade(wb, world):
    wb[offline.OVERALL_SHEET].cell(3, 2, "优秀")
    return r"「总体意见」表第3行「内容」列：「优秀」不是等次"


def _missing_overall_row(wb, world):
    wb[offline.OVERALL_SHEET].delete_rows(3)
    return r"「总体意见」表「项目」列：缺少「评价等次意见」一行"


def _missing_overall_sheet(wb, world):
    del wb[offline.OVERALL_SHEET]
    return r"「总体意见」表：缺少此工作表"


def _missing_outcome_sheet(wb, world):
    del wb[offline.OUTCOME_SHEET]
    return r"「县级情况」表：缺少此工作表"


def _missing_outcome_column(wb, world):
    ws = wb[offline.OUTCOME_SHEET]
    ws.delete_cols(_col(ws, "完成年度脱贫攻坚任务"))
    return r"「县级情况」表第1行「完成年度脱贫攻坚任务」列：缺少此列"


def _overall(name, label, value, expected):
    def breaker(wb, world):
        overall = wb[offline.OVERALL_SHEET]
        rows = {overall.cell(r, 1).value: r for r in range(2, overall.max_row + 1)}
        overall.cell(rows[label], 2, value)
        return rf"「总体意见」表第{rows[label]}行「内容」列：{expected}"
    breaker.__name__ = name
    return breaker


@pytest.mark.parametrize("breaker", [
    _set_outcome("对中央单位帮扶工作的满意情况", "很好"),
    _set_outcome("对挂职扶贫干部工作的满意情况", "good"),
    _set_outcome("完成年度脱贫攻坚任务", "也许"),
    _set_outcome("当年摘帽", "未定"),
    _set_outcome("计划脱贫人口", -5),
    _set_outcome("实际脱贫人口", "一千"),
    _set_outcome("实际脱贫人口", 12.5),
    _unknown_county, _duplicate_county, _bad_date, _bad_overall_grade, _missing_overall_row,
    _missing_overall_sheet, _missing_outcome_sheet, _missing_outcome_column,
    # The web form's limits (kaohe.submissions.services.provincial), named by cell.
    _overall("long_work_text", "中央单位在本地开展定点扶贫情况", "长" * 20001, "超过20000字"),
    _overall("long_reason", "等次意见理由", "长" * 5001, "超过5000字"),
    _overall("long_reference", "审定文件或会议", "会" * 201, "超过200字"),
], ids=lambda f: f.__name__.lstrip("_"))
def test_a_bad_provincial_workbook_names_the_cell_and_imports_nothing(
        world, personas, prov_report, prov_book, breaker):
    expected = breaker(prov_book, world)
    before = _prov_state(prov_report)
    with pytest.raises(offline.OfflineImportError, match=expected):
        _import_prov(prov_report, personas["province"], prov_book)
    assert _prov_state(prov_report) == before
    assert prov_report.work_text == ""


def test_a_note_beyond_the_forms_limit_names_its_cell_and_imports_nothing(
        world, personas, prov_report, prov_book):
    ws = prov_book[offline.OUTCOME_SHEET]
    ws.cell(2, _col(ws, "说明"), "注" * 5001)
    before = _prov_state(prov_report)
    with pytest.raises(offline.OfflineImportError,
                       match=r"「县级情况」表第2行「说明」列：超过5000字"):
        _import_prov(prov_report, personas["province"], prov_book)
    assert _prov_state(prov_report) == before


def test_texts_at_the_forms_limits_are_imported_whole(world, personas, prov_report, prov_book):
    overall = prov_book[offline.OVERALL_SHEET]
    rows = {overall.cell(r, 1).value: r for r in range(2, overall.max_row + 1)}
    overall.cell(rows["中央单位在本地开展定点扶贫情况"], 2, "长" * 20000)
    overall.cell(rows["等次意见理由"], 2, "理" * 5000)
    ws = prov_book[offline.OUTCOME_SHEET]
    ws.cell(2, _col(ws, "说明"), "注" * 5000)
    _import_prov(prov_report, personas["province"], prov_book)
    prov_report.refresh_from_db()
    assert prov_report.work_text == "长" * 20000
    assert prov_report.recommendation_reason == "理" * 5000
    assert prov_report.outcomes.get().note == "注" * 5000


def test_a_provincial_upload_that_is_not_an_xlsx_is_refused(world, personas, prov_report):
    before = _prov_state(prov_report)
    with pytest.raises(offline.OfflineImportError, match="「县级情况」表：无法读取该文件"):
        _import_prov(prov_report, personas["province"], b"\x00\x01garbage")
    assert _prov_state(prov_report) == before


def test_an_empty_workbook_reports_the_missing_sheets(world, personas, prov_report):
    with pytest.raises(offline.OfflineImportError) as info:
        _import_prov(prov_report, personas["province"], _bytes(Workbook()))
    message = str(info.value)
    assert "「县级情况」表：缺少此工作表" in message and "「总体意见」表：缺少此工作表" in message


def test_the_provincial_workbook_round_trips_for_an_english_speaking_user(world, personas,
                                                                          prov_report,
                                                                          prov_book):
    from django.utils import translation

    _import_prov(prov_report, personas["province"], prov_book)
    before = _prov_state(prov_report)
    with translation.override("en"):
        downloaded = offline.provincial_report_workbook(prov_report)
        _import_prov(prov_report, personas["province"], downloaded)
    assert _prov_state(prov_report)[1:] == before[1:]
