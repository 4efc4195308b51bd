"""Refined innovation items: a lead department refines indicator 13 for its own category;
its units answer them in the self-assessment, its reviewers read the answers."""

import pytest
from django.urls import reverse

from kaohe.audit.models import AuditEntry
from kaohe.grading.models import ResultSet
from kaohe.launch import services
from kaohe.launch.models import RefinedItem, RefinedItemAnswer
from kaohe.rounds.services import round_copy
from kaohe.submissions import services as submissions
from kaohe.submissions.models import ReportStatus
from tests.launch.conftest import innovation_item

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _reports_open(settings):
    settings.KAOHE_TODAY = "2017-12-15"


@pytest.fixture
def refined(world, personas):
    """Two refined items of lead A (unit_a's category), one of lead B (unit_b's)."""
    round_ = world["round"]
    a1 = services.refined_item_add(round=round_, lead_department=world["lead_a"],
                                   item=innovation_item(round_, "strengths"),
                                   name="发挥机关党建优势开展党建扶贫",
                                   description="结对共建、培训基层党员",
                                   actor=personas["lead_reviewer"])
    a2 = services.refined_item_add(round=round_, lead_department=world["lead_a"],
                                   item=innovation_item(round_, "publicise"),
                                   name="总结推广机关定点扶贫典型", description="",
                                   actor=personas["lead_reviewer"])
    b1 = services.refined_item_add(round=round_, lead_department=world["lead_b"],
                                   item=innovation_item(round_, "mobilise"),
                                   name="动员上下游企业参与产业扶贫", description="",
                                   actor=personas["lead_reviewer_b"])
    return a1, a2, b1


def _report_page(client, user, unit, round_):
    report = submissions.self_report_for(round=round_, unit=unit)
    client.force_login(user)
    return report, client.get(reverse("submissions:self_report", kwargs={"pk": report.pk}))


def test_a_categorys_units_see_its_refined_items_and_no_other_categorys(
        client, world, personas, refined):
    a1, a2, b1 = refined
    _report, response = _report_page(client, personas["unit"], world["unit_a"], world["round"])
    html = response.content.decode()
    assert a1.name in html and a2.name in html and "结对共建、培训基层党员" in html
    assert f'name="refined-{a1.pk}"' in html
    assert b1.name not in html

    _report, response = _report_page(client, personas["unit_b"], world["unit_b"],
                                     world["round"])
    html = response.content.decode()
    assert b1.name in html and f'name="refined-{b1.pk}"' in html
    assert a1.name not in html and a2.name not in html


def test_the_units_answers_save_and_count_in_the_completeness_check(
        client, world, personas, refined):
    a1, a2, _b1 = refined
    report, response = _report_page(client, personas["unit"], world["unit_a"], world["round"])
    gaps = [g for g in response.context["gaps"] if g.refined_item is not None]
    assert {g.refined_item for g in gaps} == {a1, a2}
    assert "未填写“发挥机关党建优势开展党建扶贫”" in response.content.decode()

    response = client.post(reverse("submissions:self_report_save", kwargs={"pk": report.pk}),
                           {"revision": str(report.revision),
                            f"refined-{a1.pk}": "与贫困村党支部结对共建。"})
    assert response.status_code == 302
    answer = RefinedItemAnswer.objects.get(report=report)
    assert (answer.refined_item, answer.text) == (a1, "与贫困村党支部结对共建。")
    report.refresh_from_db()
    remaining = [g.refined_item for g in submissions.self_report_gaps(report)
                 if g.refined_item is not None]
    assert remaining == [a2]
    page = client.get(reverse("submissions:self_report", kwargs={"pk": report.pk}))
    assert "与贫困村党支部结对共建。" in page.content.decode()


def test_a_unit_cannot_answer_another_categorys_refined_item(client, world, personas, refined):
    _a1, _a2, b1 = refined
    report = submissions.self_report_for(round=world["round"], unit=world["unit_a"])
    client.force_login(personas["unit"])
    client.post(reverse("submissions:self_report_save", kwargs={"pk": report.pk}),
                {"revision": str(report.revision), f"refined-{b1.pk}": "越界填写"})
    assert not RefinedItemAnswer.objects.exists()
    report.refresh_from_db()
    assert report.revision == 0


