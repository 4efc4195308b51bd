"""Offline round-trip of the reports as Excel workbooks.

A county office may have no network when it writes its report: it downloads the
workbook, fills it and uploads it. The upload is checked whole first; any error names
its sheet, row and column, and a workbook with any error changes nothing.

Its length (over 400 lines) is one format: writing the workbook and reading it back share
the sheet layout, so they stay together.
"""

import datetime
from contextlib import contextmanager
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import models
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from kaohe.grading.vocabulary import AREA_GRADES, grade_label
from kaohe.lib.spreadsheets import workbook_bytes, write_row
from kaohe.lib.xlsx_reading import WorkbookLimits, WorkbookRefused, open_workbook
from kaohe.submissions.models import CountyOutcome, ProvincialReport
from kaohe.submissions.services.errors import SubmissionError
from kaohe.submissions.services.provincial import TEXT_LIMITS, provincial_report_save
from kaohe.submissions.services.self_report import MAX_ANSWER_CHARS, self_report_save
from kaohe.submissions.services.slots import self_report_slots

SELF_SHEET = "自评报告"
SUMMARY_SHEET = "工作总结"
SELF_COLUMNS = ["考核内容", "指标序号", "考核指标", "县代码", "定点扶贫县", "评价依据", "工作情况"]
# What the import takes from the sheet; the other columns are there to be read by people.
SELF_USED = ["指标序号", "县代码", "工作情况"]
OUTCOME_SHEET = "县级情况"
OUTCOME_COLUMNS = ["县代码", "县名称", "计划脱贫人口", "实际脱贫人口", "当年摘帽",
                   "完成年度脱贫攻坚任务", "对中央单位帮扶工作的满意情况",
                   "对挂职扶贫干部工作的满意情况", "说明"]
OVERALL_SHEET = "总体意见"
OVERALL_ROWS = ["中央单位在本地开展定点扶贫情况", "评价等次意见", "等次意见理由",
                "省级领导小组审定日期", "审定文件或会议"]
# The workbook speaks the official Chinese grade names whatever the user's language, so a
# file downloaded in English can be uploaded again.
_GRADE_BY_LABEL = {grade.label: grade.value for grade in AREA_GRADES}
_YES = {"是", "yes", "y", "true", "1"}
_NO = {"否", "no", "n", "false", "0"}
_HEADER = (Font(bold=True), PatternFill("solid", fgColor="DDEBF7"))
# The approval reference's column (and the web form's limit).
_REFERENCE_MAX = ProvincialReport._meta.get_field("approval_reference").max_length


@dataclass(frozen=True)
class CellProblem:
    sheet: str
    row: int | None
    column: str | None
    message: str

    def __str__(self):
        where = f"「{self.sheet}」表"
        if self.row:
            where += f"第{self.row}行"
        if self.column:
            where += f"「{self.column}」列"
        return f"{where}：{self.message}"


class OfflineImportError(SubmissionError):
    def __init__(self, problems):
        self.problems = problems
        shown = "；".join(str(p) for p in problems[:20])
        if len(problems) > 20:
            shown += f"；……共{len(problems)}处"
        super().__init__(shown)


def _style_header(ws, widths):
    for cell in ws[1]:
        cell.font, cell.fill = _HEADER
    for letter, width in widths.items():
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A2"


def _save(wb) -> bytes:
    return workbook_bytes(wb)  # what units and provinces typed stays text, never a formula


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _refused(error: WorkbookRefused, name: str) -> OfflineImportError:
    if error.code == "damaged":
        message = "无法读取该文件，请上传从本系统下载的 Excel 填报表"
    else:
        message = error.reason
    return OfflineImportError([CellProblem(error.sheet or name, None, None, message)])


@contextmanager
def _open(data: bytes, name: str):
    """The workbook, read-only and streamed, once the pre-check found it within the limits
    (kaohe.lib.xlsx_reading); OfflineImportError naming the limit or the damage otherwise."""
    try:
        with open_workbook(data, WorkbookLimits.from_settings()) as wb:
            yield wb
    except WorkbookRefused as error:
        raise _refused(error, name) from None


def _unreadable(ws, columns: dict[int, str | None], rows: range | None = None):
    """Problems for the cells read (1-based column -> its header) that would read as blank
    although they are not: a formula without a cached result, a merged cell."""
    return [CellProblem(ws.title, cell.row, columns.get(cell.column), cell.reason)
            for cell in ws.unreadable(columns=set(columns), rows=rows)]


