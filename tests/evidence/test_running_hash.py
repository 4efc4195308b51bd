"""The SHA-256 of an upload is computed while its PATCHes arrive (kaohe.evidence.running_hash):
completion uses it when the same process received every byte in order, and hashes the
staged file again when it did not (another app server, a restart, a tail lost in a crash)."""

import hashlib
import uuid

import pytest

from kaohe.evidence import receiving, running_hash, services
from kaohe.evidence.models import Evidence, Upload
from kaohe.evidence.running_hash import RunningHashes
from kaohe.lib import storage
from tests.evidence.factories import pdf_bytes, tus_create, tus_patch, tus_upload
from tests.s3 import moto_server_fixture, s3_fixture  # noqa: F401


@pytest.fixture
def unit_client(client, personas):
    client.force_login(personas["unit"])
    return client


@pytest.fixture(autouse=True)
def process_hashes(monkeypatch):
    """This test's process: a fresh cache of running hashes."""
    fresh = RunningHashes()
    monkeypatch.setattr(running_hash, "hashes", fresh)
    return fresh


@pytest.fixture
def file_reads(monkeypatch):
    """The staged files that completion reads again to hash them (local storage)."""
    reads = []
    original = storage.hashlib.file_digest

    def counting(handle, digest):
        reads.append(handle.name)
        return original(handle, digest)

    monkeypatch.setattr(storage.hashlib, "file_digest", counting)
    return reads


def _other_process(monkeypatch):
    """Serve the next requests as another app server would: with its own (empty) cache."""
    other = RunningHashes()
    monkeypatch.setattr(running_hash, "hashes", other)
    return other


def test_completion_uses_the_hash_computed_while_receiving(unit_client, file_reads,
                                                           process_hashes):
    data = pdf_bytes(5000)
    _created, last = tus_upload(unit_client, data, name="a.pdf", chunk=1500)
    assert last.status_code == 204
    evidence = Evidence.objects.get()
    assert evidence.sha256 == hashlib.sha256(data).hexdigest() and evidence.size == len(data)
    assert file_reads == []  # the staged file was not read again for its hash
    assert len(process_hashes) == 0  # dropped on completion


def test_a_switch_to_another_process_midway_falls_back_to_hashing_the_file(
        unit_client, file_reads, monkeypatch):
    data = pdf_bytes(5000)
    location = tus_create(unit_client, name="a.pdf", length=len(data))["Location"]
    assert tus_patch(unit_client, location, data[:2000], 0).status_code == 204
    other = _other_process(monkeypatch)
    assert tus_patch(unit_client, location, data[2000:4000], 2000).status_code == 204
    assert len(other) == 0  # it cannot continue a hash it never started
    assert tus_patch(unit_client, location, data[4000:], 4000).status_code == 204
    assert Evidence.objects.get().sha256 == hashlib.sha256(data).hexdigest()
    assert len(file_reads) == 1


def test_a_process_that_missed_a_patch_does_not_continue_its_old_hash(
        unit_client, file_reads, monkeypatch, process_hashes):
    data = pdf_bytes(6000)
    location = tus_create(unit_client, name="a.pdf", length=len(data))["Location"]
    assert tus_patch(unit_client, location, data[:2000], 0).status_code == 204
    _other_process(monkeypatch)
    assert tus_patch(unit_client, location, data[2000:4000], 2000).status_code == 204
    monkeypatch.setattr(running_hash, "hashes", process_hashes)  # back to the first server
    assert tus_patch(unit_client, location, data[4000:], 4000).status_code == 204
    assert Evidence.objects.get().sha256 == hashlib.sha256(data).hexdigest()
    assert len(file_reads) == 1


