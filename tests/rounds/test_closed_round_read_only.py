"""A closed round is read-only: every write service refuses it and changes nothing
(issue 16), and the main write pages show the refusal to the role that owns them."""

import datetime

import pytest
from django.apps import apps
from django.contrib.messages import get_messages
from django.urls import reverse

from kaohe.evidence import services as evidence
from kaohe.evidence.models import Upload
from kaohe.grading import services as grading
from kaohe.grading.models import ResultSet
from kaohe.launch import services as launch
from kaohe.launch.models import Body, Position, RefinedItem, TrainingMaterial
from kaohe.launch.services import MemberEntry
from kaohe.outcomes import services as outcomes
from kaohe.outcomes.models import Feedback, RectificationItem, Summons
from kaohe.reviews import services as reviews
from kaohe.reviews.models import CategorySubmission, Review, SeriousProblem
from kaohe.rounds.guards import RoundClosed, ensure_round_writable
from kaohe.rounds.models import Round, RoundStatus
from kaohe.rounds.services import round_close
from kaohe.submissions import services as submissions
from kaohe.submissions.models import SecondedCadre
from tests.evidence.factories import use_data_dir
from tests.launch.conftest import Upload as FileUpload
from tests.launch.conftest import innovation_item
from tests.outcomes.test_outcomes import approved  # noqa: F401  (a fixture)

CLOSED = "2017年度考核已结束，只能查阅，不能修改。"


@pytest.fixture(autouse=True)
def _during_the_review(settings):
    """The fixtures grade and submit while the lead departments' review is open."""
    settings.KAOHE_TODAY = "2018-01-10"


@pytest.fixture
def closed(approved, personas, world, settings, tmp_path):  # noqa: F811
    """2017 released, with a record of every kind a write service acts on, then closed."""
    use_data_dir(settings, tmp_path)
    round_ = world["round"]
    office, unit_user = personas["office"], personas["unit"]
    outcomes.release(result_set=approved, actor=office)
    self_report = submissions.self_report_for(round=round_, unit=world["unit_a"])
    provincial = submissions.provincial_report_for(round=round_, province=world["province_a"],
                                                   unit=world["unit_a"])
    cadre = SecondedCadre.objects.create(round=round_, unit=world["unit_a"],
                                         county=world["county_a"], name="张三", post="副县长",
                                         start=datetime.date(2017, 1, 1))
    member = launch.working_group_member_add(round=round_, actor=office, name="李四",
                                             organization="国务院扶贫办", post="处长",
                                             position=Position.MEMBER, body=Body.OFFICE)
    # Made as a record: the refinement froze with the scheme when the results were computed.
    refined = RefinedItem.objects.create(round=round_, lead_department=world["lead_a"],
                                         item=innovation_item(round_), order=1, name="细化")
    session = launch.session_add(round=round_, held_on=datetime.date(2017, 11, 20),
                                 place="北京", topic="培训", actor=office)
    material = TrainingMaterial.objects.create(session=session, original_name="a.pdf",
                                               storage_name="x/a.pdf", size=1, sha256="0" * 64,
                                               content_type="application/pdf",
                                               uploaded_by=office)
    upload = Upload.objects.create(round=round_, created_by=unit_user, unit=world["unit_a"],
                                   original_name="a.pdf", length=10)
    rectification = outcomes.rectification_for(round=round_, unit=world["unit_b"])
    round_close(round=round_, actor=office)
    round_.refresh_from_db()
    return {
        **world, "round": round_, "result_set": ResultSet.objects.get(pk=approved.pk),
        "self_report": self_report, "provincial": provincial, "cadre": cadre,
        "member": member, "refined": refined, "session": session, "material": material,
        "upload": upload, "rectification": rectification,
        "review": Review.objects.get(round=round_, unit=world["unit_a"]),
        "submission": CategorySubmission.objects.get(round=round_,
                                                     lead_department=world["lead_a"]),
        "problem": SeriousProblem.objects.get(round=round_, unit=world["unit_b"]),
        "feedback": Feedback.objects.filter(round=round_).first(),
        "summons": Summons.objects.get(round=round_),
        "item": RectificationItem.objects.filter(report=rectification).first(),
    }


