"""The lead departments' desk through HTTP: who may open and post what, stale revisions,
the organization department's and the military inspectors' pages."""

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from kaohe.audit.models import AuditEntry
from kaohe.reviews import services
from kaohe.reviews.models import (
    AreaGrade,
    CadreCheck,
    CategorySubmission,
    CategorySubmissionStatus,
    FindingSource,
    MajorIncident,
    MilitaryInspection,
    Review,
    ReviewActivity,
    SeriousProblem,
    SubReport,
    Verification,
)
from kaohe.rounds.models import Grade
from kaohe.submissions.models import SecondedCadre
from tests.grading.test_result_sets import submitted  # noqa: F401 - the fixture
from tests.reviews.conftest import (
    AREA_CODES,
    complete_review,
    matrix_problem,
    matrix_submitted_category,
    outcome,
    provincial,
    write_category_report,
)

OVERVIEW = ["office", "working_group", "leading_group"]


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def _messages(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def _last_message(response):
    """The message this request added (earlier unread ones stay in the cookie)."""
    return _messages(response)[-1]


def _grades_post(revision, grade=Grade.GOOD, reason="评定理由"):
    data = {"revision": str(revision)}
    for code in AREA_CODES:
        data[f"grade-{code}"] = grade
        data[f"reason-{code}"] = f"{code}{reason}"
    return data


def _sub_report_post(revision, text="内容"):
    return {"revision": str(revision), "basic_situation": f"基本情况{text}",
            "problems": f"问题{text}", "suggestions": f"建议{text}"}


def _edit_posts(world, unit):
    """Every edit endpoint of a unit's desk with valid data, as (url, data)."""
    round_ = world["round"]
    county = unit.pairings.get(round=round_).county
    indicator = round_.indicators.get(number=4)
    kind = round_.problem_kinds.get(code="neglect")
    pk = unit.pk
    return [
        (reverse("reviews:grades_save", args=[pk]), _grades_post(0)),
        (reverse("reviews:sub_report_save", args=[pk]), _sub_report_post(0)),
        (reverse("reviews:verify", args=[pk]),
         {"indicator": indicator.pk, "status": "verified", "note": "属实"}),
        (reverse("reviews:activity_add", args=[pk]),
         {"method": "document", "held_on": "2018-01-05", "people": "张三"}),
        (reverse("reviews:problem_add", args=[pk]),
         {"kind": kind.pk, "county": county.pk, "description": "不重视"}),
        (reverse("reviews:incident_add", args=[pk]),
         {"county": county.pk, "description": "舆情事件"}),
    ]


def _nothing_recorded():
    assert not AreaGrade.objects.exists()
    assert not SubReport.objects.exclude(basic_situation="").exists()
    assert not Verification.objects.exists()
    assert not ReviewActivity.objects.exists()
    assert not MajorIncident.objects.filter(description="舆情事件").exists()
    assert not SeriousProblem.objects.filter(description="不重视").exists()


# The queue and the desk -----------------------------------------------------------------


def test_the_lead_reviewer_sees_only_the_units_of_its_category(world, personas):
    response = _client(personas["lead_reviewer"]).get(reverse("reviews:queue"))

    assert response.status_code == 200
    html = response.content.decode()
    assert reverse("reviews:desk", args=[world["unit_a"].pk]) in html
    assert world["unit_b"].name not in html
    assert world["army"].name not in html


@pytest.mark.parametrize("persona", OVERVIEW)
def test_the_overview_roles_see_every_ranked_unit_but_no_army_unit(world, personas, persona):
    response = _client(personas[persona]).get(reverse("reviews:queue"))

    assert response.status_code == 200
    html = response.content.decode()
    assert world["unit_a"].name in html and world["unit_b"].name in html
    assert world["army"].name not in html


def test_the_desk_shows_the_provincial_suggestion_and_logs_the_view(world, personas):
    provincial(world["round"], world["unit_a"], world["province_a"], {
        world["county_a"]: outcome(planned=1000, actual=1200, sat_unit=Grade.GOOD,
                                   sat_cadres=Grade.GOOD)})

    response = _client(personas["lead_reviewer"]).get(
        reverse("reviews:desk", args=[world["unit_a"].pk]))

    assert response.status_code == 200
    assert "计划1000人，实际1200人" in response.content.decode()
    assert response.context["can_edit"] is True
    assert AuditEntry.objects.filter(action="review.desk.viewed",
                                     actor=personas["lead_reviewer"],
                                     target_id=str(world["unit_a"].pk)).count() == 1


def test_the_lead_reviewer_reviews_a_unit_and_submits_the_category(world, personas):
    reviewer = personas["lead_reviewer"]
    client = _client(reviewer)
    unit = world["unit_a"]
    for url, data in _edit_posts(world, unit):
        if "revision" in data:
            data["revision"] = str(Review.objects.filter(unit=unit).values_list(
                "revision", flat=True).first() or 0)
        response = client.post(url, data)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("reviews:desk", args=[unit.pk]))
        assert not [m for m in get_messages(response.wsgi_request) if m.level_tag == "error"]

    review = Review.objects.get(unit=unit)
    assert {g.area.code: (g.grade, g.reason) for g in review.area_grades.select_related("area")} \
        == {c: (Grade.GOOD, f"{c}评定理由") for c in AREA_CODES}
    assert review.sub_report.is_complete
    assert review.verifications.get().status == "verified"
    assert review.activities.get().people == "张三"
    assert SeriousProblem.objects.get().source == FindingSource.REVIEWER
    assert MajorIncident.objects.get().county == world["county_a"]

    lead_pk = world["lead_a"].pk
    category_url = reverse("reviews:category", args=[lead_pk])
    assert client.get(category_url).status_code == 200
    response = client.post(reverse("reviews:category_save", args=[lead_pk]),
                           {"revision": "0", "overview": "概况", "problems": "问题",
                            "suggestions": "建议"})
    assert response.status_code == 302
    response = client.post(reverse("reviews:category_submit", args=[lead_pk]))
    assert response.status_code == 302 and response["Location"] == category_url
    assert _last_message(response) == "初步考核结果已报送考核工作组。"

    submission = CategorySubmission.objects.get(lead_department=world["lead_a"])
    assert submission.status == CategorySubmissionStatus.SUBMITTED
    desk = client.get(reverse("reviews:desk", args=[unit.pk]))
    assert desk.context["locked"] is True and desk.context["can_edit"] is False
    assert reverse("reviews:problem_add", args=[unit.pk]) not in desk.content.decode()


