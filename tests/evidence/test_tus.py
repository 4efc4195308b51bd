"""The tus server: creation, offsets, chunks, termination, cuts and resumption.

Most tests speak the protocol through Django's test client, which skips CSRF checks (as
pytest-django's `client` does); test_it_keeps_csrf_protection_on checks them with
enforce_csrf_checks=True. The live-server tests use tuspy, the reference Python client,
against a real HTTP server where CSRF is enforced: they send the session cookie and a CSRF
cookie with the same token in X-CSRFToken, as tus-js-client does in the page.
"""

import fcntl
import hashlib
import io
import secrets
import socket
from urllib.parse import unquote, urlsplit

import pytest
import requests
from django.conf import settings
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse
from tusclient.client import TusClient

from kaohe.audit.models import AuditEntry
from kaohe.evidence import services
from kaohe.evidence.models import Evidence, Upload
from kaohe.evidence.services import partial_root, verify_evidence_files
from tests.evidence.factories import (
    OFFSET_STREAM,
    TUS,
    encode_metadata,
    pdf_bytes,
    tus_create,
    tus_patch,
    tus_upload,
    upload_id,
)


@pytest.fixture
def unit_client(client, personas):
    client.force_login(personas["unit"])
    return client


def _files_under(root):
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


# Discovery and creation -------------------------------------------------------------------

def test_options_announces_version_extensions_and_max_size(unit_client, settings):
    settings.EVIDENCE_MAX_FILE_BYTES = 12345
    response = unit_client.options(reverse("evidence:uploads"))
    assert response.status_code == 204
    assert response["Tus-Resumable"] == "1.0.0"
    assert response["Tus-Version"] == "1.0.0"
    assert response["Tus-Extension"] == "creation,termination"
    assert response["Tus-Max-Size"] == "12345"


def test_it_creates_an_upload_for_the_units_scope_in_the_current_round(unit_client, personas,
                                                                      world):
    response = tus_create(unit_client, name="../../扶贫报告.pdf", length=5000)
    assert response.status_code == 201
    assert response["Tus-Resumable"] == "1.0.0"
    upload = Upload.objects.get(pk=upload_id(response["Location"]))
    assert response["Location"] == reverse("evidence:upload", kwargs={"pk": upload.pk})
    assert upload.unit == world["unit_a"] and upload.province is None
    assert upload.round == world["round"]
    assert upload.created_by == personas["unit"]
    assert upload.original_name == "扶贫报告.pdf"
    assert upload.length == 5000 and upload.offset == 0
    assert services.partial_path(upload).read_bytes() == b""


def test_a_province_uploads_for_its_province(client, personas, world):
    client.force_login(personas["province"])
    response = tus_create(client, name="报告.pdf", length=10)
    upload = Upload.objects.get(pk=upload_id(response["Location"]))
    assert (upload.province, upload.unit) == (world["province_a"], None)


@pytest.mark.parametrize("persona", ["office", "lead_reviewer", "military_inspector",
                                     "system_admin", "auditor"])
def test_roles_without_an_own_scope_cannot_upload(client, personas, persona):
    client.force_login(personas[persona])
    assert tus_create(client, name="a.pdf", length=10).status_code == 404
    assert client.options(reverse("evidence:uploads")).status_code == 404
    assert not Upload.objects.exists()


def test_it_refuses_a_request_without_the_protocol_version(unit_client):
    response = unit_client.post(reverse("evidence:uploads"), headers={
        "Upload-Length": "10", "Upload-Metadata": encode_metadata({"filename": "a.pdf"})})
    assert response.status_code == 412
    assert response["Tus-Version"] == "1.0.0"


@pytest.mark.parametrize("headers, status", [
    ({"Upload-Length": ""}, 400),
    ({"Upload-Length": "-5"}, 400),
    ({"Upload-Length": "0"}, 400),
    ({"Upload-Metadata": "filename !!notbase64"}, 400),
    ({"Upload-Metadata": "filename " + "/w==" }, 400),  # not UTF-8
    ({"Upload-Metadata": "filetype aW1hZ2UvcG5n"}, 400),  # no filename
    ({"Upload-Metadata": encode_metadata({"filename": "a.pdf"}) + ",filename eA=="}, 400),
])
def test_it_refuses_bad_creation_headers(unit_client, headers, status):
    response = tus_create(unit_client, name="a.pdf", length=10, **headers)
    assert response.status_code == status
    assert response.content.decode()  # a message in the body
    assert not Upload.objects.exists()