# (name, call(ctx, personas)): every write service that acts on a round's data.
WRITES = {
    # submissions
    "self_report_save": lambda c, p: submissions.self_report_save(
        report=c["self_report"], actor=p["unit"], revision=c["self_report"].revision,
        summary="改写", answers={}),
    "self_report_attach": lambda c, p: submissions.self_report_attach(
        report=c["self_report"], actor=p["unit"], indicator=c["round"].indicators.first(),
        requirement=None, county=None, evidence=None),
    "self_report_detach": lambda c, p: submissions.self_report_detach(
        report=c["self_report"], actor=p["unit"], attachment=None),
    "self_report_submit": lambda c, p: submissions.self_report_submit(
        report=c["self_report"], actor=p["unit"], revision=c["self_report"].revision,
        confirm_gaps=True),
    "self_report_return": lambda c, p: submissions.self_report_return(
        report=c["self_report"], actor=p["lead_reviewer"], reason="退回"),
    "provincial_report_save": lambda c, p: submissions.provincial_report_save(
        report=c["provincial"], actor=p["province"], revision=c["provincial"].revision,
        fields={"work_text": "改写"}, outcomes={}),
    "provincial_report_submit": lambda c, p: submissions.provincial_report_submit(
        report=c["provincial"], actor=p["province"], revision=c["provincial"].revision),
    "provincial_report_start": lambda c, p: submissions.provincial_report_start(
        round=c["round"], province=c["province_b"], unit=c["unit_b"], actor=p["province_b"]),
    "provincial_finding_add": lambda c, p: submissions.provincial_finding_add(
        report=c["provincial"], actor=p["province"], county=c["county_a"], kind="incident",
        problem_kind=None, description="事件"),
    "extension_grant": lambda c, p: submissions.extension_grant(
        step=c["round"].steps.get(code="self_report"), actor=p["office"],
        until=datetime.date(2018, 12, 31), reason="延期", unit=c["unit_a"]),
    "cadre_add": lambda c, p: submissions.cadre_add(
        round=c["round"], unit=c["unit_a"], actor=p["unit"], county=c["county_a"], name="王五",
        post="副县长", start=datetime.date(2017, 1, 1)),
    "first_secretary_add": lambda c, p: submissions.first_secretary_add(
        round=c["round"], unit=c["unit_a"], actor=p["unit"], county=c["county_a"], name="赵六",
        village="某村", start=datetime.date(2017, 1, 1)),
    "cadre_remove": lambda c, p: submissions.cadre_remove(record=c["cadre"], actor=p["unit"]),
    # evidence
    "upload_create": lambda c, p: evidence.upload_create(
        user=p["unit"], length=10, filename="a.pdf", metadata={}),
    "upload_append": lambda c, p: evidence.upload_append(
        upload=c["upload"], offset=0, body=None, body_length=0),
    "upload_complete": lambda c, p: evidence.upload_complete(upload=c["upload"]),
    "evidence_add_link": lambda c, p: evidence.evidence_add_link(
        round=c["round"], owner=c["unit_a"], url="https://example.org/", title="报道",
        actor=p["unit"]),
    # reviews
    "area_grades_save": lambda c, p: reviews.area_grades_save(
        review=c["review"], actor=p["lead_reviewer"], revision=c["review"].revision,
        grades={"leadership": ("poor", "改")}),
    "sub_report_save": lambda c, p: reviews.sub_report_save(
        review=c["review"], actor=p["lead_reviewer"], revision=c["review"].revision,
        basic_situation="改", problems="改", suggestions="改"),
    "verification_set": lambda c, p: reviews.verification_set(
        review=c["review"], actor=p["lead_reviewer"], indicator=c["round"].indicators.first(),
        county=None, status="doubtful", note="存疑"),
    "activity_add": lambda c, p: reviews.activity_add(
        review=c["review"], actor=p["lead_reviewer"], method="discussion",
        held_on=datetime.date(2018, 1, 5), people="甲", note=""),
    "serious_problem_add": lambda c, p: reviews.serious_problem_add(
        round=c["round"], unit=c["unit_a"], actor=p["lead_reviewer"],
        kind=c["round"].problem_kinds.first(), county=None, description="问题",
        source="reviewer"),
    "major_incident_add": lambda c, p: reviews.major_incident_add(
        round=c["round"], unit=c["unit_a"], actor=p["lead_reviewer"], county=c["county_a"],
        description="事件", source="reviewer"),
    "finding_withdraw": lambda c, p: reviews.finding_withdraw(
        finding=c["problem"], actor=p["lead_reviewer_b"], reason="撤回"),
    "category_report_save": lambda c, p: reviews.category_report_save(
        submission=c["submission"], actor=p["lead_reviewer"], overview="改", problems="改",
        suggestions="改"),
    "category_submit": lambda c, p: reviews.category_submit(submission=c["submission"],
                                                            actor=p["lead_reviewer"]),
    "category_return": lambda c, p: reviews.category_return(
        submission=c["submission"], actor=p["working_group"], reason="退回"),
    "cadre_check_save": lambda c, p: reviews.cadre_check_save(
        record=c["cadre"], actor=p["org_department"], in_post=False, in_charge=False,
        nominal_only=True, discipline_issue=False, note="挂名", raise_problem=True),
    "inspection_add": lambda c, p: reviews.inspection_add(
        round=c["round"], unit=c["army"], actor=p["military_inspector"],
        inspected_on=datetime.date(2018, 1, 5), inspectors="甲", findings="无", report="无"),
    # launch
    "working_group_member_add": lambda c, p: launch.working_group_member_add(
        round=c["round"], actor=p["office"], name="新成员", organization="某部", post="处长",
        position=Position.MEMBER, body=Body.OFFICE),
    "working_group_member_update": lambda c, p: launch.working_group_member_update(
        member=c["member"], actor=p["office"], name="改名"),
    "working_group_member_remove": lambda c, p: launch.working_group_member_remove(
        member=c["member"], actor=p["office"]),
    "team_file": lambda c, p: launch.team_file(
        round=c["round"], lead_department=c["lead_a"],
        members=[MemberEntry(name="甲", post="处长", level="division", phone="1",
                             email="a@example.org")], liaison=0, actor=p["lead_reviewer"]),
    "plan_file": lambda c, p: launch.plan_file(
        round=c["round"], lead_department=c["lead_a"], upload=FileUpload("plan.pdf"),
        key_points="要点", actor=p["lead_reviewer"]),
    "refined_item_add": lambda c, p: launch.refined_item_add(
        round=c["round"], lead_department=c["lead_a"], item=innovation_item(c["round"]),
        name="新细化", description="", actor=p["lead_reviewer"]),
    "refined_item_update": lambda c, p: launch.refined_item_update(
        refined=c["refined"], name="改", description="改", actor=p["lead_reviewer"]),
    "refined_item_remove": lambda c, p: launch.refined_item_remove(refined=c["refined"],
                                                                   actor=p["lead_reviewer"]),
    "session_add": lambda c, p: launch.session_add(
        round=c["round"], held_on=datetime.date(2018, 1, 5), place="北京", topic="新",
        actor=p["office"]),
    "material_add": lambda c, p: launch.material_add(
        session=c["session"], upload=FileUpload("m.pdf"), actor=p["office"]),
    "material_remove": lambda c, p: launch.material_remove(material=c["material"],
                                                           actor=p["office"]),
    "attendance_set": lambda c, p: launch.attendance_set(
        session=c["session"], user_ids={p["lead_reviewer"].pk}, actor=p["office"]),
    # grading
    "result_set_compute": lambda c, p: grading.result_set_compute(round=c["round"],
                                                                  actor=p["working_group"]),
    "decision_record": lambda c, p: grading.decision_record(
        result_set=c["result_set"], unit_code="A001", grade="fairly_good", reason="调整",
        actor=p["working_group"]),
    "result_set_submit": lambda c, p: grading.result_set_submit(result_set=c["result_set"],
                                                                actor=p["working_group"]),
    "result_set_approve": lambda c, p: grading.result_set_approve(
        result_set=c["result_set"], actor=p["leading_group"]),
    "result_set_return": lambda c, p: grading.result_set_return(
        result_set=c["result_set"], actor=p["leading_group"], comments="退回"),
    "result_set_release": lambda c, p: grading.result_set_release(result_set=c["result_set"],
                                                                  actor=p["office"]),
    "correction_open": lambda c, p: grading.correction_open(
        round=c["round"], actor=p["leading_group"], reason="更正"),
    "correction_abandon": lambda c, p: grading.correction_abandon(
        round=c["round"], actor=p["leading_group"], reason="放弃"),
    # outcomes
    "feedback_prepare": lambda c, p: outcomes.feedback_prepare(result_set=c["result_set"],
                                                               actor=p["office"]),
    "feedback_update": lambda c, p: outcomes.feedback_update(
        feedback=c["feedback"], actor=p["office"], problems="改", suggestions="改"),
    "release": lambda c, p: outcomes.release(result_set=c["result_set"], actor=p["office"]),
    "rectification_save": lambda c, p: outcomes.rectification_save(
        report=c["rectification"], actor=p["unit_b"], summary="改", items={}),
    "rectification_submit": lambda c, p: outcomes.rectification_submit(
        report=c["rectification"], actor=p["unit_b"]),
    "rectification_attach": lambda c, p: outcomes.rectification_attach(
        report=c["rectification"], item=c["item"], evidence=None, actor=p["unit_b"]),
    "rectification_detach": lambda c, p: outcomes.rectification_detach(
        report=c["rectification"], attachment=None, actor=p["unit_b"]),
    "item_review": lambda c, p: outcomes.item_review(
        item=c["item"], actor=p["lead_reviewer_b"], accepted=True, note=""),
    "summons_update": lambda c, p: outcomes.summons_update(
        summons=c["summons"], actor=p["office"], minutes="纪要", closed=True),
    "dispatch_record": lambda c, p: outcomes.dispatch_record(
        round=c["round"], actor=p["office"], kind="circular", recipients="各单位",
        sent_on=datetime.date(2018, 3, 1)),
}


