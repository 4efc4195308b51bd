"""The organization department reads its remit only (security.md 8-10, mission: Grades).

The plan gives it the seconded cadres and village first secretaries of every unit, which
it checks, and the results once they are sent to it after release (考核结果送中央组织部).
It never reads what a province says of a unit (the report carries the province's
recommended grade), nor provinces' or units' evidence, nor units' self-reports.
"""

import pytest
from django.urls import reverse

from kaohe.documents import services as documents
from kaohe.documents.base import REGISTRY, get_exporter
from kaohe.documents.views import _offered
from kaohe.outcomes import services as outcomes
from kaohe.outcomes.models import DispatchKind
from kaohe.submissions.models import (
    ProvincialAttachment,
    ProvincialAttachmentKind,
    ProvincialReport,
    ReportStatus,
    SelfReport,
)
from tests.documents.conftest import released  # noqa: F401 - a fixture used here
from tests.documents.test_scope_of_every_export import _text
from tests.evidence.factories import evidence_file
from tests.outcomes.test_outcomes import approved  # noqa: F401 - a fixture used here
from tests.submissions.conftest import (
    matrix_cadre,
    matrix_provincial_report,
    matrix_self_report,
)
from tests.test_permissions import ROUTES, _url

pytestmark = pytest.mark.django_db

RECOMMENDATION = "省里建议评为好等次的理由七三九"
PROVINCE_TEXT = "省级总结报告正文五八二"
PROVINCE_FILE = "省级佐证材料六一四.pdf"
UNIT_FILE = "单位佐证材料二零八.pdf"
SELF_REPORT_TEXT = "自评报告正文三五一"
# The grade itself is one word (好) that appears everywhere; it is shown and exported with
# its reason, and edited in a field of this name. (The label 评价等次意见 is in the
# published plan, which every role reads.)
SECRETS = (RECOMMENDATION, PROVINCE_TEXT, PROVINCE_FILE, UNIT_FILE, SELF_REPORT_TEXT,
           'name="recommended_grade"')