def _rows(ws, columns, problems, unreadable, used=None):
    """(row number, {column: value}) for each non-empty row; header problems are recorded,
    and so are the cells that cannot be read (in unreadable) among the columns whose values
    are used (all columns unless given)."""
    header = [_text(c) for c in next(ws.rows(min_row=1, max_row=1), [])]
    index = {h: i for i, h in enumerate(header) if h}
    missing = [c for c in columns if c not in index]
    for col in missing:
        problems.append(CellProblem(ws.title, 1, col, "缺少此列"))
    if missing:
        return []
    unreadable += _unreadable(ws, {index[c] + 1: c for c in (used or columns)})
    rows = []
    for number, values in enumerate(ws.rows(min_row=2), start=2):
        row = {c: values[index[c]] if index[c] < len(values) else None for c in columns}
        if any(_text(v) for v in row.values()):
            rows.append((number, row))
    return rows


# Self-report ---------------------------------------------------------------------------


def self_report_workbook(report) -> bytes:
    slots = self_report_slots(report)
    answers = {(a.indicator_id, a.county_id): a.text for a in report.answers.all()}
    wb = Workbook()
    ws = wb.active
    ws.title = SELF_SHEET
    write_row(ws, SELF_COLUMNS)
    for slot in slots:
        ind = slot.indicator
        write_row(ws, [
            ind.area.name, ind.number, ind.name,
            slot.county.code if slot.county else "", slot.county.name if slot.county else "",
            ind.evidence_basis,
            answers.get((ind.pk, slot.county.pk if slot.county else None), ""),
        ])
    _style_header(ws, {"A": 12, "B": 9, "C": 40, "D": 10, "E": 12, "F": 40, "G": 80})
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    summary = wb.create_sheet(SUMMARY_SHEET)
    write_row(summary, ["工作总结"])
    write_row(summary, [report.summary])
    summary.column_dimensions["A"].width = 120
    summary["A2"].alignment = Alignment(wrap_text=True, vertical="top")
    _style_header(summary, {})
    notes = wb.create_sheet("填写说明")
    notes.column_dimensions["A"].width = 100
    for line in [
        f"{report.round.name} · {report.unit.name} · 自评报告离线填报表",
        "1. 只填写“工作情况”列和“工作总结”表；其他列请勿修改，系统据“指标序号”和“县代码”对应指标。",
        "2. 证明材料请登录系统后在对应指标下上传。",
        "3. 上传时系统会整体检查；任一处有误，整个文件不导入，并指出错误所在的工作表、行和列。",
        "4. 上传会以表中内容覆盖系统中对应指标的工作情况（空白即清空）。",
    ]:
        write_row(notes, [line])
    return _save(wb)


def self_report_import(*, report, data: bytes, actor, revision: int):
    """Check the workbook and save its texts as one change; raise OfflineImportError."""
    slots = {(s.indicator.number, s.county.code if s.county else ""): s
             for s in self_report_slots(report)}
    with _open(data, SELF_SHEET) as wb:
        summary, answers = _read_self_report(wb, slots)
    return self_report_save(report=report, actor=actor, revision=revision,
                            summary=summary, answers=answers)


def _read_self_report(wb, slots) -> tuple[str | None, dict[str, str]]:
    problems: list[CellProblem] = []
    unreadable: list[CellProblem] = []
    answers: dict[str, str] = {}
    seen: dict[tuple, int] = {}
    summary = None
    if SELF_SHEET not in wb.sheetnames:
        problems.append(CellProblem(SELF_SHEET, None, None, "缺少此工作表"))
    else:
        for number, row in _rows(wb[SELF_SHEET], SELF_COLUMNS, problems, unreadable,
                                 used=SELF_USED):
            raw_number, county_code = _text(row["指标序号"]), _text(row["县代码"])
            try:
                key = (int(raw_number), county_code)
            except ValueError:
                problems.append(CellProblem(SELF_SHEET, number, "指标序号",
                                            f"「{raw_number}」不是指标序号"))
                continue
            slot = slots.get(key)
            if slot is None:
                column = "县代码" if county_code else "指标序号"
                problems.append(CellProblem(
                    SELF_SHEET, number, column,
                    f"指标{raw_number}" + (f"（县代码{county_code}）" if county_code else "")
                    + "不是本单位本年度应填报的指标",
                ))
                continue
            if key in seen:
                problems.append(CellProblem(SELF_SHEET, number, "指标序号",
                                            f"与第{seen[key]}行重复"))
                continue
            seen[key] = number
            text = _text(row["工作情况"]) if not isinstance(row["工作情况"], str) \
                else row["工作情况"].strip()
            if len(text) > MAX_ANSWER_CHARS:
                problems.append(CellProblem(SELF_SHEET, number, "工作情况",
                                            f"超过{MAX_ANSWER_CHARS}字"))
            answers[slot.key] = text
    if SUMMARY_SHEET in wb.sheetnames:
        ws = wb[SUMMARY_SHEET]
        unreadable += _unreadable(ws, {1: None}, rows=range(2, 3))
        value = ws.value(2, 1)
        summary = value.strip() if isinstance(value, str) else _text(value)
    # A cell read as blank although it is not would clear an answer: nothing else counts
    # until every such cell is fixed.
    if unreadable:
        raise OfflineImportError(unreadable)
    if problems:
        raise OfflineImportError(problems)
    return summary, answers