def test_a_refused_submission_names_the_incomplete_unit_on_the_page(world, personas):
    client = _client(personas["lead_reviewer"])
    lead_pk = world["lead_a"].pk

    response = client.post(reverse("reviews:category_submit", args=[lead_pk]))

    (message,) = _messages(response)
    assert world["unit_a"].name in message
    page = client.get(reverse("reviews:category", args=[lead_pk])).content.decode()
    assert f"{world['unit_a'].name}（6项考核内容未评定等次，考核子报告未完成）" in page
    assert not CategorySubmission.objects.filter(status=CategorySubmissionStatus.SUBMITTED
                                                 ).exists()


def test_a_grade_without_reason_is_refused_with_a_message(world, personas):
    client = _client(personas["lead_reviewer"])
    data = {"revision": "0", "grade-leadership": Grade.GOOD, "reason-leadership": "",
            "grade-cadres": Grade.GOOD, "reason-cadres": "有理由"}

    response = client.post(reverse("reviews:grades_save", args=[world["unit_a"].pk]), data)

    assert _messages(response) == ["请填写“组织领导”的评定理由。"]
    assert not AreaGrade.objects.exists()


# Stale revisions ------------------------------------------------------------------------


def test_a_grade_save_from_a_stale_page_is_refused_and_keeps_the_first(world, personas,
                                                                      second_reviewer):
    unit = world["unit_a"]
    desk = reverse("reviews:desk", args=[unit.pk])
    first, second = _client(personas["lead_reviewer"]), _client(second_reviewer)
    revision_first = first.get(desk).context["revision"]
    revision_second = second.get(desk).context["revision"]
    assert revision_first == revision_second

    first.post(reverse("reviews:grades_save", args=[unit.pk]),
               _grades_post(revision_first, Grade.GOOD, "甲的理由"))
    response = second.post(reverse("reviews:grades_save", args=[unit.pk]),
                           _grades_post(revision_second, Grade.POOR, "乙的理由"))

    assert response.status_code == 302
    assert _messages(response) == [
        "其他考核人员已修改了该单位的考核内容，请刷新页面后在最新内容上修改。"]
    assert set(AreaGrade.objects.values_list("grade", "graded_by")) == {
        (Grade.GOOD, personas["lead_reviewer"].pk)}


