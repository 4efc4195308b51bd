"""Feedback letters (one, or all of a round as a ZIP), the circular and the list for the
organization department."""

from __future__ import annotations

import io
import os
import zipfile
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

import django
from django.conf import settings
from django.http import Http404
from django.utils import timezone

from kaohe.accounts.capabilities import (
    RECEIVE_RESULTS,
    RELEASE_RESULTS,
    VIEW_OWN_RESULT,
    has_capability,
)
from kaohe.accounts.scope import FEEDBACK, Scope
from kaohe.documents.base import (
    CONTENT_TYPES,
    Exporter,
    RenderedFile,
    RoundExporter,
    _safe_stem,
    mark_workbook,
    one_of,
    register,
    render_with_template,
)
from kaohe.documents.docx_render import render_docx
from kaohe.documents.exporters.common import (
    grade_label,
    leading_group_name,
    office_name,
    paragraphs,
    plan_citation,
    summons_rule,
)
from kaohe.documents.models import DocumentKind
from kaohe.documents.officialdoc import Block, Heading, OfficialDocument, Paragraph, Table
from kaohe.documents.pdf_render import render_pdf
from kaohe.documents.signing import prepared_all
from kaohe.grading.models import ResultSet, ResultSetStatus
from kaohe.grading.selectors import (
    approved_result_set,
    released_result_set,
    result_rows,
)
from kaohe.lib import clock
from kaohe.lib.spreadsheets import workbook_bytes, write_row
from kaohe.outcomes.models import Feedback
from kaohe.outcomes.selectors import (
    FEEDBACK_SNAPSHOTS,
    results_released,
    results_sent_to_org_department,
)


def _feedback_for(user, round_, *, on_record=False):
    """Letters the user may export: the office those of the version released (or about to
    be), a unit its own released one. ``on_record`` adds the letters a correction replaced
    (the office's all, a unit's own that were released), for fetching one by its key."""
    feedback = Feedback.objects.filter(round=round_).select_related(
        "unit", "unit__category__lead_department", "round", "result_set",
        "replaces__result_set").defer(*FEEDBACK_SNAPSHOTS)
    scope = Scope.of(user)
    if scope.sees_all(FEEDBACK):
        if not on_record:
            feedback = feedback.filter(result_set=approved_result_set(round_))
        return feedback.order_by("unit__category__order", "unit__code")
    if scope.sees(FEEDBACK) and results_released(round_):
        mine = scope.filter(feedback, FEEDBACK)
        if on_record:
            return mine.filter(result_set__released_at__isnull=False)
        return mine.filter(result_set__status=ResultSetStatus.RELEASED)
    return feedback.none()


def _issued(feedback: Feedback):
    """When the letter's content was first released: a letter a correction re-issued
    unchanged keeps the date of the one it replaces."""
    origin = feedback
    # replaces is read only where set: no query for a first letter.
    while origin.replaces is not None and not origin.corrected:
        origin = origin.replaces
    return origin.result_set.released_at


def feedback_letter(feedback: Feedback, rectification_due) -> OfficialDocument:
    round_ = feedback.round
    unit = feedback.unit
    year = round_.year
    grade = grade_label(feedback.grade)
    released = _issued(feedback)
    lead = unit.category.lead_department
    blocks: list[Block] = [
        Paragraph(f"根据{plan_citation(round_)}，经{leading_group_name(round_)}审定，现将你单位"
                  f"{year}年度定点扶贫工作考核结果反馈如下。"),
        Heading(1, "考核结果"),
        Paragraph(f"你单位{year}年度定点扶贫工作考核结果为“{grade}”。"),
    ]
    if feedback.corrected and feedback.replaces is not None:
        earlier = feedback.replaces
        when = earlier.result_set.released_at and timezone.localdate(earlier.result_set.released_at)
        on = f"{when.year}年{when.month}月{when.day}日" if when else "此前"
        blocks.append(Paragraph(
            f"本函为更正函：经{leading_group_name(round_)}审定，对{on}反馈的考核结果"
            f"（“{grade_label(earlier.grade)}”）和反馈意见予以更正，以本函为准。"))
    blocks += [
        Heading(1, "突出问题与不足"),
        *paragraphs(feedback.problems),
        Heading(1, "改进工作的意见建议"),
        *paragraphs(feedback.suggestions),
        Heading(1, "整改要求"),
        Paragraph("请你单位对照反馈的问题和意见建议，认真研究制定整改措施，逐项明确责任和时限，"
                  "切实抓好整改落实" + (
                      f"，并于{rectification_due.year}年{rectification_due.month}月"
                      f"{rectification_due.day}日前" if rectification_due else "，并按期")
                  + "通过考核系统报送整改情况报告。"),
    ]
    if feedback.grade == "poor":
        blocks.append(Paragraph(f"你单位考核结果为“较差”。按照规定，{summons_rule(round_)}"))
    return OfficialDocument(
        title=f"关于反馈{year}年度定点扶贫工作考核结果的函",
        recipient=unit.name,
        blocks=blocks,
        issuer=office_name(round_),
        issued_on=timezone.localdate(released) if released else clock.today(),
        copy_to=lead.name if lead else "",
        printed_by=office_name(round_),
        printed_on=timezone.localdate(released) if released else clock.today(),
    )