def test_bytes_rewritten_by_another_process_after_a_lost_tail_are_hashed_as_stored(
        unit_client, file_reads, monkeypatch, process_hashes):
    """This process hashed bytes 0-2000; another lost the tail in a crash (the file is cut
    to 1500) and received different bytes from 1500 to 2000. The first process's entry is
    at the same offset, but the row changed since: it must not be used."""
    data = pdf_bytes(5000)
    location = tus_create(unit_client, name="a.pdf", length=len(data))["Location"]
    assert tus_patch(unit_client, location, data[:2000], 0).status_code == 204
    _other_process(monkeypatch)
    with open(services.partial_path(Upload.objects.get()), "r+b") as f:
        f.truncate(1500)
    assert tus_patch(unit_client, location, data[2000:], 2000).status_code == 409
    changed = b"y" * 500
    assert tus_patch(unit_client, location, changed, 1500).status_code == 204
    monkeypatch.setattr(running_hash, "hashes", process_hashes)
    assert tus_patch(unit_client, location, data[2000:], 2000).status_code == 204
    stored = data[:1500] + changed + data[2000:]
    assert Evidence.objects.get().sha256 == hashlib.sha256(stored).hexdigest()
    assert len(file_reads) == 1


def test_a_completion_finished_by_head_after_a_cut_uses_the_running_hash(
        unit_client, file_reads, monkeypatch):
    data = pdf_bytes(3000)
    location = tus_create(unit_client, name="a.pdf", length=len(data))["Location"]
    with monkeypatch.context() as cut, pytest.raises(ZeroDivisionError):
        cut.setattr(services, "evidence_step_closed", lambda **kw: 1 / 0)
        tus_patch(unit_client, location, data, 0)
    upload = Upload.objects.get()
    services.upload_status(upload=upload)
    assert Evidence.objects.get().sha256 == hashlib.sha256(data).hexdigest()
    assert file_reads == []


def test_a_refused_or_terminated_upload_leaves_no_entry(unit_client, process_hashes):
    location = tus_create(unit_client, name="a.pdf", length=3000)["Location"]
    assert tus_patch(unit_client, location, pdf_bytes(3000)[:1000], 0).status_code == 204
    assert len(process_hashes) == 1
    assert unit_client.delete(location, headers={"Tus-Resumable": "1.0.0"}).status_code == 204
    assert len(process_hashes) == 0

    _created, last = tus_upload(unit_client, b"MZ" + b"\x00" * 2998, name="b.pdf", chunk=1000)
    assert last.status_code == 422
    assert len(process_hashes) == 0


def test_the_cache_is_bounded_and_evicts_the_oldest():
    cache = RunningHashes(max_entries=3)
    ids = [uuid.uuid4() for _ in range(4)]
    for pk in ids:
        cache.put(pk, offset=10, stamp=None, digest=hashlib.sha256(b"x" * 10))
    assert len(cache) == 3
    assert cache.take(ids[0], offset=10, stamp=None) is None  # evicted
    assert cache.take(ids[3], offset=11, stamp=None) is None  # another offset
    assert cache.take(ids[3], offset=10, stamp=None) is None  # dropped by the miss above
    assert cache.take(ids[2], offset=10, stamp=None).hexdigest() == hashlib.sha256(
        b"x" * 10).hexdigest()


@pytest.mark.parametrize("switch", [False, True])
def test_uploads_into_the_bucket_get_the_right_hash_either_way(client, personas, s3,
                                                               monkeypatch, switch):
    client.force_login(personas["unit"])
    data = pdf_bytes(300_000)
    location = tus_create(client, name="a.pdf", length=len(data))["Location"]
    assert tus_patch(client, location, data[:100_000], 0).status_code == 204
    if switch:
        _other_process(monkeypatch)
    assert tus_patch(client, location, data[100_000:], 100_000).status_code == 204
    evidence = Evidence.objects.get()
    assert evidence.sha256 == hashlib.sha256(data).hexdigest() == s3.sha256(
        evidence.storage_name)


def test_a_body_of_many_chunks_is_hashed_in_order(unit_client, monkeypatch, file_reads):
    """The chunk just read is hashed in a helper thread while the next is read and written:
    the order of the updates must still be the order of the bytes."""
    monkeypatch.setattr(receiving, "CHUNK_BYTES", 97)
    data = pdf_bytes(20_000)
    _created, last = tus_upload(unit_client, data, name="a.pdf", chunk=6_000)
    assert last.status_code == 204
    assert Evidence.objects.get().sha256 == hashlib.sha256(data).hexdigest()
    assert file_reads == []