def test_a_sub_report_save_from_a_stale_page_is_refused_and_keeps_the_first(
        world, personas, second_reviewer):
    unit = world["unit_a"]
    desk = reverse("reviews:desk", args=[unit.pk])
    first, second = _client(personas["lead_reviewer"]), _client(second_reviewer)
    revision = first.get(desk).context["revision"]
    assert second.get(desk).context["revision"] == revision

    first.post(reverse("reviews:sub_report_save", args=[unit.pk]),
               _sub_report_post(revision, "甲"))
    response = second.post(reverse("reviews:sub_report_save", args=[unit.pk]),
                           _sub_report_post(revision, "乙"))

    assert "其他考核人员已修改了该单位的考核内容" in _last_message(response)
    assert SubReport.objects.get(review__unit=unit).basic_situation == "基本情况甲"


def test_a_post_without_a_revision_is_a_conflict_once_the_review_was_saved(world, personas):
    client = _client(personas["lead_reviewer"])
    unit = world["unit_a"]
    client.post(reverse("reviews:grades_save", args=[unit.pk]), _grades_post(0))
    data = _grades_post(0, Grade.POOR)
    del data["revision"]

    response = client.post(reverse("reviews:grades_save", args=[unit.pk]), data)

    assert "其他考核人员" in _last_message(response)
    assert set(AreaGrade.objects.values_list("grade", flat=True)) == {Grade.GOOD}


# Scope: another category, another lead department ---------------------------------------


@pytest.mark.parametrize("unit_key", ["unit_b", "army"])
def test_the_desk_of_a_unit_of_another_category_is_404_for_get_and_every_post(
        world, personas, unit_key):
    client = _client(personas["lead_reviewer"])
    unit = world[unit_key]
    problem = matrix_problem(world, unit)

    assert client.get(reverse("reviews:desk", args=[unit.pk])).status_code == 404
    for url, data in _edit_posts(world, unit):
        assert client.post(url, data).status_code == 404, url
    withdraw = reverse("reviews:finding_withdraw", args=[unit.pk, "problem", problem.pk])
    assert client.post(withdraw, {"reason": "x"}).status_code == 404

    _nothing_recorded()
    assert SeriousProblem.objects.filter(pk=problem.pk, withdrawn_at__isnull=True).exists()


def test_a_finding_of_another_unit_cannot_be_withdrawn_through_ones_own_unit(world, personas):
    problem_b = matrix_problem(world, world["unit_b"])
    client = _client(personas["lead_reviewer"])

    url = reverse("reviews:finding_withdraw",
                  args=[world["unit_a"].pk, "problem", problem_b.pk])

    assert client.post(url, {"reason": "x"}).status_code == 404
    assert SeriousProblem.objects.get(pk=problem_b.pk).withdrawn_at is None


def test_the_lead_reviewer_withdraws_a_finding_of_its_unit(world, personas):
    problem = matrix_problem(world, world["unit_a"])
    client = _client(personas["lead_reviewer"])

    response = client.post(reverse("reviews:finding_withdraw",
                                   args=[world["unit_a"].pk, "problem", problem.pk]),
                           {"reason": "误报"})

    assert response.status_code == 302
    assert SeriousProblem.objects.get().withdrawn_reason == "误报"


def test_verifying_a_county_not_paired_with_the_unit_is_404(world, personas):
    client = _client(personas["lead_reviewer"])
    indicator = world["round"].indicators.get(number=6)

    response = client.post(reverse("reviews:verify", args=[world["unit_a"].pk]),
                           {"indicator": indicator.pk, "county": world["county_b"].pk,
                            "status": "verified"})

    assert response.status_code == 404
    assert not Verification.objects.exists()


def test_a_lead_reviewer_cannot_open_or_post_to_another_lead_departments_category(
        world, personas):
    client = _client(personas["lead_reviewer"])
    lead_b = world["lead_b"].pk

    assert client.get(reverse("reviews:category", args=[lead_b])).status_code == 404
    assert client.post(reverse("reviews:category_save", args=[lead_b]),
                       {"overview": "x", "problems": "x", "suggestions": "x"}).status_code == 404
    assert client.post(reverse("reviews:category_submit", args=[lead_b])).status_code == 404
    assert not CategorySubmission.objects.filter(lead_department=world["lead_b"]).exists()


