"""The pages of steps 3a and 3b through the test client: what each persona sees and does.

Foreign records answer 404 (never 403), so that their existence does not leak.
"""

import datetime
import io

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from openpyxl import load_workbook

from kaohe.audit.models import AuditEntry
from kaohe.evidence.models import Evidence
from kaohe.rounds.models import Grade
from kaohe.submissions import offline, services
from kaohe.submissions.models import (
    EvidenceAttachment,
    Extension,
    ProvincialReport,
    ReportStatus,
    SelfReport,
)
from kaohe.submissions.views import workbooks
from tests.grading.test_result_sets import GOOD_ALL, _review, _submit_category

from .conftest import (
    attach_approval,
    fill_completely,
    indicator,
    make_evidence,
    requirement,
    slot_key,
)


def url(name, **kwargs):
    return reverse(f"submissions:{name}", kwargs=kwargs or None)


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def _submit(report, user):
    report.refresh_from_db()
    services.self_report_submit(report=report, actor=user, revision=report.revision,
                                confirm_gaps=True)
    report.refresh_from_db()
    return report


# The unit's own report -----------------------------------------------------------------


def test_a_unit_is_sent_to_its_own_report(world, personas, login):
    client = login(personas["unit"])
    response = client.get(url("self_reports"))
    report = SelfReport.objects.get(unit=world["unit_a"])
    assert response.status_code == 302
    assert response["Location"] == url("self_report", pk=report.pk)
    client.get(url("self_reports"))
    assert SelfReport.objects.count() == 1


def test_a_unit_the_round_does_not_assess_is_told_so_and_gets_no_report(world, login):
    from kaohe.accounts.models import Role
    from kaohe.directory.models import Unit
    from tests.conftest import make_user

    unit = Unit.objects.create(code="A099", name="无结对单位", category=world["unit_a"].category)
    client = login(make_user("unit_unpaired", Role.UNIT, unit=unit))
    response = client.get(url("self_reports"))
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert any("没有结对的定点扶贫县" in m for m in messages_of(response))
    assert not SelfReport.objects.exists()


def test_the_page_shows_the_gaps(world, personas, login, report_a):
    page = login(personas["unit"]).get(url("self_report", pk=report_a.pk)).content.decode()
    gaps = services.self_report_gaps(report_a)
    assert f"还有 {len(gaps)} 项未完成" in page
    county = world["county_a"].name
    assert f"指标3（{county}）：缺少“新闻报道”" in page
    assert f"指标3（{county}）：未填写工作情况" in page
    assert "指标1（" not in page.split("完整性检查")[1].split("历次提交版本")[0]


def test_a_unit_saves_its_texts(world, personas, login, report_a):
    key = slot_key(world["round"], 3, world["county_a"])
    response = login(personas["unit"]).post(url("self_report_save", pk=report_a.pk), {
        "revision": report_a.revision, "summary": "全年总结", f"answer-{key}": "书记调研",
    })
    assert response.status_code == 302
    assert response["Location"] == url("self_report", pk=report_a.pk)
    report_a.refresh_from_db()
    assert report_a.summary == "全年总结"
    assert report_a.answers.get().text == "书记调研"
    assert "已保存。" in messages_of(response)


def test_a_save_from_a_stale_page_is_refused_with_a_message(world, personas, login, report_a):
    client = login(personas["unit"])
    key = f"answer-{slot_key(world['round'], 4)}"
    stale = report_a.revision
    client.post(url("self_report_save", pk=report_a.pk), {"revision": stale, key: "先保存的"})
    response = client.post(url("self_report_save", pk=report_a.pk),
                           {"revision": stale, key: "后保存的"})
    assert any("已被他人修改" in m for m in messages_of(response))
    assert report_a.answers.get().text == "先保存的"


def test_a_save_without_a_revision_is_refused(world, personas, login, report_a):
    key = f"answer-{slot_key(world['round'], 4)}"
    login(personas["unit"]).post(url("self_report_save", pk=report_a.pk), {key: "无版本号"})
    assert not report_a.answers.exists()


