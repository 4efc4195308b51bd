"""Reports of the assessment as official documents (Word and PDF): a unit's self-assessment
report with its evidence list, a lead department's sub-report on one unit and its category
report.

The sub-report and the category report carry area grades, which are internal: they are made
only for the office, the working group, the leading group and the lead department of the
unit's category (the scoped selectors of kaohe.reviews); units and provinces get 404.

Its length (over 400 lines) is three papers that share one skeleton of headings and evidence
tables; splitting them would scatter that skeleton.
"""

from __future__ import annotations

from itertools import groupby

from django.utils import timezone, translation

from kaohe.accounts.capabilities import VIEW_REVIEWS, VIEW_SELF_REPORTS, has_capability
from kaohe.documents.base import Exporter, one_of, register
from kaohe.documents.exporters.common import (
    grade_label,
    paragraphs,
    plan_citation,
    working_group_name,
)
from kaohe.documents.officialdoc import Block, Heading, OfficialDocument, Paragraph, Table
from kaohe.evidence.models import EvidenceKind
from kaohe.lib import clock
from kaohe.reviews.models import (
    CategorySubmission,
    CategorySubmissionStatus,
    GradeSource,
    MajorIncident,
    Review,
    SeriousProblem,
    SubReport,
)
from kaohe.reviews.selectors import (
    category_grade_matrix,
    category_submissions_visible_to,
    review_units_visible_to,
)
from kaohe.rounds.models import Source
from kaohe.submissions.models import FindingKind, ProvincialFinding, ReportStatus, SelfReport
from kaohe.submissions.selectors import self_report_sections, self_reports_visible_to

NOT_FILLED = "（未填写）"
DOCUMENT_FIELDS = ("title", "recipient", "sections", "issuer", "issued_on", "classification",
                   "mark")


# Helpers shared with the Excel tables (kaohe.documents.exporters.tables) ----------------------


def zh(label) -> str:
    """A choice label in Chinese whatever the user's language: documents are official
    Chinese texts, and the msgids are Chinese."""
    with translation.override("zh-hans"):
        return str(label)


