"""Bulk exports in S3-compatible object storage: made into the bucket, read back, purged."""

import io
import zipfile
from datetime import timedelta

from django.urls import reverse

from kaohe.documents.models import Export, ExportStatus
from kaohe.lib import clock
from tests.s3 import moto_server_fixture, s3_fixture  # noqa: F401


def test_a_bulk_export_lands_in_the_bucket_and_is_purged_from_it(
        released, personas, login, s3, django_capture_on_commit_callbacks):
    client = login(personas["office"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("documents:make", args=["feedback_letters", "2017",
                                                               "docx"]))
    assert response.status_code == 302
    export = Export.objects.get(identifier="feedback_letters")
    assert export.status == ExportStatus.DONE
    assert s3.keys() == [export.storage_name] and export.storage_name.startswith("exports/")

    download = client.get(reverse("documents:export_download", args=[export.pk]))
    assert download.status_code == 200
    content = download.getvalue()  # a streaming response: read once
    assert len(zipfile.ZipFile(io.BytesIO(content)).namelist()) == 2
    assert s3.get(export.storage_name) == content

    Export.objects.filter(pk=export.pk).update(expires_at=clock.now() - timedelta(minutes=1))
    assert client.get(reverse("documents:export_download", args=[export.pk])).status_code == 404
    assert s3.keys() == []
