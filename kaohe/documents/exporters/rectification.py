"""The 整改报告: a unit's rectification report as a document in its own name, to print,
stamp and send to its lead department and the office (plan, step 7)."""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone

from kaohe.accounts.capabilities import VIEW_OWN_RESULT
from kaohe.accounts.scope import RECTIFICATION_REPORTS, Scope
from kaohe.documents.base import Exporter, one_of, register
from kaohe.documents.exporters.common import grade_label, office_name, paragraphs
from kaohe.documents.exporters.reports import zh
from kaohe.documents.officialdoc import Block, Heading, OfficialDocument, Paragraph, Table
from kaohe.lib import clock
from kaohe.outcomes.models import ItemStatus, RectificationReport
from kaohe.outcomes.selectors import handed_over, released_feedback, results_released

_STATUS: dict[str, str] = {ItemStatus.OPEN: "未整改", ItemStatus.IN_PROGRESS: "整改中",
           ItemStatus.DONE: "已完成", ItemStatus.NOT_ACCEPTED: "整改不到位"}


def _reports_for(user, round_):
    """A unit its own report; the office and lead departments the submitted reports of the
    units in their scope. Nothing before the round's results are released."""
    reports = RectificationReport.objects.filter(round=round_).select_related(
        "round", "unit", "unit__category__lead_department")
    if round_ is None or not results_released(round_):
        return reports.none()
    return Scope.of(user).filter(reports, RECTIFICATION_REPORTS, round=round_, handed_over=Q(
        unit__category__ranked=True, submitted_at__isnull=False))


def _day(day) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def rectification_document(report: RectificationReport) -> OfficialDocument:
    round_, unit = report.round, report.unit
    year = round_.year
    lead = unit.category.lead_department
    feedback = released_feedback(round_, unit)
    # As handed over: a sent-back item's revision is the unit's own until submitted again.
    shown = handed_over(report)
    items = shown.items
    files = {pk: [a.evidence.original_name for a in attached]
             for pk, attached in shown.files.items()}
    grade = f"，考核等次为“{grade_label(feedback.grade)}”" if feedback else ""
    blocks: list[Block] = [
        Paragraph(f"根据{office_name(round_)}反馈的我单位{year}年度定点扶贫工作考核结果"
                  f"{grade}，我单位对照反馈的突出问题和意见建议，逐项研究制定整改措施，"
                  "认真抓好整改落实。现将整改情况报告如下。"),
        Heading(1, "整改工作总体情况"),
        *paragraphs(shown.summary),
        Heading(1, "问题整改落实情况"),
    ]
    for item in items:
        blocks += [
            Heading(2, item.text),
            Paragraph(f"来源：{zh(item.get_source_display())}；整改状态：{_STATUS.get(item.status)}。"),
            *paragraphs(item.measures, empty="尚未填写整改措施。"),
        ]
        names = files.get(item.pk, [])
        if names:
            blocks.append(Paragraph("佐证材料：" + "；".join(names) + "。"))
    if not items:
        blocks.append(Paragraph("反馈意见中没有需要整改的事项。"))
    blocks += [
        Heading(1, "整改事项汇总"),
        Table(["序号", "问题或建议", "整改状态", "佐证材料"],
              [[str(i.order), i.text, _STATUS.get(i.status, i.status),
                str(len(files.get(i.pk, [])))] for i in items],
              widths=[1, 6, 2, 2]),
        Paragraph("特此报告。"),
    ]
    submitted = report.last_submitted_at or report.submitted_at
    issued = timezone.localdate(submitted) if submitted else clock.today()
    recipients = "、".join(n for n in (lead.name if lead else "", office_name(round_)) if n)
    return OfficialDocument(
        title=f"{unit.name}关于{year}年度定点扶贫工作考核反馈问题整改情况的报告",
        recipient=recipients,
        blocks=blocks,
        issuer=unit.name,
        issued_on=issued,
        printed_by=unit.name,
        printed_on=issued,
    )


@register
class RectificationReportExporter(Exporter):
    identifier = "rectification_report"
    name = "整改报告"
    capability = VIEW_OWN_RESULT
    template_fields = ("title", "recipient", "sections", "issuer", "issued_on", "mark")

    def objects_for(self, user, round_):
        return _reports_for(user, round_).order_by("unit__category__order", "unit__code")

    def get_object(self, user, round_, key):
        return one_of(_reports_for(user, round_), key)

    def describe(self, obj):
        return obj.unit.name

    def build(self, obj, mark):
        return rectification_document(obj)
