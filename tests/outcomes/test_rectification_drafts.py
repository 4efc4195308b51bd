"""A rectification report is the unit's own until it submits it: the office, the lead
departments and the leading group read that nothing has been submitted, never the draft's
summary, measures, statuses or files, on the tracker, the report's page, the tracker's
workbook, the 整改报告 document or the unit's history. Once submitted they read it all.
And a correction that removes items of a draft keeps a record of the files attached there."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from kaohe.audit.models import AuditEntry
from kaohe.evidence.models import Evidence
from kaohe.evidence.services import evidence_file_open
from kaohe.outcomes import services
from kaohe.outcomes.models import RectificationAttachment
from kaohe.outcomes.selectors import rectification_reports_visible_to, unit_history
from tests.documents.conftest import released  # noqa: F401 - a fixture used here
from tests.evidence.factories import evidence_file, use_data_dir
from tests.outcomes.test_corrections import _correct_b_to_average
from tests.outcomes.test_outcomes import approved  # noqa: F401 - a fixture used here

SUMMARY, MEASURES, FILE = "草稿总体说明甲乙丙", "草稿整改措施丁戊己", "草稿佐证照片.png"
READERS = ("office", "lead_reviewer_b", "leading_group")
TRACKERS = ("office", "lead_reviewer_b")  # those who also export the tracker


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.KAOHE_TODAY = "2018-01-10"
    return use_data_dir(settings, tmp_path / "data")


@pytest.fixture
def draft(released, personas, world, settings):  # noqa: F811
    """unit_b's report saved with a summary, measures and a file, not submitted."""
    settings.KAOHE_TODAY = "2018-03-20"
    report = services.rectification_for(round=world["round"], unit=world["unit_b"])
    services.rectification_save(
        report=report, actor=personas["unit_b"], summary=SUMMARY,
        items={i.pk: {"measures": f"{MEASURES}{i.order}", "status": "done"}
               for i in report.items.all()})
    evidence = evidence_file(round=world["round"], uploaded_by=personas["unit_b"],
                             unit=world["unit_b"], name=FILE)
    services.rectification_attach(report=report, item=report.items.first(),
                                  evidence=evidence, actor=personas["unit_b"])
    return report


def _pages(client, world):
    detail = client.get(reverse("outcomes:rectification_detail", args=[world["unit_b"].pk]))
    tracker = client.get(reverse("outcomes:rectification_list"))
    assert (detail.status_code, tracker.status_code) == (200, 200)
    return detail.content.decode(), tracker.content.decode()


def _tracker_workbook(client) -> str:
    url = reverse("documents:make", args=["rectification_tracker", "2017", "xlsx"])
    response = client.get(url + "?year=2017")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content))
    return "\n".join(str(v) for sheet in workbook.worksheets
                     for row in sheet.iter_rows(values_only=True) for v in row if v is not None)


@pytest.mark.parametrize("persona", READERS)
def test_others_read_that_nothing_was_submitted_never_the_draft(draft, personas, world,
                                                                 client, persona):
    client.force_login(personas[persona])
    detail, tracker = _pages(client, world)
    for text in (SUMMARY, MEASURES, FILE):
        assert text not in detail and text not in tracker, text
    assert "尚未报送" in detail
    evidence = draft.attachments.get().evidence
    assert reverse("evidence:download", args=[evidence.pk]) not in detail
    response = client.get(reverse("outcomes:rectification_list"))
    [row] = [r for r in response.context["rows"] if r["unit"] == world["unit_b"]]
    assert row["report"] is None and row["state_label"] == "未报送"
    assert sum(row["counts_in_order"]) == 0  # the draft's statuses are not counted
    # The 整改报告 of the draft is not there to print.
    document = reverse("documents:make", args=["rectification_report", draft.pk, "docx"])
    assert client.get(document + "?year=2017").status_code == 404
    assert not rectification_reports_visible_to(personas[persona], world["round"]).exists()


@pytest.mark.parametrize("persona", TRACKERS)
def test_the_tracker_workbook_holds_no_draft(draft, personas, client, persona):
    client.force_login(personas[persona])
    text = _tracker_workbook(client)
    for hidden in (SUMMARY, MEASURES, FILE):
        assert hidden not in text, hidden
    assert "尚未报送整改报告" in text


@pytest.mark.parametrize("persona", READERS)
def test_once_submitted_they_read_it_all(draft, personas, world, client, persona):
    services.rectification_submit(report=draft, actor=personas["unit_b"])
    client.force_login(personas[persona])
    detail, tracker = _pages(client, world)
    assert SUMMARY in detail and f"{MEASURES}1" in detail and FILE in detail
    evidence = draft.attachments.get().evidence
    assert client.get(reverse("evidence:download", args=[evidence.pk])).status_code == 200
    assert reverse("outcomes:rectification_detail", args=[world["unit_b"].pk]) in tracker
    if persona in TRACKERS:
        text = _tracker_workbook(client)
        assert f"{MEASURES}1" in text and FILE in text
        document = reverse("documents:make", args=["rectification_report", draft.pk, "docx"])
        assert client.get(document + "?year=2017").status_code == 200