def test_a_unit_attaches_its_evidence_and_the_gap_disappears(world, personas, login,
                                                             report_a):
    round_, county = world["round"], world["county_a"]
    evidence = make_evidence(unit=world["unit_a"], user=personas["unit"], round=round_,
                             name="新闻报道截图.pdf")
    client = login(personas["unit"])
    key = slot_key(round_, 3, county)
    response = client.post(url("self_report_attach", pk=report_a.pk), {
        "evidence": evidence.pk, "indicator": indicator(round_, 3).pk,
        "requirement": requirement(round_, 3, "新闻报道").pk, "county": county.pk,
        "revision": report_a.revision, f"answer-{key}": "随附件一起保存的文字",
    })
    assert response.status_code == 302
    attachment = EvidenceAttachment.objects.get()
    assert (attachment.report, attachment.evidence, attachment.county) == (report_a, evidence,
                                                                            county)
    assert report_a.answers.get().text == "随附件一起保存的文字"
    page = client.get(url("self_report", pk=report_a.pk)).content.decode()
    assert "新闻报道截图.pdf" in page
    assert f"指标3（{county.name}）：缺少“新闻报道”" not in page
    assert f"指标3（{county.name}）：缺少“调研对接的视频”" in page


def test_a_unit_cannot_attach_another_units_evidence(world, personas, login, report_a):
    round_ = world["round"]
    foreign = make_evidence(unit=world["unit_b"], user=personas["unit_b"], round=round_)
    response = login(personas["unit"]).post(url("self_report_attach", pk=report_a.pk), {
        "evidence": foreign.pk, "indicator": indicator(round_, 4).pk, "revision": 0})
    assert response.status_code == 404
    assert not EvidenceAttachment.objects.exists()


def test_a_unit_detaches_evidence(world, personas, login, report_a):
    user, round_ = personas["unit"], world["round"]
    attachment = services.self_report_attach(
        report=report_a, actor=user, indicator=indicator(round_, 5), requirement=None,
        county=None, evidence=make_evidence(unit=world["unit_a"], user=user, round=round_))
    response = login(user).post(url("self_report_detach", pk=report_a.pk,
                                    attachment_pk=attachment.pk))
    assert response.status_code == 302
    assert not EvidenceAttachment.objects.exists()


def test_submitting_with_gaps_asks_for_confirmation_but_keeps_the_texts(world, personas,
                                                                        login, report_a):
    key = f"answer-{slot_key(world['round'], 4)}"
    response = login(personas["unit"]).post(url("self_report_submit", pk=report_a.pk),
                                            {"revision": report_a.revision, key: "年度计划"})
    assert response.status_code == 302
    assert response["Location"].endswith("?confirm=1#submit")
    report_a.refresh_from_db()
    assert report_a.status == ReportStatus.DRAFT and not report_a.versions.exists()
    assert report_a.answers.get().text == "年度计划"
    assert any("请确认后再提交" in m for m in messages_of(response))


def test_submitting_with_confirmation_locks_the_report(world, personas, login, report_a):
    client = login(personas["unit"])
    data = {"revision": report_a.revision, "confirm_gaps": "1"}
    client.post(url("self_report_submit", pk=report_a.pk), data)
    replay = client.post(url("self_report_submit", pk=report_a.pk), data)
    report_a.refresh_from_db()
    assert report_a.status == ReportStatus.SUBMITTED
    assert report_a.versions.count() == 1
    assert "自评报告已提交。" in messages_of(replay)
    page = client.get(url("self_report", pk=report_a.pk)).content.decode()
    assert "提交时记录的缺项" in page
    assert 'name="summary"' not in page  # no longer editable
    key = f"answer-{slot_key(world['round'], 4)}"
    client.post(url("self_report_save", pk=report_a.pk),
                {"revision": report_a.revision, key: "锁定后修改"})
    assert not report_a.answers.exists()


def test_a_complete_report_submits_without_confirmation(world, personas, login, report_a):
    fill_completely(report_a, personas["unit"])
    login(personas["unit"]).post(url("self_report_submit", pk=report_a.pk),
                                 {"revision": report_a.revision})
    report_a.refresh_from_db()
    assert report_a.status == ReportStatus.SUBMITTED and report_a.gaps == []