def test_it_refuses_a_file_over_the_size_limit(unit_client, settings):
    settings.EVIDENCE_MAX_FILE_BYTES = 1000
    response = tus_create(unit_client, name="a.pdf", length=1001)
    assert response.status_code == 413
    assert "不能超过" in response.content.decode()
    assert tus_create(unit_client, name="a.pdf", length=1000).status_code == 201


def test_it_refuses_a_disallowed_extension_at_creation(unit_client):
    response = tus_create(unit_client, name="setup.exe", length=100)
    assert response.status_code == 415
    message = response.content.decode()
    assert "不支持的文件类型" in message
    assert unquote(response["Kaohe-Error"]) == message
    assert not Upload.objects.exists()
    assert _files_under(partial_root()) == []


# Offsets and chunks -----------------------------------------------------------------------

def test_head_reports_offset_and_length_and_is_not_cached(unit_client):
    location = tus_create(unit_client, name="a.pdf", length=5000)["Location"]
    tus_patch(unit_client, location, pdf_bytes(5000)[:1200], 0)
    response = unit_client.head(location, headers=TUS)
    assert response.status_code == 200
    assert response["Upload-Offset"] == "1200"
    assert response["Upload-Length"] == "5000"
    assert response["Cache-Control"] == "no-store"


def test_chunks_build_the_file_and_completion_creates_evidence(unit_client, personas, world):
    data = pdf_bytes(10_000)
    created, last = tus_upload(unit_client, data, name="总结.pdf", chunk=3000)
    assert last.status_code == 204
    assert last["Upload-Offset"] == "10000"
    upload = Upload.objects.get(pk=upload_id(created["Location"]))
    evidence = Evidence.objects.get()
    # The page learns the evidence id from the upload it made.
    assert evidence.pk == upload.pk
    assert last["Kaohe-Evidence"] == str(evidence.pk)
    assert evidence.sha256 == hashlib.sha256(data).hexdigest()
    assert evidence.size == len(data)
    assert evidence.content_type == "application/pdf"
    assert evidence.original_name == "总结.pdf"
    assert (evidence.unit, evidence.round, evidence.uploaded_by) == (
        world["unit_a"], world["round"], personas["unit"])
    assert evidence.storage_name == f"evidence/2017/{evidence.pk}"
    with default_storage.open(evidence.storage_name) as stored:
        assert stored.read() == data
    assert upload.completed_at is not None
    assert not services.partial_path(upload).exists()
    entry = AuditEntry.objects.get(action="evidence.uploaded")
    assert entry.target_id == str(evidence.pk) and entry.actor == personas["unit"]
    assert entry.data["sha256"] == evidence.sha256


def test_each_patch_answers_the_new_offset(unit_client):
    data = pdf_bytes(4000)
    location = tus_create(unit_client, name="a.pdf", length=len(data))["Location"]
    answers = [tus_patch(unit_client, location, data[o:o + 1000], o)["Upload-Offset"]
               for o in range(0, 4000, 1000)]
    assert answers == ["1000", "2000", "3000", "4000"]


def test_a_wrong_offset_gets_409_and_writes_nothing(unit_client):
    data = pdf_bytes(3000)
    location = tus_create(unit_client, name="a.pdf", length=len(data))["Location"]
    tus_patch(unit_client, location, data[:1000], 0)
    response = tus_patch(unit_client, location, data[500:1500], 500)
    assert response.status_code == 409
    assert response["Upload-Offset"] == "1000"
    upload = Upload.objects.get()
    assert upload.offset == 1000
    assert services.partial_path(upload).stat().st_size == 1000


def test_a_wrong_content_type_gets_415(unit_client):
    location = tus_create(unit_client, name="a.pdf", length=100)["Location"]
    response = unit_client.patch(location, data=b"x" * 10, content_type="application/json",
                                 headers={**TUS, "Upload-Offset": "0"})
    assert response.status_code == 415
    assert Upload.objects.get().offset == 0


