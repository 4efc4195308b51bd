"""Excel tables: the round's progress, the ranking of a result set, the rectification tracker
and the offline entry workbooks of units and provinces.

Every table carries the maker's mark (mark_workbook), a bold frozen header row repeated on
printed pages, and column widths fit for its content. Tables whose scope depends on the user
(the rectification tracker of a lead department) get it in their object, decided by
get_object, since build_xlsx sees only the object.

Its length (over 400 lines) is five workbooks sharing the header, width and mark helpers
above them.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from django.db.models import Max
from django.http import Http404
from django.utils import timezone
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from kaohe.accounts.capabilities import (
    EDIT_PROVINCIAL_REPORT,
    EDIT_SELF_REPORT,
    TRACK_RECTIFICATION,
    VIEW_PROGRESS,
    VIEW_RESULTS,
    VIEW_ROUND,
    has_capability,
)
from kaohe.accounts.scope import OWN_REPORTS, Scope
from kaohe.dashboard.selectors import unit_progress
from kaohe.directory.selectors import units_visible_to
from kaohe.documents.base import Exporter, mark_workbook, one_of, pk_or_404, register
from kaohe.documents.exporters.common import grade_label
from kaohe.documents.exporters.reports import zh
from kaohe.grading import engine
from kaohe.grading.models import ResultSet, SealBroken
from kaohe.grading.selectors import result_rows, result_set_versions
from kaohe.lib import clock
from kaohe.lib.spreadsheets import workbook_bytes, write_row
from kaohe.outcomes.models import ItemStatus
from kaohe.outcomes.selectors import (
    handed_over,
    rectification_reports_visible_to,
    rectification_tracker,
    results_released,
)
from kaohe.reviews.models import CategorySubmission, CategorySubmissionStatus
from kaohe.reviews.selectors import review_queue
from kaohe.submissions import offline
from kaohe.submissions.models import Extension, ProvincialReport, ReportStatus, SelfReport
from kaohe.submissions.selectors import provincial_reports_visible_to, self_reports_visible_to

_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_WRAP = Alignment(wrap_text=True, vertical="top")
_DATETIME = "yyyy-mm-dd hh:mm"


def _sheet(workbook, title: str, headers: list[str], widths: list[float], *, first=False):
    """A sheet with a bold, frozen header row, its widths, and print settings: landscape,
    one page wide, header row on every page."""
    sheet = workbook.active if first else workbook.create_sheet()
    sheet.title = title
    write_row(sheet, headers)
    for cell in sheet[1]:
        cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    sheet.print_title_rows = "1:1"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    return sheet


def _finish(sheet):
    """Wrap long text; an auto filter over the table."""
    if sheet.max_row > 1:
        sheet.auto_filter.ref = sheet.dimensions
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if cell.number_format != _DATETIME:
                cell.alignment = _WRAP


def _stamp(value):
    """A naive local datetime for Excel (it has no time zones), or None."""
    if not value:
        return None
    return timezone.localtime(value).replace(tzinfo=None, second=0, microsecond=0)


def _append(sheet, values):
    """A row of the table; text stays text, never a formula (kaohe.lib.spreadsheets)."""
    for cell in write_row(sheet, values):
        if hasattr(cell.value, "hour"):
            cell.number_format = _DATETIME


def _save(workbook, mark, title) -> bytes:
    mark_workbook(workbook, mark, title)
    return workbook_bytes(workbook)


@dataclass
class RoundScope:
    """A round as seen by one user: the units of the table, and for whom it was made."""

    round: Any  # a Round
    units: Any  # a Unit queryset
    label: str = ""
    user: Any = None  # whose table it is: what it may read of the units' reports


def _round_key_or_404(round_, key):
    if round_ is None or key != str(round_.year):
        raise Http404


# Progress --------------------------------------------------------------------------------------


_STATUS_LABELS = {s.value: zh(s.label) for s in ReportStatus}
_CATEGORY_LABELS = {s.value: zh(s.label) for s in CategorySubmissionStatus}


def progress_rows(scope: RoundScope) -> list[list]:
    """One row per active unit in the scope, in a fixed number of queries."""
    round_ = scope.round
    units = scope.units.filter(active=True).select_related("category__lead_department")
    area_count = round_.areas.count()
    progress = {u.pk: u for u in unit_progress(round_, units)}
    submissions = dict(CategorySubmission.objects.filter(round=round_).values_list(
        "lead_department_id", "status"))
    rows = []
    for unit in review_queue(round_, units):
        extra = progress[unit.pk]
        lead = unit.category.lead_department
        if unit.category.ranked:
            grades = unit.grades_done or 0
            sub_done = bool(unit.sub_report_done)
            if not grades and not sub_done:
                review_state = "未开始"
            elif grades < area_count or not sub_done:
                review_state = "考核中"
            else:
                review_state = "已完成"
            grades_text = f"{grades}/{area_count}"
            sub_text = "已完成" if sub_done else "未完成"
            category_state = _CATEGORY_LABELS.get(submissions.get(lead.pk, ""), "未报送")
        else:
            review_state, grades_text, sub_text = "检查督导（不评定等次）", "—", "—"
            category_state = "—"
        rows.append([
            unit.code, unit.name, unit.category.name, lead.short_name if lead else "",
            _STATUS_LABELS.get(unit.self_report_status, "未开始"),
            _stamp(unit.self_report_submitted_at),
            extra.provinces_received or 0, extra.provinces_expected or 0,
            review_state, grades_text, sub_text,
            unit.problem_count or 0, unit.incident_count or 0, category_state,
        ])
    return rows


class _RoundTableExporter(Exporter):
    """A table of one round's units, as many as the user's scope reaches: one object a year."""

    formats = ("xlsx",)
    templatable = False

    def _scope(self, user, round_):
        return RoundScope(round_, units_visible_to(user, round=round_))

    def objects_for(self, user, round_):
        if round_ is None or not has_capability(user, self.capability):
            return []
        return [self._scope(user, round_)]

    def get_object(self, user, round_, key):
        if not has_capability(user, self.capability):
            raise Http404
        _round_key_or_404(round_, key)
        return self._scope(user, round_)

    def object_key(self, obj):
        return str(obj.round.year)

    def describe(self, obj):
        return f"{obj.round.year}年度" + (f"（{obj.label}）" if obj.label else "")


@register
class ProgressTableExporter(_RoundTableExporter):
    identifier = "progress_table"
    name = "考核进度表"
    capability = VIEW_PROGRESS

    def build_xlsx(self, obj, mark):
        workbook = Workbook()
        sheet = _sheet(workbook, "考核进度", [
            "单位编码", "单位名称", "类别", "牵头部门", "自评报告状态", "自评报告提交时间",
            "省级报告已收到", "省级报告应收到", "分类考核状态", "已评定考核内容",
            "考核子报告", "突出问题", "重大涉贫事件", "类别初步结果",
        ], [10, 30, 24, 14, 12, 17, 9, 9, 12, 9, 10, 8, 8, 16], first=True)
        for row in progress_rows(obj):
            _append(sheet, row)
        _finish(sheet)
        return _save(workbook, mark, f"{obj.round.year}年度{self.name}")


# Ranking -----------------------------------------------------------------------------------------


def _label(code: str) -> str:
    return grade_label(code) if code else "—"


def ranking_rows(result_set: ResultSet) -> list[list]:
    """The ranking as the working group's page shows it, from the version's rows: engine
    grade, final grade after the decisions, the reasons, the decisions and the unit's
    warnings."""
    decisions: dict[str, list[str]] = {}
    for decision in result_set.decisions.select_related("decided_by"):
        decisions.setdefault(decision.unit_code, []).append(
            f"{decision.decided_by}于{timezone.localtime(decision.decided_at):%Y-%m-%d %H:%M}"
            f"{zh(decision.get_kind_display())}：{_label(decision.previous)}→"
            f"{_label(decision.grade)}，{decision.reason}")
    return [
        [row.rank, row.position, row.unit_code, row.unit_name, row.category,
         *(_label(row.area_grades.get(area, "")) for area in engine.AREA_CODES),
         row.score, _label(row.grade), _label(row.final_grade),
         "\n".join(decisions.get(row.unit_code, [])),
         "\n".join(row.reasons),
         "\n".join(w["message"] for w in row.warnings)]
        for row in result_rows(result_set)
    ]


@register
class RankingTableExporter(Exporter):
    identifier = "ranking_table"
    name = "排名与等次建议表"
    capability = VIEW_RESULTS
    formats = ("xlsx",)
    templatable = False

    def _result_sets(self, user, round_):
        if round_ is None or not has_capability(user, self.capability):
            return ResultSet.objects.none()
        return ResultSet.objects.filter(round=round_).select_related("round")

    def objects_for(self, user, round_):
        if round_ is None or not has_capability(user, self.capability):
            return ()
        return result_set_versions(round_)  # listed by name; the one exported read whole

    def get_object(self, user, round_, key):
        return one_of(self._result_sets(user, round_), key)

    def describe(self, obj):
        return f"{obj.round.year}年度第{obj.version}版"

    def build_xlsx(self, obj, mark):
        workbook = Workbook()
        areas = [engine.AREA_NAMES[area] for area in engine.AREA_CODES]
        sheet = _sheet(workbook, "排名与等次", [
            "名次", "位次", "单位编码", "单位名称", "类别", *areas, "得分", "计算等次",
            "最终等次", "等次确定与调整", "说明", "提示",
        ], [6, 6, 10, 28, 20, *([9] * len(areas)), 8, 9, 9, 40, 60, 40], first=True)
        for row in ranking_rows(obj):
            _append(sheet, row)
        _finish(sheet)
        self._about(workbook, obj)
        return _save(workbook, mark, f"{obj.round.year}年度{self.name}（第{obj.version}版）")

    def _about(self, workbook, result_set):
        sheet = _sheet(workbook, "版本说明", ["项目", "内容"], [24, 90])
        try:
            result_set.verify_seal()
            seal = result_set.seal or "尚未审定，未封存"
        except SealBroken:
            seal = f"{result_set.seal}（校验失败：内容与审定时不符，可能已被篡改）"
        counts = "，".join(f"{label}{n}家"
                          for label, n in result_set.outputs.get("counts", {}).items())
        rows = [
            ("考核年度", result_set.round.name), ("版本", f"第{result_set.version}版"),
            ("状态", zh(result_set.get_status_display())),
            ("生成时间", _stamp(result_set.created_at)), ("生成人", str(result_set.created_by)),
            ("参加排名单位数", len(result_set.outputs.get("results", []))),
            ("计算等次分布", counts), ("封存校验值", seal),
            ("领导小组意见", result_set.leader_comments or "—"),
            ("密级", "内部资料，综合评价方法及等次意见供领导小组内部掌握，不对外公布"),
        ]
        rows += [("全局提示", w["message"]) for w in result_set.outputs.get("warnings", [])
                 if not w.get("unit")]
        for row in rows:
            _append(sheet, list(row))
        _finish(sheet)


# Rectification -------------------------------------------------------------------------------


_ITEM_LABELS = {s.value: zh(s.label) for s in ItemStatus}


def rectification_rows(scope: RoundScope) -> list[list]:
    """Every item of every ranked unit in the scope; a unit without items gets one row."""
    round_ = scope.round
    units = list(scope.units.filter(category__ranked=True)
                 .order_by("category__order", "code"))
    # The reports the table's reader may read: a unit's draft is its own until submitted.
    reports = {r.unit_id: r for r in rectification_reports_visible_to(scope.user, round_)
               .filter(unit__in=units).prefetch_related("items__attachments__evidence")}
    step = round_.steps.filter(code="rectification").first()
    released = results_released(round_)
    extended = {}
    if step is not None:
        extended = dict(Extension.objects.filter(step=step, unit__in=units)
                        .values("unit").annotate(latest=Max("until"))
                        .values_list("unit", "latest"))
    today = clock.today()
    rows = []
    for unit in units:
        report = reports.get(unit.pk)
        submitted = report.submitted_at if report else None
        deadline = max(step.due, extended.get(unit.pk, step.due)) if step else None
        overdue = bool(released and submitted is None and deadline and today > deadline)
        head = [unit.code, unit.name, unit.category.name]
        tail = [_stamp(submitted), deadline, "是" if overdue else "否"]
        items = list(report.items.all()) if report else []
        files = {item.pk: list(item.attachments.all()) for item in items}
        if report is not None and any(item.needs_revision for item in items):
            # A sent-back item as last submitted (few reports at a time are sent back).
            _summary, items, files = handed_over(report)
        if not items:
            state = "尚无整改事项" if report else "尚未报送整改报告"
            rows.append([*head, None, "", state, "", "", "", "", *tail])
        for item in items:
            rows.append([
                *head, item.order, zh(item.get_source_display()), item.text, item.measures,
                "；".join([a.evidence.original_name for a in files.get(item.pk, [])]
                         + ([item.evidence_note] if item.evidence_note else [])),
                _ITEM_LABELS.get(item.status, item.status),
                item.review_note, *tail,
            ])
    return rows


@register
class RectificationTrackerExporter(_RoundTableExporter):
    identifier = "rectification_tracker"
    name = "整改情况跟踪表"
    capability = TRACK_RECTIFICATION

    def _scope(self, user, round_):
        # A lead department's tracker names it; the office's covers every unit.
        label = user.lead_department.name if Scope.of(user).lead_department_id else ""
        return RoundScope(round_, units_visible_to(user, round=round_), label, user=user)

    def build_xlsx(self, obj, mark):
        workbook = Workbook()
        sheet = _sheet(workbook, "整改情况", [
            "单位编码", "单位名称", "类别", "序号", "来源", "问题或建议", "整改措施", "佐证材料",
            "状态", "审核意见", "报送时间", "报送截止", "是否逾期",
        ], [10, 28, 20, 6, 14, 40, 40, 24, 11, 30, 17, 12, 9], first=True)
        for row in rectification_rows(obj):
            _append(sheet, row)
            sheet.cell(row=sheet.max_row, column=12).number_format = "yyyy-mm-dd"
        _finish(sheet)
        summary = _sheet(workbook, "汇总", [
            "单位编码", "单位名称", "类别", "牵头部门", "状态", "首次报送时间", "报送次数",
            "报送截止", "事项数", "整改不到位事项",
        ], [10, 28, 20, 24, 11, 17, 9, 12, 8, 14])
        for tracked in rectification_tracker(obj.round, obj.units, user=obj.user):
            unit, report = tracked["unit"], tracked["report"]
            lead = unit.category.lead_department
            _append(summary, [
                unit.code, unit.name, unit.category.name, lead.name if lead else "",
                zh(tracked["state"].label), _stamp(report.submitted_at if report else None),
                report.submission_count if report else 0, tracked["deadline"],
                tracked["total"], tracked["counts"][ItemStatus.NOT_ACCEPTED],
            ])
            summary.cell(row=summary.max_row, column=8).number_format = "yyyy-mm-dd"
        _finish(summary)
        return _save(workbook, mark, f"{obj.round.year}年度{self.name}")


# Offline entry workbooks ----------------------------------------------------------------------


_SELF, _PROVINCIAL = "self", "provincial"


@register
class OfflineTemplateExporter(Exporter):
    """A unit's self-report workbook or a province's provincial report workbook, as the
    report pages offer them, marked and logged. Only the report's own unit or province.

    The capability is one both roles hold (VIEW_ROUND); the roles are told apart by
    EDIT_SELF_REPORT and EDIT_PROVINCIAL_REPORT below."""

    identifier = "offline_templates"
    name = "离线填报表"
    capability = VIEW_ROUND
    formats = ("xlsx",)
    templatable = False

    def _self_reports(self, user, round_):
        if round_ is None or not has_capability(user, EDIT_SELF_REPORT):
            return SelfReport.objects.none()
        return Scope.of(user).filter(self_reports_visible_to(user, round=round_),
                                     OWN_REPORTS).select_related("round")

    def _provincial_reports(self, user, round_):
        if round_ is None or not has_capability(user, EDIT_PROVINCIAL_REPORT):
            return ProvincialReport.objects.none()
        return Scope.of(user).filter(provincial_reports_visible_to(user, round=round_),
                                     OWN_REPORTS, province="province"
                                     ).select_related("round").order_by("unit__code")

    def objects_for(self, user, round_):
        # A queryset when the user fills in one kind (every role but one holding both):
        # the documents pages then read a bounded page of it by name (issue 19).
        own, provincial = (has_capability(user, EDIT_SELF_REPORT),
                           has_capability(user, EDIT_PROVINCIAL_REPORT))
        if own and provincial:
            return [*self._self_reports(user, round_), *self._provincial_reports(user, round_)]
        return (self._self_reports if own else self._provincial_reports)(user, round_)

    def get_object(self, user, round_, key):
        kind, _sep, pk = (key or "").partition("-")
        reports = {_SELF: self._self_reports, _PROVINCIAL: self._provincial_reports}.get(kind)
        if reports is None:
            raise Http404
        found = reports(user, round_).filter(pk=pk_or_404(pk)).first()
        if found is None:
            raise Http404
        return found

    def object_key(self, obj):
        kind = _SELF if isinstance(obj, SelfReport) else _PROVINCIAL
        return f"{kind}-{obj.pk}"

    def describe(self, obj):
        if isinstance(obj, SelfReport):
            return f"{obj.unit.name}自评报告"
        return f"{obj.province.name}关于{obj.unit.name}的省级总结报告"

    def file_stem(self, obj):
        if isinstance(obj, SelfReport):
            return f"{obj.round.year}-自评报告-{obj.unit.code}"
        return f"{obj.round.year}-省级总结-{obj.province.code}-{obj.unit.code}"

    def build_xlsx(self, obj, mark):
        if isinstance(obj, SelfReport):
            data, title = offline.self_report_workbook(obj), "自评报告离线填报表"
        else:
            data, title = offline.provincial_report_workbook(obj), "省级总结报告离线填报表"
        workbook = load_workbook(io.BytesIO(data))
        return _save(workbook, mark, f"{obj.round.year}年度{title}（{self.describe(obj)}）")
