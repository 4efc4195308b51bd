"""A province's summary report on one central unit (step 3b) as an official document in the
province's name, to print, stamp and send with its 50 copies: the unit's work in the
province, each paired county's poverty reduction, indicator 2 (support to deep-poverty
counties), grassroots satisfaction, incidents and problems, the grade recommendation, the
provincial leading group's approval and the list of attached materials.

It carries the province's grade recommendation, so it is made only for those who read the
report (kaohe.submissions.selectors): the province itself, the office, the working group,
the leading group and, once submitted, the reviewers of the unit; everyone else gets 404.
"""

from __future__ import annotations

from django.utils import timezone

from kaohe.accounts.capabilities import VIEW_PROVINCIAL_REPORTS, has_capability
from kaohe.documents.base import Exporter, register
from kaohe.documents.exporters.common import grade_label, office_name, paragraphs, plan_citation
from kaohe.documents.exporters.reports import (
    NOT_FILLED,
    file_size,
    local_stamp,
    official_stamp,
    zh,
)
from kaohe.documents.officialdoc import (
    Block,
    Heading,
    OfficialDocument,
    Paragraph,
    Table,
    official_date,
)
from kaohe.evidence.models import EvidenceKind
from kaohe.submissions.models import (
    CountyOutcome,
    ProvincialAttachmentKind,
    ProvincialReport,
    ReportStatus,
)
from kaohe.submissions.selectors import provincial_reports_visible_to
from kaohe.submissions.services.provincial import deep_poverty_indicator


def _label(name: str) -> str:
    return zh(getattr(CountyOutcome._meta.get_field(name), "verbose_name", name))


def _yes_no(value) -> str:
    return {True: "是", False: "否"}.get(value, NOT_FILLED)


def _number(value) -> str:
    return "—" if value is None else str(value)


def _status(report: ProvincialReport) -> str:
    if report.status == ReportStatus.SUBMITTED:
        return (f"报告状态：{zh(report.get_status_display())}；报送时间："
                f"{official_stamp(report.submitted_at)}；版本：第{report.versions.count()}版。")
    return f"报告状态：{zh(report.get_status_display())}，尚未报送；本文件为草稿。"


