"""The full rectification cycle (issue 17, item 8): deadline and extensions, the closed form
that says why, resubmission after 整改不到位 with its history, evidence files, the 整改报告
document, the tracker and the reminders."""

import datetime
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from docx import Document
from openpyxl import load_workbook
from pypdf import PdfReader

from kaohe.audit.models import AuditEntry
from kaohe.directory.models import Category, Unit
from kaohe.documents import services as documents
from kaohe.documents.base import get_exporter
from kaohe.outcomes import services
from kaohe.outcomes.models import (
    EventKind,
    ItemStatus,
    RectificationAttachment,
    RectificationEvent,
    RectificationReport,
)
from kaohe.submissions.models import Extension
from tests.documents.conftest import released  # noqa: F401 - a fixture used here
from tests.evidence.factories import (
    encode_metadata,
    evidence_file,
    png_bytes,
    tus_create,
    tus_patch,
    upload_id,
    use_data_dir,
)
from tests.outcomes.test_outcomes import approved  # noqa: F401 - a fixture used here


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    # Autouse fixtures come first: results are reviewed and released within their steps.
    settings.KAOHE_TODAY = "2018-01-10"
    return use_data_dir(settings, tmp_path / "data")


@pytest.fixture
def report_b(released, world):  # noqa: F811
    return services.rectification_for(round=world["round"], unit=world["unit_b"])


def _fill(report, status="done"):
    data = {"summary": "整改总结"}
    for item in report.items.all():
        data[f"measures-{item.pk}"] = f"措施{item.order}"
        data[f"status-{item.pk}"] = status
    return data


def _submit(client, personas, report):
    client.force_login(personas["unit_b"])
    response = client.post(reverse("outcomes:my_rectification_save"),
                           {**_fill(report), "submit": "1"})
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.submitted_at is not None


# 1. Deadline and extensions --------------------------------------------------------------


def test_the_office_extends_the_deadline_from_the_tracker_and_it_is_audited(
    report_b, personas, world, client, settings
):
    settings.KAOHE_TODAY = "2018-04-02"
    unit = world["unit_b"]
    url = reverse("outcomes:rectification_extend", args=[unit.pk])
    # A hand-made POST by anyone but the office changes nothing and answers 404.
    for persona in ("lead_reviewer_b", "unit_b", "working_group", "leading_group"):
        client.force_login(personas[persona])
        assert client.post(url, {"until": "2018-04-30", "reason": "x"}).status_code == 404
    assert not Extension.objects.exists()
    # The office's form: bad input is refused with a message, nothing is granted.
    client.force_login(personas["office"])
    page = client.get(reverse("outcomes:rectification_list")).content.decode()
    assert url in page  # the form is on the tracker
    response = client.post(url, {"until": "2018-03-20", "reason": "材料未齐"}, follow=True)
    assert "延期日期" in response.content.decode()
    response = client.post(url, {"until": "2018-04-30", "reason": " "}, follow=True)
    assert "延期原因" in response.content.decode()
    assert not Extension.objects.exists()
    client.post(url, {"until": "2018-04-30", "reason": "单位机构调整"})
    extension = Extension.objects.get()
    assert (extension.unit, extension.step.code, str(extension.until)) == (
        unit, "rectification", "2018-04-30")
    assert AuditEntry.objects.filter(action="deadline.extended").count() == 1
    # The tracker shows the extended deadline (a date read as the database gives it).
    page = client.get(reverse("outcomes:rectification_list")).content.decode()
    assert "2018-04-30" in page
    event = RectificationEvent.objects.get(kind=EventKind.EXTENDED)
    assert (event.actor, event.comment) == (personas["office"], "单位机构调整")
    # The unit's form is open again, and says until when and why.
    client.force_login(personas["unit_b"])
    page = client.get(reverse("outcomes:my_result")).content.decode()
    assert "2018年4月30日" in page and "单位机构调整" in page
    assert 'name="submit"' in page