@pytest.fixture
def seeded(world, personas):
    """unit_a's self-report and the province's report on it, both submitted, with evidence;
    a cadre and a first secretary of unit_a for the organization department to check."""
    round_ = world["round"]
    report = matrix_provincial_report(world, world["unit_a"])
    province_file = evidence_file(round=round_, uploaded_by=personas["province"],
                                  province=world["province_a"], name=PROVINCE_FILE,
                                  data=b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")
    ProvincialReport.objects.filter(pk=report.pk).update(
        recommended_grade="good", recommendation_reason=RECOMMENDATION, work_text=PROVINCE_TEXT,
        status=ReportStatus.SUBMITTED)
    ProvincialAttachment.objects.create(report=report, evidence=province_file,
                                        kind=ProvincialAttachmentKind.EVIDENCE)
    self_report = matrix_self_report(world, world["unit_a"])
    SelfReport.objects.filter(pk=self_report.pk).update(summary=SELF_REPORT_TEXT)
    unit_file = evidence_file(round=round_, uploaded_by=personas["unit"], unit=world["unit_a"],
                              name=UNIT_FILE, data=b"%PDF-1.4\n%%EOF\n",
                              content_type="application/pdf")
    matrix_cadre(world, world["unit_a"], "cadre")
    matrix_cadre(world, world["unit_a"], "secretary")
    return {"provincial": report, "self_report": self_report, "province_file": province_file,
            "unit_file": unit_file}


def _body(response) -> str:
    data = b"".join(response.streaming_content) if response.streaming else response.content
    return data.decode("utf-8", errors="replace")


def _send_to_org_department(world, personas):
    outcomes.dispatch_record(round=world["round"], actor=personas["office"],
                             kind=DispatchKind.ORG_DEPARTMENT, recipients="中央组织部",
                             sent_on=world["round"].steps.last().due)


def test_no_page_or_export_of_the_org_department_shows_a_provinces_grade_or_evidence(
        client, world, personas, seeded, released):  # noqa: F811
    _send_to_org_department(world, personas)
    org = personas["org_department"]
    client.force_login(org)
    seen = {}
    for route, (method, _kwargs, _data, _expected) in sorted(ROUTES.items()):
        if method != "get":
            continue
        response = client.get(_url(route, world, "org_department"))
        if response.status_code == 200:
            seen[route] = _body(response)
    # The pages of its remit are there (else the search below would pass vacuously).
    assert {"home", "submissions:cadres", "reviews:org_cadres", "documents:index"} <= set(seen)
    assert "矩阵干部" in seen["reviews:org_cadres"]
    for tab in ("secretaries", "coverage"):  # the checklist's other tabs
        response = client.get(reverse("reviews:org_cadres"), {"show": tab})
        assert response.status_code == 200
        seen[f"reviews:org_cadres?show={tab}"] = _body(response)
    round_ = world["round"]
    for item in _offered(org, round_):
        exporter = item["exporter"]
        for key, _label in item["objects"]:
            obj = exporter.get_object(org, round_, key)
            for fmt in exporter.formats:
                rendered = documents.export_now(org, exporter, obj, fmt, round_=round_)[1]
                seen[f"{exporter.identifier}.{fmt}"] = _text(rendered.data, fmt)
    for where, text in seen.items():
        for secret in SECRETS:
            assert secret not in text, (where, secret)
    # The results sent to it are among what it exported.
    assert "org_department_list.xlsx" in seen


def test_the_org_department_gets_404_for_provincial_reports_evidence_and_self_reports(
        client, world, personas, seeded):
    client.force_login(personas["org_department"])
    for route, kwargs in [
        ("submissions:provincial_reports", None),
        ("submissions:provincial_report", {"pk": seeded["provincial"].pk}),
        ("submissions:self_reports", None),
        ("submissions:self_report", {"pk": seeded["self_report"].pk}),
        ("submissions:self_report_version", {"pk": seeded["self_report"].pk, "number": 1}),
        ("evidence:download", {"pk": seeded["province_file"].pk}),
        ("evidence:preview", {"pk": seeded["province_file"].pk}),
        ("evidence:download", {"pk": seeded["unit_file"].pk}),
    ]:
        response = client.get(reverse(route, kwargs=kwargs))
        assert response.status_code == 404, route
    for identifier in ("self_report", "sub_report", "category_report", "review_report"):
        assert not list(get_exporter(identifier).objects_for(personas["org_department"],
                                                             world["round"])), identifier


def test_the_org_department_checks_every_units_cadres(client, world, personas, seeded):
    matrix_cadre(world, world["unit_b"], "cadre")
    client.force_login(personas["org_department"])
    page = _body(client.get(reverse("reviews:org_cadres")))
    secretaries = _body(client.get(reverse("reviews:org_cadres"), {"show": "secretaries"}))
    assert "测试单位甲" in page and "测试单位乙" in page and "矩阵书记" in secretaries
    listed = _body(client.get(reverse("submissions:cadres")))
    assert "测试单位乙" in listed
    home = _body(client.get(reverse("home")))
    assert reverse("reviews:org_cadres") in home
    assert reverse("submissions:self_reports") not in home
    assert reverse("submissions:provincial_reports") not in home


def _org_offered(personas, world):
    return {item["exporter"].identifier
            for item in _offered(personas["org_department"], world["round"])}


def test_the_results_reach_the_org_department_once_sent_after_release(
        client, world, personas, approved):  # noqa: F811
    org = personas["org_department"]
    exporter = get_exporter("org_department_list")
    make = reverse("documents:make", kwargs={"identifier": "org_department_list",
                                             "key": "2017", "fmt": "xlsx"})
    client.force_login(org)
    # Approved, even recorded as sent, but not released: nothing.
    _send_to_org_department(world, personas)
    assert "org_department_list" not in _org_offered(personas, world)
    assert client.get(make).status_code == 404
    outcomes.feedback_prepare(result_set=approved, actor=personas["office"])
    outcomes.release(result_set=approved, actor=personas["office"])
    assert _org_offered(personas, world) == {"org_department_list"}
    response = client.get(make)
    assert response.status_code == 200
    text = _text(b"".join(response.streaming_content) if response.streaming
                 else response.content, "xlsx")
    assert "测试单位甲" in text and "一般" in text and "较差" in text
    assert exporter.objects_for(org, world["round"]) == [world["round"]]


def test_released_results_not_yet_sent_stay_with_the_office(client, world, personas,
                                                            released):  # noqa: F811
    assert "org_department_list" not in _org_offered(personas, world)
    client.force_login(personas["org_department"])
    assert client.get(reverse("documents:make", kwargs={
        "identifier": "org_department_list", "key": "2017", "fmt": "pdf"})).status_code == 404
    # The office prepares and sends it.
    assert "org_department_list" in {
        item["exporter"].identifier for item in _offered(personas["office"], world["round"])}


def test_every_exporter_offers_the_org_department_at_most_the_results_list(
        world, personas, seeded, released):  # noqa: F811
    _send_to_org_department(world, personas)
    offered = set()
    for identifier, cls in REGISTRY.items():
        if list(cls().objects_for(personas["org_department"], world["round"])):
            offered.add(identifier)
    assert offered == {"org_department_list"}