def test_the_answers_are_frozen_in_the_submitted_version_and_shown_on_the_review_desk(
        client, world, personas, refined):
    a1, _a2, _b1 = refined
    report = submissions.self_report_for(round=world["round"], unit=world["unit_a"])
    submissions.self_report_save(report=report, actor=personas["unit"], revision=0,
                                 answers={}, refined={a1.pk: "组织党员干部结对帮扶。"})
    report.refresh_from_db()
    submissions.self_report_submit(report=report, actor=personas["unit"],
                                   revision=report.revision, confirm_gaps=True)
    report.refresh_from_db()
    assert report.status == ReportStatus.SUBMITTED
    version = report.versions.get()
    assert version.content["refined"] == [
        {"item": "strengths", "name": a1.name, "text": "组织党员干部结对帮扶。"}]
    assert any(g.get("refined_item") == "总结推广机关定点扶贫典型" for g in report.gaps)

    client.force_login(personas["lead_reviewer"])
    html = client.get(reverse("reviews:desk", kwargs={"unit_pk": world["unit_a"].pk})
                      ).content.decode()
    assert a1.name in html and "组织党员干部结对帮扶。" in html
    assert f'name="refined-{a1.pk}"' not in html  # read-only on the desk


def test_a_lead_department_manages_only_its_own_refined_items(client, world, personas, refined):
    a1, _a2, b1 = refined
    client.force_login(personas["lead_reviewer"])
    page = client.get(reverse("launch:innovation", kwargs={"lead_pk": world["lead_a"].pk}))
    assert a1.name in page.content.decode() and b1.name not in page.content.decode()
    response = client.post(reverse("launch:refined_edit", kwargs={"pk": b1.pk}),
                           {"name": "改掉别人的"})
    assert response.status_code == 404
    assert client.post(reverse("launch:refined_remove", kwargs={"pk": b1.pk})).status_code == 404
    b1.refresh_from_db()
    assert b1.name == "动员上下游企业参与产业扶贫"
    response = client.post(reverse("launch:refined_add", kwargs={"lead_pk": world["lead_b"].pk}),
                           {"item": innovation_item(world["round"]).pk, "name": "越权添加"})
    assert response.status_code == 404
    assert not RefinedItem.objects.filter(name="越权添加").exists()


def test_an_answered_refined_item_cannot_be_removed(world, personas, refined):
    a1, a2, _b1 = refined
    report = submissions.self_report_for(round=world["round"], unit=world["unit_a"])
    RefinedItemAnswer.objects.create(report=report, refined_item=a1, text="已填写")
    with pytest.raises(services.LaunchError):
        services.refined_item_remove(refined=a1, actor=personas["lead_reviewer"])
    services.refined_item_remove(refined=a2, actor=personas["lead_reviewer"])
    assert list(RefinedItem.objects.filter(lead_department=world["lead_a"])) == [a1]


def test_only_innovation_sub_items_can_be_refined(world, personas):
    other = world["round"].indicators.get(number=12).items.first()
    with pytest.raises(services.LaunchError):
        services.refined_item_add(round=world["round"], lead_department=world["lead_a"],
                                  item=other, name="满意度细化", description="",
                                  actor=personas["lead_reviewer"])


def test_copying_the_round_carries_the_refined_items_but_not_teams(world, personas, refined):
    services.team_file(round=world["round"], lead_department=world["lead_a"],
                       members=[services.MemberEntry("张三", "处长", "division", "", "z@e.org")],
                       liaison=0, actor=personas["lead_reviewer"])
    new = round_copy(source=world["round"], year=2018, actor=personas["office"])
    copies = RefinedItem.objects.filter(round=new).select_related("item__indicator")
    assert sorted(c.name for c in copies) == sorted(r.name for r in refined)
    assert all(c.item.indicator.round_id == new.pk for c in copies)
    assert {c.lead_department_id for c in copies} == {world["lead_a"].pk, world["lead_b"].pk}
    assert not new.team_filings.exists()


# Frozen with the scheme, late after the launch step -------------------------------------