def test_the_closed_form_says_why_and_until_when(report_b, personas, world, client,
                                                 settings):
    client.force_login(personas["unit_b"])
    settings.KAOHE_TODAY = "2018-03-20"
    page = client.get(reverse("outcomes:my_result")).content.decode()
    assert 'name="submit"' in page and "表单已关闭" not in page
    settings.KAOHE_TODAY = "2018-04-01"
    page = client.get(reverse("outcomes:my_result")).content.decode()
    assert 'name="submit"' not in page
    assert "2018年3月31日" in page and "表单已关闭" in page and "延期" in page
    # An extension that has run out is named with its date and reason.
    services.rectification_extend(round=world["round"], unit=world["unit_b"],
                                  actor=personas["office"],
                                  until=datetime.date(2018, 4, 10),
                                  reason="补充材料")
    settings.KAOHE_TODAY = "2018-04-11"
    page = client.get(reverse("outcomes:my_result")).content.decode()
    assert "2018年4月10日" in page and "补充材料" in page and "表单已关闭" in page


def test_a_submitted_report_says_it_is_waiting_for_review(report_b, personas, client,
                                                          settings):
    settings.KAOHE_TODAY = "2018-03-20"
    _submit(client, personas, report_b)
    page = client.get(reverse("outcomes:my_result")).content.decode()
    assert "等待审核" in page and 'name="submit"' not in page


# 2. Resubmission after 整改不到位, with the history ----------------------------------------


def test_after_not_accepted_the_unit_revises_and_resubmits_and_the_history_is_kept(
    report_b, personas, world, client, settings
):
    settings.KAOHE_TODAY = "2018-03-20"
    _submit(client, personas, report_b)
    first, second, _third = report_b.items.all()
    client.force_login(personas["lead_reviewer_b"])
    detail = reverse("outcomes:rectification_detail", args=[world["unit_b"].pk])
    client.post(reverse("outcomes:item_review", args=[world["unit_b"].pk, first.pk]),
                {"accepted": "0", "note": "资金仍未到位"})
    client.post(reverse("outcomes:item_review", args=[world["unit_b"].pk, second.pk]),
                {"accepted": "1", "note": "已核实"})
    first.refresh_from_db()
    assert first.status == ItemStatus.NOT_ACCEPTED and first.needs_revision
    # Well after the deadline: the unit can still answer the rejection.
    settings.KAOHE_TODAY = "2018-05-10"
    client.force_login(personas["unit_b"])
    page = client.get(reverse("outcomes:my_result")).content.decode()
    assert "资金仍未到位" in page and "重新报送" in page
    assert f'name="measures-{first.pk}"' in page
    assert f'name="measures-{second.pk}"' not in page  # accepted items stay locked
    # Changing an accepted item by hand is refused and changes nothing.
    with pytest.raises(services.OutcomeError, match="不能修改"):
        services.rectification_save(report=report_b, actor=personas["unit_b"], summary="x",
                                    items={second.pk: {"measures": "改", "status": "done"}})
    # The answer can carry new files, through the same resumable upload, after the deadline.
    created, _last = _upload(client, png_bytes(), "拨付到县凭证.png")
    assert _attach(client, report_b, first, upload_id(created["Location"])).status_code == 302
    assert [a.evidence.original_name for a in first.attachments.all()] == ["拨付到县凭证.png"]
    response = client.post(reverse("outcomes:my_rectification_save"), {
        "summary": "整改总结（补充）", f"measures-{first.pk}": "资金已全部拨付到县",
        f"status-{first.pk}": "done", "submit": "1"}, follow=True)
    assert "重新报送" in response.content.decode()
    report_b.refresh_from_db()
    first.refresh_from_db()
    second.refresh_from_db()
    assert report_b.submission_count == 2 and report_b.last_submitted_at > report_b.submitted_at
    assert (first.measures, first.status, first.needs_revision) == ("资金已全部拨付到县",
                                                                     "done", False)
    assert second.measures == "措施2" and second.status == "done"
    # The reviewer now accepts the revised item.
    client.force_login(personas["lead_reviewer_b"])
    client.post(reverse("outcomes:item_review", args=[world["unit_b"].pk, first.pk]),
                {"accepted": "1", "note": ""})
    kinds = list(RectificationEvent.objects.filter(report=report_b).values_list(
        "kind", "actor__username", "comment"))
    assert kinds == [
        ("submitted", "unit_b", ""), ("not_accepted", "lead_b", "资金仍未到位"),
        ("accepted", "lead_b", "已核实"), ("resubmitted", "unit_b", ""),
        ("accepted", "lead_b", ""),
    ]
    snapshot = RectificationEvent.objects.get(kind="resubmitted").data
    assert snapshot["items"][0]["measures"] == "资金已全部拨付到县"
    assert snapshot["items"][0]["files"] == ["拨付到县凭证.png"]
    # Both sides see the history: who, when, what, why.
    page = client.get(detail).content.decode()
    assert "处理记录" in page and "资金仍未到位" in page and "重新报送" in page
    assert page.count("认定已完成") >= 2
    client.force_login(personas["unit_b"])
    page = client.get(reverse("outcomes:my_result")).content.decode()
    assert "处理记录" in page and "资金仍未到位" in page and "lead_b" in page