def test_after_the_deadline_the_page_says_so_and_refuses(settings, world, personas, login,
                                                         report_a):
    settings.KAOHE_TODAY = "2018-01-01"
    client = login(personas["unit"])
    page = client.get(url("self_report", pk=report_a.pk)).content.decode()
    assert "报送已截止" in page
    response = client.post(url("self_report_submit", pk=report_a.pk),
                           {"revision": report_a.revision, "confirm_gaps": "1"})
    assert any("已截止" in m for m in messages_of(response))
    report_a.refresh_from_db()
    assert report_a.status == ReportStatus.DRAFT


def test_a_unit_attaches_a_link(world, personas, login, report_a):
    round_ = world["round"]
    response = login(personas["unit"]).post(url("self_report_link", pk=report_a.pk), {
        "indicator": indicator(round_, 3).pk,
        "requirement": requirement(round_, 3, "新闻报道").pk,
        "county": world["county_a"].pk, "link_title": "人民日报报道",
        "link_url": "https://example.org/news/1",
    })
    assert response.status_code == 302
    attachment = EvidenceAttachment.objects.get()
    assert attachment.evidence.kind == "link" and attachment.evidence.unit == world["unit_a"]
    assert attachment.evidence.original_name == "人民日报报道"
    assert attachment.county == world["county_a"]
    assert "已添加链接。" in messages_of(response)


def test_a_link_that_is_not_http_is_refused(world, personas, login, report_a):
    response = login(personas["unit"]).post(url("self_report_link", pk=report_a.pk), {
        "indicator": indicator(world["round"], 4).pk, "link_title": "脚本",
        "link_url": "javascript:alert(1)"})
    assert response.status_code == 302
    assert any("http" in m for m in messages_of(response))
    assert not Evidence.objects.exists() and not EvidenceAttachment.objects.exists()


def test_a_refused_link_leaves_no_evidence_behind(world, personas, login, report_a):
    response = login(personas["unit"]).post(url("self_report_link", pk=report_a.pk), {
        "indicator": indicator(world["round"], 3).pk, "county": world["county_b"].pk,
        "link_title": "别县的报道", "link_url": "https://example.org/news/2"})
    assert any("定点扶贫县" in m for m in messages_of(response))
    assert not EvidenceAttachment.objects.exists()
    assert not Evidence.objects.exists()


# Another unit's report -----------------------------------------------------------------


def _foreign_requests(world, personas, report):
    round_ = world["round"]
    attachment = services.self_report_attach(
        report=report, actor=personas["unit"], indicator=indicator(round_, 5), requirement=None,
        county=None,
        evidence=make_evidence(unit=world["unit_a"], user=personas["unit"], round=round_))
    return attachment


FOREIGN_POSTS = [
    "self_report_save", "self_report_submit", "self_report_attach", "self_report_detach",
    "self_report_import", "self_report_link",
]


@pytest.mark.parametrize("name", FOREIGN_POSTS)
def test_another_units_report_answers_404_to_every_post(world, personas, login, report_a,
                                                        name):
    attachment = _foreign_requests(world, personas, report_a)
    kwargs = {"pk": report_a.pk}
    if name == "self_report_detach":
        kwargs["attachment_pk"] = attachment.pk
    evidence_b = make_evidence(unit=world["unit_b"], user=personas["unit_b"],
                               round=world["round"])
    key = f"answer-{slot_key(world['round'], 4)}"
    data = {"revision": 1, "confirm_gaps": "1", key: "别的单位写的", "summary": "别的单位",
            "indicator": indicator(world["round"], 4).pk, "evidence": evidence_b.pk,
            "link_url": "https://example.org/", "link_title": "x"}
    report_a.refresh_from_db()
    before = (report_a.revision, report_a.status, report_a.attachments.count())
    response = login(personas["unit_b"]).post(url(name, **kwargs), data)
    assert response.status_code == 404
    report_a.refresh_from_db()
    assert (report_a.revision, report_a.status, report_a.attachments.count()) == before
    assert not report_a.answers.exists()


@pytest.mark.parametrize("name", ["self_report", "self_report_excel"])
def test_another_units_report_answers_404_to_every_get(world, personas, login, report_a,
                                                       name):
    assert login(personas["unit_b"]).get(url(name, pk=report_a.pk)).status_code == 404


