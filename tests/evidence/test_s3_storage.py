"""Evidence in S3-compatible object storage: a real S3 API (moto in server mode).

Uploads are staged in the local staging directory and stored in the bucket on their last
byte, hashed on the way; downloads stream the object through the view that checks access;
`verify_evidence_files` reads and lists the bucket.
"""

import hashlib

import pytest
from django.urls import reverse

from kaohe.audit.models import AuditEntry
from kaohe.evidence import services
from kaohe.evidence.models import Evidence, Upload
from kaohe.evidence.services import verify_evidence_files
from tests.evidence.factories import (
    TUS,
    evidence_file,
    pdf_bytes,
    tus_create,
    tus_patch,
    tus_upload,
    upload_id,
)
from tests.s3 import moto_server_fixture, never_spooled_fixture, s3_fixture  # noqa: F401

MiB = 1024 * 1024


def _local_files(data_dir):
    return sorted(p.relative_to(data_dir).as_posix() for p in data_dir.rglob("*") if p.is_file())


@pytest.mark.parametrize("persona", ["unit", "province"])
def test_a_tus_upload_finishes_into_the_bucket(client, personas, s3, data_dir, persona):
    client.force_login(personas[persona])
    data = pdf_bytes(300_000)
    _created, last = tus_upload(client, data, name="总结.pdf", chunk=100_000)
    assert last.status_code == 204
    evidence = Evidence.objects.get()
    assert last["Kaohe-Evidence"] == str(evidence.pk)
    assert evidence.sha256 == hashlib.sha256(data).hexdigest() and evidence.size == len(data)
    assert s3.keys() == [evidence.storage_name] == [f"evidence/2017/{evidence.pk}"]
    assert s3.sha256(evidence.storage_name) == evidence.sha256
    # Nothing stays on the local disk: the partial file is gone, no file was stored there.
    assert _local_files(data_dir) == []
    assert not services.partial_path(Upload.objects.get()).exists()


def test_a_large_upload_goes_up_in_parts_and_is_hashed_once(client, personas, s3, monkeypatch):
    """20 MiB: a multipart upload of three parts, hashed as the parts are read."""
    reads = []
    original = services.storage._HashingReader.read

    def counting_read(self, size=-1):
        data = original(self, size)
        reads.append(len(data))
        return data

    monkeypatch.setattr(services.storage._HashingReader, "read", counting_read)
    client.force_login(personas["unit"])
    data = pdf_bytes(20 * MiB + 123)
    _created, last = tus_upload(client, data, name="大文件.pdf", chunk=8 * MiB)
    assert last.status_code == 204
    evidence = Evidence.objects.get()
    assert sum(reads) == len(data)  # every byte read once from the staged file
    assert evidence.sha256 == hashlib.sha256(data).hexdigest()
    assert s3.get(evidence.storage_name) == data


def test_a_refused_file_never_reaches_the_bucket(client, personas, s3):
    client.force_login(personas["unit"])
    _created, last = tus_upload(client, b"MZ" + b"\x00" * 500, name="a.pdf", chunk=1000)
    assert last.status_code == 422
    assert s3.keys() == [] and not Evidence.objects.exists()


def test_a_completion_cut_before_the_row_is_finished_again_in_the_bucket(
        client, personas, s3, monkeypatch):
    client.force_login(personas["unit"])
    data = pdf_bytes(5000)
    location = tus_create(client, name="a.pdf", length=len(data))["Location"]

    def power_cut(*args, **kwargs):
        raise RuntimeError("power cut")

    monkeypatch.setattr(services, "log_action", power_cut)
    with pytest.raises(RuntimeError):
        tus_patch(client, location, data, 0)
    monkeypatch.undo()
    name = services.storage_name_for(Upload.objects.get(pk=upload_id(location)))
    assert s3.keys() == [name] and not Evidence.objects.exists()
    assert verify_evidence_files().orphans == [name]

    # The stored object is replaced, not kept beside a second one (file_overwrite is off).
    assert client.head(location, headers=TUS).status_code == 200
    evidence = Evidence.objects.get()
    assert s3.keys() == [evidence.storage_name] == [name]
    assert s3.sha256(name) == evidence.sha256 == hashlib.sha256(data).hexdigest()
    assert verify_evidence_files().ok


