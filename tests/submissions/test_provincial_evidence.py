"""The provincial report complete (issue 17, item 9): evidence and the provincial leading
group's approval document by resumable upload, indicator 2 (deep-poverty support) per
county, and the report as a Word/PDF document in the province's name."""

import datetime
import io
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from docx import Document

from kaohe.audit.models import AuditEntry
from kaohe.directory.models import Pairing
from kaohe.documents import services as documents
from kaohe.documents.base import get_exporter
from kaohe.rounds.models import Grade, Source
from kaohe.submissions import services
from kaohe.submissions.models import (
    ProvincialAttachment,
    ProvincialAttachmentKind,
    ProvincialReport,
    ReportStatus,
)
from tests.evidence.factories import (
    evidence_of,
    pdf_bytes,
    tus_upload,
    upload_id,
    use_data_dir,
)


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    return use_data_dir(settings, tmp_path / "data")


def url(name, **kwargs):
    return reverse(f"submissions:{name}", kwargs=kwargs or None)


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def prov_report(world):
    return services.provincial_report_for(round=world["round"], province=world["province_a"],
                                          unit=world["unit_a"])


@pytest.fixture
def deep_report(world, deep_county):
    """云南's report on unit_a, paired with an ordinary 云南 county and a three-areas one."""
    Pairing.objects.create(round=world["round"], unit=world["unit_a"], county=deep_county)
    Pairing.objects.create(round=world["round"], unit=world["unit_a"], county=world["county_b"])
    assert not world["county_b"].deep_poverty and deep_county.deep_poverty
    return services.provincial_report_for(round=world["round"], province=world["province_b"],
                                          unit=world["unit_a"])


def _fill(report, actor):
    report.refresh_from_db()
    services.provincial_report_save(
        report=report, actor=actor, revision=report.revision,
        fields={"work_text": "该单位在我省开展定点扶贫情况", "recommended_grade": Grade.GOOD,
                "recommendation_reason": "成效显著", "approved_on": datetime.date(2017, 12, 28),
                "approval_reference": "省扶贫开发领导小组第5次会议"},
        outcomes={o.county_id: {"plan_met": True, "satisfaction_unit": Grade.GOOD,
                                "satisfaction_cadres": Grade.GOOD,
                                **({"deep_support": "加大投入"} if o.county.deep_poverty
                                   else {})}
                  for o in report.outcomes.select_related("county")})
    report.refresh_from_db()
    return report


def _upload(client, name="审定文件.pdf"):
    """A real tus upload by the signed-in user; returns the evidence id."""
    created, last = tus_upload(client, pdf_bytes(3000), name=name)
    assert last.status_code == 204, last.content
    return str(upload_id(created["Location"]))


# Attaching through the page, with the same resumable upload as self-reports -------------


def test_a_province_uploads_and_attaches_its_approval_document_and_evidence(
        world, personas, login, prov_report):
    client = login(personas["province"])
    approval = _upload(client, "省领导小组审定文件.pdf")
    response = client.post(url("provincial_attach", pk=prov_report.pk),
                           {"evidence": approval, "kind": "approval"})
    assert response.status_code == 302
    evidence = _upload(client, "脱贫攻坚任务完成情况证明.pdf")
    client.post(url("provincial_attach", pk=prov_report.pk),
                {"evidence": evidence, "kind": "evidence", "county": world["county_a"].pk})
    rows = {(a.kind, a.county_id, a.evidence.original_name)
            for a in prov_report.attachments.select_related("evidence")}
    assert rows == {("approval", None, "省领导小组审定文件.pdf"),
                    ("evidence", world["county_a"].pk, "脱贫攻坚任务完成情况证明.pdf")}
    assert AuditEntry.objects.filter(action="provincial_report.evidence_attached").count() == 2
    page = client.get(url("provincial_report", pk=prov_report.pk)).content.decode()
    assert "省领导小组审定文件.pdf" in page and "脱贫攻坚任务完成情况证明.pdf" in page
    assert "data-tus-endpoint" in page
    # The province removes one while the report is a draft.
    attachment = prov_report.attachments.get(kind="evidence")
    client.post(url("provincial_detach", pk=prov_report.pk, attachment_pk=attachment.pk))
    assert list(prov_report.attachments.values_list("kind", flat=True)) == ["approval"]


