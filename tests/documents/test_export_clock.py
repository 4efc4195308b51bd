"""One clock (issue 21): an export is made, marked and dated on the day KAOHE_TODAY sets."""

import datetime
import io

from django.urls import reverse
from django.utils import timezone
from docx import Document

from kaohe.audit.models import AuditEntry
from kaohe.documents.models import Export


def test_an_export_and_its_mark_carry_the_simulated_day(released, personas, login):
    client = login(personas["office"])
    response = client.get(reverse("documents:make", args=["org_department_list", "2017",
                                                           "docx"]))
    assert response.status_code == 200
    export = Export.objects.get(identifier="org_department_list")
    assert timezone.localdate(export.created_at).isoformat() == "2018-01-10"
    assert timezone.localdate(export.finished_at).isoformat() == "2018-01-10"
    document = Document(io.BytesIO(response.content))
    assert "2018-01-10" in document.sections[0].header.paragraphs[0].text
    # Word's dcterms:created is in UTC (python-docx reads it naive): 2018-01-10 in Beijing.
    created = document.core_properties.created.replace(tzinfo=datetime.UTC)
    assert timezone.localdate(created).isoformat() == "2018-01-10"
    entry = AuditEntry.objects.filter(action="document.export").latest("pk")
    assert timezone.localdate(entry.created_at).isoformat() == "2018-01-10"
    assert timezone.localdate(released.released_at).isoformat() == "2018-01-10"


def test_a_bulk_export_expires_by_the_clock_it_was_made_on(
        released, personas, login, django_capture_on_commit_callbacks):
    client = login(personas["office"])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("documents:make", args=["feedback_letters", "2017", "docx"]))
    export = Export.objects.get(identifier="feedback_letters")
    assert timezone.localdate(export.created_at).isoformat() == "2018-01-10"
    assert timezone.localdate(export.finished_at).isoformat() == "2018-01-10"
    assert export.expires_at > export.finished_at
    download = client.get(reverse("documents:export_download", args=[export.pk]))
    assert download.status_code == 200


def test_without_a_simulated_day_an_export_is_dated_now(released, personas, login, settings):
    settings.KAOHE_TODAY = ""
    response = login(personas["office"]).get(
        reverse("documents:make", args=["org_department_list", "2017", "docx"]))
    assert response.status_code == 200
    export = Export.objects.get(identifier="org_department_list")
    assert abs((export.created_at - timezone.now()).total_seconds()) < 60
    header = Document(io.BytesIO(response.content)).sections[0].header.paragraphs[0].text
    assert timezone.localdate().isoformat() in header