# Provincial report ---------------------------------------------------------------------


def provincial_report_workbook(report) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = OUTCOME_SHEET
    write_row(ws, OUTCOME_COLUMNS)
    for o in report.outcomes.select_related("county"):
        write_row(ws, [
            o.county.code, o.county.name, o.planned_exit, o.actual_exit,
            "是" if o.county_exited else "否",
            {True: "是", False: "否"}.get(o.plan_met, ""),
            grade_label(o.satisfaction_unit), grade_label(o.satisfaction_cadres), o.note,
        ])
    grades = DataValidation(type="list", formula1='"好,较好,一般,较差"', allow_blank=True)
    yes_no = DataValidation(type="list", formula1='"是,否"', allow_blank=True)
    ws.add_data_validation(grades)
    ws.add_data_validation(yes_no)
    grades.add("G2:H500")
    yes_no.add("E2:F500")
    _style_header(ws, {"A": 10, "B": 12, "C": 12, "D": 12, "E": 10, "F": 16, "G": 20, "H": 20,
                       "I": 40})
    overall = wb.create_sheet(OVERALL_SHEET)
    write_row(overall, ["项目", "内容"])
    values = [report.work_text, grade_label(report.recommended_grade),
              report.recommendation_reason,
              report.approved_on.isoformat() if report.approved_on else "",
              report.approval_reference]
    for label, value in zip(OVERALL_ROWS, values, strict=True):
        write_row(overall, [label, value])
    overall_grades = DataValidation(type="list", formula1='"好,较好,一般,较差"', allow_blank=True)
    overall.add_data_validation(overall_grades)
    overall_grades.add("B3")
    _style_header(overall, {"A": 30, "B": 100})
    for row in overall.iter_rows(min_row=2):
        row[1].alignment = Alignment(wrap_text=True, vertical="top")
    return _save(wb)


def _parse_int(value, sheet, number, column, problems, field):
    """An integer for the model field `field`, within that field's validators (the range the
    web form accepts too); None and a problem otherwise."""
    text = _text(value)
    if not text:
        return None
    try:
        result = int(text)
    except ValueError:  # also a number of more than 4,300 digits
        problems.append(CellProblem(sheet, number, column, f"「{text[:30]}」不是整数"))
        return None
    if result < 0:
        problems.append(CellProblem(sheet, number, column, "不能为负数"))
        return None
    try:
        model_field = CountyOutcome._meta.get_field(field)
        assert isinstance(model_field, models.Field)  # the outcome's own columns
        model_field.run_validators(result)
    except ValidationError as error:
        problems.append(CellProblem(sheet, number, column,
                                    f"「{text[:30]}」超出范围：" + "".join(error.messages)))
        return None
    return result


def _parse_text(value, sheet, number, column, problems, limit):
    """The cell's text, trimmed; a problem if it is longer than the web form takes (the
    service refuses it too, without the cell)."""
    text = value.strip() if isinstance(value, str) else _text(value)
    if len(text) > limit:
        problems.append(CellProblem(sheet, number, column, f"超过{limit}字"))
    return text


def _parse_yes_no(value, sheet, number, column, problems):
    text = _text(value).lower()
    if not text:
        return None
    if text in _YES:
        return True
    if text in _NO:
        return False
    problems.append(CellProblem(sheet, number, column, f"应填「是」或「否」，不是「{text}」"))
    return None


def _parse_grade(value, sheet, number, column, problems):
    text = _text(value)
    if not text:
        return ""
    if text not in _GRADE_BY_LABEL:
        problems.append(CellProblem(sheet, number, column,
                                    f"「{text}」不是等次，应为好、较好、一般或较差"))
        return ""
    return _GRADE_BY_LABEL[text]