def test_a_patch_without_offset_or_beyond_the_length_is_refused(unit_client, settings):
    location = tus_create(unit_client, name="a.pdf", length=100)["Location"]
    no_offset = unit_client.patch(location, data=b"x", content_type=OFFSET_STREAM, headers=TUS)
    assert no_offset.status_code == 400
    assert tus_patch(unit_client, location, b"%PDF-" + b"x" * 96, 0).status_code == 413
    settings.EVIDENCE_MAX_REQUEST_BYTES = 50
    assert tus_patch(unit_client, location, b"%PDF-" + b"x" * 55, 0).status_code == 413
    assert Upload.objects.get().offset == 0


def test_delete_terminates_the_upload_and_removes_its_data(unit_client):
    location = tus_create(unit_client, name="a.pdf", length=5000)["Location"]
    tus_patch(unit_client, location, pdf_bytes(5000)[:2000], 0)
    upload = Upload.objects.get()
    assert services.partial_path(upload).exists()
    response = unit_client.delete(location, headers=TUS)
    assert response.status_code == 204
    assert not Upload.objects.exists()
    assert not services.partial_path(upload).exists()
    assert unit_client.head(location, headers=TUS).status_code == 404


@pytest.mark.parametrize("other", ["unit_b", "province", "office", "lead_reviewer"])
def test_only_the_creator_may_touch_an_upload(client, personas, other):
    client.force_login(personas["unit"])
    data = pdf_bytes(3000)
    location = tus_create(client, name="a.pdf", length=len(data))["Location"]
    tus_patch(client, location, data[:1000], 0)
    client.force_login(personas[other])
    assert client.head(location, headers=TUS).status_code == 404
    assert tus_patch(client, location, data[1000:2000], 1000).status_code == 404
    assert client.delete(location, headers=TUS).status_code == 404
    upload = Upload.objects.get()
    assert upload.offset == 1000
    assert services.partial_path(upload).stat().st_size == 1000


def test_it_keeps_csrf_protection_on(personas):
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas["unit"])
    refused = tus_create(client, name="a.pdf", length=10)
    assert refused.status_code == 403
    token = secrets.token_hex(16)
    client.cookies[settings.CSRF_COOKIE_NAME] = token
    created = tus_create(client, name="a.pdf", length=10, **{"X-CSRFToken": token})
    assert created.status_code == 201
    location = created["Location"]
    assert tus_patch(client, location, b"%PDF-", 0).status_code == 403
    assert tus_patch(client, location, b"%PDF-", 0, **{"X-CSRFToken": token}).status_code == 204


# Cuts, locks and recovery -----------------------------------------------------------------

def test_bytes_written_but_never_recorded_are_dropped(unit_client):
    """A worker killed after writing but before recording the offset leaves extra bytes."""
    data = pdf_bytes(3000)
    location = tus_create(unit_client, name="a.pdf", length=len(data))["Location"]
    tus_patch(unit_client, location, data[:1000], 0)
    upload = Upload.objects.get()
    with open(services.partial_path(upload), "ab") as f:
        f.write(b"GARBAGE" * 1000)
    assert unit_client.head(location, headers=TUS)["Upload-Offset"] == "1000"
    assert tus_patch(unit_client, location, data[1000:2000], 1000).status_code == 204
    assert services.partial_path(upload).read_bytes() == data[:2000]
    assert tus_patch(unit_client, location, data[2000:], 2000).status_code == 204
    evidence = Evidence.objects.get()
    assert evidence.sha256 == hashlib.sha256(data).hexdigest()


def test_a_tail_lost_in_a_crash_is_asked_for_again(unit_client):
    """After a power cut the file may be shorter than the recorded offset."""
    data = pdf_bytes(3000)
    location = tus_create(unit_client, name="a.pdf", length=len(data))["Location"]
    tus_patch(unit_client, location, data[:2000], 0)
    upload = Upload.objects.get()
    with open(services.partial_path(upload), "r+b") as f:
        f.truncate(1500)
    response = tus_patch(unit_client, location, data[2000:], 2000)
    assert response.status_code == 409
    assert response["Upload-Offset"] == "1500"
    assert unit_client.head(location, headers=TUS)["Upload-Offset"] == "1500"
    assert tus_patch(unit_client, location, data[1500:], 1500).status_code == 204
    assert Evidence.objects.get().sha256 == hashlib.sha256(data).hexdigest()