def test_the_unit_reads_its_own_draft(draft, personas, world, client):
    client.force_login(personas["unit_b"])
    page = client.get(reverse("outcomes:my_result")).content.decode()
    assert SUMMARY in page and f"{MEASURES}1" in page and FILE in page
    evidence = draft.attachments.get().evidence
    assert client.get(reverse("evidence:download", args=[evidence.pk])).status_code == 200
    document = reverse("documents:make", args=["rectification_report", draft.pk, "docx"])
    assert client.get(document + "?year=2017").status_code == 200
    assert list(rectification_reports_visible_to(personas["unit_b"], world["round"])) == [draft]


@pytest.mark.parametrize("persona", ["unit", "lead_reviewer", "province"])
def test_a_foreign_unit_or_lead_department_gets_404(draft, personas, world, client, persona):
    services.rectification_submit(report=draft, actor=personas["unit_b"])
    client.force_login(personas[persona])
    detail = reverse("outcomes:rectification_detail", args=[world["unit_b"].pk])
    assert client.get(detail).status_code == 404
    document = reverse("documents:make", args=["rectification_report", draft.pk, "docx"])
    assert client.get(document + "?year=2017").status_code == 404
    evidence = draft.attachments.get().evidence
    assert client.get(reverse("evidence:download", args=[evidence.pk])).status_code == 404
    assert not rectification_reports_visible_to(personas[persona], world["round"]).exists()


def test_the_units_history_lists_open_items_once_submitted(draft, personas, world):
    services.rectification_save(report=draft, actor=personas["unit_b"], summary=SUMMARY,
                                items={i.pk: {"status": "in_progress"}
                                       for i in draft.items.all()})
    assert not unit_history(world["unit_b"], None)["open_items"]
    services.rectification_submit(report=draft, actor=personas["unit_b"])
    assert len(unit_history(world["unit_b"], None)["open_items"]) == draft.items.count()


@pytest.mark.parametrize("persona", TRACKERS)
def test_a_draft_item_does_not_exist_for_a_reviewer(draft, personas, world, client, persona):
    """Not even a refusal that tells the draft is there: 404, and nothing recorded."""
    item = draft.items.first()
    client.force_login(personas[persona])
    url = reverse("outcomes:item_review", args=[world["unit_b"].pk, item.pk])
    assert client.post(url, {"accepted": "1"}).status_code == 404
    item.refresh_from_db()
    assert item.reviewed_by is None


@pytest.mark.parametrize("persona", TRACKERS)
def test_others_cannot_download_a_file_attached_only_to_a_draft(draft, personas, client,
                                                                 persona):
    evidence = draft.attachments.get().evidence
    client.force_login(personas[persona])
    assert client.get(reverse("evidence:download", args=[evidence.pk])).status_code == 404


@pytest.mark.parametrize("persona", READERS)
def test_a_file_detached_from_a_draft_stays_the_units_own(draft, personas, client, persona):
    """Detached before submission it is attached to nothing: never handed over, so no
    other reader downloads it by its id (the unit still does)."""
    attachment = draft.attachments.get()
    services.rectification_detach(report=draft, attachment=attachment,
                                  actor=personas["unit_b"])
    url = reverse("evidence:download", args=[attachment.evidence_id])
    client.force_login(personas[persona])
    assert client.get(url).status_code == 404
    client.force_login(personas["unit_b"])
    assert client.get(url).status_code == 200


# A correction that removes items of a draft ---------------------------------------------


def test_a_correction_keeps_a_record_of_the_files_of_the_items_it_removes(
        draft, personas, world, approved):  # noqa: F811
    removed = draft.items.get(text="干部选派不足")
    kept = draft.attachments.get()
    evidence = evidence_file(round=world["round"], uploaded_by=personas["unit_b"],
                             unit=world["unit_b"], name="选派文件.png",
                             data=b"%PDF-1.4 not really")
    services.rectification_attach(report=draft, item=removed, evidence=evidence,
                                  actor=personas["unit_b"])
    _correct_b_to_average(approved, personas, world, problems="帮扶资金到位慢\n驻村干部轮换频繁")
    assert not draft.items.filter(pk=removed.pk).exists()
    # The attachment of the kept item stays; the removed item's is recorded in the audit.
    assert list(RectificationAttachment.objects.all()) == [kept]
    entry = AuditEntry.objects.get(action="outcomes.rectification.followed_correction")
    [gone] = entry.data["removed"]
    assert gone["text"] == "干部选派不足" and gone["measures"] == f"{MEASURES}{removed.order}"
    assert gone["files"] == [{"evidence": str(evidence.pk), "name": "选派文件.png",
                              "size": evidence.size, "sha256": evidence.sha256}]
    assert evidence.size > 0 and len(evidence.sha256) == 64
    # The file itself is still the unit's evidence, stored and readable.
    with evidence_file_open(Evidence.objects.get(pk=evidence.pk)) as stored:
        assert stored.size == evidence.size