def test_an_item_is_reviewed_only_on_a_submitted_report_and_not_while_in_revision(
    report_b, personas, client, settings
):
    settings.KAOHE_TODAY = "2018-03-20"
    item = report_b.items.first()
    with pytest.raises(services.OutcomeError, match="尚未报送"):
        services.item_review(item=item, actor=personas["lead_reviewer_b"], accepted=True,
                             note="")
    _submit(client, personas, report_b)
    services.item_review(item=item, actor=personas["lead_reviewer_b"], accepted=False,
                         note="不到位")
    with pytest.raises(services.OutcomeError, match="重新报送"):
        services.item_review(item=item, actor=personas["lead_reviewer_b"], accepted=True,
                             note="")


# 3. Evidence files -----------------------------------------------------------------------


def _upload(client, data, name):
    """A resumable upload marked as rectification evidence (as the page's input does)."""
    created = tus_create(client, name=name, length=len(data), **{
        "Upload-Metadata": encode_metadata({"filename": name, "step": "rectification"})})
    assert created.status_code == 201, created.content.decode()
    last = None
    for offset in range(0, len(data), 100):
        last = tus_patch(client, created["Location"], data[offset:offset + 100], offset)
    return created, last


def _attach(client, report, item, evidence_pk):
    return client.post(reverse("outcomes:my_rectification_attach"), {
        **_fill(report, status="in_progress"), "item": item.pk, "evidence": str(evidence_pk)})


def test_evidence_files_go_through_the_resumable_upload_and_are_attached_to_an_item(
    report_b, personas, world, client, settings
):
    settings.KAOHE_TODAY = "2018-03-20"
    client.force_login(personas["unit_b"])
    page = client.get(reverse("outcomes:my_result")).content.decode()
    assert reverse("evidence:uploads") in page and "kaohe/upload.js" in page
    assert 'data-tus-step="rectification"' in page
    created, last = _upload(client, png_bytes(), "拨付凭证.png")
    assert last.status_code == 204
    evidence_pk = upload_id(created["Location"])
    item = report_b.items.first()
    assert _attach(client, report_b, item, evidence_pk).status_code == 302
    attachment = RectificationAttachment.objects.get()
    assert (attachment.item, attachment.report, str(attachment.evidence_id)) == (
        item, report_b, str(evidence_pk))
    item.refresh_from_db()
    assert item.measures == "措施1"  # the texts typed so far were saved with it
    assert AuditEntry.objects.filter(action="outcomes.rectification.evidence_attached").exists()
    page = client.get(reverse("outcomes:my_result")).content.decode()
    assert "拨付凭证.png" in page
    # Another unit's evidence cannot be attached (404), nor can anything after submission.
    other = evidence_file(round=world["round"], uploaded_by=personas["unit"],
                          unit=world["unit_a"])
    assert _attach(client, report_b, item, other.pk).status_code == 404
    # Detach, then attach again and submit: the submission's snapshot names the file.
    client.post(reverse("outcomes:my_rectification_detach", args=[attachment.pk]),
                _fill(report_b))
    assert not RectificationAttachment.objects.exists()
    _attach(client, report_b, item, evidence_pk)
    _submit(client, personas, report_b)
    snapshot = RectificationEvent.objects.get(kind="submitted").data
    assert snapshot["items"][0]["files"] == ["拨付凭证.png"]
    response = _attach(client, report_b, report_b.items.last(), evidence_pk)
    assert response.status_code == 302 and RectificationAttachment.objects.count() == 1
    assert "已报送" in client.get(reverse("outcomes:my_result")).content.decode()


