"""The working group's comprehensive review report to the leading group (综合评议报告)."""

from __future__ import annotations

from collections import Counter

from django.http import Http404

from kaohe.accounts.capabilities import VIEW_RESULTS, has_capability
from kaohe.documents.base import Exporter, one_of, register
from kaohe.documents.charts import stacked_bars
from kaohe.documents.exporters.common import (
    grading_rule,
    leading_group_name,
    plan_citation,
    summons_rule,
    working_group_name,
)
from kaohe.documents.officialdoc import (
    Annex,
    Block,
    Figure,
    Heading,
    OfficialDocument,
    Paragraph,
    Table,
)
from kaohe.grading import engine
from kaohe.grading.models import ResultSet
from kaohe.grading.selectors import result_rows, result_set_versions
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
            return ()
        return result_set_versions(round_)  # listed by name; the one printed read whole

    def get_object(self, user, round_, key):
        if not has_capability(user, self.capability) or round_ is None:
            raise Http404
        return one_of(ResultSet.objects.filter(round=round_).select_related("round"), key)

    def describe(self, obj):
        return f"{obj.round.year}年度第{obj.version}版"

    def build(self, obj, mark):
        obj.verify_seal()  # a tampered result set is never printed
        round_ = obj.round
        # The units from the version's rows, as the working group's page shows them.
        rows = list(result_rows(obj))
        categories = sorted({row.category for row in rows})
        by_category: dict[str, Counter[str]] = {c: Counter() for c in categories}
        for row in rows:
            by_category[row.category][row.final_grade] += 1
        totals = Counter(row.final_grade for row in rows)
        n = len(rows)

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
        names = {row.unit_code: row.unit_name for row in rows}
        blocks: list[Block] = [
            Heading(1, "考核工作开展情况"),
            Paragraph(f"根据{plan_citation(round_)}，考核工作组对{n}家参加排名的中央单位"
                      f"{round_.year}年度定点扶贫工作成效进行了综合评议。各牵头部门按类别组织"
                      f"分类考核，共涉及{len(categories)}个类别；考核工作组在分类考核基础上，"
                      "结合省级扶贫部门报告、突出问题和重大涉贫事件情况，按照综合评价方法"
                      "形成等次建议。"),
            Heading(1, "考核结果建议"),
            Paragraph(f"按照“{grading_rule(round_).rstrip('。')}”的规定，建议等次分布如下，"
                      f"各单位名次、得分和等次建议见附件。"),
            Table(["类别", *[_label(g) for g in GRADE_ORDER], "合计"], distribution,
                  caption="表1 各类别考核等次分布", widths=[4, 1, 1, 1, 1, 1, 1]),
            Figure(chart, "图1 各类别考核等次分布", width_mm=150),
            Heading(1, "需要说明的情况"),
        ]
        if decisions:
            blocks.append(Heading(2, "等次调整与待定事项的处理"))
            for decision in decisions:
                name = names.get(decision.unit_code, decision.unit_code)
                blocks.append(Paragraph(
                    f"{name}：由“{_label(decision.previous)}”确定为“{_label(decision.grade)}”。"
                    f"理由：{decision.reason}"))
        explained = explanations([{"unit": row.unit_code, "reasons": row.reasons}
                                  for row in rows], warnings, names)
        if explained:
            blocks.append(Heading(2, "等次确定的依据"))
            blocks += [Paragraph(text) for text in explained]
        if warnings:
            blocks.append(Heading(2, "评议中发现的问题"))
            blocks += [Paragraph(text) for text in grouped_warnings(warnings, names)]
        if not decisions and not warnings and not explained:
            blocks.append(Paragraph("本次综合评议无等次调整和待定事项。"))
        sensitivity = sensitivity_summary(obj.outputs.get("sensitivity") or [])
        calibration = calibration_summary(obj.outputs.get("calibration") or {})
        if sensitivity or calibration:
            blocks.append(Heading(1, "稳健性检验"))
        if sensitivity:
            blocks += [Heading(2, "敏感性分析"),
                       Paragraph("调整综合评价方法的参数后，等次发生变化的单位数如下。"),
                       Table(["参数调整", "等次变化单位数", "主要变化"], sensitivity,
                             caption="表2 敏感性分析", widths=[3, 1.6, 5])]
        if calibration:
            blocks += [Heading(2, "类别间尺度比较"),
                       Paragraph("各类别与其他类别相比，各项考核内容评价等次分布差异最大的"
                                 "一项如下。"),
                       *[Paragraph(text) for text in calibration]]
        if obj.leader_comments:
            blocks += [Heading(2, "领导小组意见"), Paragraph(obj.leader_comments)]
        blocks += [
            Heading(1, "下一步工作建议"),
            Paragraph("经领导小组审定后，向各中央单位反馈考核结果和存在的问题，督促整改落实；"
                      f"考核结果送中央组织部。{summons_rule(round_)}"),
        ]
        # The ranking is the annex, after the signature: one line a unit, landscape.
        annex_title = f"{round_.year}年度中央单位定点扶贫工作考核综合排名"
        ranking = [[str(row.rank), row.unit_name, row.category, str(row.score),
                    _label(row.final_grade)] for row in rows]
        annex = Annex(annex_title, [Table(["名次", "单位", "类别", "得分", "等次建议"], ranking,
                                          widths=[1.2, 7, 4.5, 1, 1.6])], landscape=True)
        return OfficialDocument(
            title=f"关于{round_.year}年度中央单位定点扶贫工作考核综合评议情况的报告",
            recipient=leading_group_name(round_),
            blocks=blocks,
            issuer=working_group_name(round_),
            issued_on=clock.today(),
            classification="内部资料 注意保密",
            attachments=[annex_title],
            annexes=[annex],
        )