def test_an_upload_in_use_answers_423(unit_client):
    data = pdf_bytes(2000)
    location = tus_create(unit_client, name="a.pdf", length=len(data))["Location"]
    upload = Upload.objects.get()
    with open(services.partial_path(upload), "rb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        assert tus_patch(unit_client, location, data[:1000], 0).status_code == 423
        assert unit_client.delete(location, headers=TUS).status_code == 423
        # HEAD reads without the lock while the upload is incomplete.
        assert unit_client.head(location, headers=TUS)["Upload-Offset"] == "0"
    assert tus_patch(unit_client, location, data[:1000], 0).status_code == 204


def test_a_head_during_completion_asks_the_client_to_wait(unit_client):
    """All bytes are in but another request is still completing: 423, which clients retry."""
    data = pdf_bytes(2000)
    location = tus_create(unit_client, name="a.pdf", length=len(data))["Location"]
    upload = Upload.objects.get()
    services.partial_path(upload).write_bytes(data)
    Upload.objects.filter(pk=upload.pk).update(offset=len(data))
    with open(services.partial_path(upload), "rb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        assert unit_client.head(location, headers=TUS).status_code == 423
    response = unit_client.head(location, headers=TUS)
    assert response.status_code == 200
    assert response["Kaohe-Evidence"] == str(upload.pk)


def test_a_cut_between_the_move_and_the_row_lists_nothing_and_is_finished_later(
        unit_client, monkeypatch):
    data = pdf_bytes(2000)
    location = tus_create(unit_client, name="a.pdf", length=len(data))["Location"]
    tus_patch(unit_client, location, data[:1000], 0)

    def power_cut(*args, **kwargs):
        raise RuntimeError("power cut")

    # The audit entry is written in the row's transaction: failing it rolls the row back.
    monkeypatch.setattr(services, "log_action", power_cut)
    with pytest.raises(RuntimeError):
        tus_patch(unit_client, location, data[1000:], 1000)
    monkeypatch.undo()

    upload = Upload.objects.get()
    assert not Evidence.objects.exists()
    # Stored, but listed by no row; the partial file stays until the row is written.
    assert default_storage.exists(services.storage_name_for(upload))
    assert services.partial_path(upload).exists()
    report = verify_evidence_files()
    assert report.orphans == [services.storage_name_for(upload)]
    assert report.missing == [] and report.changed == [] and report.stray_partials == []

    # The client comes back and asks for the offset: the completion is finished then.
    response = unit_client.head(location, headers=TUS)
    assert response.status_code == 200
    assert response["Upload-Offset"] == "2000"
    evidence = Evidence.objects.get()
    assert response["Kaohe-Evidence"] == str(evidence.pk)
    assert evidence.sha256 == hashlib.sha256(data).hexdigest()
    assert not services.partial_path(upload).exists()
    assert verify_evidence_files().ok


def test_a_partial_file_left_after_the_row_is_removed_by_the_next_request(unit_client):
    """A cut between the row's commit and the removal of the partial file."""
    data = pdf_bytes(2000)
    created, _last = tus_upload(unit_client, data, name="a.pdf", chunk=2000)
    upload = Upload.objects.get()
    services.partial_path(upload).write_bytes(data)
    assert verify_evidence_files().stray_partials == [f"{upload.pk}.part"]
    response = unit_client.head(created["Location"], headers=TUS)
    assert response.status_code == 200 and response["Upload-Offset"] == "2000"
    assert tus_patch(unit_client, created["Location"], b"", 2000).status_code == 204
    assert not services.partial_path(upload).exists()
    assert verify_evidence_files().ok
    assert Evidence.objects.count() == 1


def test_a_complete_upload_answers_a_repeated_last_patch_without_a_second_evidence(unit_client):
    data = pdf_bytes(2000)
    created, _last = tus_upload(unit_client, data, name="a.pdf", chunk=2000)
    again = tus_patch(unit_client, created["Location"], b"", 2000)
    assert again.status_code == 204
    assert again["Upload-Offset"] == "2000"
    assert Evidence.objects.count() == 1
    assert tus_patch(unit_client, created["Location"], b"x", 1999).status_code == 409


# A real client against a real server ------------------------------------------------------

def _tus_session(user):
    """Sign in through the session (force_login), then hand the cookies to tuspy.

    Django's CSRF check compares the csrftoken cookie with the X-CSRFToken header; any
    client may pick the token, as a browser keeps the one Django gave it.
    """
    browser = Client()
    browser.force_login(user)
    session = browser.cookies[settings.SESSION_COOKIE_NAME].value
    token = secrets.token_hex(16)
    return {"Cookie": f"{settings.SESSION_COOKIE_NAME}={session}; "
                      f"{settings.CSRF_COOKIE_NAME}={token}",
            "X-CSRFToken": token}


@pytest.mark.django_db(transaction=True)
def test_an_upload_cut_in_the_middle_resumes_with_a_new_tuspy_client(live_server, personas,
                                                                     tmp_path):
    data = pdf_bytes(3 * 1024 * 1024 + 12_345)
    source = tmp_path / "脱贫攻坚总结.pdf"
    source.write_bytes(data)
    endpoint = live_server.url + reverse("evidence:uploads")
    headers = _tus_session(personas["unit"])

    # tuspy is given open streams: with a path it opens the file per chunk and never closes it.
    with open(source, "rb") as stream:
        first = TusClient(endpoint, headers=headers).uploader(
            file_stream=stream, chunk_size=256 * 1024, metadata={"filename": source.name})
        first.upload(stop_at=1_000_000)  # the network drops here
    assert first.offset == 1_000_000
    upload = Upload.objects.get()
    assert upload.offset == 1_000_000
    assert not Evidence.objects.exists()

    # A new client, as after a reload of the page: it asks the server where to go on.
    with open(source, "rb") as stream:
        second = TusClient(endpoint, headers=headers).uploader(
            file_stream=stream, url=first.url, chunk_size=256 * 1024)
        assert second.offset == 1_000_000
        second.upload()

    evidence = Evidence.objects.get()
    assert evidence.pk == upload.pk
    assert evidence.sha256 == hashlib.sha256(data).hexdigest()
    assert evidence.size == len(data)
    with default_storage.open(evidence.storage_name) as stored:
        assert stored.read() == data


@pytest.mark.django_db(transaction=True)
def test_a_client_that_disconnects_mid_body_keeps_what_it_sent(live_server, personas):
    data = pdf_bytes(200_000)
    headers = _tus_session(personas["unit"])
    endpoint = live_server.url + reverse("evidence:uploads")
    created = requests.post(endpoint, timeout=10, headers={
        **headers, **TUS, "Upload-Length": str(len(data)),
        "Upload-Metadata": encode_metadata({"filename": "a.pdf"})})
    assert created.status_code == 201
    location = created.headers["Location"]

    # Announce the whole rest, send 70,000 bytes and hang up.
    url = urlsplit(live_server.url)
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        request = (
            f"PATCH {location} HTTP/1.1\r\nHost: {url.netloc}\r\n"
            f"Tus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\n"
            f"Content-Type: {OFFSET_STREAM}\r\nContent-Length: {len(data)}\r\n"
            f"Cookie: {headers['Cookie']}\r\nX-CSRFToken: {headers['X-CSRFToken']}\r\n\r\n"
        ).encode()
        sock.sendall(request + data[:70_000])
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while b"\r\n\r\n" not in answer and (piece := sock.recv(4096)):
            answer += piece
    assert b"Upload-Offset: 70000" in answer

    head = requests.head(live_server.url + location, headers={**headers, **TUS}, timeout=10)
    assert head.headers["Upload-Offset"] == "70000"
    with io.BytesIO(data) as stream:
        resumed = TusClient(endpoint, headers=headers).uploader(
            file_stream=stream, url=live_server.url + location, chunk_size=64 * 1024)
        assert resumed.offset == 70_000
        resumed.upload()
    assert Evidence.objects.get().sha256 == hashlib.sha256(data).hexdigest()