@pytest.mark.parametrize("persona", ["lead_reviewer", *OVERVIEW])
def test_there_is_no_category_page_for_the_army(world, personas, persona):
    military_lead = world["army"].category.lead_department

    response = _client(personas[persona]).get(reverse("reviews:category",
                                                      args=[military_lead.pk]))

    assert response.status_code == 404


# Overview roles read, never write -------------------------------------------------------


@pytest.mark.parametrize("persona", OVERVIEW)
def test_the_overview_roles_read_the_desk_and_category_but_every_edit_is_404(
        world, personas, persona):
    complete_review(world["round"], world["unit_a"], personas["lead_reviewer"])
    client = _client(personas[persona])
    unit, lead_pk = world["unit_a"], world["lead_a"].pk
    problem = matrix_problem(world, unit)
    revision = Review.objects.get(unit=unit).revision

    desk = client.get(reverse("reviews:desk", args=[unit.pk]))
    assert desk.status_code == 200 and desk.context["can_edit"] is False
    assert "基本情况：内容" in desk.content.decode()
    category = client.get(reverse("reviews:category", args=[lead_pk]))
    assert category.status_code == 200 and category.context["can_edit"] is False
    assert world["unit_a"].name in category.content.decode()
    assert world["army"].name not in category.content.decode()

    for url, data in _edit_posts(world, unit):
        assert client.post(url, data).status_code == 404, url
    assert client.post(reverse("reviews:finding_withdraw",
                               args=[unit.pk, "problem", problem.pk]),
                       {"reason": "x"}).status_code == 404
    assert client.post(reverse("reviews:category_save", args=[lead_pk]),
                       {"overview": "x", "problems": "x", "suggestions": "x"}).status_code == 404
    assert client.post(reverse("reviews:category_submit", args=[lead_pk])).status_code == 404

    assert Review.objects.get(unit=unit).revision == revision
    assert SeriousProblem.objects.filter(pk=problem.pk, withdrawn_at__isnull=True).exists()
    assert not CategorySubmission.objects.exclude(overview="").exists()


def test_only_the_working_group_returns_a_submitted_category(world, personas):
    submission = matrix_submitted_category(world, world["lead_a"])
    url = reverse("reviews:category_return", args=[world["lead_a"].pk])
    for persona in ["office", "leading_group", "lead_reviewer"]:
        assert _client(personas[persona]).post(url, {"reason": "x"}).status_code == 404
    submission.refresh_from_db()
    assert submission.status == CategorySubmissionStatus.SUBMITTED

    response = _client(personas["working_group"]).post(url, {"reason": "请补充核查"})

    assert response.status_code == 302
    submission.refresh_from_db()
    assert (submission.status, submission.returned_reason) == (
        CategorySubmissionStatus.RETURNED, "请补充核查")
    page = _client(personas["lead_reviewer"]).get(
        reverse("reviews:category", args=[world["lead_a"].pk]))
    assert "请补充核查" in page.content.decode() and page.context["can_edit"] is True


def test_a_return_without_reason_is_refused(world, personas):
    submission = matrix_submitted_category(world, world["lead_a"])

    response = _client(personas["working_group"]).post(
        reverse("reviews:category_return", args=[world["lead_a"].pk]), {"reason": ""})

    assert _messages(response) == ["请填写退回原因。"]
    submission.refresh_from_db()
    assert submission.status == CategorySubmissionStatus.SUBMITTED


# Organization department ----------------------------------------------------------------


@pytest.fixture
def cadre(world):
    return SecondedCadre.objects.create(round=world["round"], unit=world["unit_b"],
                                        county=world["county_b"], name="王五", post="副县长",
                                        start="2017-03-01")


