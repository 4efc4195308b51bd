"""The 待办 panel (issue 21): what is due from each role at each stage of the round, by
when, with a link, and what is late; and the step of the seven the round is at."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kaohe.dashboard import todo
from kaohe.grading import services as grading
from kaohe.outcomes import services as outcomes
from kaohe.outcomes.models import DispatchKind
from kaohe.submissions.models import (
    Extension,
    ProvincialReport,
    ReportStatus,
    SecondedCadre,
    SelfReport,
)
from tests.dashboard.test_home import _add_units
from tests.grading.test_result_sets import AVERAGE_ALL, GOOD_ALL, _review, _submit_category
from tests.outcomes.test_outcomes import approved  # noqa: F401 - the fixture

D = datetime.date


def _items(user, round_):
    return {item.code: item for item in todo.panel_for(user, round_).items}


@pytest.fixture
def reviewed(world, personas):
    """Both ranked units graded and both categories submitted (end of step 四)."""
    round_ = world["round"]
    _review(round_, world["unit_a"], personas["lead_reviewer"], GOOD_ALL)
    _review(round_, world["unit_b"], personas["lead_reviewer_b"], AVERAGE_ALL)
    _submit_category(round_, world["lead_a"], personas["lead_reviewer"])
    _submit_category(round_, world["lead_b"], personas["lead_reviewer_b"])
    return world


# Reporting (step 三) ------------------------------------------------------------------------

@pytest.mark.django_db
def test_reporting_unit_sees_its_self_report_due_at_the_end_of_december(personas, world,
                                                                        settings):
    settings.KAOHE_TODAY = "2017-12-20"
    panel = todo.panel_for(personas["unit"], world["round"])
    assert panel.current.code == "self_report"
    item = {i.code: i for i in panel.items}["self_report"]
    assert item.due == D(2017, 12, 31)
    assert item.url == reverse("submissions:self_reports")
    assert not item.late
    assert "自评报告" in item.text


@pytest.mark.django_db
def test_a_missing_self_report_is_late_after_the_deadline_unless_extended(personas, world,
                                                                          settings):
    settings.KAOHE_TODAY = "2018-01-03"
    item = _items(personas["unit"], world["round"])["self_report"]
    assert item.late and item.due == D(2017, 12, 31)
    Extension.objects.create(step=world["round"].steps.get(code="self_report"),
                             unit=world["unit_a"], until=D(2018, 1, 5), reason="系统故障",
                             granted_by=personas["office"])
    item = _items(personas["unit"], world["round"])["self_report"]
    assert item.due == D(2018, 1, 5) and not item.late


@pytest.mark.django_db
def test_a_submitted_self_report_is_no_longer_due_and_a_returned_one_is(personas, world,
                                                                        settings):
    settings.KAOHE_TODAY = "2017-12-20"
    report = SelfReport.objects.create(round=world["round"], unit=world["unit_a"],
                                       status=ReportStatus.SUBMITTED,
                                       submitted_at=timezone.now())
    assert "self_report" not in _items(personas["unit"], world["round"])
    report.status = ReportStatus.RETURNED
    report.save()
    item = _items(personas["unit"], world["round"])["self_report"]
    assert "退回" in item.text


@pytest.mark.django_db
def test_reporting_province_sees_how_many_reports_are_left(personas, world, settings):
    settings.KAOHE_TODAY = "2017-12-20"
    # Yunnan has two central units (unit_b and the army unit); one report is in.
    ProvincialReport.objects.create(round=world["round"], province=world["province_b"],
                                    unit=world["unit_b"], status=ReportStatus.SUBMITTED,
                                    submitted_at=timezone.now())
    item = _items(personas["province_b"], world["round"])["provincial_report"]
    assert item.due == D(2017, 12, 31)
    assert item.url == reverse("submissions:provincial_reports")
    assert "1" in item.text and not item.late
    ProvincialReport.objects.create(round=world["round"], province=world["province_b"],
                                    unit=world["army"], status=ReportStatus.SUBMITTED,
                                    submitted_at=timezone.now())
    assert "provincial_report" not in _items(personas["province_b"], world["round"])


@pytest.mark.django_db
def test_reporting_lead_department_sees_its_review_due_next_and_by_when(personas, world,
                                                                       settings):
    settings.KAOHE_TODAY = "2017-12-20"
    items = _items(personas["lead_reviewer"], world["round"])
    review = items["review"]
    assert review.due == D(2018, 1, 15) and not review.late
    assert review.url == reverse("reviews:category", args=[world["lead_a"].pk])
    # Its team and plan were never filed: due at launch (11-20), now late.
    assert items["launch_team"].late and items["launch_team"].due == D(2017, 11, 20)
    assert items["launch_plan"].url == reverse("launch:lead", args=[world["lead_a"].pk])


@pytest.mark.django_db
def test_reporting_office_follows_up_missing_reports(personas, world, settings):
    settings.KAOHE_TODAY = "2018-01-03"
    items = _items(personas["office"], world["round"])
    assert items["chase_self_reports"].late
    assert "3" in items["chase_self_reports"].text
    assert items["chase_self_reports"].url.startswith(reverse("submissions:late_list"))
    assert items["chase_provincial_reports"].due == D(2017, 12, 31)


@pytest.mark.django_db
def test_leading_group_has_nothing_due_while_units_report(personas, world, settings):
    settings.KAOHE_TODAY = "2017-12-20"
    assert todo.panel_for(personas["leading_group"], world["round"]).items == []


# Review (step 四) ---------------------------------------------------------------------------

@pytest.mark.django_db
def test_review_lead_department_item_goes_once_its_results_are_submitted(personas, world):
    round_ = world["round"]
    panel = todo.panel_for(personas["lead_reviewer"], round_)
    assert panel.current.code == "review"
    item = {i.code: i for i in panel.items}["review"]
    assert "0/1" in item.text
    _review(round_, world["unit_a"], personas["lead_reviewer"], GOOD_ALL)
    assert "1/1" in _items(personas["lead_reviewer"], round_)["review"].text
    _submit_category(round_, world["lead_a"], personas["lead_reviewer"])
    assert "review" not in _items(personas["lead_reviewer"], round_)


@pytest.mark.django_db
def test_review_org_department_checks_cadres_and_military_inspects(personas, world):
    round_ = world["round"]
    SecondedCadre.objects.create(round=round_, unit=world["unit_a"], county=world["county_a"],
                                 name="张三", post="副县长", start=D(2016, 9, 1))
    item = _items(personas["org_department"], round_)["cadre_checks"]
    assert item.due == D(2018, 1, 15) and "0/1" in item.text
    assert item.url == reverse("reviews:org_cadres")
    item = _items(personas["military_inspector"], round_)["military_inspections"]
    assert item.url == reverse("reviews:military") and "0/1" in item.text


@pytest.mark.django_db
def test_review_working_group_prepares_the_recommendation_by_the_end_of_january(
        personas, reviewed):
    round_ = reviewed["round"]
    item = _items(personas["working_group"], round_)["deliberation"]
    assert item.due == D(2018, 1, 31) and item.url == reverse("grading:index")
    assert todo.panel_for(personas["working_group"], round_).current.code == "deliberation"
    result_set = grading.result_set_compute(round=round_, actor=personas["working_group"])
    item = _items(personas["working_group"], round_)["deliberation"]
    assert "第1版" in item.text
    assert item.url == reverse("grading:detail", args=[result_set.pk])


@pytest.mark.django_db
def test_a_returned_category_is_due_again_from_the_lead_department(personas, reviewed):
    from kaohe.reviews import services as reviews
    from kaohe.reviews.models import CategorySubmission

    submission = CategorySubmission.objects.get(lead_department=reviewed["lead_a"])
    reviews.category_return(submission=submission, actor=personas["working_group"],
                            reason="子报告过于简略")
    item = _items(personas["lead_reviewer"], reviewed["round"])["review"]
    assert "退回" in item.text and "子报告过于简略" in item.detail
    assert item.due == D(2018, 1, 31)


# Approval (steps 五 and 六) ------------------------------------------------------------------

@pytest.mark.django_db
def test_approval_leader_sees_the_version_awaiting_approval(personas, reviewed, settings):
    round_ = reviewed["round"]
    wg = personas["working_group"]
    first = grading.result_set_compute(round=round_, actor=wg)
    grading.result_set_submit(result_set=first, actor=wg)
    grading.result_set_return(result_set=first, actor=personas["leading_group"],
                              comments="请复核并列单位")
    assert "第1版" in _items(wg, round_)["deliberation"].text
    assert "退回" in _items(wg, round_)["deliberation"].text
    second = grading.result_set_compute(round=round_, actor=wg)
    grading.result_set_submit(result_set=second, actor=wg)
    assert "deliberation" not in _items(wg, round_)
    panel = todo.panel_for(personas["leading_group"], round_)
    assert panel.current.code == "feedback"
    item = {i.code: i for i in panel.items}["approval"]
    assert "第2版等次建议待审定" in item.text
    assert item.url == reverse("grading:detail", args=[second.pk])
    assert item.due == D(2018, 2, 28) and not item.late
    settings.KAOHE_TODAY = "2018-04-05"
    assert _items(personas["leading_group"], round_)["approval"].late
    # Nobody else approves.
    assert "approval" not in _items(personas["office"], round_)


@pytest.mark.django_db
def test_approval_office_sees_the_approved_version_awaiting_feedback(personas, approved):  # noqa: F811
    round_ = approved.round
    item = _items(personas["office"], round_)["release"]
    assert "待反馈" in item.text and "第1版" in item.text
    assert item.url == reverse("outcomes:feedback_list")
    assert item.due == D(2018, 2, 28)
    assert todo.panel_for(personas["leading_group"], round_).items == []
    # Units see nothing of the results before release.
    assert all("等次" not in i.text for i in todo.panel_for(personas["unit_b"], round_).items)


# Rectification (step 七) --------------------------------------------------------------------

@pytest.fixture
def released(approved, personas, settings):  # noqa: F811
    outcomes.release(result_set=approved, actor=personas["office"])
    settings.KAOHE_TODAY = "2018-03-20"
    return approved.round


@pytest.mark.django_db
def test_rectification_unit_sees_its_report_due_and_no_self_report(personas, world, released):
    panel = todo.panel_for(personas["unit_b"], released)
    assert panel.current.code == "rectification"
    items = {i.code: i for i in panel.items}
    assert set(items) == {"rectification"}
    assert items["rectification"].due == D(2018, 3, 31)
    assert items["rectification"].url == (reverse("outcomes:my_result") + "?year=2017")
    assert not items["rectification"].late


@pytest.mark.django_db
def test_rectification_late_and_sent_back(personas, world, released, settings):
    report = outcomes.rectification_for(round=released, unit=world["unit_b"])
    items = list(report.items.all())
    outcomes.rectification_save(report=report, actor=personas["unit_b"], summary="已整改",
                                items={i.pk: {"measures": "措施", "status": "done"}
                                       for i in items})
    outcomes.rectification_submit(report=report, actor=personas["unit_b"])
    assert "rectification" not in _items(personas["unit_b"], released)
    lead = _items(personas["lead_reviewer_b"], released)
    assert lead["rectification_review"].url == reverse("outcomes:rectification_list")
    assert "1" in lead["rectification_review"].text
    outcomes.item_review(item=items[0], actor=personas["lead_reviewer_b"], accepted=False,
                         note="资金未到位")
    item = _items(personas["unit_b"], released)["rectification"]
    assert "整改不到位" in item.text
    # A unit that has not filed at all is late after 03-31.
    settings.KAOHE_TODAY = "2018-04-02"
    assert _items(personas["unit"], released)["rectification"].late


@pytest.mark.django_db
def test_rectification_office_lead_department_and_org_department(personas, world, released):
    office = _items(personas["office"], released)
    assert office["rectification_followup"].due == D(2018, 3, 31)
    assert "2" in office["rectification_followup"].text
    assert office["dispatch_org_department"].url == reverse("outcomes:dispatches")
    # unit_b is 较差: its lead department summons its leader in charge.
    lead = _items(personas["lead_reviewer_b"], released)
    assert lead["summons"].url == reverse("outcomes:summons")
    assert "summons" not in _items(personas["lead_reviewer"], released)
    assert "review" not in lead
    assert _items(personas["org_department"], released) == {}
    outcomes.dispatch_record(round=released, actor=personas["office"],
                             kind=DispatchKind.ORG_DEPARTMENT, recipients="中央组织部",
                             sent_on=D(2018, 3, 1))
    assert "dispatch_org_department" not in _items(personas["office"], released)
    item = _items(personas["org_department"], released)["results_received"]
    assert item.url == reverse("outcomes:org_results")


@pytest.mark.django_db
def test_last_years_rectification_stays_due_when_the_next_round_starts(personas, world,
                                                                       released):
    from kaohe.rounds.models import Round, RoundStatus
    from kaohe.rounds.services import round_copy

    next_round = round_copy(source=released, year=2018, actor=personas["office"])
    Round.objects.filter(pk=next_round.pk).update(status=RoundStatus.ACTIVE)
    next_round.refresh_from_db()
    items = _items(personas["unit_b"], next_round)
    assert items["rectification"].text.startswith("2017年度")
    assert items["rectification"].due == D(2018, 3, 31)
    assert items["rectification"].url == reverse("outcomes:my_result") + "?year=2017"
    assert "self_report" in items


# Administrators, and the cost -------------------------------------------------------------

@pytest.mark.django_db
def test_security_admin_grants_roles_to_accounts_without_one(personas, world):
    from tests.conftest import make_user

    make_user("newcomer", "")
    item = _items(personas["security_admin"], world["round"])["grant_roles"]
    assert "1" in item.text and item.url == reverse("accounts:user_list")
    assert _items(personas["auditor"], world["round"]) == {}


@pytest.mark.django_db
def test_system_admin_opens_accounts_for_units_and_provinces_without_one(personas, world):
    item = _items(personas["system_admin"], world["round"])["open_accounts"]
    # Of the three units only the army unit has no account (unit_a and unit_b have one).
    assert "1家中央单位" in item.text and item.url == reverse("accounts:bulk_open")


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["office", "working_group", "leading_group",
                                     "org_department", "military_inspector", "lead_reviewer",
                                     "unit", "province"])
def test_todo_queries_do_not_grow_with_units(personas, world, persona):
    _add_units(world, 10)
    with CaptureQueriesContext(connection) as small:
        todo.panel_for(personas[persona], world["round"])
    _add_units(world, 120)
    with CaptureQueriesContext(connection) as large:
        todo.panel_for(personas[persona], world["round"])
    assert len(large) == len(small)


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["office", "working_group", "leading_group",
                                     "org_department", "military_inspector", "lead_reviewer",
                                     "unit", "province", "system_admin", "security_admin",
                                     "auditor"])
def test_every_home_page_shows_the_panel_first_then_notifications(client, personas, persona):
    client.force_login(personas[persona])
    html = client.get(reverse("home")).content.decode()
    assert 'id="todo-panel"' in html
    heading = html.index("<h1")
    panel = html.index("<section id=\"todo-panel\"")
    assert heading < panel
    # Nothing but the heading (and its note) before the panel: no chart, table or card.
    assert "<table" not in html[heading:panel] and "card" not in html[heading:panel]


@pytest.mark.django_db
def test_timeline_marks_the_current_step_with_text(client, personas, settings):
    settings.KAOHE_TODAY = "2017-12-20"
    client.force_login(personas["unit"])
    html = client.get(reverse("home")).content.decode()
    assert html.count('aria-current="step"') == 1
    current = html[html.index('aria-current="step"'):]
    assert "单位总结" in current[:600] and "当前步骤" in current[:600]


def test_every_home_template_puts_the_panel_then_notifications_after_its_heading():
    from pathlib import Path

    folder = Path(__file__).resolve().parents[2] / "kaohe" / "templates" / "dashboard"
    for template in sorted(folder.glob("home_*.html")):
        text = template.read_text()
        both = '{% include "dashboard/_todo.html" %}\n{% include "notifications/_panel.html" %}'
        assert both in text, template.name
        before = text[:text.index(both)]
        assert before.rstrip().endswith("</h1>"), template.name


@pytest.mark.django_db
def test_a_closed_round_asks_nothing_and_says_so(client, personas, world, settings):
    from kaohe.rounds.models import RoundStatus

    settings.KAOHE_TODAY = "2017-12-20"
    world["round"].status = RoundStatus.CLOSED
    world["round"].save()
    assert todo.panel_for(personas["unit"], world["round"]).items == []
    client.force_login(personas["unit"])
    assert "2017年度考核已结束，只可查阅。" in client.get(reverse("home")).content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(("day", "expected"), [
    ("2017-11-10", "launch"), ("2017-11-25", "training"), ("2017-12-20", "self_report"),
    ("2018-01-10", "review"),
    # After 01-15 by the date, but no category is in yet: step 四 goes on.
    ("2018-03-20", "review"),
])
def test_the_current_step_follows_the_date_held_back_by_unfinished_work(world, settings, day,
                                                                        expected):
    settings.KAOHE_TODAY = day
    assert todo.current_step(world["round"]).code == expected


@pytest.mark.django_db
def test_the_current_step_moves_on_with_the_work_whatever_the_date(personas, reviewed,
                                                                   settings):
    round_ = reviewed["round"]
    assert todo.current_step(round_).code == "deliberation"  # 01-10: every category in
    settings.KAOHE_TODAY = "2018-04-05"
    first = grading.result_set_compute(round=round_, actor=personas["working_group"])
    assert todo.current_step(round_).code == "deliberation"
    grading.result_set_submit(result_set=first, actor=personas["working_group"])
    assert todo.current_step(round_).code == "feedback"


@pytest.mark.django_db
def test_an_account_without_a_role_is_asked_nothing(client, world, settings):
    from tests.conftest import PASSWORD, make_user

    settings.KAOHE_TODAY = "2017-12-20"
    newcomer = make_user("newcomer", "")
    panel = todo.panel_for(newcomer, world["round"])
    assert panel.items == [] and panel.current is None
    client.login(username="newcomer", password=PASSWORD)
    html = client.get(reverse("home")).content.decode()
    assert "未授予角色" in html and 'id="todo-panel"' not in html


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["system_admin", "security_admin", "auditor"])
def test_administrators_take_no_part_in_the_round(personas, world, settings, persona):
    settings.KAOHE_TODAY = "2017-12-20"
    panel = todo.panel_for(personas[persona], world["round"])
    assert panel.current is None and panel.timeline == []


def test_each_role_of_the_round_has_one_list_of_duties_and_administrators_none():
    from kaohe.accounts.capabilities import CAPABILITIES, VIEW_ROUND
    from kaohe.accounts.models import Role

    for role in Role:
        duties = [builder for capability, builder in todo.DUTIES
                  if role in CAPABILITIES[capability]]
        assert len(duties) == (1 if role in CAPABILITIES[VIEW_ROUND] else 0), role


@pytest.mark.django_db
def test_unit_home_reads_its_steps_report_and_letter_once(client, personas, world, released):
    """The to-do panel and the reminder of one home page ask for the same steps,
    rectification report and letter: read once per page view (issue 19), and the page
    still shows the report due and the letter's grade."""
    report = outcomes.rectification_for(round=released, unit=world["unit_b"])
    client.force_login(personas["unit_b"])
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("home"))
    assert response.status_code == 200
    assert "rectification" in {item.code for item in response.context["todo"].items}
    assert response.context["reminder"] is not None
    # Rows read (not the progress table's counts), by table.
    tables = [q["sql"].split(" FROM ", 1)[1].split()[0] for q in queries
              if " FROM " in q["sql"] and "COUNT(" not in q["sql"]]
    assert tables.count('"rounds_step"') == 1
    assert tables.count('"outcomes_rectificationreport"') == 1
    assert tables.count('"outcomes_feedback"') == 1
    # The self-report is not asked for once the results are out, nor read for a reminder.
    assert not any("submissions_selfreport" in q["sql"] and "LIMIT 1" in q["sql"]
                   and '"status" = ' in q["sql"] for q in queries)
    assert report.submitted_at is None