def provincial_report_document(report: ProvincialReport) -> OfficialDocument:
    round_, province, unit = report.round, report.province, report.unit
    outcomes = list(report.outcomes.select_related("county"))
    blocks: list[Block] = [
        Paragraph(_status(report)),
        Paragraph(f"根据{plan_citation(round_)}，现将{unit.name}{round_.year}年度在我省开展"
                  "定点扶贫工作情况、定点扶贫县减贫成效情况、县乡村基层干部群众满意情况"
                  "报告如下，并提出评价等次意见。"),
        Heading(1, "中央单位在本地开展定点扶贫情况"),
        *paragraphs(report.work_text, NOT_FILLED),
        Heading(1, "定点扶贫县减贫成效情况"),
    ]
    if outcomes:
        blocks.append(Table(
            ["县", _label("planned_exit"), _label("actual_exit"), _label("plan_met"),
             _label("county_exited")],
            [[o.county.name, _number(o.planned_exit), _number(o.actual_exit),
              _yes_no(o.plan_met), _yes_no(o.county_exited)] for o in outcomes],
            widths=[2.5, 2, 2, 2.5, 1.5]))
    else:
        blocks.append(Paragraph("该单位本年度在本省无定点扶贫县。"))
    deep = [o for o in outcomes if o.county.deep_poverty]
    indicator = deep_poverty_indicator(round_)
    if deep and indicator is not None:
        # The indicator's number and name are the round's data, as the plan words them.
        blocks.append(Heading(1, f"指标{indicator.number} {indicator.name}"))
        blocks.append(Table(
            ["县", _label("deep_funds"), _label("deep_projects"), _label("deep_cadres")],
            [[o.county.name, _number(o.deep_funds), _number(o.deep_projects),
              _number(o.deep_cadres)] for o in deep],
            widths=[2.5, 2.5, 2, 2]))
        for o in deep:
            blocks.append(Paragraph(f"{o.county.name}：{o.deep_support.strip() or NOT_FILLED}"))
    blocks.append(Heading(1, "县乡村基层干部群众满意情况"))
    if outcomes:
        blocks.append(Table(
            ["县", _label("satisfaction_unit"), _label("satisfaction_cadres")],
            [[o.county.name, grade_label(o.satisfaction_unit) if o.satisfaction_unit
              else NOT_FILLED, grade_label(o.satisfaction_cadres) if o.satisfaction_cadres
              else NOT_FILLED] for o in outcomes],
            widths=[2.5, 3.5, 3.5]))
        blocks.extend(Paragraph(f"{o.county.name}：{o.note.strip()}") for o in outcomes
                      if o.note.strip())
    findings = list(report.findings.select_related("county", "problem_kind"))
    blocks.append(Heading(1, "重大涉贫事件和突出问题"))
    if findings:
        for finding in findings:
            kind = zh(finding.get_kind_display())
            if finding.problem_kind:
                kind += f"（{finding.problem_kind.name}）"
            blocks.append(Paragraph(f"{finding.county.name}·{kind}：{finding.description}"))
    else:
        blocks.append(Paragraph("未发现重大涉贫事件或突出问题。"))
    blocks.append(Heading(1, "评价等次意见"))
    grade = grade_label(report.recommended_grade) if report.recommended_grade else NOT_FILLED
    blocks.append(Paragraph(f"评价等次意见：{grade}。"))
    blocks.extend(paragraphs(report.recommendation_reason, ""))
    blocks = [b for b in blocks if not (isinstance(b, Paragraph) and not b.text)]

    attachments = list(report.attachments.select_related("evidence", "county"))
    approvals = [a for a in attachments if a.kind == ProvincialAttachmentKind.APPROVAL]
    blocks.append(Heading(1, "审定情况"))
    approval = "本报告经省级扶贫开发领导小组审定"
    if report.approved_on:
        approval += f"（{official_date(report.approved_on)}"
        approval += f"，{report.approval_reference}）" if report.approval_reference else "）"
    approval += "。" if approvals else "；审定文件尚未附上。"
    blocks.append(Paragraph(approval))
    blocks.append(Heading(1, "附件材料清单"))
    if attachments:
        rows = []
        for number, attachment in enumerate(attachments, 1):
            evidence = attachment.evidence
            what = zh(attachment.get_kind_display())
            if attachment.county:
                what += f"（{attachment.county.name}）"
            if evidence.kind == EvidenceKind.LINK:
                rows.append([str(number), what, f"{evidence.original_name}（{evidence.url}）",
                             "—", "—", local_stamp(evidence.created_at)])
            else:
                rows.append([str(number), what, evidence.original_name, file_size(evidence.size),
                             evidence.sha256[:12], local_stamp(evidence.created_at)])
        blocks.append(Table(["序号", "类别", "文件名", "大小", "SHA-256（前12位）", "上传时间"],
                            rows, widths=[1.1, 3, 4.2, 1.4, 2.3, 2.3]))
    else:
        blocks.append(Paragraph("本报告未附材料。"))
    submitted = report.status == ReportStatus.SUBMITTED and report.submitted_at
    return OfficialDocument(
        title=f"{province.name}关于{unit.name}{round_.year}年度定点扶贫工作情况的总结报告",
        recipient=office_name(round_),
        blocks=blocks,
        issuer=province.name,
        issued_on=timezone.localdate(report.submitted_at) if submitted else None,
        attachments=[f"{zh(a.get_kind_display())}：{a.evidence.original_name}"
                     for a in attachments],
        subject=f"{round_.year}年度中央单位定点扶贫工作省级总结报告",
    )


def _provincial_reports(user, round_):
    if round_ is None or not has_capability(user, VIEW_PROVINCIAL_REPORTS):
        return ProvincialReport.objects.none()
    return (provincial_reports_visible_to(user, round=round_)
            .select_related("round").order_by("province__code", "unit__code"))


@register
class ProvincialReportExporter(Exporter):
    identifier = "provincial_report"
    name = "省级总结报告"
    capability = VIEW_PROVINCIAL_REPORTS
    template_fields = ("title", "recipient", "sections", "issuer", "issued_on",
                       "attachments", "classification", "mark")

    def scoped(self, user, round_):
        return _provincial_reports(user, round_)

    def describe(self, obj):
        return f"{obj.province.name}·{obj.unit.name}"

    def build(self, obj, mark):
        return provincial_report_document(obj)