def test_the_org_department_lists_every_units_cadres_and_checks_one(world, personas, cadre):
    client = _client(personas["org_department"])

    page = client.get(reverse("reviews:org_cadres"))
    assert page.status_code == 200 and "王五" in page.content.decode()

    response = client.post(reverse("reviews:org_cadre_check", args=["cadre", cadre.pk]),
                           {"in_post": "off", "in_charge": "on", "nominal_only": "on",
                            "note": "挂名", "raise_problem": "on"})

    assert response.status_code == 302
    check = CadreCheck.objects.get(cadre=cadre)
    assert (check.in_post, check.nominal_only, check.note) == (False, True, "挂名")
    assert check.problem.source == FindingSource.ORG_DEPARTMENT
    unchecked = client.get(reverse("reviews:org_cadres") + "?unchecked=1")
    assert f'id="cadre-{cadre.pk}"' in page.content.decode()
    assert f'id="cadre-{cadre.pk}"' not in unchecked.content.decode()


@pytest.mark.parametrize("persona", ["office", "working_group", "leading_group", "lead_reviewer",
                                     "military_inspector", "unit", "province", "auditor"])
def test_the_cadre_check_is_404_for_everyone_but_the_org_department(world, personas, cadre,
                                                                    persona):
    client = _client(personas[persona])

    assert client.get(reverse("reviews:org_cadres")).status_code == 404
    response = client.post(reverse("reviews:org_cadre_check", args=["cadre", cadre.pk]),
                           {"in_post": "on", "note": "x"})
    assert response.status_code == 404
    assert not CadreCheck.objects.exists()


# Military inspection --------------------------------------------------------------------


def test_the_military_inspector_inspects_army_units_only(world, personas):
    client = _client(personas["military_inspector"])

    page = client.get(reverse("reviews:military"))
    assert page.status_code == 200
    assert world["army"].name in page.content.decode()
    assert world["unit_a"].name not in page.content.decode()

    data = {"inspected_on": "2018-01-08", "inspectors": "检查组", "findings": "工作扎实"}
    response = client.post(reverse("reviews:military_add", args=[world["army"].pk]), data)
    assert response.status_code == 302
    assert MilitaryInspection.objects.get().unit == world["army"]

    response = client.post(reverse("reviews:military_add", args=[world["unit_a"].pk]), data)
    assert response.status_code == 404
    assert MilitaryInspection.objects.count() == 1


@pytest.mark.parametrize("persona", ["office", "working_group", "leading_group", "lead_reviewer",
                                     "org_department", "unit", "province", "auditor"])
def test_military_inspection_is_404_for_everyone_else(world, personas, persona):
    client = _client(personas[persona])

    assert client.get(reverse("reviews:military")).status_code == 404
    response = client.post(reverse("reviews:military_add", args=[world["army"].pk]),
                           {"inspected_on": "2018-01-08", "inspectors": "x", "findings": "x"})
    assert response.status_code == 404
    assert not MilitaryInspection.objects.exists()


@pytest.mark.parametrize("persona", ["military_inspector", "org_department"])
def test_the_review_desk_is_404_for_the_org_department_and_military(world, personas, persona):
    client = _client(personas[persona])

    assert client.get(reverse("reviews:queue")).status_code == 404
    assert client.get(reverse("reviews:desk", args=[world["unit_a"].pk])).status_code == 404


def test_a_locked_category_refuses_posts_with_a_message(world, personas):
    reviewer = personas["lead_reviewer"]
    complete_review(world["round"], world["unit_a"], reviewer)
    submission = services.category_submission_for(round=world["round"],
                                                  lead_department=world["lead_a"])
    write_category_report(submission, reviewer)
    services.category_submit(submission=submission, actor=reviewer)
    revision = Review.objects.get(unit=world["unit_a"]).revision

    response = _client(reviewer).post(
        reverse("reviews:grades_save", args=[world["unit_a"].pk]),
        _grades_post(revision, Grade.POOR))

    assert "已锁定" in _last_message(response)
    assert set(AreaGrade.objects.values_list("grade", flat=True)) == {Grade.FAIRLY_GOOD}


@pytest.mark.parametrize("persona", OVERVIEW)
def test_the_desk_of_an_army_unit_is_404_for_the_overview_roles(world, personas, persona):
    response = _client(personas[persona]).get(reverse("reviews:desk", args=[world["army"].pk]))

    assert response.status_code == 404


# Known bugs -----------------------------------------------------------------------------