def _state(*, reads: bool = True) -> dict:
    """Every row of every Kaohe table (the audit log included); without ``reads``, leave out
    what signing in and reading pages add (sessions, sign-ins, reads in the log)."""
    state = {
        model._meta.label: list(model._base_manager.order_by("pk").values())
        for model in apps.get_models()
        if model.__module__.startswith("kaohe.") and not model._meta.proxy
        and (reads or model._meta.app_label != "accounts")
    }
    if not reads:
        state["audit.AuditEntry"] = [
            e for e in state["audit.AuditEntry"]
            if not (e["action"].startswith("auth.") or e["action"].endswith(".viewed"))]
    return state


@pytest.mark.parametrize("name", sorted(WRITES))
def test_every_write_service_refuses_a_closed_round_and_changes_nothing(name, closed,
                                                                        personas):
    before = _state()
    with pytest.raises(RoundClosed) as refusal:
        WRITES[name](closed, personas)
    assert CLOSED in str(refusal.value)
    assert _state() == before


def test_the_refusal_is_each_apps_own_error(closed):
    """Views catch their app's error type: the refusal is one, so it shows as usual."""
    for error in (submissions.SubmissionError, reviews.ReviewError, launch.LaunchError,
                  grading.GradingError, outcomes.OutcomeError, evidence.UploadRefused):
        with pytest.raises(error, match="已结束"):
            ensure_round_writable(closed["round"], error=error)


