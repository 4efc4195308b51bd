"""The home pages' figures and texts made in Python rather than per row in the template
(issue 19): the same numbers, links and dates as before."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kaohe.dashboard import selectors
from kaohe.directory.models import Unit
from kaohe.reviews.models import CategorySubmission, CategorySubmissionStatus
from kaohe.submissions.models import ProvincialReport, ReportStatus, SelfReport


@pytest.fixture
def reports(world):
    round_ = world["round"]
    # 2017-12-30 16:05 UTC is 2017-12-31 00:05 in Beijing: the page shows the local time.
    at = datetime.datetime(2017, 12, 30, 16, 5, tzinfo=datetime.UTC)
    SelfReport.objects.create(round=round_, unit=world["unit_a"], status=ReportStatus.SUBMITTED,
                              submitted_at=at)
    SelfReport.objects.create(round=round_, unit=world["unit_b"], status=ReportStatus.RETURNED)
    return world


def _row(html, name):
    return next(row for row in re.findall(r"<tr>.*?</tr>", html, re.S) if name in row)


@pytest.mark.django_db
def test_unit_table_shows_local_submission_time_and_links_to_the_unit(client, personas,
                                                                       reports):
    client.force_login(personas["office"])
    html = client.get(reverse("unit_progress")).content.decode()
    row_a, row_b = _row(html, "测试单位甲"), _row(html, "测试单位乙")
    assert "<td>2017-12-31 00:05</td>" in row_a
    assert "<td>—</td>" in row_b and "已退回修改" in row_b
    assert f'href="{reverse("directory:unit_detail", args=[reports["unit_a"].pk])}"' in row_a


@pytest.mark.django_db
def test_lead_department_links_only_its_ranked_units_to_the_desk(client, personas, reports):
    client.force_login(personas["lead_reviewer"])
    html = client.get(reverse("unit_progress")).content.decode()
    assert f'href="{reverse("reviews:desk", args=[reports["unit_a"].pk])}"' in html
    assert reverse("directory:unit_detail", args=[reports["unit_a"].pk]) not in html


@pytest.mark.django_db
def test_steps_table_and_timeline_write_the_deadlines(client, personas, reports):
    client.force_login(personas["office"])
    response = client.get(reverse("home"))
    html = response.content.decode()
    for p in response.context["steps"]:
        due = p.step.due
        assert f"<td>{due.year}年{due.month}月{due.day}日</td>" in html
    for node in response.context["todo"].timeline:
        if len(node.steps) > 1:
            for step in node.steps:
                assert f"{step.name}：{step.due.month}月{step.due.day}日" in html


@pytest.mark.django_db
def test_category_progress_counts_a_returned_report_as_in_progress(personas, reports):
    round_ = reports["round"]
    cats = {c.code: c for c in selectors.category_progress(round_, Unit.objects.all())}
    assert (cats["enterprises"].unit_count, cats["enterprises"].submitted,
            cats["enterprises"].drafts, cats["enterprises"].not_started) == (1, 0, 1, 0)
    assert (cats["party_organs"].submitted, cats["party_organs"].not_started) == (1, 0)
    # Inactive units are not counted.
    Unit.objects.filter(pk=reports["unit_b"].pk).update(active=False)
    cats = {c.code: c for c in selectors.category_progress(round_, Unit.objects.all())}
    assert "enterprises" not in cats


@pytest.mark.django_db
def test_review_step_counts_the_visible_lead_departments_submissions(client, personas, reports):
    CategorySubmission.objects.create(round=reports["round"], lead_department=reports["lead_a"],
                                      status=CategorySubmissionStatus.SUBMITTED,
                                      submitted_at=timezone.now())
    client.force_login(personas["office"])
    steps = {p.step.code: p for p in client.get(reverse("home")).context["steps"]}
    assert (steps["review"].done, steps["review"].total) == (1, 2)
    client.force_login(personas["lead_reviewer_b"])
    steps = {p.step.code: p for p in client.get(reverse("home")).context["steps"]}
    assert (steps["review"].done, steps["review"].total) == (0, 1)


@pytest.mark.django_db
def test_step_progress_counts_only_the_steps_of_the_actors(reports):
    round_ = reports["round"]
    with CaptureQueriesContext(connection) as queries:
        progress = selectors.step_progress(round_, Unit.objects.all(), actors={"province"})
    assert [p.step.code for p in progress] == ["provincial_report"]
    assert not any("selfreport" in q["sql"] or "launch_" in q["sql"] for q in queries)


@pytest.mark.django_db
def test_a_provinces_report_count_covers_only_the_units_given(reports):
    """Yunnan has two units working in it; asked about one of them, the province's
    summary reports count that one only (not every unit of the province)."""
    round_, province = reports["round"], reports["province_b"]
    ProvincialReport.objects.create(round=round_, province=province, unit=reports["unit_b"],
                                    status=ReportStatus.SUBMITTED)
    steps = {p.step.code: p for p in selectors.step_progress(
        round_, Unit.objects.filter(pk=reports["unit_b"].pk), province, actors={"province"})}
    assert (steps["provincial_report"].done, steps["provincial_report"].total) == (1, 1)
    steps = {p.step.code: p for p in selectors.step_progress(
        round_, Unit.objects.exclude(pk=reports["unit_b"].pk), province, actors={"province"})}
    assert (steps["provincial_report"].done, steps["provincial_report"].total) == (0, 1)


@pytest.mark.django_db
def test_administrator_home_counts_no_step(client, personas, reports):
    client.force_login(personas["system_admin"])
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("home"))
    assert response.status_code == 200 and response.context["steps"] == []
    assert not any("submissions_selfreport" in q["sql"] for q in queries)
