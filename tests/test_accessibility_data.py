"""Issue 21: every chart has its data as text; the category page has the grade matrix of
the exported report; marks and links carry words, not emoji (no browser needed)."""

import re

import pytest
from django.urls import reverse

from kaohe.grading.engine import GRADE_LABELS, Grade
from kaohe.grading.vocabulary import GRADE_ORDER
from kaohe.reviews.models import CategorySubmission
from tests.grading.test_result_sets import GOOD_ALL, _review, _submit_category
from tests.outcomes.test_outcomes import approved  # noqa: F401 - a fixture used here

pytestmark = pytest.mark.django_db


def _section(content: str, element_id: str) -> str:
    start = content.index(f'id="{element_id}"')
    return content[start:content.index("</details>", start)]


def _cells(html: str) -> list[list[str]]:
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", html, re.S):
        rows.append([re.sub(r"<[^>]+>", "", cell).strip()
                     for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)])
    return rows


def test_the_result_set_charts_have_their_data_as_tables(client, personas,
                                                         approved):  # noqa: F811
    client.force_login(personas["leading_group"])
    content = client.get(reverse("grading:detail", kwargs={"pk": approved.pk})).content.decode()
    # Per category, the number of units of each final grade.
    inputs = {item["unit"]: item["category"] for item in approved.inputs}
    expected = {}
    for unit, grade in approved.final_grades().items():
        counts = expected.setdefault(inputs[unit], dict.fromkeys(GRADE_ORDER, 0))
        counts[grade] += 1
    rows = _cells(_section(content, "grade-chart-table"))
    assert rows[0] == ["类别", *(GRADE_LABELS[Grade(c)] for c in GRADE_ORDER)]
    assert {row[0]: row[1:] for row in rows[1:]} == {
        category: [str(counts[c]) for c in GRADE_ORDER] for category, counts in expected.items()}
    # The calibration: the share of 好 in each category and in the others, in per cent.
    calibration = approved.outputs["calibration"]
    rows = _cells(_section(content, "calibration-table"))
    assert len(rows) == 1 + len(calibration)
    for row in rows[1:]:
        shares = calibration[row[0]]["overall"]
        assert row[1] == str(round(100 * shares["category"]["shares"].get("好", 0), 1))
        assert row[2] == str(round(100 * shares["others"]["shares"].get("好", 0), 1))


def test_the_category_page_shows_the_grade_matrix_of_the_exported_report(
        client, world, personas):
    round_ = world["round"]
    _review(round_, world["unit_a"], personas["lead_reviewer"], GOOD_ALL)
    client.force_login(personas["lead_reviewer"])
    url = reverse("reviews:category", kwargs={"lead_pk": world["lead_a"].pk})
    rows = _cells(client.get(url).content.decode().split('id="grade-matrix"')[1]
                  .split("</table>")[0])
    areas = list(round_.areas.values_list("name", flat=True))
    assert rows[0] == ["序号", "单位", *areas]
    assert rows[1] == ["1", "测试单位甲", *(["好"] * len(areas))]
    # Once submitted, it is the snapshot the working group received (as in the export).
    _submit_category(round_, world["lead_a"], personas["lead_reviewer"])
    assert CategorySubmission.objects.get(lead_department=world["lead_a"]).snapshot
    content = client.get(url).content.decode()
    assert "下表为报送考核工作组时的初步考核结果。" in content
    assert _cells(content.split('id="grade-matrix"')[1].split("</table>")[0])[1][1] == \
        "测试单位甲"


def test_link_evidence_is_labelled_in_words_not_an_emoji(client, world, personas, settings):
    from kaohe.evidence.models import Evidence
    from tests.submissions.conftest import matrix_self_report

    settings.KAOHE_TODAY = "2017-11-15"  # before the self-report's deadline
    report = matrix_self_report(world, world["unit_a"], submitted=False)
    client.force_login(personas["unit"])
    from tests.submissions.conftest import indicator_pk

    client.post(reverse("submissions:self_report_link", kwargs={"pk": report.pk}),
                {"indicator": indicator_pk(4), "link_title": "新闻报道七一",
                 "link_url": "https://example.org/news/1"})
    assert Evidence.objects.filter(original_name="新闻报道七一").exists()
    content = client.get(reverse("submissions:self_report", kwargs={"pk": report.pk})
                         ).content.decode()
    assert "新闻报道七一" in content
    assert "\U0001f517" not in content
    assert '>链接</span>新闻报道七一</a>' in content