def local_stamp(value, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return timezone.localtime(value).strftime(fmt) if value else ""


def official_stamp(value) -> str:
    """2017年12月20日14时30分"""
    if not value:
        return ""
    local = timezone.localtime(value)
    return f"{local.year}年{local.month}月{local.day}日{local.hour}时{local.minute:02d}分"


def file_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    value = float(size)
    for unit in ("KB", "MB", "GB"):
        value /= 1024
        if value < 1024 or unit == "GB":
            return f"{value:.1f} {unit}"
    return ""  # not reached


# Self-assessment report ---------------------------------------------------------------------


def _self_reports(user, round_):
    if round_ is None or not has_capability(user, VIEW_SELF_REPORTS):
        return SelfReport.objects.none()
    return (self_reports_visible_to(user, round=round_)
            .select_related("round", "unit__category__lead_department")
            .order_by("unit__category__order", "unit__code"))


def _self_report_status(report: SelfReport, versions: int) -> str:
    status = zh(report.get_status_display())
    if report.status == ReportStatus.SUBMITTED:
        return (f"报告状态：{status}；提交时间：{official_stamp(report.submitted_at)}；"
                f"版本：第{versions}版。")
    if report.status == ReportStatus.RETURNED:
        return (f"报告状态：{status}（上次提交为第{versions}版，提交时间："
                f"{official_stamp(report.submitted_at)}）；退回原因："
                f"{report.returned_reason.strip() or '未说明'}。")
    return f"报告状态：{status}，尚未提交；本文件为草稿。"


def _evidence_row(number: int, where: str, evidence) -> list[str]:
    if evidence.kind == EvidenceKind.LINK:
        return [str(number), where, f"{evidence.original_name}（{evidence.url}）", "—", "—",
                local_stamp(evidence.created_at)]
    return [str(number), where, evidence.original_name, file_size(evidence.size),
            evidence.sha256[:12], local_stamp(evidence.created_at)]


def self_report_document(report: SelfReport) -> OfficialDocument:
    round_, unit = report.round, report.unit
    sections, _gaps = self_report_sections(report)
    versions = report.versions.count()
    blocks: list[Block] = [
        Paragraph(_self_report_status(report, versions)),
        Paragraph(f"根据{plan_citation(round_)}，现将本单位{round_.year}年度定点扶贫工作成效"
                  "自评情况报告如下。"),
        Heading(1, "工作总结"),
        *paragraphs(report.summary, NOT_FILLED),
    ]
    evidence_rows: list[list[str]] = []
    for section in sections:
        area = section["area"]
        blocks.append(Heading(1, area.name))
        source = (area.source_text or zh(area.get_source_display())).rstrip("。.")
        blocks.append(Paragraph(f"数据来源：{source}。"))
        for _pk, group in groupby(section["slots"], key=lambda e: e["slot"].indicator.pk):
            entries = list(group)
            indicator = entries[0]["slot"].indicator
            blocks.append(Heading(2, f"指标{indicator.number} {indicator.name}"))
            if indicator.source == Source.COUNTY:
                blocks.append(Paragraph("（本项数据由定点扶贫县提供，以下为本单位的补充说明。）"))
            for entry in entries:
                slot = entry["slot"]
                where = f"指标{indicator.number}"
                if slot.county is not None:
                    blocks.append(Heading(3, slot.county.name))
                    where += f"（{slot.county.name}）"
                blocks.extend(paragraphs(entry["text"], "（无补充说明。）"
                                         if indicator.source == Source.COUNTY else NOT_FILLED))
                for refined in entry["refined"]:
                    item = refined["item"]
                    blocks.append(Paragraph(
                        f"{item.item.name}·{item.name}：{refined['text'].strip() or NOT_FILLED}"))
                first = len(evidence_rows) + 1
                for requirement in entry["requirements"]:
                    for attachment in requirement["attachments"]:
                        evidence_rows.append(_evidence_row(
                            len(evidence_rows) + 1,
                            f"{where}·{requirement['requirement'].name}", attachment.evidence))
                for attachment in entry["other"]:
                    evidence_rows.append(_evidence_row(len(evidence_rows) + 1, where,
                                                       attachment.evidence))
                last = len(evidence_rows)
                missing = [r["requirement"].name for r in entry["requirements"]
                           if r["missing"] and not r["attachments"]]
                notes = []
                if last >= first:
                    notes.append(f"佐证材料见清单第{first}项" if last == first
                                 else f"佐证材料见清单第{first}—{last}项")
                if missing:
                    notes.append(f"尚缺：{'；'.join(missing)}")
                if notes:
                    blocks.append(Paragraph("（" + "；".join(notes) + "。）"))
    blocks.append(Heading(1, "佐证材料清单"))
    if evidence_rows:
        blocks.append(Table(["序号", "指标", "文件名或链接", "大小", "SHA-256（前12位）",
                             "上传时间"], evidence_rows, widths=[1.1, 3.2, 4.2, 1.4, 2.3, 2.3]))
    else:
        blocks.append(Paragraph("本报告未附佐证材料。"))
    if report.gaps:
        blocks.append(Paragraph(f"本单位提交时确认缺少{len(report.gaps)}项内容或材料，"
                                "已在各指标下以“尚缺”注明。"))
    lead = unit.category.lead_department
    submitted = report.status == ReportStatus.SUBMITTED and report.submitted_at
    return OfficialDocument(
        title=f"{unit.name}{round_.year}年度定点扶贫工作成效自评报告",
        recipient=lead.name if lead else "",
        blocks=blocks,
        issuer=unit.name,
        issued_on=timezone.localdate(report.submitted_at) if submitted else None,
        subject=f"{round_.year}年度定点扶贫工作成效自评报告",
    )


@register
class SelfReportExporter(Exporter):
    identifier = "self_report"
    name = "自评报告"
    capability = VIEW_SELF_REPORTS
    template_fields = DOCUMENT_FIELDS

    def scoped(self, user, round_):
        return _self_reports(user, round_)

    def describe(self, obj):
        return obj.unit.name

    def build(self, obj, mark):
        return self_report_document(obj)


# Sub-report of a lead department on one unit -------------------------------------------------


def _reviews(user, round_):
    if round_ is None or not has_capability(user, VIEW_REVIEWS):
        return Review.objects.none()
    units = review_units_visible_to(user, round=round_)
    return (Review.objects.filter(round=round_, unit__in=units)
            .select_related("round", "unit__category__lead_department")
            .order_by("unit__category__order", "unit__code"))


def _submission_date(round_, lead_department):
    """The day the lead department submitted its category, or today while it has not."""
    submission = CategorySubmission.objects.filter(
        round=round_, lead_department=lead_department,
        status=CategorySubmissionStatus.SUBMITTED).first()
    if submission is not None and submission.submitted_at:
        return timezone.localdate(submission.submitted_at)
    return clock.today()


def _findings_rows(round_, units) -> list[list[str]]:
    """Serious problems and major incidents of the units, recorded by the lead department (or
    the organization department) and reported by the provinces, oldest first."""
    rows = []
    # Withdrawn findings stay on the desk's history, not in the documents.
    for problem in (SeriousProblem.objects.filter(round=round_, unit__in=units,
                                                  withdrawn_at__isnull=True)
                    .select_related("unit", "kind", "county").order_by("created_at", "pk")):
        rows.append((problem.created_at, problem.unit, "突出问题", problem.kind.name,
                     problem.county.name if problem.county else "—",
                     problem.description, zh(problem.get_source_display())))
    for incident in (MajorIncident.objects.filter(round=round_, unit__in=units,
                                                  withdrawn_at__isnull=True)
                     .select_related("unit", "county").order_by("created_at", "pk")):
        rows.append((incident.created_at, incident.unit, "重大涉贫事件", "",
                     incident.county.name, incident.description,
                     zh(incident.get_source_display())))
    for finding in (ProvincialFinding.objects.filter(
            report__round=round_, report__unit__in=units, report__status=ReportStatus.SUBMITTED)
            .select_related("report__unit", "report__province", "county", "problem_kind")
            .order_by("created_at", "pk")):
        kind = "重大涉贫事件" if finding.kind == FindingKind.MAJOR_INCIDENT else "突出问题"
        rows.append((finding.created_at, finding.report.unit, kind,
                     finding.problem_kind.name if finding.problem_kind else "",
                     finding.county.name, finding.description,
                     f"{finding.report.province.name}报告"))
    rows.sort(key=lambda row: (row[1].code, row[0]))
    return [
        [row[1].name, row[2], row[4], f"{row[3]}：{row[5]}" if row[3] else row[5], row[6]]
        for row in rows
    ]


def sub_report_document(review: Review) -> OfficialDocument:
    round_, unit = review.round, review.unit
    lead = unit.category.lead_department
    sub = SubReport.objects.filter(review=review).first()
    grades = {g.area_id: g for g in review.area_grades.all()}
    grade_rows = []
    for area in round_.areas.all():
        grade = grades.get(area.pk)
        if grade is None:
            grade_rows.append([area.name, "未评定", "—"])
            continue
        reason = grade.reason.strip()
        if grade.source == GradeSource.PROVINCE:
            reason = f"{reason}（依据省级报告）"
        grade_rows.append([area.name, grade_label(grade.grade), reason])
    blocks: list[Block] = [
        Paragraph(f"根据{plan_citation(round_)}，{lead.name}对{unit.name}{round_.year}年度"
                  "定点扶贫工作成效进行了分类考核，现将考核情况报告如下。"),
        Heading(1, "考核基本情况"),
        *paragraphs(sub.basic_situation if sub else "", NOT_FILLED),
    ]
    activities = list(review.activities.all())
    if activities:
        blocks.append(Paragraph("考核工作小组开展了以下工作："))
        for activity in activities:
            text = (f"{activity.held_on.year}年{activity.held_on.month}月{activity.held_on.day}日，"
                    f"{zh(activity.get_method_display())}，参加人员：{activity.people}。")
            if activity.note.strip():
                text += activity.note.strip()
            blocks.append(Paragraph(text))
    blocks += [
        Heading(1, "各项考核内容等次"),
        Table(["考核内容", "等次", "评定理由"], grade_rows, widths=[2.4, 1.3, 7]),
        # The plan's three parts of a report: 考核基本情况、突出问题与不足、意见与建议. The
        # findings recorded in the system belong to the second, after the lead's own words,
        # so the paper never says "none found" above a list of problems.
        Heading(1, "突出问题与不足"),
        *paragraphs(sub.problems if sub else "", NOT_FILLED),
    ]
    findings = _findings_rows(round_, [unit])
    if findings:
        blocks.append(Paragraph("考核中记录的突出问题和重大涉贫事件如下："))
        blocks.append(Table(["类型", "定点扶贫县", "情况说明", "来源"],
                            [row[1:] for row in findings], widths=[2.4, 2.4, 7, 2.2]))
    else:
        blocks.append(Paragraph("考核中未认定考核实施方案所列的突出问题，未记录重大涉贫事件。"))
    blocks += [
        Heading(1, "意见与建议"),
        *paragraphs(sub.suggestions if sub else "", NOT_FILLED),
    ]
    return OfficialDocument(
        title=f"{unit.name}{round_.year}年度定点扶贫工作考核子报告",
        recipient=working_group_name(round_),
        blocks=blocks,
        issuer=lead.name,
        issued_on=_submission_date(round_, lead),
        subject="考核子报告",
    )


@register
class SubReportExporter(Exporter):
    identifier = "sub_report"
    name = "考核子报告"
    capability = VIEW_REVIEWS
    template_fields = DOCUMENT_FIELDS

    def scoped(self, user, round_):
        return _reviews(user, round_)

    def describe(self, obj):
        return obj.unit.name

    def build(self, obj, mark):
        return sub_report_document(obj)


# Category report of a lead department ---------------------------------------------------------


def _category_submissions(user, round_):
    if round_ is None or not has_capability(user, VIEW_REVIEWS):
        return CategorySubmission.objects.none()
    return (category_submissions_visible_to(user, round=round_).select_related("round")
            .order_by("lead_department__order"))


def category_grade_rows(submission: CategorySubmission, areas) -> tuple[list, bool]:
    """The category's grade matrix (kaohe.reviews.selectors.category_grade_matrix)."""
    return category_grade_matrix(submission.round, submission.lead_department, submission,
                                 areas)


def category_report_document(submission: CategorySubmission) -> OfficialDocument:
    from kaohe.reviews.services import category_units

    round_, lead = submission.round, submission.lead_department
    areas = list(round_.areas.all())
    rows, from_snapshot = category_grade_rows(submission, areas)
    categories = "、".join(lead.categories.filter(ranked=True).values_list("name", flat=True))
    status = zh(submission.get_status_display())
    if submission.status == CategorySubmissionStatus.SUBMITTED:
        status += f"（报送时间：{official_stamp(submission.submitted_at)}）"
    elif submission.status == CategorySubmissionStatus.RETURNED:
        status += f"（退回原因：{submission.returned_reason.strip() or '未说明'}）"
    basis = ("下表为报送考核工作组时的初步考核结果。" if from_snapshot
             else "下表为当前评定情况，尚未报送考核工作组，“—”表示尚未评定。")
    blocks: list[Block] = [
        Paragraph(f"报送状态：{status}。"),
        Paragraph(f"根据{plan_citation(round_)}，{lead.name}牵头对{categories}共{len(rows)}家"
                  f"中央单位{round_.year}年度定点扶贫工作成效进行了分类考核，现将考核情况报告如下。"),
        Heading(1, "考核基本情况"),
        *paragraphs(submission.overview, NOT_FILLED),
        Heading(1, "各单位考核内容等次"),
        Paragraph(basis),
        Table(["序号", "单位", *(a.name for a in areas)],
              [[str(i), row[1], *(grade_label(g) if g else "—" for g in row[2:])]
               for i, row in enumerate(rows, start=1)],
              widths=[0.9, 2.6, *([2.1] * len(areas))]),
        Heading(1, "突出问题与不足"),
        *paragraphs(submission.problems, NOT_FILLED),
    ]
    findings = _findings_rows(round_, category_units(round_, lead))
    if findings:
        blocks.append(Paragraph("考核中记录的突出问题和重大涉贫事件如下："))
        blocks.append(Table(["单位", "类型", "定点扶贫县", "情况说明", "来源"], findings,
                            widths=[2.8, 2.4, 2.4, 5.6, 2.2]))
    blocks += [
        Heading(1, "意见与建议"),
        *paragraphs(submission.suggestions, NOT_FILLED),
    ]
    submitted = submission.status == CategorySubmissionStatus.SUBMITTED and submission.submitted_at
    return OfficialDocument(
        title=f"{lead.name}{round_.year}年度中央单位定点扶贫工作分类考核报告",
        recipient=working_group_name(round_),
        blocks=blocks,
        issuer=lead.name,
        issued_on=timezone.localdate(submission.submitted_at) if submitted else clock.today(),
        subject="分类考核报告",
    )


@register
class CategoryReportExporter(Exporter):
    identifier = "category_report"
    name = "分类考核报告"
    capability = VIEW_REVIEWS
    template_fields = DOCUMENT_FIELDS

    def objects_for(self, user, round_):
        # Listed by name: the snapshot of every unit's grades (1.2 MB for a category at
        # 3,100 units) is read for the one report made; so are the columns after it, which
        # SQLite reaches by walking through it (issue 19).
        return _category_submissions(user, round_).select_related(None).select_related(
            "lead_department").only("id", "lead_department", "lead_department__name")

    def get_object(self, user, round_, key):
        return one_of(_category_submissions(user, round_), key)

    def describe(self, obj):
        return obj.lead_department.name

    def build(self, obj, mark):
        return category_report_document(obj)
