"""The demo's launch and training on 2017-12-20: believable, and built only once."""

import datetime

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse

from kaohe.accounts.models import Role, User
from kaohe.demo.builder import build_demo, demo_launch
from kaohe.launch import selectors
from kaohe.launch.models import RefinedItem, TeamFiling, WorkingGroupMember
from kaohe.rounds.models import Round

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings):
    settings.KAOHE_TODAY = "2017-12-20"
    build_demo(today=datetime.date(2017, 12, 20))
    return Round.objects.get(year=2017)


def test_demo_launch_state(demo, client):
    assert WorkingGroupMember.objects.filter(round=demo, position="leader").count() == 1
    assert WorkingGroupMember.objects.filter(round=demo).count() == 11

    states = [(r.team_state, r.plan_state) for r in selectors.launch_status(demo)]
    assert states.count(("on_time", "on_time")) == 5
    assert states.count(("late", "late")) == 1
    assert selectors.launch_progress(demo) == (6, 6)
    for filing in TeamFiling.objects.filter(round=demo):
        members = list(filing.members.select_related("user"))
        assert 9 <= len(members) <= 11
        assert [m.user.is_liaison for m in members if m.is_liaison] == [True]
        assert all(m.user.lead_department_id == filing.lead_department_id for m in members)
    assert User.objects.filter(is_liaison=True).count() == 6
    for plan in demo.category_plans.all():
        with default_storage.open(plan.storage_name) as handle:
            assert handle.read(5) == b"%PDF-"

    trained, staff = selectors.training_progress(demo)
    assert demo.training_sessions.count() == 2
    assert staff >= 54 and 0.75 * staff <= trained < staff
    assert RefinedItem.objects.filter(round=demo).values("lead_department").distinct(
    ).count() == 2

    client.force_login(User.objects.get(username="office"))
    steps = {p.step.code: p for p in client.get(reverse("home")).context["steps"]}
    assert (steps["launch"].done, steps["launch"].total) == (6, 6)
    assert (steps["training"].done, steps["training"].total) == (trained, staff)
    assert User.objects.filter(role=Role.LEAD_REVIEWER, lead_department__isnull=True).count() == 0


def test_demo_launch_is_built_once(demo):
    assert demo_launch(demo) is False
    assert WorkingGroupMember.objects.count() == 11
