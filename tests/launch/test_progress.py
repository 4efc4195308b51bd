"""The launch and training steps on the round's schedule (工作进度安排) show what is done."""

import datetime

import pytest
from django.urls import reverse

from kaohe.accounts.models import Role
from kaohe.launch import services
from kaohe.launch.models import CategoryPlan, TeamFiling
from tests.conftest import make_user
from tests.launch.conftest import matrix_plan

pytestmark = pytest.mark.django_db


def _steps(client, user):
    client.force_login(user)
    return {p.step.code: p for p in client.get(reverse("home")).context["steps"]}


def test_launch_counts_lead_departments_with_both_team_and_plan(client, world, personas):
    steps = _steps(client, personas["office"])
    assert (steps["launch"].done, steps["launch"].total) == (0, 6)

    # A's team and plan; B only its plan: one of six is complete.
    services.team_file(round=world["round"], lead_department=world["lead_a"],
                       members=[services.MemberEntry("张三", "处长", "division", "", "z@e.org")],
                       liaison=0, actor=personas["lead_reviewer"])
    matrix_plan(world, world["lead_a"])
    matrix_plan(world, world["lead_b"])
    steps = _steps(client, personas["office"])
    assert (steps["launch"].done, steps["launch"].total) == (1, 6)
    assert TeamFiling.objects.count() == 1 and CategoryPlan.objects.count() == 2


def test_training_counts_trained_lead_department_staff(client, world, personas, settings):
    settings.KAOHE_TODAY = "2017-11-28"
    make_user("lead-extra", Role.LEAD_REVIEWER, lead_department=world["lead_b"])
    inactive = make_user("lead-gone", Role.LEAD_REVIEWER, lead_department=world["lead_b"])
    inactive.is_active = False
    inactive.save()
    session = services.session_add(round=world["round"], held_on=datetime.date(2017, 11, 27),
                                   place="北京", topic="培训", actor=personas["office"])
    services.attendance_set(session=session, user_ids={personas["lead_reviewer"].pk},
                            actor=personas["office"])
    steps = _steps(client, personas["working_group"])
    # lead_a, lead_b and lead-extra are staff; the inactive account is not.
    assert (steps["training"].done, steps["training"].total) == (1, 3)
    html = client.get(reverse("home")).content.decode()
    assert "1/3" in html


def test_a_round_without_staff_shows_no_training_figure(client, world):
    user = make_user("office-only", Role.OFFICE)
    steps = _steps(client, user)
    assert steps["training"].total == 0 and steps["training"].percent is None