def test_a_removed_item_without_files_records_none(draft, personas, world, approved):  # noqa: F811
    RectificationAttachment.objects.all().delete()
    _correct_b_to_average(approved, personas, world, problems="帮扶资金到位慢")
    entry = AuditEntry.objects.get(action="outcomes.rectification.followed_correction")
    assert [(g["text"], g["files"]) for g in entry.data["removed"]] == [("干部选派不足", [])]


# A report sent back (整改不到位): the revision is the unit's until it submits again ---------

REVISED, REVISED_FILE = "修改后的整改措施庚辛壬", "修改后佐证材料.png"


@pytest.fixture
def sent_back(draft, personas, world):
    """unit_b's report submitted, its first item sent back by the office, then revised by
    the unit (new measures, a new file) but not submitted again."""
    services.rectification_submit(report=draft, actor=personas["unit_b"])
    item = draft.items.order_by("order").first()
    services.item_review(item=item, actor=personas["office"], accepted=False, note="措施不具体")
    draft.refresh_from_db()
    services.rectification_save(report=draft, actor=personas["unit_b"], summary=draft.summary,
                                items={item.pk: {"measures": REVISED, "status": "in_progress"}})
    evidence = evidence_file(round=world["round"], uploaded_by=personas["unit_b"],
                             unit=world["unit_b"], name=REVISED_FILE)
    services.rectification_attach(report=draft, item=item, evidence=evidence,
                                  actor=personas["unit_b"])
    return draft, item, evidence


@pytest.mark.parametrize("persona", READERS)
def test_others_read_a_sent_back_item_as_last_submitted(sent_back, personas, world, client,
                                                         persona):
    report, _item, revised_file = sent_back
    client.force_login(personas[persona])
    detail, _tracker = _pages(client, world)
    assert REVISED not in detail and REVISED_FILE not in detail
    assert f"{MEASURES}1" in detail and FILE in detail  # what was submitted
    assert client.get(reverse("evidence:download",
                              args=[revised_file.pk])).status_code == 404
    first_file = report.attachments.exclude(evidence=revised_file).get().evidence
    assert client.get(reverse("evidence:download", args=[first_file.pk])).status_code == 200
    if persona in TRACKERS:
        text = _tracker_workbook(client)
        assert REVISED not in text and REVISED_FILE not in text and f"{MEASURES}1" in text
        document = reverse("documents:make", args=["rectification_report", report.pk, "docx"])
        response = client.get(document + "?year=2017")
        assert response.status_code == 200
        from docx import Document

        body = "\n".join(p.text for p in Document(io.BytesIO(response.content)).paragraphs)
        assert REVISED not in body and f"{MEASURES}1" in body


def test_the_unit_reads_its_revision_and_submits_it(sent_back, personas, world, client):
    report, item, revised_file = sent_back
    client.force_login(personas["unit_b"])
    page = client.get(reverse("outcomes:my_result")).content.decode()
    assert REVISED in page and REVISED_FILE in page
    assert client.get(reverse("evidence:download", args=[revised_file.pk])).status_code == 200
    services.rectification_save(report=report, actor=personas["unit_b"], summary=report.summary,
                                items={item.pk: {"measures": REVISED, "status": "done"}})
    services.rectification_submit(report=report, actor=personas["unit_b"])
    client.force_login(personas["lead_reviewer_b"])
    detail, _tracker = _pages(client, world)
    assert REVISED in detail and REVISED_FILE in detail
    assert client.get(reverse("evidence:download", args=[revised_file.pk])).status_code == 200


def test_others_read_the_summary_as_last_submitted(sent_back, personas, world, client):
    report, item, _file = sent_back
    services.rectification_save(report=report, actor=personas["unit_b"], summary="补充说明癸",
                                items={})
    client.force_login(personas["office"])
    detail, _tracker = _pages(client, world)
    assert "补充说明癸" not in detail and SUMMARY in detail
    services.rectification_save(report=report, actor=personas["unit_b"], summary="补充说明癸",
                                items={item.pk: {"measures": REVISED, "status": "done"}})
    services.rectification_submit(report=report, actor=personas["unit_b"])
    detail, _tracker = _pages(client, world)
    assert "补充说明癸" in detail