def test_a_file_uploaded_before_the_first_save_creates_the_report_with_it(
    released, personas, world, client, settings  # noqa: F811
):
    """The page of a unit that never saved names its items by order; the upload's attach
    creates the report, saves the texts typed so far and attaches the file to that item."""
    settings.KAOHE_TODAY = "2018-03-20"
    client.force_login(personas["unit_b"])
    page = client.get(reverse("outcomes:my_result")).content.decode()
    assert 'data-item="new2"' in page
    assert not RectificationReport.objects.filter(unit=world["unit_b"]).exists()
    created, _last = _upload(client, png_bytes(), "选派文件.png")
    letter = re.search(r'name="letter" value="(\d+)"', page)[1]
    response = client.post(reverse("outcomes:my_rectification_attach"), {
        "letter": letter, "summary": "", "measures-new2": "增派干部", "item": "new2",
        "evidence": str(upload_id(created["Location"]))})
    assert response.status_code == 302
    report = RectificationReport.objects.get(unit=world["unit_b"])
    item = report.items.get(order=2)
    assert response["Location"].endswith(f"#item-{item.pk}")
    assert (item.text, item.measures) == ("干部选派不足", "增派干部")
    assert RectificationAttachment.objects.get().item == item


def test_rectification_uploads_follow_the_forms_rule(report_b, personas, client, settings):
    client.force_login(personas["unit_b"])
    settings.KAOHE_TODAY = "2018-04-01"  # past the deadline, nothing sent back
    created = tus_create(client, name="a.png", length=10, **{
        "Upload-Metadata": encode_metadata({"filename": "a.png", "step": "rectification"})})
    assert created.status_code == 400 and "截止" in created.content.decode()
    settings.KAOHE_TODAY = "2018-03-20"
    _submit(client, personas, report_b)  # submitted, nothing sent back
    created = tus_create(client, name="a.png", length=10, **{
        "Upload-Metadata": encode_metadata({"filename": "a.png", "step": "rectification"})})
    assert created.status_code == 400 and "已报送" in created.content.decode()


@pytest.mark.parametrize("persona,status", [
    ("unit_b", 200), ("office", 200), ("working_group", 200), ("leading_group", 200),
    ("lead_reviewer_b", 200), ("lead_reviewer", 404), ("unit", 404), ("province", 404),
    ("province_b", 404), ("org_department", 404), ("military_inspector", 404),
    ("auditor", 404), ("system_admin", 404),
])
def test_rectification_files_are_reachable_only_within_scope(
    report_b, personas, world, client, settings, tmp_path, persona, status
):
    settings.KAOHE_TODAY = "2018-03-20"
    evidence = evidence_file(round=world["round"], uploaded_by=personas["unit_b"],
                             unit=world["unit_b"], name="整改照片.png")
    services.rectification_attach(report=report_b, item=report_b.items.first(),
                                  evidence=evidence, actor=personas["unit_b"])
    # Submitted: a draft's files are the unit's own (tests/outcomes/test_rectification_drafts.py).
    _submit(client, personas, report_b)
    client.force_login(personas[persona])
    assert client.get(reverse("evidence:download", args=[evidence.pk])).status_code == status
    if status == 200 and persona in ("office", "lead_reviewer_b"):
        page = client.get(reverse("outcomes:rectification_detail",
                                  args=[world["unit_b"].pk])).content.decode()
        assert "整改照片.png" in page


