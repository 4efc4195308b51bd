"""The comprehensive review report people read (issue 18): the ranking a compact landscape
附件 after the signature, warnings grouped by message naming their units, the deciding
explanations in full, sensitivity and calibration summarised, the chart's labels exact.

The 310-unit measure (≤ 30 pages) is in tests/demo/test_demo_released.py."""

from kaohe.documents.base import get_exporter
from kaohe.documents.exporters.review import (
    calibration_summary,
    explanations,
    grouped_warnings,
    sensitivity_summary,
)
from kaohe.documents.officialdoc import Table

NAMES = {"U1": "示例甲", "U2": "示例乙", "U3": "示例丙"}
LONG = ("存在突出问题（定点扶贫县被审计、纪检、财政等部门查出重大扶贫违纪违规问题（牵头部门）），"
        "但位次第256–261位不在「较差」区间（第280–310位），不确定为较差，请考核工作组关注，"
        "并由考核工作组结合核查情况、省级扶贫部门意见和牵头部门的分类考核报告说明理由")


def test_warnings_are_grouped_by_message_and_name_every_unit():
    far = "省级推荐等次「一般」与考核等次「好」相差2个等次"
    warnings = [
        {"unit": "U1", "code": "recommendation.far", "message": far},
        {"unit": "U2", "code": "recommendation.far", "message": far},
        {"unit": None, "code": "quota", "message": "“好”的单位数超过规定"},
    ]
    assert grouped_warnings(warnings, NAMES) == [
        "省级推荐等次「一般」与考核等次「好」相差2个等次（2家）：示例甲、示例乙。",
        "“好”的单位数超过规定。",
    ]


def test_explanations_keep_the_deciding_lines_in_full_and_leave_out_the_routine():
    results = [
        {"unit": "U1", "reasons": ["得分24：帮扶成效「好」4×1", "名次第1名",
                                   "位次第1位在「好」区间", "等次：好"]},
        {"unit": "U2", "reasons": ["得分7", LONG, "等次：一般"]},
        {"unit": "U3", "reasons": ["得分7", LONG,
                                   "省级推荐等次「好」与考核等次「一般」相差2个等次"]},
    ]
    lines = explanations(results, [], NAMES)
    assert lines == [f"示例乙、示例丙：{LONG}。"]
    assert len(lines[0]) > 120  # not cut
    # A line that is also the unit's warning is told once, with the warnings.
    assert explanations(results, [{"unit": "U2", "message": LONG},
                                  {"unit": "U3", "message": LONG}], NAMES) == []


def test_sensitivity_and_calibration_are_summarised():
    runs = [{"label": "帮扶成效权重 1→2", "changes": [
        {"unit": "U1", "before": "good", "after": "fairly_good"},
        {"unit": "U2", "before": "good", "after": "fairly_good"},
        {"unit": "U3", "before": "poor", "after": "average"}]},
        {"label": "工作创新权重 1→0", "changes": []}]
    assert sensitivity_summary(runs) == [
        ["帮扶成效权重 1→2", "3", "好→较好 2家，较差→一般 1家"],
        ["工作创新权重 1→0", "0", "无"]]
    calibration = {"中央企业": {"units": 105, "areas": {"effectiveness": {
        "category": {"shares": {"好": 0.18, "较差": 0.16}},
        "others": {"shares": {"好": 0.22, "较差": 0.09}}}}}}
    assert calibration_summary(calibration) == [
        "中央企业（105家）：帮扶成效评为“较差”的占16%，其他类别为9%。"]


def test_the_ranking_is_a_landscape_annex_after_the_signature(released, personas, world):
    exporter = get_exporter("review_report")
    doc = exporter.build(released, None)
    assert len(doc.annexes) == 1 and doc.annexes[0].landscape
    assert doc.attachments == [doc.annexes[0].title]
    assert "综合排名" in doc.annexes[0].title
    table = doc.annexes[0].blocks[0]
    assert isinstance(table, Table)
    assert table.headers == ["名次", "单位", "类别", "得分", "等次建议"]
    assert [row[1] for row in table.rows] == [world["unit_a"].name, world["unit_b"].name]
    # The body has no ranking table of its own any more.
    assert not any(isinstance(b, Table) and "名次" in b.headers for b in doc.blocks)


def test_the_chart_names_each_category_exactly_and_writes_only_counts_that_fit(monkeypatch):
    from kaohe.documents import charts

    pyplot = charts._pyplot()
    figures = []
    monkeypatch.setattr(pyplot, "close", figures.append)
    categories = ["中央企业", "中央国家机关", "民主党派中央和全国工商联"]
    charts.stacked_bars(categories, {"好": [19, 10, 3], "较好": [41, 20, 1],
                                     "一般": [28, 40, 4], "较差": [17, 12, 1]}, "分布")
    axes = figures[0].axes[0]
    labels = [t.get_text().replace("\n", "") for t in axes.get_yticklabels()]
    assert labels == categories
    written = [t.get_text() for t in axes.texts]
    # 105 in all for the first bar: 19, 41, 28 and 17 fit; the small bar's 3, 1, 4, 1 do not,
    # its total (9) is written at its end.
    assert {"19", "41", "28", "17", "105", "9"} <= set(written)
    assert "1" not in written and "3" not in written


def test_a_pdf_letter_is_at_most_100_kb(released, personas, world):
    """WeasyPrint's subsets kept every glyph slot below the highest used, in whole OpenType
    files (126 KB for this letter); kaohe.documents.pdf_fonts embeds the glyphs used."""
    from kaohe.outcomes.models import Feedback

    letter = Feedback.objects.get(round=world["round"], unit=world["unit_b"])
    rendered = get_exporter("feedback_letter").render("pdf", letter, None)
    assert len(rendered.data) <= 100 * 1024