def test_an_attachment_of_another_report_cannot_be_detached_through_ones_own(
        world, personas, login, report_a, report_b):
    attachment = _foreign_requests(world, personas, report_a)
    response = login(personas["unit_b"]).post(url("self_report_detach", pk=report_b.pk,
                                                  attachment_pk=attachment.pk))
    assert response.status_code == 404
    assert EvidenceAttachment.objects.filter(pk=attachment.pk).exists()


def test_missing_reports_answer_404_not_500(world, personas, login, report_a):
    _submit(report_a, personas["unit"])
    client = login(personas["office"])
    assert client.get(url("self_report", pk=999999)).status_code == 404
    assert client.get(url("self_report_version", pk=report_a.pk, number=7)).status_code == 404
    assert client.get(url("provincial_report", pk=999999)).status_code == 404


# Lead departments ----------------------------------------------------------------------


def test_a_lead_reviewer_sees_a_report_only_once_submitted(world, personas, login, report_a):
    client = login(personas["lead_reviewer"])
    assert client.get(url("self_report", pk=report_a.pk)).status_code == 404
    assert world["unit_a"].name not in client.get(url("self_reports")).content.decode()
    _submit(report_a, personas["unit"])
    response = client.get(url("self_report", pk=report_a.pk))
    assert response.status_code == 200
    assert world["unit_a"].name in client.get(url("self_reports")).content.decode()
    entry = AuditEntry.objects.get(action="self_report.viewed")
    assert entry.actor == personas["lead_reviewer"] and entry.target_id == str(report_a.pk)


def test_a_lead_reviewer_returns_a_report_and_the_unit_sees_why(world, personas, login,
                                                                report_a):
    _submit(report_a, personas["unit"])
    response = login(personas["lead_reviewer"]).post(url("self_report_return", pk=report_a.pk),
                                                     {"reason": "请补充调研视频"})
    assert response.status_code == 302
    report_a.refresh_from_db()
    assert report_a.status == ReportStatus.RETURNED
    page = login(personas["unit"]).get(url("self_report", pk=report_a.pk)).content.decode()
    assert "请补充调研视频" in page and 'name="summary"' in page


def test_returning_without_a_reason_changes_nothing(world, personas, login, report_a):
    _submit(report_a, personas["unit"])
    response = login(personas["lead_reviewer"]).post(url("self_report_return", pk=report_a.pk),
                                                     {"reason": ""})
    assert "请填写退回原因。" in messages_of(response)
    report_a.refresh_from_db()
    assert report_a.status == ReportStatus.SUBMITTED


def test_returning_a_report_of_a_submitted_category_is_refused_with_a_message(
        world, personas, login, report_a):
    _submit(report_a, personas["unit"])
    reviewer = personas["lead_reviewer"]
    _review(world["round"], world["unit_a"], reviewer, GOOD_ALL)
    _submit_category(world["round"], world["lead_a"], reviewer)
    response = login(reviewer).post(url("self_report_return", pk=report_a.pk),
                                    {"reason": "报送后退回"})
    assert response.status_code == 302
    assert any("已报送考核工作组" in m for m in messages_of(response))
    report_a.refresh_from_db()
    assert report_a.status == ReportStatus.SUBMITTED and report_a.returned_reason == ""
    assert not AuditEntry.objects.filter(action="self_report.returned").exists()


def test_the_page_says_why_a_report_cannot_be_returned_instead_of_offering_it(
        world, personas, login, report_a):
    _submit(report_a, personas["unit"])
    reviewer = personas["lead_reviewer"]
    page = login(reviewer).get(url("self_report", pk=report_a.pk)).content.decode()
    assert url("self_report_return", pk=report_a.pk) in page and "return-refusal" not in page
    _review(world["round"], world["unit_a"], reviewer, GOOD_ALL)
    _submit_category(world["round"], world["lead_a"], reviewer)
    page = login(reviewer).get(url("self_report", pk=report_a.pk)).content.decode()
    assert url("self_report_return", pk=report_a.pk) not in page
    assert 'id="return-refusal"' in page and "已报送考核工作组" in page


