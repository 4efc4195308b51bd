"""Category plans (分类考核具体方案) filed with the working group for the record."""

import datetime

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse

from kaohe.audit.models import AuditEntry
from kaohe.launch.models import CategoryPlan
from tests.launch.conftest import PDF, PNG, Upload

pytestmark = pytest.mark.django_db


def _file(client, lead, name, content=PDF, key_points="分类考核要点"):
    return client.post(reverse("launch:plan_file", kwargs={"lead_pk": lead.pk}),
                       {"document": Upload(name, content), "key_points": key_points})


def test_a_plan_is_recorded_with_its_date_and_served_as_a_private_download(
        client, world, personas, settings):
    settings.KAOHE_TODAY = "2017-11-16"
    lead = world["lead_a"]
    client.force_login(personas["lead_reviewer"])
    response = _file(client, lead, "中央直属机关分类考核方案.pdf")
    assert response.status_code == 302

    plan = CategoryPlan.objects.get(round=world["round"], lead_department=lead)
    assert plan.filed_on == datetime.date(2017, 11, 16)
    assert plan.original_name == "中央直属机关分类考核方案.pdf"
    assert plan.content_type == "application/pdf" and plan.size == len(PDF)
    assert plan.key_points == "分类考核要点"
    # Stored under a random name, never the user's.
    assert "分类考核" not in plan.storage_name and default_storage.exists(plan.storage_name)
    assert AuditEntry.objects.get(action="launch.plan.filed").data["late"] is False

    client.force_login(personas["working_group"])
    page = client.get(reverse("launch:index")).content.decode()
    assert "中央直属机关分类考核方案.pdf" in page and "2017-11-16" in page
    download = client.get(reverse("launch:plan_download", kwargs={"lead_pk": lead.pk}))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Cache-Control"] == "private, no-store"
    assert AuditEntry.objects.filter(action="launch.plan.downloaded").count() == 1


@pytest.mark.parametrize("name, content", [
    ("方案.png", PNG),          # a type plans may not have
    ("方案.pdf", PNG),          # a picture renamed to .pdf: judged by content
    ("方案.exe", b"MZ" + b"\0" * 100),
    ("方案", PDF),              # no extension
])
def test_a_plan_of_the_wrong_type_is_refused(client, world, personas, name, content):
    client.force_login(personas["lead_reviewer"])
    response = _file(client, world["lead_a"], name, content)
    assert response.status_code == 200
    assert response.context["plan_form"].errors["document"]
    assert not CategoryPlan.objects.exists()
    assert AuditEntry.objects.filter(action="launch.plan.refused", success=False).count() == 1


def test_refiling_replaces_the_document_and_keeps_the_first_date(
        client, world, personas, settings, django_capture_on_commit_callbacks):
    settings.KAOHE_TODAY = "2017-11-16"
    lead = world["lead_a"]
    client.force_login(personas["lead_reviewer"])
    _file(client, lead, "方案第一稿.pdf")
    first = CategoryPlan.objects.get().storage_name
    settings.KAOHE_TODAY = "2017-11-24"
    with django_capture_on_commit_callbacks(execute=True):
        assert _file(client, lead, "方案定稿.pdf", PDF + b"%").status_code == 302
    plan = CategoryPlan.objects.get()
    assert plan.original_name == "方案定稿.pdf" and plan.size == len(PDF) + 1
    assert plan.filed_on == datetime.date(2017, 11, 16)
    assert plan.updated_on == datetime.date(2017, 11, 24)
    assert not default_storage.exists(first)


def test_a_plan_filed_after_the_launch_deadline_is_shown_late(client, world, personas,
                                                              settings):
    settings.KAOHE_TODAY = "2017-11-21"
    client.force_login(personas["lead_reviewer_b"])
    _file(client, world["lead_b"], "国资委方案.docx.pdf")
    assert AuditEntry.objects.get(action="launch.plan.filed").data["late"] is True
    client.force_login(personas["office"])
    rows = {r.lead_department.pk: r for r in
            client.get(reverse("launch:index")).context["rows"]}
    assert rows[world["lead_b"].pk].plan_state == "late"
    assert rows[world["lead_a"].pk].plan_state == "overdue"


def test_another_lead_department_cannot_file_or_read_the_plan(client, world, personas):
    client.force_login(personas["lead_reviewer"])
    _file(client, world["lead_a"], "方案.pdf")
    client.force_login(personas["lead_reviewer_b"])
    assert _file(client, world["lead_a"], "冒名方案.pdf").status_code == 404
    assert client.get(reverse("launch:plan_download", kwargs={"lead_pk": world["lead_a"].pk})
                      ).status_code == 404
    assert CategoryPlan.objects.get().original_name == "方案.pdf"