# 4. The 整改报告 document ------------------------------------------------------------------


def _text(data, fmt):
    if fmt == "docx":
        document = Document(io.BytesIO(data))
        return "\n".join([p.text for p in document.paragraphs]
                         + [c.text for t in document.tables for r in t.rows for c in r.cells])
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)


@pytest.mark.parametrize("fmt", ["docx", "pdf"])
def test_the_rectification_report_document_is_in_the_units_name(
    report_b, personas, world, client, settings, fmt
):
    settings.KAOHE_TODAY = "2018-03-20"
    _submit(client, personas, report_b)
    url = reverse("documents:make", args=["rectification_report", report_b.pk, fmt])
    response = client.get(url + "?year=2017")
    assert response.status_code == 200
    text = _text(response.content, fmt)
    assert "测试单位乙" in text and "整改" in text and "措施1" in text
    assert "帮扶资金到位慢" in text
    assert AuditEntry.objects.filter(action__startswith="document.",
                                     actor=personas["unit_b"]).exists()
    # Its lead department and the office may print it; another unit or lead department not.
    for persona, expected in (("office", 200), ("lead_reviewer_b", 200), ("unit", 404),
                              ("lead_reviewer", 404), ("province_b", 404)):
        client.force_login(personas[persona])
        assert client.get(url + "?year=2017").status_code == expected, persona


def test_the_unit_page_offers_the_document(report_b, personas, client, settings):
    settings.KAOHE_TODAY = "2018-03-20"
    client.force_login(personas["unit_b"])
    page = client.get(reverse("outcomes:my_result")).content.decode()
    assert reverse("documents:make", args=["rectification_report", report_b.pk, "docx"]) in page


def test_the_exporter_carries_the_mark(report_b, personas, settings):
    exporter = get_exporter("rectification_report")
    obj = exporter.get_object(personas["unit_b"], report_b.round, str(report_b.pk))
    _, rendered = documents.export_now(personas["unit_b"], exporter, obj, "docx",
                                       round_=report_b.round)
    props = Document(io.BytesIO(rendered.data)).core_properties
    assert "unit_b" in (props.last_modified_by or "") + (props.keywords or "")


# 5. The tracker --------------------------------------------------------------------------


def _states(client):
    response = client.get(reverse("outcomes:rectification_list"))
    return response.context["counts"], response