def _parse_date(value, sheet, number, column, problems):
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = _text(value)
    if not text:
        return None
    try:
        return datetime.date.fromisoformat(text.replace("/", "-"))
    except ValueError:
        problems.append(CellProblem(sheet, number, column,
                                    f"「{text}」不是日期，请按 2017-12-28 的格式填写"))
        return None


def provincial_report_import(*, report, data: bytes, actor, revision: int):
    by_code = {o.county.code: o for o in report.outcomes.select_related("county")}
    with _open(data, OUTCOME_SHEET) as wb:
        fields, outcomes = _read_provincial_report(wb, by_code)
    return provincial_report_save(report=report, actor=actor, revision=revision,
                                  fields=fields, outcomes=outcomes)


def _read_provincial_report(wb, by_code) -> tuple[dict, dict[int, dict]]:
    problems: list[CellProblem] = []
    unreadable: list[CellProblem] = []
    outcomes: dict[int, dict] = {}
    seen: dict[str, int] = {}
    if OUTCOME_SHEET not in wb.sheetnames:
        problems.append(CellProblem(OUTCOME_SHEET, None, None, "缺少此工作表"))
    else:
        for number, row in _rows(wb[OUTCOME_SHEET], OUTCOME_COLUMNS, problems, unreadable,
                                 used=[c for c in OUTCOME_COLUMNS if c != "县名称"]):
            code = _text(row["县代码"])
            outcome = by_code.get(code)
            if outcome is None:
                problems.append(CellProblem(OUTCOME_SHEET, number, "县代码",
                                            f"「{code}」不是本报告的县"))
                continue
            if code in seen:
                problems.append(CellProblem(OUTCOME_SHEET, number, "县代码",
                                            f"与第{seen[code]}行重复"))
                continue
            seen[code] = number
            s = OUTCOME_SHEET
            outcomes[outcome.county_id] = {
                "planned_exit": _parse_int(row["计划脱贫人口"], s, number, "计划脱贫人口",
                                           problems, "planned_exit"),
                "actual_exit": _parse_int(row["实际脱贫人口"], s, number, "实际脱贫人口",
                                          problems, "actual_exit"),
                "county_exited": bool(_parse_yes_no(row["当年摘帽"], s, number, "当年摘帽",
                                                    problems)),
                "plan_met": _parse_yes_no(row["完成年度脱贫攻坚任务"], s, number,
                                          "完成年度脱贫攻坚任务", problems),
                "satisfaction_unit": _parse_grade(row["对中央单位帮扶工作的满意情况"], s, number,
                                                  "对中央单位帮扶工作的满意情况", problems),
                "satisfaction_cadres": _parse_grade(row["对挂职扶贫干部工作的满意情况"], s,
                                                    number, "对挂职扶贫干部工作的满意情况",
                                                    problems),
                "note": _parse_text(row["说明"], s, number, "说明", problems,
                                    TEXT_LIMITS["note"]),
            }
    fields = {}
    if OVERALL_SHEET not in wb.sheetnames:
        problems.append(CellProblem(OVERALL_SHEET, None, None, "缺少此工作表"))
    else:
        values = {}
        overall = wb[OVERALL_SHEET]
        unreadable += _unreadable(overall, {1: "项目", 2: "内容"}, rows=range(2, 2**31))
        for number, row in enumerate(overall.rows(min_row=2), start=2):
            if row and _text(row[0]):
                values[_text(row[0])] = (number, row[1] if len(row) > 1 else None)
        for label in OVERALL_ROWS:
            if label not in values:
                problems.append(CellProblem(OVERALL_SHEET, None, "项目", f"缺少「{label}」一行"))
        if all(label in values for label in OVERALL_ROWS):
            s = OVERALL_SHEET

            def cell(label):
                return values[label]

            n, v = cell("中央单位在本地开展定点扶贫情况")
            fields["work_text"] = _parse_text(v, s, n, "内容", problems,
                                              TEXT_LIMITS["work_text"])
            n, v = cell("评价等次意见")
            fields["recommended_grade"] = _parse_grade(v, s, n, "内容", problems)
            n, v = cell("等次意见理由")
            fields["recommendation_reason"] = _parse_text(v, s, n, "内容", problems,
                                                          TEXT_LIMITS["recommendation_reason"])
            n, v = cell("省级领导小组审定日期")
            fields["approved_on"] = _parse_date(v, s, n, "内容", problems)
            n, v = cell("审定文件或会议")
            fields["approval_reference"] = _parse_text(v, s, n, "内容", problems, _REFERENCE_MAX)
    if unreadable:
        raise OfflineImportError(unreadable)
    if problems:
        raise OfflineImportError(problems)
    return fields, outcomes
