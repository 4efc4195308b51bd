"""Papers the results send on: the leading group's report of the results to 党中央、国务院
(a 上行文 naming its 签发人) and the office's notice asking a lead department to summon a
unit graded 较差 (plan, part 七). Both are signed off by the office before they are sent.

Their wording of the plan (the citation, the names, the grading rule and the summons
sentence) is the round's data (kaohe.documents.exporters.common).
"""

from __future__ import annotations

from collections import Counter

from django.http import Http404

from kaohe.accounts.capabilities import (
    APPROVE_RESULTS,
    MANAGE_SUMMONS,
    RELEASE_RESULTS,
    has_capability,
)
from kaohe.accounts.scope import Scope
from kaohe.documents.base import Exporter, RoundExporter, register
from kaohe.documents.exporters.common import (
    grade_label,
    grading_rule,
    leading_group_name,
    office_name,
    paragraphs,
    plan_citation,
    summons_rule,
    working_group_name,
)
from kaohe.documents.exporters.outcomes import _ranked_results
from kaohe.documents.models import DocumentKind
from kaohe.documents.officialdoc import Block, Heading, OfficialDocument, Paragraph, Table
from kaohe.grading.selectors import (
    approved_result_set,
    released_result_set,
)
from kaohe.grading.vocabulary import GRADE_ORDER
from kaohe.lib import clock
from kaohe.outcomes.models import Summoner, Summons
from kaohe.outcomes.selectors import released_feedback, results_released

# The recipients of the leading group's report (the plan: it reports the results to them).
CENTRAL_AUTHORITIES = "党中央、国务院"


@register
class ResultsReportExporter(RoundExporter):
    """The report of the results to 党中央、国务院: prepared by the office once the leading
    group approved the results, read by the leading group."""

    identifier = "results_report"
    name = "考核结果报告（报党中央、国务院）"
    capability = RELEASE_RESULTS
    sign_kind = DocumentKind.REPORT
    upward = True
    template_fields = ("title", "recipient", "sections", "issuer", "issued_on", "signer",
                       "doc_number", "mark")

    def ready(self, round_):
        return approved_result_set(round_) is not None

    def _allowed(self, user) -> bool:
        return has_capability(user, RELEASE_RESULTS) or has_capability(user, APPROVE_RESULTS)

    def objects_for(self, user, round_):
        if round_ is None or not self._allowed(user) or not self.ready(round_):
            return []
        return [round_]

    def get_object(self, user, round_, key):
        if not self.objects_for(user, round_) or key != str(round_.year):
            raise Http404
        return round_

    def build(self, obj, mark):
        result_set = released_result_set(obj) or approved_result_set(obj)
        if result_set is None:
            raise Http404
        result_set.verify_seal()
        rows = _ranked_results(result_set)
        totals = Counter(grade for _, grade in rows)
        categories: dict[str, Counter] = {}
        order: dict[str, int] = {}
        for unit, grade in rows:
            categories.setdefault(unit.category.name, Counter())[grade] += 1
            order[unit.category.name] = unit.category.order
        distribution = [
            [name, *[str(categories[name][g]) for g in GRADE_ORDER],
             str(sum(categories[name].values()))]
            for name in sorted(categories, key=lambda name: order[name])
        ]
        distribution.append(["合计", *[str(totals[g]) for g in GRADE_ORDER], str(len(rows))])
        group, year = leading_group_name(obj), obj.year
        counts = "，".join(f"“{grade_label(g)}”{totals[g]}家" for g in GRADE_ORDER)

        def names(grade):
            found = [unit.name for unit, g in rows if g == grade]
            return "、".join(found) + "。" if found else "无。"

        blocks: list[Block] = [
            Paragraph(f"根据{plan_citation(obj)}，{group}组织对{len(rows)}家中央单位{year}年度"
                      "定点扶贫工作进行了考核。现将考核结果报告如下。"),
            Heading(1, "考核工作开展情况"),
            Paragraph(f"考核由{office_name(obj)}会同各牵头部门组织实施。各牵头部门对所牵头的"
                      f"中央单位开展分类考核，{working_group_name(obj)}在分类考核基础上进行综合"
                      f"评议，提出考核等次建议，经{group}审定。"),
            Heading(1, "考核结果"),
            Paragraph(f"按照“{grading_rule(obj).rstrip('。')}”的规定，{len(rows)}家中央单位中，"
                      f"考核结果为{counts}。"),
            Table(["类别", *[grade_label(g) for g in GRADE_ORDER], "合计"], distribution,
                  caption="表1 各类别考核等次分布", widths=[4, 1, 1, 1, 1, 1, 1]),
            Heading(2, f"考核结果为“{grade_label('good')}”的单位"),
            Paragraph(names("good")),
            Heading(2, f"考核结果为“{grade_label('poor')}”的单位"),
            Paragraph(names("poor")),
            Heading(1, "考核结果运用"),
            Paragraph(f"{group}将向中央各单位通报考核情况，反馈考核结果和存在的问题，督促"
                      f"整改落实，并将考核结果送中央组织部。{summons_rule(obj)}"),
            Paragraph("特此报告。"),
        ]
        today = clock.today()
        return OfficialDocument(
            title=f"关于{year}年度中央单位定点扶贫工作考核结果的报告",
            recipient=CENTRAL_AUTHORITIES,
            blocks=blocks,
            issuer=group,
            issued_on=today,
            printed_by=office_name(obj),
            printed_on=today,
        )


