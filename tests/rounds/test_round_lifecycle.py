"""Issue 16 (items 1 and 5): a round's lifecycle (preparing -> active -> closed) and the
freezing of its scheme once a result set exists."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse

from kaohe.audit.models import AuditEntry
from kaohe.grading import services as grading
from kaohe.grading.models import ResultSet
from kaohe.outcomes import services as outcomes
from kaohe.outcomes.models import RectificationReport
from kaohe.rounds.models import Indicator, Round, RoundStatus
from kaohe.rounds.selectors import current_round
from kaohe.rounds.services import (
    RoundError,
    indicator_update,
    round_activate,
    round_close,
    round_copy,
    round_update_method,
)
from tests.evidence.factories import use_data_dir
from tests.outcomes.test_outcomes import approved  # noqa: F401  (a fixture)


def test_existing_rounds_are_active_and_a_copy_is_preparing(world, personas):
    assert world["round"].status == RoundStatus.ACTIVE
    new = round_copy(source=world["round"], year=2018, actor=personas["office"])
    assert new.status == RoundStatus.PREPARING
    assert current_round() == world["round"]


def test_copying_changes_nothing_anyone_else_sees(world, personas, client):
    client.force_login(personas["office"])
    response = client.post(reverse("rounds:copy", args=[2017]), {"year": 2018}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("rounds:detail", args=[2018])
    assert Round.objects.get(year=2018).status == RoundStatus.PREPARING
    assert current_round().year == 2017
    for persona in ["unit", "province", "lead_reviewer", "working_group"]:
        client.force_login(personas[persona])
        home = client.get(reverse("home")).content.decode()
        assert "2018年度" not in home and "2018年12月31日" not in home, persona
        assert client.get(reverse("rounds:detail", args=[2018])).status_code == 404, persona
        assert "2018年度" not in client.get(reverse("rounds:list")).content.decode(), persona
        assert client.get(reverse("rounds:method", args=[2018])).status_code in {403, 404}
    client.force_login(personas["office"])
    assert client.get(reverse("rounds:detail", args=[2018])).status_code == 200
    assert "筹备中" in client.get(reverse("rounds:list")).content.decode()


def test_activation_is_refused_naming_what_is_missing(world, personas):
    new = round_copy(source=world["round"], year=2018, actor=personas["office"])
    new.pairings.all().delete()
    new.steps.filter(code="rectification").delete()
    with pytest.raises(RoundError, match="结对") as info:
        round_activate(round=new, actor=personas["office"])
    assert "没有单位与定点扶贫县的结对" in str(info.value)
    new.refresh_from_db()
    assert new.status == RoundStatus.PREPARING
    new.method = {}
    new.save()
    with pytest.raises(RoundError, match="综合评价方法"):
        round_activate(round=new, actor=personas["office"])


def test_activation_needs_confirmation_and_is_audited(world, personas, client):
    new = round_copy(source=world["round"], year=2018, actor=personas["office"])
    client.force_login(personas["office"])
    url = reverse("rounds:activate", args=[2018])
    assert client.get(url).status_code == 200
    client.post(url, {})  # no confirmation
    new.refresh_from_db()
    assert new.status == RoundStatus.PREPARING
    client.force_login(personas["working_group"])
    assert client.post(url, {"confirm": "1"}).status_code in {403, 404}
    client.force_login(personas["office"])
    assert client.post(url, {"confirm": "1"}).status_code == 302
    new.refresh_from_db()
    assert new.status == RoundStatus.ACTIVE
    assert current_round() == new
    assert AuditEntry.objects.filter(action="round.activated").count() == 1
    world["round"].refresh_from_db()
    assert world["round"].status == RoundStatus.ACTIVE  # 2017 goes on


def test_after_release_copy_and_activation_2017_results_stay_reachable(approved, personas,  # noqa: F811
                                                                       world, client):
    outcomes.release(result_set=approved, actor=personas["office"])
    from kaohe.outcomes.models import Feedback

    feedback = Feedback.objects.get(unit=world["unit_b"], result_set=approved)
    new = round_copy(source=world["round"], year=2018, actor=personas["office"])
    round_activate(round=new, actor=personas["office"])
    assert current_round() == new
    client.force_login(personas["unit_b"])
    page = client.get(reverse("outcomes:my_result"))
    assert page.status_code == 200 and "较差" in page.content.decode()
    letter = client.get(reverse("documents:make", args=["feedback_letter", feedback.pk, "pdf"])
                        + "?year=2017")
    assert letter.status_code == 200
    client.force_login(personas["working_group"])
    assert client.get(reverse("grading:detail", args=[approved.pk])).status_code == 200
    client.force_login(personas["office"])
    documents = client.get(reverse("documents:index") + "?year=2017").content.decode()
    assert "2017年度" in documents


def test_close_only_after_release(approved, personas, world, client):  # noqa: F811
    with pytest.raises(RoundError, match="反馈"):
        round_close(round=world["round"], actor=personas["office"])
    outcomes.release(result_set=approved, actor=personas["office"])
    round_close(round=world["round"], actor=personas["office"])
    world["round"].refresh_from_db()
    assert world["round"].status == RoundStatus.CLOSED
    assert AuditEntry.objects.filter(action="round.closed").exists()
    with pytest.raises(RoundError, match="已结束"):
        round_update_method(round=world["round"], method=world["round"].method,
                            actor=personas["office"])
    # Read-only, and still there for whoever could see it.
    client.force_login(personas["unit_b"])
    assert client.get(reverse("outcomes:my_result")).status_code == 200
    client.force_login(personas["working_group"])
    assert client.get(reverse("grading:detail", args=[approved.pk])).status_code == 200
    with pytest.raises(grading.GradingError, match="已结束"):
        grading.correction_open(round=world["round"], actor=personas["leading_group"],
                                reason="更正")


def test_the_scheme_freezes_with_the_first_result_set(approved, personas, world,  # noqa: F811
                                                      client):
    round_ = world["round"]
    indicator = Indicator.objects.filter(round=round_).first()
    with pytest.raises(ValidationError, match="已生成等次建议"):
        indicator_update(indicator=indicator, actor=personas["office"], name="Hi there!")
    with pytest.raises(ValidationError, match="已生成等次建议"):
        round_update_method(round=round_, method={**round_.method}, actor=personas["office"])
    client.force_login(personas["office"])
    before = indicator.name
    client.post(reverse("rounds:indicator_edit", args=[2017, indicator.number]),
                {"name": "Hi there!", "summary": "x", "definition": "x", "evidence_basis": "x"})
    indicator.refresh_from_db()
    assert indicator.name == before
    method_before = dict(round_.method)
    client.post(reverse("rounds:method", args=[2017]), {})
    round_.refresh_from_db()
    assert round_.method == method_before
    page = client.get(reverse("rounds:detail", args=[2017])).content.decode()
    assert reverse("rounds:indicator_edit", args=[2017, indicator.number]) not in page


@pytest.fixture
def own_data_dir(settings, tmp_path):
    """verify also checks the stored files: earlier tests leave theirs in the shared data
    directory, so these tests verify a directory of their own."""
    use_data_dir(settings, tmp_path / "data")
    settings.AUDIT_ANCHOR_FILE = tmp_path / "audit-anchors.log"


@pytest.mark.usefixtures("own_data_dir")
def test_verify_reports_a_scheme_changed_behind_the_seal(approved, personas, world):  # noqa: F811
    assert approved.scheme_hash
    call_command("verify", stdout=io.StringIO())
    Indicator.objects.filter(round=world["round"]).update(name="Hi there!")
    with pytest.raises(CommandError, match="scheme"):
        call_command("verify", stdout=io.StringIO())


@pytest.mark.usefixtures("own_data_dir")
def test_old_seals_without_a_scheme_hash_still_verify(approved, world):  # noqa: F811
    # A seal made before the scheme was covered: no scheme hash, and its seal holds.
    from kaohe.grading.models import ResultSet as RS

    old = RS.objects.get(pk=approved.pk)
    old.scheme_hash = ""
    old.seal = old.content_hash()
    old.save()
    ResultSet.objects.get(pk=old.pk).verify_seal()
    call_command("verify", stdout=io.StringIO())



def test_nothing_is_computed_on_a_round_in_preparation(world, personas):
    new = round_copy(source=world["round"], year=2018, actor=personas["office"])
    with pytest.raises(grading.GradingError, match="不在进行中"):
        grading.result_set_compute(round=new, actor=personas["working_group"])


def test_rectification_and_summons_of_2017_go_on_after_2018_starts(approved, personas,  # noqa: F811
                                                                   world, client):
    outcomes.release(result_set=approved, actor=personas["office"])
    new = round_copy(source=world["round"], year=2018, actor=personas["office"])
    round_activate(round=new, actor=personas["office"])
    client.force_login(personas["unit_b"])
    assert client.get(reverse("outcomes:my_result")).status_code == 200
    # It files its report: its first save creates it (opening the page writes nothing).
    letter = client.get(reverse("outcomes:my_result")).context["feedback"].pk
    assert client.post(reverse("outcomes:my_rectification_save"),
                       {"letter": letter, "summary": "整改总结"}).status_code == 302
    client.force_login(personas["lead_reviewer_b"])
    listing = client.get(reverse("outcomes:rectification_list")).content.decode()
    assert "2017" in listing and world["unit_b"].name in listing
    # The draft is the unit's own; once it is submitted its lead department reads it.
    detail = client.get(reverse("outcomes:rectification_detail", args=[world["unit_b"].pk]))
    assert detail.status_code == 200 and "整改总结" not in detail.content.decode()
    report = RectificationReport.objects.get(unit=world["unit_b"])
    outcomes.rectification_save(report=report, actor=personas["unit_b"], summary="整改总结",
                                items={i.pk: {"measures": "已落实", "status": "done"}
                                       for i in report.items.all()})
    outcomes.rectification_submit(report=report, actor=personas["unit_b"])
    detail = client.get(reverse("outcomes:rectification_detail", args=[world["unit_b"].pk]))
    assert detail.status_code == 200 and "干部选派不足" in detail.content.decode()
    client.force_login(personas["office"])
    summons = client.get(reverse("outcomes:summons")).content.decode()
    assert world["unit_b"].name in summons


def test_the_office_imports_pairings_into_the_round_it_prepares(world, personas, client):
    from tests.directory.test_importing import upload, workbook

    new = round_copy(source=world["round"], year=2018, actor=personas["office"])
    before_2017 = set(world["round"].pairings.values_list("pk", flat=True))
    client.force_login(personas["office"])
    page = client.get(reverse("directory:import")).content.decode()
    assert new.name in page
    client.post(reverse("directory:import"), {"file": upload(workbook())})
    assert set(world["round"].pairings.values_list("pk", flat=True)) == before_2017
    assert new.pairings.filter(unit__code="U1001").exists()