def _rectification_due(round_):
    step = round_.steps.filter(code="rectification").first()
    return step.due if step else None


@register
class FeedbackLetterExporter(Exporter):
    identifier = "feedback_letter"
    name = "考核结果反馈函"
    capability = VIEW_OWN_RESULT
    sign_kind = DocumentKind.LETTER
    template_fields = ("title", "recipient", "sections", "issuer", "issued_on", "copy_to",
                       "mark")

    def objects_for(self, user, round_):
        return _feedback_for(user, round_)

    def get_object(self, user, round_, key):
        return one_of(_feedback_for(user, round_, on_record=True), key)

    def describe(self, obj):
        return obj.unit.name

    def build(self, obj, mark):
        return feedback_letter(obj, _rectification_due(obj.round))


def _render_letter(args) -> tuple[str, bytes]:
    """Render one letter in a worker process (pure: data in, bytes out)."""
    name, fmt, doc, template = args
    if fmt == "pdf":
        return name, render_pdf(doc)
    if template is not None:
        return name, render_with_template(template, doc)
    return name, render_docx(doc)


def _processes() -> int:
    configured = getattr(settings, "EXPORT_PROCESSES", 0)
    return configured or min(4, os.cpu_count() or 1)


@register
class FeedbackLettersExporter(RoundExporter):
    """Every unit's letter of a round in one ZIP (Word or PDF), made in the background."""

    identifier = "feedback_letters"
    name = "考核结果反馈函（全部）"
    capability = RELEASE_RESULTS
    bulk = True
    templatable = False  # uses the single letter's template

    def objects_for(self, user, round_):
        # Offered once feedback is drafted; asked for by its year, made from what exists then.
        if round_ is not None and not Feedback.objects.filter(round=round_).exists():
            return []
        return super().objects_for(user, round_)

    def render(self, fmt, obj, mark, template=None, progress=None):
        if fmt not in self.formats:
            raise Http404
        from kaohe.documents.services import template_for

        letter_exporter = FeedbackLetterExporter()
        letter_template = template_for(letter_exporter) if fmt == "docx" else None
        due = _rectification_due(obj)
        jobs = []
        feedbacks = (Feedback.objects.filter(round=obj, result_set=approved_result_set(obj))
                     .select_related("unit", "unit__category__lead_department",
                                     "result_set", "round", "replaces__result_set")
                     .defer(*FEEDBACK_SNAPSHOTS)
                     .order_by("unit__category__order", "unit__code"))
        # Each letter as signed off (when it was), with its own 份号: both read and
        # numbered for all the letters at once.
        for feedback, doc in prepared_all(letter_exporter, feedbacks, mark,
                                          build=lambda feedback: feedback_letter(feedback, due)):
            doc.mark = mark
            name = f"{feedback.unit.code}-{_safe_stem(feedback.unit.name)}.{fmt}"
            jobs.append((name, fmt, doc, letter_template))
        total = len(jobs)
        if progress:
            progress(0, total)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for done, (name, data) in enumerate(self._render_all(jobs), start=1):
                archive.writestr(name, data)
                if progress and (done % 10 == 0 or done == total):
                    progress(done, total)
        label = "Word" if fmt == "docx" else "PDF"
        return RenderedFile(f"{obj.year}年度考核结果反馈函（{label}）.zip", CONTENT_TYPES["zip"],
                            buffer.getvalue())

    def _render_all(self, jobs):
        processes = _processes()
        if processes < 2 or len(jobs) < 20:
            yield from map(_render_letter, jobs)
            return
        # Worker processes only render (no database); they start fresh and set up Django
        # for its template engine.
        pool = ProcessPoolExecutor(max_workers=processes, mp_context=get_context("spawn"),
                                   initializer=django.setup)
        try:
            yield from pool.map(_render_letter, jobs, chunksize=8)
        finally:
            # An export stopped midway (a letter withdrawn) leaves the letters not yet
            # begun undone.
            pool.shutdown(wait=True, cancel_futures=True)


def _ranked_results(result_set: ResultSet):
    """(unit, final grade code) in the order of the ranking, from the version's rows."""
    from kaohe.directory.models import Unit

    rows = list(result_rows(result_set))
    units = {u.code: u for u in Unit.objects.filter(
        code__in=[row.unit_code for row in rows]).select_related("category")}
    return [(units[row.unit_code], row.final_grade) for row in rows if row.unit_code in units]