def test_a_lead_reviewer_of_another_category_sees_nothing(world, personas, login, report_a):
    _submit(report_a, personas["unit"])
    client = login(personas["lead_reviewer_b"])
    assert client.get(url("self_report", pk=report_a.pk)).status_code == 404
    assert client.get(url("self_report_version", pk=report_a.pk, number=1)).status_code == 404
    assert client.post(url("self_report_return", pk=report_a.pk),
                       {"reason": "越权退回"}).status_code == 404
    assert world["unit_a"].name not in client.get(url("self_reports")).content.decode()
    report_a.refresh_from_db()
    assert report_a.status == ReportStatus.SUBMITTED


def test_versions_keep_what_was_submitted(world, personas, login, report_a):
    key = slot_key(world["round"], 4)
    services.self_report_save(report=report_a, actor=personas["unit"],
                              revision=report_a.revision, answers={key: "第一版内容"})
    _submit(report_a, personas["unit"])
    services.self_report_return(report=report_a, actor=personas["lead_reviewer"], reason="改")
    report_a.refresh_from_db()
    services.self_report_save(report=report_a, actor=personas["unit"],
                              revision=report_a.revision, answers={key: "第二版内容"})
    _submit(report_a, personas["unit"])
    client = login(personas["lead_reviewer"])
    v1 = client.get(url("self_report_version", pk=report_a.pk, number=1)).content.decode()
    v2 = client.get(url("self_report_version", pk=report_a.pk, number=2)).content.decode()
    assert "第一版内容" in v1 and "第二版内容" not in v1
    assert "第二版内容" in v2


def test_opening_a_version_is_logged(world, personas, login, report_a):
    _submit(report_a, personas["unit"])
    login(personas["lead_reviewer"]).get(url("self_report_version", pk=report_a.pk, number=1))
    assert AuditEntry.objects.filter(actor=personas["lead_reviewer"],
                                     target_id=str(report_a.pk)).exists()


# Provinces and self-reports; units and provincial reports --------------------------------


@pytest.mark.parametrize("persona", ["province", "province_b"])
def test_provinces_never_see_self_reports(world, personas, login, report_a, persona):
    _submit(report_a, personas["unit"])
    client = login(personas[persona])
    assert client.get(url("self_reports")).status_code == 404
    assert client.get(url("self_report", pk=report_a.pk)).status_code == 404
    assert client.get(url("self_report_version", pk=report_a.pk, number=1)).status_code == 404


@pytest.fixture
def prov_report(world):
    return services.provincial_report_for(round=world["round"], province=world["province_a"],
                                          unit=world["unit_a"])


@pytest.mark.parametrize("persona", ["unit", "unit_b"])
def test_units_never_see_provincial_reports_even_about_themselves(world, personas, login,
                                                                  prov_report, persona):
    ProvincialReport.objects.filter(pk=prov_report.pk).update(status=ReportStatus.SUBMITTED)
    client = login(personas[persona])
    assert client.get(url("provincial_reports")).status_code == 404
    assert client.get(url("provincial_report", pk=prov_report.pk)).status_code == 404
    assert client.get(url("provincial_excel", pk=prov_report.pk)).status_code == 404


def test_a_province_starts_a_report_on_a_unit_working_in_it(world, personas, login):
    client = login(personas["province"])
    page = client.get(url("provincial_reports")).content.decode()
    assert world["unit_a"].name in page and world["unit_b"].name not in page
    response = client.post(url("provincial_start", unit_pk=world["unit_a"].pk))
    report = ProvincialReport.objects.get()
    assert response["Location"] == url("provincial_report", pk=report.pk)
    assert (report.province, report.unit) == (world["province_a"], world["unit_a"])
    # unit_b works only in 云南.
    assert client.post(url("provincial_start", unit_pk=world["unit_b"].pk)).status_code == 404
    assert ProvincialReport.objects.count() == 1


def _prov_form(report, **overrides):
    county_id = report.outcomes.get().county_id
    data = {
        "revision": report.revision, "work_text": "帮扶力度大", "recommended_grade": "good",
        "recommendation_reason": "成效显著", "approved_on": "2017-12-28",
        "approval_reference": "省领导小组会议",
        f"c{county_id}-planned_exit": "1200", f"c{county_id}-actual_exit": "1250",
        f"c{county_id}-plan_met": "yes", f"c{county_id}-satisfaction_unit": "good",
        f"c{county_id}-satisfaction_cadres": "fairly_good", f"c{county_id}-note": "",
    }
    data.update({k.format(c=county_id): v for k, v in overrides.items()})
    return data