def test_another_province_cannot_attach_to_or_read_the_report(world, personas, login,
                                                              prov_report):
    own = _upload(login(personas["province"]))
    client = login(personas["province_b"])
    foreign = evidence_of(world, "province_b")
    assert client.post(url("provincial_attach", pk=prov_report.pk),
                       {"evidence": str(foreign.pk), "kind": "approval"}).status_code == 404
    assert client.get(reverse("evidence:download", kwargs={"pk": own})).status_code == 404
    # Nor may a province attach what another province uploaded (to its own report).
    own_report = services.provincial_report_for(round=world["round"],
                                                province=world["province_b"],
                                                unit=world["unit_b"])
    assert client.post(url("provincial_attach", pk=own_report.pk),
                       {"evidence": own, "kind": "approval"}).status_code == 404
    assert not ProvincialAttachment.objects.exists()


def test_a_unit_cannot_attach_its_evidence_to_a_provincial_report(world, personas, prov_report):
    unit_evidence = evidence_of(world, "unit_a")
    with pytest.raises(services.SubmissionError):
        services.provincial_attach(report=prov_report, actor=personas["province"],
                                   kind=ProvincialAttachmentKind.APPROVAL, county=None,
                                   evidence=unit_evidence)


def test_the_lead_department_of_the_unit_reads_the_evidence_once_submitted(
        world, personas, login, prov_report):
    province = personas["province"]
    approval = evidence_of(world, "province_a")
    services.provincial_attach(report=prov_report, actor=province,
                               kind=ProvincialAttachmentKind.APPROVAL, county=None,
                               evidence=approval)
    download = reverse("evidence:download", kwargs={"pk": approval.pk})
    # A draft is the province's own: no reviewer sees it yet.
    assert login(personas["lead_reviewer"]).get(download).status_code == 404
    services.provincial_report_submit(report=_fill(prov_report, province), actor=province,
                                      revision=prov_report.revision)
    for persona, status in [("lead_reviewer", 200), ("office", 200), ("working_group", 200),
                            ("leading_group", 200), ("province", 200),
                            ("lead_reviewer_b", 404), ("province_b", 404), ("unit", 404),
                            ("org_department", 404)]:
        assert login(personas[persona]).get(download).status_code == status, persona
    desk = login(personas["lead_reviewer"]).get(
        reverse("reviews:desk", kwargs={"unit_pk": world["unit_a"].pk})).content.decode()
    assert approval.original_name in desk


def test_attaching_after_submission_is_refused(world, personas, prov_report):
    province = personas["province"]
    services.provincial_attach(report=prov_report, actor=province,
                               kind=ProvincialAttachmentKind.APPROVAL, county=None,
                               evidence=evidence_of(world, "province_a"))
    services.provincial_report_submit(report=_fill(prov_report, province), actor=province,
                                      revision=prov_report.revision)
    with pytest.raises(services.LockedError):
        services.provincial_attach(report=prov_report, actor=province,
                                   kind=ProvincialAttachmentKind.EVIDENCE, county=None,
                                   evidence=evidence_of(world, "province_a"))


def test_the_approval_document_names_no_county_and_evidence_only_the_reports_counties(
        world, personas, prov_report):
    province = personas["province"]
    with pytest.raises(services.SubmissionError):
        services.provincial_attach(report=prov_report, actor=province,
                                   kind=ProvincialAttachmentKind.APPROVAL,
                                   county=world["county_a"],
                                   evidence=evidence_of(world, "province_a"))
    with pytest.raises(services.SubmissionError):
        services.provincial_attach(report=prov_report, actor=province,
                                   kind=ProvincialAttachmentKind.EVIDENCE,
                                   county=world["county_b"],
                                   evidence=evidence_of(world, "province_a"))
    assert not prov_report.attachments.exists()


# Submission requires the approval document ------------------------------------------------