def _summons_for(user, round_):
    """The summons by a lead department of a round whose results are out: the office all of
    them, a lead department those of its own units. None a correction withdrew (the unit is
    no longer 较差)."""
    summons = Summons.objects.filter(
        round=round_, summoner=Summoner.LEAD_DEPARTMENT, withdrawn_at__isnull=True,
    ).select_related("round", "unit", "unit__category__lead_department")
    if (round_ is None or not has_capability(user, MANAGE_SUMMONS)
            or not results_released(round_)):
        return summons.none()
    return Scope.of(user).units(summons, round=round_).order_by(
        "unit__category__order", "unit__code")


def summons_notice(summons: Summons) -> OfficialDocument:
    round_, unit = summons.round, summons.unit
    lead = unit.category.lead_department
    feedback = released_feedback(round_, unit)
    who = summons.get_summoned_display()
    blocks: list[Block] = [
        Paragraph(f"根据{plan_citation(round_)}，经{leading_group_name(round_)}审定，{unit.name}"
                  f"{round_.year}年度定点扶贫工作考核结果为“{grade_label('poor')}”。"
                  f"按照规定，{summons_rule(round_)}"),
        Paragraph(f"请你部门约谈{unit.name}{who}，指出考核发现的突出问题，提出整改要求，督促"
                  "其认真抓好整改落实，并将约谈情况（约谈时间、参加人员、约谈纪要）报送"
                  f"{office_name(round_)}。"),
        Heading(1, "考核发现的突出问题与不足"),
        *paragraphs(feedback.problems if feedback else ""),
        Heading(1, "改进工作的意见建议"),
        *paragraphs(feedback.suggestions if feedback else ""),
    ]
    if summons.held_on:
        day = summons.held_on
        blocks += [Heading(1, "约谈安排"),
                   Paragraph(f"约谈时间：{day.year}年{day.month}月{day.day}日。")]
    today = clock.today()
    return OfficialDocument(
        title=f"关于约谈{unit.name}{who}的通知",
        recipient=lead.name if lead else "",
        blocks=blocks,
        issuer=office_name(round_),
        issued_on=today,
        printed_by=office_name(round_),
        printed_on=today,
    )


@register
class SummonsNoticeExporter(Exporter):
    """The notice to a lead department to summon a unit graded 较差 (its 分管负责同志)."""

    identifier = "summons_notice"
    name = "约谈通知"
    capability = MANAGE_SUMMONS
    sign_kind = DocumentKind.NOTICE
    template_fields = ("title", "recipient", "sections", "issuer", "issued_on", "doc_number",
                       "mark")

    def scoped(self, user, round_):
        return _summons_for(user, round_)

    def describe(self, obj):
        return obj.unit.name

    def build(self, obj, mark):
        return summons_notice(obj)