def test_termination_of_a_cut_completion_removes_its_object(client, personas, s3, monkeypatch):
    client.force_login(personas["unit"])
    data = pdf_bytes(5000)
    location = tus_create(client, name="a.pdf", length=len(data))["Location"]
    monkeypatch.setattr(services, "log_action", lambda *a, **k: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        tus_patch(client, location, data, 0)
    monkeypatch.undo()
    assert len(s3.keys()) == 1
    assert client.delete(location, headers=TUS).status_code == 204
    assert s3.keys() == []


def test_downloads_stream_the_object_and_keep_the_access_check(
        client, world, personas, s3, never_spooled):
    data = pdf_bytes(3 * MiB + 5)
    evidence = evidence_file(round=world["round"], uploaded_by=personas["unit"],
                             unit=world["unit_a"], data=data, name="报告.pdf",
                             content_type="application/pdf")
    assert s3.keys() == [evidence.storage_name]

    client.force_login(personas["unit"])
    response = client.get(reverse("evidence:download", kwargs={"pk": evidence.pk}))
    assert response.status_code == 200 and response.streaming
    chunks = list(response.streaming_content)
    assert b"".join(chunks) == data
    assert len(chunks) > 1 and max(len(chunk) for chunk in chunks) <= 512 * 1024
    assert response["Content-Length"] == str(len(data))
    assert response["Content-Disposition"].startswith("attachment; filename*=UTF-8''")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    preview = client.get(reverse("evidence:preview", kwargs={"pk": evidence.pk}))
    assert b"".join(preview.streaming_content) == data
    assert preview["Content-Security-Policy"] == "sandbox"
    assert AuditEntry.objects.filter(target_id=str(evidence.pk), action__in=[
        "evidence.downloaded", "evidence.previewed"]).count() == 2

    # Another unit: 404, and no audit entry for it.
    client.force_login(personas["unit_b"])
    assert client.get(reverse("evidence:download", kwargs={"pk": evidence.pk})).status_code == 404
    assert client.get(reverse("evidence:preview", kwargs={"pk": evidence.pk})).status_code == 404
    assert not AuditEntry.objects.filter(actor=personas["unit_b"],
                                         action__startswith="evidence.").exists()


def test_an_object_missing_from_the_bucket_is_404(client, world, personas, s3):
    evidence = evidence_file(round=world["round"], uploaded_by=personas["unit"],
                             unit=world["unit_a"])
    s3.delete(evidence.storage_name)
    client.force_login(personas["unit"])
    assert client.get(reverse("evidence:download", kwargs={"pk": evidence.pk})).status_code == 404


def test_verify_reads_and_lists_the_bucket(world, personas, s3, never_spooled):
    owners = {"unit": world["unit_a"], "unit_b": world["unit_b"]}
    evidence = {persona: evidence_file(round=world["round"], uploaded_by=personas[persona],
                                       unit=unit, data=pdf_bytes(4000 + n))
                for n, (persona, unit) in enumerate(owners.items())}
    report = verify_evidence_files()
    assert report.ok and report.checked == 2

    altered = evidence["unit"].storage_name
    content = bytearray(s3.get(altered))
    content[100] ^= 0x01
    s3.put(altered, bytes(content))
    s3.delete(evidence["unit_b"].storage_name)
    s3.put("evidence/2017/d3b07384-d113-4ec6-a5c4-1d8f3e2b6c9a", b"left behind")
    s3.put("exports/not-evidence.pdf", b"%PDF-")  # other folders are not evidence

    report = verify_evidence_files()
    assert report.changed == [str(evidence["unit"].pk)]
    assert report.missing == [str(evidence["unit_b"].pk)]
    assert report.orphans == ["evidence/2017/d3b07384-d113-4ec6-a5c4-1d8f3e2b6c9a"]
