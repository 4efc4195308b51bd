"""Bulk exports and credential letters are streamed from the storage in chunks, never read
whole into memory, and keep their access check, headers and audit (issue 19)."""

import hashlib
import os
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

from kaohe.accounts import bulk
from kaohe.accounts.models import Role, User
from kaohe.audit.models import AuditEntry
from kaohe.documents.models import Export, ExportStatus
from kaohe.lib import clock
from tests.conftest import make_user
from tests.evidence.factories import use_data_dir
from tests.s3 import moto_server_fixture, never_spooled_fixture, s3_fixture  # noqa: F401

MiB = 1024 * 1024
CHUNK = 512 * 1024


@pytest.fixture(params=["local", "s3"])
def stored(request, settings, tmp_path):
    """The default storage of the test: a folder of its own, or a bucket (streamed: an
    object is never spooled whole)."""
    if request.param == "local":
        use_data_dir(settings, tmp_path / "data")
    else:
        request.getfixturevalue("s3")
        request.getfixturevalue("never_spooled")
    return request.param


def _export(*, made_by, identifier, data: bytes, file_name: str, content_type: str,
            round_=None, fmt: str | None = None) -> Export:
    """A finished export of the object the download asks about again (the round, by its
    year, for a round's document)."""
    name = default_storage.save(f"exports/{identifier}-{made_by.pk}.bin", ContentFile(data))
    return Export.objects.create(
        round=round_, object_key=str(round_.year) if round_ else "",
        identifier=identifier, fmt=fmt or file_name.rsplit(".", 1)[-1], title="t",
        made_by=made_by,
        status=ExportStatus.DONE, storage_name=name, file_name=file_name,
        content_type=content_type, size=len(data), sha256=hashlib.sha256(data).hexdigest(),
        expires_at=clock.now() + timedelta(hours=1))


def _assert_streamed_attachment(response, data: bytes, file_name_quoted: str):
    assert response.status_code == 200 and response.streaming
    chunks = list(response.streaming_content)
    assert b"".join(chunks) == data
    assert len(chunks) > 1 and max(len(chunk) for chunk in chunks) <= CHUNK
    assert response["Content-Length"] == str(len(data))
    assert response["Content-Disposition"] == f"attachment; filename*=UTF-8''{file_name_quoted}"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert {"private", "no-store"} <= {part.strip() for part in
                                       response["Cache-Control"].split(",")}


def test_a_bulk_export_is_streamed_to_its_maker_only(stored, world, personas, login):
    data = os.urandom(2 * MiB + 7)
    export = _export(made_by=personas["office"], identifier="feedback_letters", data=data,
                     file_name="反馈.zip", content_type="application/zip",
                     round_=world["round"], fmt="docx")
    url = reverse("documents:export_download", args=[export.pk])
    response = login(personas["office"]).get(url)
    assert response["Content-Type"] == "application/zip"
    _assert_streamed_attachment(response, data, "%E5%8F%8D%E9%A6%88.zip")
    entry = AuditEntry.objects.get(action="document.downloaded", target_id=str(export.pk))
    assert entry.data["sha256"] == export.sha256

    other = make_user("office2", "office")
    assert login(other).get(url).status_code == 404
    assert AuditEntry.objects.filter(action="document.downloaded").count() == 1


def test_a_bulk_export_whose_file_is_gone_is_404(stored, world, personas, login):
    export = _export(made_by=personas["office"], identifier="feedback_letters", data=b"x",
                     file_name="a.zip", content_type="application/zip")
    default_storage.delete(export.storage_name)
    url = reverse("documents:export_download", args=[export.pk])
    assert login(personas["office"]).get(url).status_code == 404
    assert not AuditEntry.objects.filter(action="document.downloaded").exists()


def test_the_letters_are_streamed_once_and_their_file_is_gone_before_they_are_sent(
        stored, world, personas, login, django_capture_on_commit_callbacks):
    maker = personas["system_admin"]
    data = b"%PDF-1.7\n" + os.urandom(MiB + 3)
    export = _export(made_by=maker, identifier="credential_letters", data=data,
                     file_name="letters.pdf", content_type="application/pdf")
    name = export.storage_name
    url = reverse("accounts:credential_letters_download", kwargs={"pk": export.pk})
    other = User.objects.create(username="sys2", role=Role.SYSTEM_ADMIN)
    assert login(other).get(url).status_code == 404

    client = login(maker)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(url)
    # The file holds passwords: deleted once the hand-out is committed, before the bytes
    # go out; the open stream still reads it whole.
    assert not default_storage.exists(name)
    assert response["Content-Type"] == "application/pdf"
    _assert_streamed_attachment(response, data, "letters.pdf")
    assert client.get(url).status_code == 404
    export.refresh_from_db()
    assert (export.status, export.storage_name) == (ExportStatus.EXPIRED, "")
    entry = AuditEntry.objects.get(action="document.downloaded")
    assert (entry.actor, entry.data["once"]) == (maker, True)


def test_letters_taken_but_never_sent_close_their_file(world, personas, settings, tmp_path):
    """A response nobody reads (the test client never closes it) holds no open file once it
    is dropped: under filterwarnings=error an unclosed file would fail the test."""
    use_data_dir(settings, tmp_path / "data")
    export = _export(made_by=personas["system_admin"], identifier="credential_letters",
                     data=b"%PDF-1.7\n", file_name="l.pdf", content_type="application/pdf")
    taken, stream = bulk.letters_take(export_id=export.pk, actor=personas["system_admin"])
    assert taken.pk == export.pk and stream.size == 9
    del stream