def test_a_province_fills_and_submits_its_report(world, personas, login, prov_report):
    client = login(personas["province"])
    page = client.get(url("provincial_report", pk=prov_report.pk)).content.decode()
    assert "报送前还需填写" in page
    client.post(url("provincial_save", pk=prov_report.pk), _prov_form(prov_report))
    prov_report.refresh_from_db()
    assert prov_report.recommended_grade == Grade.GOOD
    outcome = prov_report.outcomes.get()
    assert (outcome.plan_met, outcome.satisfaction_cadres) == (True, Grade.FAIRLY_GOOD)
    client.post(url("provincial_finding_add", pk=prov_report.pk), {
        "county": world["county_a"].pk, "kind": "serious_problem",
        "problem_kind": world["round"].problem_kinds.get(code="cadres_nominal").pk,
        "description": "挂职干部挂名不到岗"})
    assert prov_report.findings.get().problem_kind.code == "cadres_nominal"
    attach_approval(prov_report, personas["province"])
    client.post(url("provincial_submit", pk=prov_report.pk), {"revision": prov_report.revision})
    prov_report.refresh_from_db()
    assert prov_report.status == ReportStatus.SUBMITTED
    assert prov_report.versions.get().number == 1


def test_a_bad_provincial_form_saves_nothing(world, personas, login, prov_report):
    response = login(personas["province"]).post(
        url("provincial_save", pk=prov_report.pk),
        _prov_form(prov_report, **{"c{c}-satisfaction_unit": "很好",
                                   "c{c}-planned_exit": "-3"}))
    assert any("填写有误" in m for m in messages_of(response))
    prov_report.refresh_from_db()
    assert prov_report.work_text == "" and prov_report.revision == 0
    assert prov_report.outcomes.get().planned_exit is None


def test_submitting_an_incomplete_provincial_report_names_what_is_missing(world, personas,
                                                                          login, prov_report):
    response = login(personas["province"]).post(url("provincial_submit", pk=prov_report.pk),
                                                {"revision": prov_report.revision})
    [message] = messages_of(response)
    assert "评价等次意见" in message and world["county_a"].name in message
    prov_report.refresh_from_db()
    assert prov_report.status == ReportStatus.DRAFT


@pytest.mark.parametrize("name, method", [
    ("provincial_report", "get"), ("provincial_excel", "get"), ("provincial_save", "post"),
    ("provincial_submit", "post"), ("provincial_finding_add", "post"),
    ("provincial_import", "post"),
])
def test_another_provinces_report_answers_404(world, personas, login, prov_report, name,
                                              method):
    client = login(personas["province_b"])
    data = _prov_form(prov_report) if method == "post" else None
    response = getattr(client, method)(url(name, pk=prov_report.pk), data)
    assert response.status_code == 404
    prov_report.refresh_from_db()
    assert prov_report.work_text == "" and prov_report.revision == 0


def test_reviewers_see_a_provincial_report_only_once_submitted(world, personas, login,
                                                               prov_report):
    client = login(personas["lead_reviewer"])
    assert client.get(url("provincial_report", pk=prov_report.pk)).status_code == 404
    ProvincialReport.objects.filter(pk=prov_report.pk).update(status=ReportStatus.SUBMITTED)
    assert client.get(url("provincial_report", pk=prov_report.pk)).status_code == 200
    assert AuditEntry.objects.filter(action="provincial_report.viewed",
                                     actor=personas["lead_reviewer"]).exists()
    assert login(personas["lead_reviewer_b"]).get(
        url("provincial_report", pk=prov_report.pk)).status_code == 404


def test_the_office_sees_every_report(world, personas, login, report_a, report_b,
                                      prov_report):
    services.provincial_report_for(round=world["round"], province=world["province_b"],
                                   unit=world["unit_b"])
    client = login(personas["office"])
    self_list = client.get(url("self_reports")).content.decode()
    prov_list = client.get(url("provincial_reports")).content.decode()
    for unit in (world["unit_a"], world["unit_b"]):
        assert unit.name in self_list and unit.name in prov_list
    assert client.get(url("self_report", pk=report_b.pk)).status_code == 200
    assert client.get(url("provincial_report", pk=prov_report.pk)).status_code == 200