def test_submission_is_refused_without_the_approval_document(world, personas, login,
                                                             prov_report):
    province = personas["province"]
    _fill(prov_report, province)
    services.provincial_attach(report=prov_report, actor=province,
                               kind=ProvincialAttachmentKind.EVIDENCE, county=None,
                               evidence=evidence_of(world, "province_a"))
    prov_report.refresh_from_db()
    assert services.provincial_report_missing(prov_report) == ["省级扶贫开发领导小组审定文件"]
    response = login(province).post(url("provincial_submit", pk=prov_report.pk),
                                    {"revision": prov_report.revision})
    [message] = messages_of(response)
    assert "省级扶贫开发领导小组审定文件" in message
    prov_report.refresh_from_db()
    assert prov_report.status == ReportStatus.DRAFT

    services.provincial_attach(report=prov_report, actor=province,
                               kind=ProvincialAttachmentKind.APPROVAL, county=None,
                               evidence=evidence_of(world, "province_a"))
    prov_report.refresh_from_db()
    services.provincial_report_submit(report=prov_report, actor=province,
                                      revision=prov_report.revision)
    prov_report.refresh_from_db()
    assert prov_report.status == ReportStatus.SUBMITTED
    kinds = sorted(e["kind"] for e in prov_report.versions.get().content["attachments"])
    assert kinds == ["approval", "evidence"]


# Indicator 2: deep-poverty support, per county ---------------------------------------------


def _indicator_2(round_):
    return round_.indicators.get(source=Source.COUNTY, deep_poverty_only=True)


def test_indicator_2_is_asked_only_for_deep_poverty_counties(world, personas, login,
                                                             deep_report, deep_county):
    page = login(personas["province_b"]).get(
        url("provincial_report", pk=deep_report.pk)).content.decode()
    indicator = _indicator_2(world["round"])
    assert indicator.number == 2 and indicator.name in page  # the label comes from the data
    assert f'name="c{deep_county.pk}-deep_funds"' in page
    assert f'name="c{world["county_b"].pk}-deep_funds"' not in page


def test_indicator_2_data_is_saved_for_a_deep_poverty_county(world, personas, login,
                                                             deep_report, deep_county):
    client = login(personas["province_b"])
    data = {"revision": deep_report.revision, f"c{deep_county.pk}-deep_funds": "1250.50",
            f"c{deep_county.pk}-deep_projects": "12", f"c{deep_county.pk}-deep_cadres": "3",
            f"c{deep_county.pk}-deep_support": "援建产业项目"}
    response = client.post(url("provincial_save", pk=deep_report.pk), data)
    assert messages_of(response) == ["已保存。"]
    outcome = deep_report.outcomes.get(county=deep_county)
    assert (outcome.deep_funds, outcome.deep_projects, outcome.deep_cadres,
            outcome.deep_support) == (Decimal("1250.50"), 12, 3, "援建产业项目")
    # Shown to the lead department of the unit once the report is submitted.
    ProvincialReport.objects.filter(pk=deep_report.pk).update(status=ReportStatus.SUBMITTED)
    desk = login(personas["lead_reviewer"]).get(
        reverse("reviews:desk", kwargs={"unit_pk": world["unit_a"].pk})).content.decode()
    assert "援建产业项目" in desk and "1250.50" in desk


@pytest.mark.parametrize("field, value", [
    ("deep_funds", "-5"), ("deep_funds", "99999999999"), ("deep_projects", "-1"),
    ("deep_projects", "5000000"), ("deep_cadres", "100000"),
])
def test_negative_or_absurd_indicator_2_numbers_are_refused_naming_county_and_field(
        world, personas, login, deep_report, deep_county, field, value):
    client = login(personas["province_b"])
    response = client.post(url("provincial_save", pk=deep_report.pk),
                           {"revision": deep_report.revision, f"c{deep_county.pk}-{field}": value,
                            f"c{deep_county.pk}-deep_support": "说明"})
    [message] = messages_of(response)
    label = str(deep_report.outcomes.model._meta.get_field(field).verbose_name)
    assert deep_county.name in message and label in message
    outcome = deep_report.outcomes.get(county=deep_county)
    assert getattr(outcome, field) is None and outcome.deep_support == ""