def test_an_open_round_is_writable(world):
    ensure_round_writable(world["round"])
    ensure_round_writable(world["round"].pk)
    assert world["round"].status == RoundStatus.ACTIVE


def test_a_round_closed_after_it_was_loaded_is_refused(world):
    stale = Round.objects.get(pk=world["round"].pk)
    Round.objects.filter(pk=stale.pk).update(status=RoundStatus.CLOSED)
    with pytest.raises(RoundClosed):
        ensure_round_writable(stale)


# The main write routes, posted by the role that owns them after close -----------------

def _post(client, user, url, data, *, referer=None) -> tuple[int, str]:
    """POST; the status and what the user is told (the page, or the messages it queued
    for the next page)."""
    client.force_login(user)
    extra = {"HTTP_REFERER": referer} if referer else {}
    response = client.post(url, data, **extra)
    told = [str(m) for m in get_messages(response.wsgi_request)]
    if response.status_code == 200:
        told.append(response.content.decode())
    return response, "\n".join(told)


def test_the_main_write_pages_show_the_refusal_and_change_nothing(closed, personas, client):
    before = _state(reads=False)
    cases = [
        ("unit", reverse("submissions:self_report_save", args=[closed["self_report"].pk]),
         {"revision": closed["self_report"].revision, "summary": "改写"}),
        ("unit", reverse("submissions:cadre_remove", args=["cadre", closed["cadre"].pk]), {}),
        ("unit", reverse("submissions:cadre_add"),
         {"cadre-county": closed["county_a"].pk, "cadre-name": "王五", "cadre-post": "副县长",
          "cadre-start": "2017-01-01", "cadre-in_charge_of_poverty": "on"}),
        ("unit_b", reverse("outcomes:my_rectification_save"), {"summary": "改"}),
        ("lead_reviewer", reverse("reviews:sub_report_save", args=[closed["unit_a"].pk]),
         {"revision": closed["review"].revision, "basic_situation": "改", "problems": "改",
          "suggestions": "改"}),
        ("office", reverse("outcomes:dispatches"),
         {"kind": "circular", "recipients": "各单位", "sent_on": "2018-03-01"}),
        ("office", reverse("launch:session_add"),
         {"held_on": "2018-01-05", "place": "北京", "topic": "新"}),
        ("working_group", reverse("grading:compute"), {}),
        ("leading_group", reverse("grading:reopen", args=[closed["result_set"].pk]),
         {"reason": "更正"}),
    ]
    for role, url, data in cases:
        response, told = _post(client, personas[role], url, data, referer=url)
        assert response.status_code in (200, 302), (role, url)
        assert CLOSED in told, (role, url)
    assert _state(reads=False) == before


def test_a_refusal_without_a_usable_referer_goes_home(closed, personas, client):
    response, told = _post(client, personas["office"], reverse("launch:session_add"),
                           {"held_on": "2018-01-05", "place": "北京", "topic": "新"},
                           referer="https://elsewhere.example/")
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert CLOSED in told
