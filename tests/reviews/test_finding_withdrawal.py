"""Findings are withdrawn, never deleted (issue 17 item 2): only the role that recorded a
finding may withdraw it, with a reason, and the withdrawal stays visible in the history."""

import pytest
from django.test import Client
from django.urls import reverse

from kaohe.audit.models import AuditEntry
from kaohe.grading.services import engine_inputs
from kaohe.reviews import services
from kaohe.reviews.models import CadreCheck, FindingSource, MajorIncident, SeriousProblem
from kaohe.reviews.selectors import review_queue
from kaohe.submissions.models import SecondedCadre
from tests.reviews.conftest import matrix_problem, second_unit_a


def _client(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def cadre(world):
    return SecondedCadre.objects.create(round=world["round"], unit=world["unit_a"],
                                        county=world["county_a"], name="王五", post="副县长",
                                        start="2017-03-01")


@pytest.fixture
def org_problem(world, personas, cadre):
    """A serious problem the organization department raised from its check (中央组织部)."""
    check = services.cadre_check_save(
        record=cadre, actor=personas["org_department"], in_post=True, in_charge=True,
        nominal_only=True, discipline_issue=False, note="挂名无实", raise_problem=True)
    assert check.problem.source == FindingSource.ORG_DEPARTMENT
    return check.problem


def _withdraw_url(unit, kind, finding):
    return reverse("reviews:finding_withdraw", args=[unit.pk, kind, finding.pk])


# The issue's reproduction ---------------------------------------------------------------


def test_the_lead_department_cannot_withdraw_the_org_departments_finding(
        world, personas, org_problem):
    with pytest.raises(services.ReviewError, match="中央组织部"):
        services.finding_withdraw(finding=org_problem, actor=personas["lead_reviewer"],
                                  reason="我们认为不成立")

    org_problem.refresh_from_db()
    assert org_problem.withdrawn_at is None
    assert not AuditEntry.objects.filter(action__startswith="review.seriousproblem.").exists()


def test_a_hand_made_post_by_the_lead_department_leaves_the_finding(world, personas,
                                                                     org_problem):
    client = _client(personas["lead_reviewer"])
    desk = client.get(reverse("reviews:desk", args=[world["unit_a"].pk])).content.decode()
    assert _withdraw_url(world["unit_a"], "problem", org_problem) not in desk
    assert "只能由中央组织部撤回" in desk

    response = client.post(_withdraw_url(world["unit_a"], "problem", org_problem),
                           {"reason": "不成立"}, follow=True)

    assert response.status_code == 200
    assert "中央组织部" in response.content.decode()
    org_problem.refresh_from_db()
    assert org_problem.withdrawn_at is None
    assert SeriousProblem.objects.filter(pk=org_problem.pk).exists()


# The author withdraws ------------------------------------------------------------------


def test_the_org_department_withdraws_its_finding_with_a_reason(world, personas, org_problem):
    org = personas["org_department"]

    with pytest.raises(services.ReviewError, match="撤回原因"):
        services.finding_withdraw(finding=org_problem, actor=org, reason=" ")
    services.finding_withdraw(finding=org_problem, actor=org, reason="复核后确认在岗履职")

    org_problem.refresh_from_db()
    assert (org_problem.withdrawn_by, org_problem.withdrawn_reason) == (org,
                                                                        "复核后确认在岗履职")
    assert org_problem.withdrawn_at is not None
    entry = AuditEntry.objects.get(action="review.seriousproblem.withdrawn")
    assert entry.actor == org and entry.data["reason"] == "复核后确认在岗履职"
    with pytest.raises(services.ReviewError, match="已撤回"):
        services.finding_withdraw(finding=org_problem, actor=org, reason="再撤")


def test_the_org_department_withdraws_through_its_checklist(world, personas, org_problem):
    client = _client(personas["org_department"])
    page = client.get(reverse("reviews:org_cadres")).content.decode()
    url = reverse("reviews:org_finding_withdraw", args=[org_problem.pk])
    assert url in page

    assert client.post(url, {"reason": ""}).status_code == 302
    org_problem.refresh_from_db()
    assert org_problem.withdrawn_at is None

    response = client.post(url, {"reason": "复核后确认在岗", "back": "show=cadres&page=1"})
    assert response.status_code == 302
    # Back to the row of the check that raised it, on the tab and page it was posted from.
    check = CadreCheck.objects.get(problem=org_problem)
    assert response.url == (f"{reverse('reviews:org_cadres')}?show=cadres&page=1"
                            f"#cadre-{check.cadre_id}")
    org_problem.refresh_from_db()
    assert org_problem.withdrawn_reason == "复核后确认在岗"
    page = client.get(reverse("reviews:org_cadres")).content.decode()
    assert "已撤回" in page and url not in page


def test_the_org_department_cannot_withdraw_a_lead_departments_finding(world, personas):
    problem = matrix_problem(world, world["unit_a"])

    with pytest.raises(services.ReviewError):
        services.finding_withdraw(finding=problem, actor=personas["org_department"],
                                  reason="x")
    response = _client(personas["org_department"]).post(
        reverse("reviews:org_finding_withdraw", args=[problem.pk]), {"reason": "x"})

    assert response.status_code == 404
    problem.refresh_from_db()
    assert problem.withdrawn_at is None


def test_another_lead_department_cannot_withdraw_by_service(world, personas):
    problem = matrix_problem(world, world["unit_a"])

    with pytest.raises(services.ReviewError):
        services.finding_withdraw(finding=problem, actor=personas["lead_reviewer_b"],
                                  reason="x")

    problem.refresh_from_db()
    assert problem.withdrawn_at is None


def test_the_lead_department_withdraws_its_own_finding_and_the_desk_keeps_it(world, personas):
    reviewer = personas["lead_reviewer"]
    problem = matrix_problem(world, world["unit_a"])
    incident = services.major_incident_add(
        round=world["round"], unit=world["unit_a"], actor=reviewer, county=world["county_a"],
        description="舆情事件", source=FindingSource.REVIEWER)
    client = _client(reviewer)

    for kind, finding in [("problem", problem), ("incident", incident)]:
        assert client.post(_withdraw_url(world["unit_a"], kind, finding),
                           {"reason": f"{kind}误报"}).status_code == 302

    problem.refresh_from_db()
    incident.refresh_from_db()
    assert problem.withdrawn_reason == "problem误报" and incident.withdrawn_by == reviewer
    assert SeriousProblem.objects.count() == 1 and MajorIncident.objects.count() == 1
    desk = client.get(reverse("reviews:desk", args=[world["unit_a"].pk])).content.decode()
    assert "已撤回" in desk and "problem误报" in desk and "incident误报" in desk
    assert _withdraw_url(world["unit_a"], "problem", problem) not in desk


def test_a_withdrawal_without_a_reason_through_the_desk_changes_nothing(world, personas):
    problem = matrix_problem(world, world["unit_a"])

    response = _client(personas["lead_reviewer"]).post(
        _withdraw_url(world["unit_a"], "problem", problem), {"reason": ""}, follow=True)

    assert "撤回原因" in response.content.decode()
    problem.refresh_from_db()
    assert problem.withdrawn_at is None


def test_the_old_delete_route_is_gone(world, personas):
    from django.urls import NoReverseMatch

    with pytest.raises(NoReverseMatch):
        reverse("reviews:finding_remove", args=[world["unit_a"].pk, "problem", 1])


# A withdrawn finding no longer counts -----------------------------------------------------


def test_a_withdrawn_finding_is_not_counted_in_the_queue(world, personas, org_problem):
    def count():
        return review_queue(world["round"], world["unit_a"].__class__.objects.filter(
            pk=world["unit_a"].pk)).get().problem_count

    assert count() == 1
    services.finding_withdraw(finding=org_problem, actor=personas["org_department"],
                              reason="复核")
    assert not count()


def test_a_withdrawn_finding_does_not_reach_the_grading_engine(world, personas, org_problem):
    from kaohe.reviews.models import CategorySubmission, CategorySubmissionStatus

    CategorySubmission.objects.create(
        round=world["round"], lead_department=world["lead_a"],
        status=CategorySubmissionStatus.SUBMITTED,
        snapshot={"units": [{"unit": "A001", "name": "测试单位甲", "grades": {},
                             "reasons": {}}]})
    assert len(engine_inputs(world["round"])[0]["serious_problems"]) == 1

    services.finding_withdraw(finding=org_problem, actor=personas["org_department"],
                              reason="复核")

    assert engine_inputs(world["round"])[0]["serious_problems"] == []


def test_after_withdrawal_the_org_department_can_raise_the_problem_again(world, personas,
                                                                        cadre, org_problem):
    org = personas["org_department"]
    services.finding_withdraw(finding=org_problem, actor=org, reason="误判")

    check = services.cadre_check_save(
        record=cadre, actor=org, in_post=False, in_charge=True, nominal_only=False,
        discipline_issue=False, note="长期不在岗", raise_problem=True)

    assert check.problem != org_problem and check.problem.withdrawn_at is None
    assert SeriousProblem.objects.count() == 2


def test_withdrawal_does_not_reach_other_units(world, personas):
    other = second_unit_a(world)
    problem = matrix_problem(world, other)
    client = _client(personas["lead_reviewer"])

    url = _withdraw_url(world["unit_a"], "problem", problem)
    assert client.post(url, {"reason": "x"}).status_code == 404
    problem.refresh_from_db()
    assert problem.withdrawn_at is None