@pytest.mark.parametrize("persona", ["system_admin", "security_admin", "auditor"])
def test_administrators_see_no_report(world, personas, login, report_a, prov_report, persona):
    _submit(report_a, personas["unit"])
    ProvincialReport.objects.filter(pk=prov_report.pk).update(status=ReportStatus.SUBMITTED)
    client = login(personas[persona])
    for address in [url("self_reports"), url("self_report", pk=report_a.pk),
                    url("self_report_version", pk=report_a.pk, number=1),
                    url("provincial_reports"), url("provincial_report", pk=prov_report.pk),
                    url("cadres"), url("deadlines")]:
        assert client.get(address).status_code == 404, address


# Offline workbooks through the pages ---------------------------------------------------


def test_the_unit_downloads_and_uploads_its_workbook(world, personas, login, report_a):
    client = login(personas["unit"])
    response = client.get(url("self_report_excel", pk=report_a.pk))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Cache-Control"] == "private, no-store"
    assert AuditEntry.objects.filter(action="self_report.offline_downloaded").exists()
    wb = load_workbook(io.BytesIO(response.content))
    ws = wb[offline.SELF_SHEET]
    for row in range(2, ws.max_row + 1):
        if ws.cell(row, 2).value == 4:
            ws.cell(row, 7).value = "离线填写的年度计划"
    buffer = io.BytesIO()
    wb.save(buffer)
    buffer.seek(0)
    buffer.name = "自评报告.xlsx"
    response = client.post(url("self_report_import", pk=report_a.pk),
                           {"revision": report_a.revision, "file": buffer})
    assert "已导入离线填报表。" in messages_of(response)
    assert report_a.answers.get(indicator__number=4).text == "离线填写的年度计划"


def test_a_bad_upload_imports_nothing_and_says_why(world, personas, login, report_a):
    upload = io.BytesIO(b"this is not a workbook")
    upload.name = "report.xlsx"
    response = login(personas["unit"]).post(url("self_report_import", pk=report_a.pk),
                                            {"revision": report_a.revision, "file": upload})
    [message] = messages_of(response)
    assert message.startswith("未导入任何内容") and "无法读取该文件" in message
    report_a.refresh_from_db()
    assert report_a.revision == 0


def test_an_oversized_upload_is_refused(monkeypatch, world, personas, login, report_a):
    monkeypatch.setattr(workbooks, "MAX_OFFLINE_BYTES", 10)
    upload = io.BytesIO(offline.self_report_workbook(report_a))
    upload.name = "report.xlsx"
    response = login(personas["unit"]).post(url("self_report_import", pk=report_a.pk),
                                            {"revision": report_a.revision, "file": upload})
    assert any("10 MB" in m for m in messages_of(response))
    report_a.refresh_from_db()
    assert report_a.revision == 0


def test_the_province_round_trips_its_workbook(world, personas, login, prov_report):
    client = login(personas["province"])
    response = client.get(url("provincial_excel", pk=prov_report.pk))
    assert response["Cache-Control"] == "private, no-store"
    wb = load_workbook(io.BytesIO(response.content))
    ws = wb[offline.OUTCOME_SHEET]
    for column, value in zip(range(3, 9), [100, 120, "否", "是", "好", "一般"], strict=True):
        ws.cell(2, column).value = value
    overall = wb[offline.OVERALL_SHEET]
    overall["B2"], overall["B3"], overall["B5"] = "帮扶情况", "较好", "2017-12-27"
    buffer = io.BytesIO()
    wb.save(buffer)
    buffer.seek(0)
    buffer.name = "省级.xlsx"
    client.post(url("provincial_import", pk=prov_report.pk),
                {"revision": prov_report.revision, "file": buffer})
    prov_report.refresh_from_db()
    assert prov_report.recommended_grade == Grade.FAIRLY_GOOD
    assert prov_report.approved_on == datetime.date(2017, 12, 27)
    assert prov_report.outcomes.get().satisfaction_cadres == Grade.AVERAGE