@pytest.mark.parametrize("field, value", [("deep_funds", Decimal("-1")),
                                          ("deep_projects", 10**9)])
def test_the_service_refuses_bad_indicator_2_numbers_on_every_path(world, personas,
                                                                   deep_report, deep_county,
                                                                   field, value):
    with pytest.raises(services.SubmissionError) as refused:
        services.provincial_report_save(report=deep_report, actor=personas["province_b"],
                                        revision=deep_report.revision, fields={},
                                        outcomes={deep_county.pk: {field: value}})
    assert deep_county.name in str(refused.value)
    assert getattr(deep_report.outcomes.get(county=deep_county), field) is None


def test_indicator_2_data_is_refused_for_a_county_that_is_not_deep_poverty(world, personas,
                                                                           deep_report):
    with pytest.raises(services.SubmissionError) as refused:
        services.provincial_report_save(report=deep_report, actor=personas["province_b"],
                                        revision=deep_report.revision, fields={},
                                        outcomes={world["county_b"].pk: {"deep_projects": 3}})
    assert world["county_b"].name in str(refused.value)


def test_a_deep_poverty_county_needs_its_indicator_2_description_before_submission(
        world, personas, deep_report, deep_county):
    deep_report.refresh_from_db()
    missing = services.provincial_report_missing(deep_report)
    assert any(deep_county.name in m and "指标2" in m for m in missing)
    assert not any(world["county_b"].name in m and "指标2" in m for m in missing)


# The report as a document in the province's name --------------------------------------------


def test_the_report_is_a_document_in_the_provinces_name(world, personas, login, deep_report,
                                                        deep_county):
    province = personas["province_b"]
    _fill(deep_report, province)
    deep_report.refresh_from_db()
    services.provincial_report_save(
        report=deep_report, actor=province, revision=deep_report.revision, fields={},
        outcomes={deep_county.pk: {"deep_funds": Decimal("800"), "deep_projects": 4}})
    services.provincial_attach(report=deep_report, actor=province,
                               kind=ProvincialAttachmentKind.APPROVAL, county=None,
                               evidence=evidence_of(world, "province_b"))
    client = login(province)
    response = client.get(reverse("documents:make", kwargs={
        "identifier": "provincial_report", "key": deep_report.pk, "fmt": "docx"}))
    assert response.status_code == 200
    document = Document(io.BytesIO(b"".join(response.streaming_content)
                                   if response.streaming else response.content))
    text = "\n".join([p.text for p in document.paragraphs]
                     + [c.text for t in document.tables for r in t.rows for c in r.cells])
    province_name = world["province_b"].name
    assert province_name in text and world["unit_a"].name in text
    assert deep_county.name in text and "800" in text
    assert "审定文件" in text and "现场照片.png" in text
    # Marked with the maker and audited.
    header = "\n".join(p.text for s in document.sections for p in s.header.paragraphs)
    assert province.username in header
    entry = AuditEntry.objects.filter(action="document.export").latest("pk")
    assert entry.data["document"] == "provincial_report"
    doc = get_exporter("provincial_report").build(deep_report, None)
    assert doc.issuer == province_name
    _export, pdf = documents.export_now(province, get_exporter("provincial_report"),
                                        deep_report, "pdf", round_=world["round"])
    assert pdf.data.startswith(b"%PDF")


@pytest.mark.parametrize("persona, status", [
    ("province", 404), ("lead_reviewer_b", 404), ("unit", 404), ("org_department", 404),
    ("lead_reviewer", 200), ("office", 200), ("province_b", 200),
])
def test_the_document_is_scoped_like_the_report(world, personas, login, deep_report, persona,
                                                status):
    ProvincialReport.objects.filter(pk=deep_report.pk).update(status=ReportStatus.SUBMITTED)
    response = login(personas[persona]).get(reverse("documents:make", kwargs={
        "identifier": "provincial_report", "key": deep_report.pk, "fmt": "pdf"}))
    assert response.status_code == status