def _freeze(round_, user):
    """The round's first result set: from now on its scheme is frozen (mission.md)."""
    ResultSet.objects.create(round=round_, version=1, inputs=[], method=round_.method,
                             outputs={"results": [], "warnings": [], "counts": {}},
                             created_by=user)


def _refined_state(round_):
    return sorted(RefinedItem.objects.filter(round=round_)
                  .values_list("pk", "name", "description"))


def test_refined_items_freeze_with_the_scheme(world, personas, refined):
    a1, a2, _b1 = refined
    round_ = world["round"]
    _freeze(round_, personas["office"])
    before = _refined_state(round_)
    lead_reviewer = personas["lead_reviewer"]
    with pytest.raises(services.LaunchError, match="已冻结"):
        services.refined_item_add(round=round_, lead_department=world["lead_a"],
                                  item=innovation_item(round_), name="审定后新增",
                                  description="", actor=lead_reviewer)
    with pytest.raises(services.LaunchError, match="已冻结"):
        services.refined_item_update(refined=a1, name="审定后改名", description="",
                                     actor=lead_reviewer)
    with pytest.raises(services.LaunchError, match="已冻结"):
        services.refined_item_remove(refined=a2, actor=lead_reviewer)
    assert _refined_state(round_) == before


def test_a_frozen_scheme_refuses_refined_items_on_the_pages_too(client, world, personas,
                                                                 refined):
    a1, a2, _b1 = refined
    round_ = world["round"]
    _freeze(round_, personas["office"])
    before = _refined_state(round_)
    client.force_login(personas["lead_reviewer"])
    response = client.post(reverse("launch:refined_add", kwargs={"lead_pk": world["lead_a"].pk}),
                           {"item": innovation_item(round_).pk, "name": "审定后新增"})
    assert "已冻结" in response.content.decode()
    client.post(reverse("launch:refined_edit", kwargs={"pk": a1.pk}), {"name": "审定后改名"})
    client.post(reverse("launch:refined_remove", kwargs={"pk": a2.pk}))
    assert _refined_state(round_) == before
    page = client.get(reverse("launch:innovation", kwargs={"lead_pk": world["lead_a"].pk}))
    html = page.content.decode()
    assert a1.name in html and "已冻结" in html
    assert reverse("launch:refined_add", kwargs={"lead_pk": world["lead_a"].pk}) not in html
    assert reverse("launch:refined_edit", kwargs={"pk": a1.pk}) not in html


def test_refined_items_changed_after_the_launch_deadline_are_logged_late(world, personas,
                                                                         settings):
    """As the teams and plans of step 1: a refinement after its due date is taken, and
    the audit entry says it came late."""
    round_ = world["round"]
    settings.KAOHE_TODAY = "2017-11-20"  # the launch step's due date
    on_time = services.refined_item_add(round=round_, lead_department=world["lead_a"],
                                        item=innovation_item(round_), name="按期细化",
                                        description="", actor=personas["lead_reviewer"])
    settings.KAOHE_TODAY = "2017-11-21"
    late = services.refined_item_add(round=round_, lead_department=world["lead_a"],
                                     item=innovation_item(round_), name="逾期细化",
                                     description="", actor=personas["lead_reviewer"])
    services.refined_item_update(refined=on_time, name="逾期修改", description="",
                                 actor=personas["lead_reviewer"])
    services.refined_item_remove(refined=late, actor=personas["lead_reviewer"])
    entries = [(e.action, e.data["late"]) for e in AuditEntry.objects.filter(
        action__startswith="launch.refined_item.").order_by("pk")]
    assert entries == [("launch.refined_item.added", False), ("launch.refined_item.added", True),
                       ("launch.refined_item.changed", True),
                       ("launch.refined_item.removed", True)]


def test_refined_items_are_not_part_of_the_sealed_scheme(world, personas, refined):
    """Frozen with the scheme, but outside the scheme hash sealed with each result set: a
    hash over them would make `kaohe verify` report every result set sealed before they
    were covered as computed on a changed scheme (kaohe.grading.models.ResultSet)."""
    from kaohe.rounds.selectors import scheme_hash

    before = scheme_hash(world["round"])
    RefinedItem.objects.filter(round=world["round"]).update(name="改")
    assert scheme_hash(world["round"]) == before