@register
class CircularExporter(RoundExporter):
    """The circular (通报) of the results: public once released, so it carries no mark."""

    identifier = "circular"
    name = "考核结果通报"
    capability = RELEASE_RESULTS
    confidential = False
    sign_kind = DocumentKind.CIRCULAR

    def ready(self, round_):
        return results_released(round_)

    def build(self, obj, mark):
        result_set = released_result_set(obj)
        if result_set is None:  # offered once released (ready)
            raise Http404
        rows = _ranked_results(result_set)
        good = [unit.name for unit, grade in rows if grade == "good"]
        fairly = [unit.name for unit, grade in rows if grade == "fairly_good"]
        poor = [unit.name for unit, grade in rows if grade == "poor"]
        total = len(rows)
        blocks: list[Block] = [
            Paragraph(f"根据{plan_citation(obj)}，{leading_group_name(obj)}组织对{total}家中央单位"
                      f"{obj.year}年度定点扶贫工作成效进行了考核。经{leading_group_name(obj)}审定，"
                      "现将考核结果通报如下。"),
            Heading(1, "考核结果为“好”的单位"),
            Paragraph("、".join(good) + "。" if good else "无。"),
            Heading(1, "考核结果为“较好”的单位"),
            Paragraph("、".join(fairly) + "。" if fairly else "无。"),
            Heading(1, "考核结果为“较差”的单位"),
            Paragraph("、".join(poor) + "。" if poor else "无。"),
            Paragraph("其余单位考核结果为“一般”。"),
            Heading(1, "有关要求"),
            Paragraph("希望受到表扬的单位再接再厉，充分发挥示范带动作用。各单位要对照考核反馈的"
                      "问题，认真抓好整改落实，进一步加大定点扶贫工作力度，确保帮扶措施和成效落到"
                      f"实处。{summons_rule(obj)}"),
        ]
        released = timezone.localdate(result_set.released_at) if result_set.released_at else None
        return OfficialDocument(
            title=f"关于{obj.year}年度中央单位定点扶贫工作考核结果的通报",
            recipient="各中央单位",
            blocks=blocks, issuer=leading_group_name(obj), issued_on=released,
            copy_to="中央组织部，各省、自治区、直辖市扶贫开发领导小组",
            printed_by=office_name(obj), printed_on=released, classification="",
        )


@register
class OrgDepartmentListExporter(RoundExporter):
    """The results for the organization department (干部考核的参考).

    The office prepares it once the results are approved and sends it; the organization
    department reads it once the results are released and the office has recorded sending
    them (a dispatch to it), and never an approved version that is not released.
    """

    identifier = "org_department_list"
    name = "考核结果名单（送中央组织部）"
    capability = RELEASE_RESULTS
    formats = ("docx", "pdf", "xlsx")

    def ready(self, round_):
        return approved_result_set(round_) is not None

    def _offered_to(self, user, round_) -> bool:
        if round_ is None:
            return False
        if has_capability(user, RELEASE_RESULTS):
            return self.ready(round_)
        if has_capability(user, RECEIVE_RESULTS):
            return results_sent_to_org_department(round_) is not None
        return False

    def objects_for(self, user, round_):
        return [round_] if self._offered_to(user, round_) else []

    def get_object(self, user, round_, key):
        if not self._offered_to(user, round_) or key != str(round_.year):
            raise Http404
        return round_

    def _rows(self, round_):
        # The released results once there are any (what the organization department
        # receives); before the first release, the approved ones the office prepares.
        result_set = released_result_set(round_) or approved_result_set(round_)
        if result_set is None:
            raise Http404
        rows = _ranked_results(result_set)
        rows.sort(key=lambda row: (row[0].category.order, row[0].code))
        return [[str(i), unit.code, unit.name, unit.category.name, grade_label(grade)]
                for i, (unit, grade) in enumerate(rows, start=1)]

    def build(self, obj, mark):
        rows = self._rows(obj)
        return OfficialDocument(
            title=f"{obj.year}年度中央单位定点扶贫工作考核结果名单",
            recipient="中央组织部",
            blocks=[
                Paragraph(f"根据{plan_citation(obj)}关于考核结果运用的规定，现将{obj.year}年度"
                          f"{len(rows)}家中央单位定点扶贫工作考核结果送你部，作为对有关单位"
                          "领导班子和领导干部综合评价的参考。"),
                Table(["序号", "单位编码", "单位名称", "类别", "考核等次"], rows,
                      widths=[1, 1.6, 5, 3, 1.4]),
            ],
            issuer=office_name(obj), issued_on=clock.today(), printed_by=office_name(obj),
            printed_on=clock.today(),
        )

    def build_xlsx(self, obj, mark):
        from openpyxl import Workbook
        from openpyxl.styles import Font

        workbook = Workbook()
        sheet = workbook.active
        sheet.title = "考核结果"
        for cell in write_row(sheet, ["序号", "单位编码", "单位名称", "类别", "考核等次"]):
            cell.font = Font(bold=True)
        for row in self._rows(obj):
            write_row(sheet, [int(row[0]), *row[1:]])
        for column, width in zip("ABCDE", (6, 12, 40, 30, 10), strict=True):
            sheet.column_dimensions[column].width = width
        sheet.freeze_panes = "A2"
        mark_workbook(workbook, mark, self.name)
        return workbook_bytes(workbook)

