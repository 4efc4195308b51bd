"""The working group's comprehensive review report to the leading group (综合评议报告)."""

from __future__ import annotations

from collections import Counter

from django.http import Http404

from kaohe.accounts.capabilities import VIEW_RESULTS, has_capability
from kaohe.documents.base import Exporter, register
from kaohe.documents.charts import stacked_bars
from kaohe.documents.exporters.common import (
    grading_rule,
    leading_group_name,
    plan_citation,
    summons_rule,
    working_group_name,
)
from kaohe.documents.officialdoc import (
    Figure,
    Heading,
    OfficialDocument,
    PageBreak,
    Paragraph,
    Table,
)
from kaohe.grading import engine
from kaohe.grading.models import SNAPSHOTS, ResultSet
from kaohe.grading.vocabulary import GRADE_ORDER
from kaohe.lib import clock


def _label(code: str) -> str:
    return engine.GRADE_LABELS[engine.Grade(code)]


@register
class ReviewReportExporter(Exporter):
    identifier = "review_report"
    name = "综合评议报告"
    capability = VIEW_RESULTS
    bulk = True  # the ranking of every unit makes a long PDF: made in the background
    template_fields = ("title", "recipient", "sections", "issuer", "issued_on", "mark")

    def objects_for(self, user, round_):
        if not has_capability(user, self.capability) or round_ is None:
            return ResultSet.objects.none()
        # Listed by name: the snapshots are read for the one version printed (issue 19).
        return ResultSet.objects.filter(round=round_).select_related("round").defer(*SNAPSHOTS)

    def get_object(self, user, round_, key):
        try:
            return self.objects_for(user, round_).defer(None).get(pk=int(key))
        except (ValueError, ResultSet.DoesNotExist):
            raise Http404 from None

    def describe(self, obj):
        return f"{obj.round.year}年度第{obj.version}版"

    def build(self, obj, mark):
        obj.verify_seal()  # a tampered result set is never printed
        round_ = obj.round
        inputs = {item["unit"]: item for item in obj.inputs}
        final = obj.final_grades()
        results = obj.outputs["results"]
        categories = sorted({item["category"] for item in obj.inputs})
        by_category = {c: Counter() for c in categories}
        for code, grade in final.items():
            by_category[inputs[code]["category"]][grade] += 1
        totals = Counter(final.values())
        n = len(results)

        distribution = [
            [category, *[str(by_category[category][g]) for g in GRADE_ORDER],
             str(sum(by_category[category].values()))]
            for category in categories
        ]
        distribution.append(["合计", *[str(totals[g]) for g in GRADE_ORDER], str(n)])
        chart = stacked_bars(
            categories,
            {_label(g): [by_category[c][g] for c in categories] for g in GRADE_ORDER[:4]},
            "各类别考核等次分布",
        )
        decisions = list(obj.decisions.select_related("decided_by").order_by("decided_at"))
        warnings = obj.outputs.get("warnings", [])
        ranking = [
            [str(r["rank"]), inputs[r["unit"]]["name"], inputs[r["unit"]]["category"],
             str(r["score"]), _label(final[r["unit"]]),
             "；".join(m for m in r["reasons"] if not m.startswith("得分"))[:120]]
            for r in results
        ]
        blocks = [
            Heading(1, "考核工作开展情况"),
            Paragraph(f"根据{plan_citation(round_)}，考核工作组对{n}家参加排名的中央单位"
                      f"{round_.year}年度定点扶贫工作成效进行了综合评议。各牵头部门按类别组织"
                      f"分类考核，共涉及{len(categories)}个类别；考核工作组在分类考核基础上，"
                      "结合省级扶贫部门报告、突出问题和重大涉贫事件情况，按照综合评价方法"
                      "形成等次建议。"),
            Heading(1, "考核结果建议"),
            Paragraph(f"按照“{grading_rule(round_).rstrip('。')}”的规定，建议等次分布如下。"),
            Table(["类别", *[_label(g) for g in GRADE_ORDER], "合计"], distribution,
                  caption="表1 各类别考核等次分布", widths=[4, 1, 1, 1, 1, 1, 1]),
            Figure(chart, "图1 各类别考核等次分布", width_mm=150),
            Heading(1, "需要说明的情况"),
        ]
        if decisions:
            blocks.append(Heading(2, "等次调整与待定事项的处理"))
            for decision in decisions:
                name = inputs.get(decision.unit_code, {}).get("name", decision.unit_code)
                blocks.append(Paragraph(
                    f"{name}：由“{_label(decision.previous)}”确定为“{_label(decision.grade)}”。"
                    f"理由：{decision.reason}"))
        if warnings:
            blocks.append(Heading(2, "评议中发现的问题"))
            for warning in warnings:
                name = inputs.get(warning.get("unit") or "", {}).get("name", "")
                blocks.append(Paragraph(f"{name}：{warning['message']}" if name
                                        else warning["message"]))
        if not decisions and not warnings:
            blocks.append(Paragraph("本次综合评议无等次调整和待定事项。"))
        if obj.leader_comments:
            blocks += [Heading(2, "领导小组意见"), Paragraph(obj.leader_comments)]
        blocks += [
            Heading(1, "下一步工作建议"),
            Paragraph("经领导小组审定后，向各中央单位反馈考核结果和存在的问题，督促整改落实；"
                      f"考核结果送中央组织部。{summons_rule(round_)}"),
            Paragraph("附件：中央单位定点扶贫工作考核综合排名"),
            PageBreak(),
            Table(["名次", "单位", "类别", "得分", "等次建议", "说明"], ranking,
                  caption=f"{round_.year}年度中央单位定点扶贫工作考核综合排名",
                  widths=[0.8, 4, 3, 1, 1.2, 4]),
        ]
        return OfficialDocument(
            title=f"关于{round_.year}年度中央单位定点扶贫工作考核综合评议情况的报告",
            recipient=leading_group_name(round_),
            blocks=blocks,
            issuer=working_group_name(round_),
            issued_on=clock.today(),
            classification="内部资料 注意保密",
        )