def test_a_category_report_save_from_a_stale_page_is_refused_and_keeps_the_first(
        world, personas, second_reviewer):
    lead_pk = world["lead_a"].pk
    page, save = (reverse("reviews:category", args=[lead_pk]),
                  reverse("reviews:category_save", args=[lead_pk]))
    first, second = _client(personas["lead_reviewer"]), _client(second_reviewer)
    first.get(page)
    second.get(page)  # both start from the same (empty) report, revision 0

    first.post(save, {"revision": "0", "overview": "甲的概况", "problems": "甲",
                      "suggestions": "甲"})
    response = second.post(save, {"revision": "0", "overview": "乙的概况", "problems": "乙",
                                  "suggestions": "乙"})

    assert CategorySubmission.objects.get(lead_department=world["lead_a"]).overview == "甲的概况"
    assert "其他考核人员" in _last_message(response)


def test_raising_a_problem_for_a_cadre_in_a_county_no_longer_paired_answers_with_a_message(
        world, personas):
    cadre = SecondedCadre.objects.create(round=world["round"], unit=world["unit_a"],
                                         county=world["county_a"], name="王五", post="副县长",
                                         start="2017-03-01")
    world["unit_a"].pairings.filter(county=world["county_a"]).delete()

    response = _client(personas["org_department"]).post(
        reverse("reviews:org_cadre_check", args=["cadre", cadre.pk]),
        {"in_post": "off", "in_charge": "on", "nominal_only": "on", "note": "挂名",
         "raise_problem": "on"})

    assert response.status_code == 302


# Bad input is refused with its reason and changes nothing --------------------------------


def test_a_category_report_too_long_is_refused_with_a_message_and_changes_nothing(
        world, personas):
    reviewer = personas["lead_reviewer"]
    submission = services.category_submission_for(round=world["round"],
                                                  lead_department=world["lead_a"])
    write_category_report(submission, reviewer, "原有")
    before = CategorySubmission.objects.get(pk=submission.pk)
    saves = AuditEntry.objects.filter(action="review.category_report.saved")
    assert saves.count() == 1

    response = _client(reviewer).post(
        reverse("reviews:category_save", args=[world["lead_a"].pk]),
        {"revision": str(before.revision), "overview": "长" * 50001, "problems": "新问题",
         "suggestions": "新建议"})

    assert response.status_code == 302
    assert _messages(response) == [
        "“考核基本情况”不能超过50000字（现为50001字），未保存；请删减后重新提交。"]
    after = CategorySubmission.objects.get(pk=submission.pk)
    assert (after.overview, after.problems, after.suggestions, after.revision) == (
        before.overview, before.problems, before.suggestions, before.revision)
    assert saves.count() == 1


def test_a_grade_reason_too_long_is_refused_with_a_message_and_changes_nothing(
        world, personas):
    data = _grades_post(0)
    data["reason-leadership"] = "理" * 5001

    response = _client(personas["lead_reviewer"]).post(
        reverse("reviews:grades_save", args=[world["unit_a"].pk]), data)

    assert response.status_code == 302
    assert response["Location"].endswith("#grades")
    assert _messages(response) == [
        "“组织领导评定理由”不能超过5000字（现为5001字），未保存；请删减后重新提交。"]
    assert not AreaGrade.objects.exists()
    assert not Review.objects.filter(unit=world["unit_a"], revision__gt=0).exists()


def test_an_unknown_grade_is_refused_with_a_message_and_changes_nothing(world, personas):
    data = {**_grades_post(0), "grade-cadres": "excellent"}

    response = _client(personas["lead_reviewer"]).post(
        reverse("reviews:grades_save", args=[world["unit_a"].pk]), data)

    assert _messages(response) == ["“选派干部”的等次无效。"]
    assert not AreaGrade.objects.exists()


def test_the_category_page_says_why_it_cannot_be_returned_instead_of_offering_it(
        submitted, personas):  # noqa: F811
    """While a version computed from it is before the leading group, the working group
    reads why instead of a return form that would be refused."""
    from kaohe.grading import services as grading

    wg, lead = personas["working_group"], submitted["lead_a"]
    page_url = reverse("reviews:category", args=[lead.pk])
    return_url = reverse("reviews:category_return", args=[lead.pk])
    page = _client(wg).get(page_url).content.decode()
    assert return_url in page and "return-refusal" not in page
    version = grading.result_set_compute(round=submitted["round"], actor=wg)
    grading.result_set_submit(result_set=version, actor=wg)
    page = _client(wg).get(page_url).content.decode()
    assert return_url not in page
    assert 'id="return-refusal"' in page and "已报送领导小组审定" in page