def test_an_uploaded_workbook_beyond_the_forms_limits_imports_nothing(world, personas, login,
                                                                     prov_report):
    """The page's limits hold for the workbook too: each over-long text is named by its
    sheet, row and column, and the report is left as it was."""
    client = login(personas["province"])
    wb = load_workbook(io.BytesIO(client.get(url("provincial_excel", pk=prov_report.pk)).content))
    wb[offline.OUTCOME_SHEET]["I2"] = "注" * 5001
    overall = wb[offline.OVERALL_SHEET]
    overall["B2"], overall["B3"], overall["B4"] = "长" * 20001, "好", "理" * 5001
    buffer = io.BytesIO()
    wb.save(buffer)
    buffer.seek(0)
    buffer.name = "省级.xlsx"
    response = client.post(url("provincial_import", pk=prov_report.pk),
                           {"revision": prov_report.revision, "file": buffer})
    [message] = messages_of(response)
    assert message.startswith("未导入任何内容")
    for where in ("「县级情况」表第2行「说明」列：超过5000字",
                  "「总体意见」表第2行「内容」列：超过20000字",
                  "「总体意见」表第4行「内容」列：超过5000字"):
        assert where in message
    prov_report.refresh_from_db()
    assert prov_report.revision == 0 and prov_report.work_text == ""
    assert prov_report.recommended_grade == "" and prov_report.outcomes.get().note == ""


# Deadlines page ------------------------------------------------------------------------


def _late_table(response):
    """The table of units whose self-report is not submitted."""
    return response.content.decode().split("未提交自评报告的单位")[1].split("</table>")[0]


def test_the_office_sees_late_units_and_grants_an_extension(settings, world, personas, login,
                                                           report_a):
    settings.KAOHE_TODAY = "2018-01-05"
    client = login(personas["office"])
    late = _late_table(client.get(url("deadlines")))
    for unit in (world["unit_a"], world["unit_b"], world["army"]):
        assert unit.name in late
    response = client.post(url("extension_grant"), {
        "step": "self_report", "unit": world["unit_a"].pk, "until": "2018-01-10",
        "reason": "单位机构调整"})
    assert response.status_code == 302
    extension = Extension.objects.get()
    assert (extension.unit, extension.until, extension.granted_by) == (
        world["unit_a"], datetime.date(2018, 1, 10), personas["office"])
    # The unit can now submit; the page no longer lists it once it has.
    _submit(report_a, personas["unit"])
    late = _late_table(client.get(url("deadlines")))
    assert world["unit_a"].name not in late and world["unit_b"].name in late


def test_an_extension_form_with_a_bad_date_grants_nothing(world, personas, login):
    response = login(personas["office"]).post(url("extension_grant"), {
        "step": "self_report", "unit": world["unit_a"].pk, "until": "2017-12-31",
        "reason": "原因"})
    assert any("应晚于" in m for m in messages_of(response))
    assert not Extension.objects.exists()


def test_the_office_extends_a_provinces_report(world, personas, login):
    login(personas["office"]).post(url("extension_grant"), {
        "step": "provincial_report", "province": world["province_a"].pk,
        "until": "2018-01-15", "reason": "省领导小组会议推迟"})
    assert Extension.objects.get().province == world["province_a"]


def test_a_lead_reviewer_sees_only_its_categorys_late_units(world, personas, login):
    client = login(personas["lead_reviewer"])
    page = client.get(url("deadlines")).content.decode()
    assert world["unit_a"].name in _late_table(client.get(url("deadlines")))
    assert world["unit_b"].name not in page and world["army"].name not in page
    assert 'name="until"' not in page
    response = client.post(url("extension_grant"), {
        "step": "self_report", "unit": world["unit_a"].pk, "until": "2018-01-10",
        "reason": "越权延期"})
    assert response.status_code == 404
    assert not Extension.objects.exists()


@pytest.mark.parametrize("persona", ["unit", "province", "military_inspector",
                                     "working_group"])
def test_others_have_no_deadline_page(world, personas, login, persona):
    assert login(personas[persona]).get(url("deadlines")).status_code == 404