def test_the_tracker_counts_by_state_and_filters(report_b, personas, world, client,
                                                 settings):
    settings.KAOHE_TODAY = "2018-03-20"
    services.rectification_for(round=world["round"], unit=world["unit_a"])
    client.force_login(personas["office"])
    counts, _ = _states(client)
    assert counts["not_submitted"] == 2 and counts["overdue"] == 0
    _submit(client, personas, report_b)
    client.force_login(personas["office"])
    counts, _ = _states(client)
    assert (counts["not_submitted"], counts["submitted"]) == (1, 1)
    item = report_b.items.first()
    services.item_review(item=item, actor=personas["office"], accepted=False, note="不到位")
    counts, _ = _states(client)
    assert counts["not_accepted"] == 1
    settings.KAOHE_TODAY = "2018-04-05"
    counts, response = _states(client)
    assert counts["overdue"] == 1 and counts["not_accepted"] == 1
    # Filter by state, category and lead department.
    page = client.get(reverse("outcomes:rectification_list"), {"state": "overdue"})
    assert [r["unit"].code for r in page.context["rows"]] == ["A001"]
    assert "逾期未报" in page.content.decode()
    page = client.get(reverse("outcomes:rectification_list"),
                      {"category": world["unit_b"].category_id})
    assert [r["unit"].code for r in page.context["rows"]] == ["B001"]
    page = client.get(reverse("outcomes:rectification_list"), {"lead": world["lead_a"].pk})
    assert [r["unit"].code for r in page.context["rows"]] == ["A001"]
    page = client.get(reverse("outcomes:rectification_list"), {"state": "bogus"})
    assert page.status_code == 200 and len(page.context["rows"]) == 2
    # All items accepted: 整改到位.
    for it in report_b.items.all():
        it.status, it.needs_revision = ItemStatus.DONE, False
        it.reviewed_by = personas["office"]
        it.save()
    counts, response = _states(client)
    assert counts["accepted"] == 1
    # Each row's items by status, in the columns' order (ItemStatus).
    done = report_b.items.count()
    row = re.search(rf'<tr id="unit-{world["unit_b"].pk}".*?</tr>',
                    response.content.decode(), re.S).group(0)
    cells = [re.sub(r"<[^>]+>", "", cell).strip()
             for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
    assert cells[4:8] == ["", "", str(done), ""]
    # A lead department sees its own units only.
    client.force_login(personas["lead_reviewer_b"])
    counts, response = _states(client)
    assert [r["unit"].code for r in response.context["rows"]] == ["B001"]
    assert counts["overdue"] == 0


def test_the_tracker_export_has_the_states(report_b, personas, world, client, settings):
    settings.KAOHE_TODAY = "2018-04-05"
    client.force_login(personas["office"])
    page = client.get(reverse("outcomes:rectification_list")).content.decode()
    url = reverse("documents:make", args=["rectification_tracker", "2017", "xlsx"])
    assert url in page
    workbook = load_workbook(io.BytesIO(client.get(url + "?year=2017").content))
    summary = workbook["汇总"]
    rows = [list(row) for row in summary.values]
    assert rows[0][:4] == ["单位编码", "单位名称", "类别", "牵头部门"]
    states = {row[0]: row[4] for row in rows[1:]}
    assert states == {"A001": "逾期未报", "B001": "逾期未报"}


def test_the_tracker_takes_a_constant_number_of_queries(report_b, personas, world, client,
                                                        settings):
    settings.KAOHE_TODAY = "2018-04-05"
    client.force_login(personas["office"])
    _states(client)

    def measure():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("outcomes:rectification_list")).status_code == 200
        return len(queries)

    before = measure()
    category = Category.objects.get(code="enterprises")
    for n in range(12):
        unit = Unit.objects.create(code=f"E{n:03d}", name=f"测试企业{n}", category=category)
        report = RectificationReport.objects.create(round=world["round"], unit=unit)
        report.items.create(order=1, source="problem", text="问题")
        services.rectification_extend(round=world["round"], unit=unit,
                                      actor=personas["office"],
                                      until=datetime.date(2018, 4, 30),
                                      reason="延期")
    after = measure()
    assert after == before, (before, after)
    assert re.search(r"2018-04-30", client.get(reverse("outcomes:rectification_list"))
                     .content.decode())


# 6. Reminders ----------------------------------------------------------------------------


def test_units_are_reminded_of_the_rectification_due(report_b, personas, world, settings):
    from kaohe.submissions.reminders import reminder_for

    settings.KAOHE_TODAY = "2018-03-25"
    reminder = reminder_for(personas["unit_b"], world["round"])
    assert reminder is not None and "整改报告" in reminder.message
    assert "2018年3月31日" in reminder.message
    settings.KAOHE_TODAY = "2018-03-01"
    assert reminder_for(personas["unit_b"], world["round"]) is None  # more than 14 days left


def test_the_remind_command_mails_the_rectification_due(report_b, personas, world, settings,
                                                        mailoutbox,
                                                        django_capture_on_commit_callbacks):
    from kaohe.notifications.reminders import send_deadline_reminders

    personas["unit_b"].email = "unit_b@example.org"
    personas["unit_b"].save()
    settings.KAOHE_TODAY = "2018-04-02"
    with django_capture_on_commit_callbacks(execute=True):
        assert send_deadline_reminders() >= 1
    mail = [m for m in mailoutbox if m.to == ["unit_b@example.org"]]
    assert len(mail) == 1 and "整改报告已于2018年3月31日截止" in mail[0].body