# Lines of a unit's explanation that every unit has (its score, place and band): the
# ranking annex shows them. The others decide a grade and are printed in full.
_ROUTINE = ("得分", "与其他", "名次第", "位次第", "等次：")


def explanations(results, warnings, names) -> list[str]:
    """The deciding lines of the units' explanations, in full, each once with every unit it
    applies to (a line that is also a warning is left to the warnings)."""
    warned = {(w.get("unit"), w["message"]) for w in warnings}
    grouped: dict[str, list[str]] = {}
    for result in results:
        for line in result["reasons"]:
            if line.startswith(_ROUTINE) or (result["unit"], line) in warned:
                continue
            if line.startswith("省级推荐等次"):
                continue  # a warning of its own kind (recommendation.far)
            grouped.setdefault(line, []).append(names.get(result["unit"], result["unit"]))
    return [f"{'、'.join(units)}：{line.rstrip('。')}。" for line, units in grouped.items()]


def grouped_warnings(warnings, names) -> list[str]:
    """Warnings with the same message as one paragraph naming every unit it concerns."""
    grouped: dict[str, list[str]] = {}
    for warning in warnings:
        unit = warning.get("unit") or ""
        grouped.setdefault(warning["message"], [])
        if unit:
            grouped[warning["message"]].append(names.get(unit, unit))
    paragraphs = []
    for message, units in grouped.items():
        if units:
            paragraphs.append(f"{message.rstrip('。')}（{len(units)}家）：{'、'.join(units)}。")
        else:
            paragraphs.append(f"{message.rstrip('。')}。")
    return paragraphs


def sensitivity_summary(runs) -> list[list[str]]:
    """One row a parameter varied: how many units' grades change, and the commonest moves."""
    rows = []
    for run in runs:
        changes = run.get("changes") or []
        moves = Counter((c["before"], c["after"]) for c in changes)
        common = sorted(moves.items(), key=lambda m: -m[1])
        detail = "，".join(f"{_label(a)}→{_label(b)} {k}家" for (a, b), k in common[:3])
        if len(common) > 3:
            detail += "等"
        rows.append([run["label"], str(len(changes)), detail or "无"])
    return rows


def calibration_summary(calibration) -> list[str]:
    """Per category, the area whose grades differ most from the other categories'."""
    lines = []
    for category, data in calibration.items():
        widest = None
        for code, area in (data.get("areas") or {}).items():
            ours, others = area["category"]["shares"], area["others"]["shares"]
            for grade in ("好", "较差"):
                gap = abs(float(ours.get(grade, 0)) - float(others.get(grade, 0)))
                if widest is None or gap > widest[0]:
                    widest = (gap, code, grade, float(ours.get(grade, 0)),
                              float(others.get(grade, 0)))
        if widest is None:
            continue
        _gap, code, grade, ours, others = widest
        area = engine.AREA_NAMES.get(code, code)
        lines.append(f"{category}（{data.get('units', '')}家）：{area}评为“{grade}”的占"
                     f"{ours:.0%}，其他类别为{others:.0%}。")
    return lines
