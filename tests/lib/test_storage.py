"""Stored files through the storage API on a local disk (kaohe.lib.storage); the same
functions on S3 are tested against moto in tests/evidence/test_s3_storage.py."""

import hashlib
import os

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage

from kaohe.lib import storage


@pytest.fixture
def local(tmp_path):
    return FileSystemStorage(location=str(tmp_path / "files"))


@pytest.fixture
def staged(tmp_path):
    path = tmp_path / "staged.part"
    path.write_bytes(os.urandom(3 * 1024 * 1024 + 7))
    return path


@pytest.mark.parametrize("link", [True, False])
def test_a_staged_file_is_stored_under_its_name_with_its_hash(local, staged, link):
    data = staged.read_bytes()
    saved = storage.save_hashed("evidence/2017/a", staged, storage=local, link=link)
    assert saved == storage.Saved("evidence/2017/a", hashlib.sha256(data).hexdigest(), len(data))
    with local.open("evidence/2017/a") as stored:
        assert stored.read() == data
    # A link shares the staged file's inode (no copy); otherwise the bytes were copied.
    linked = os.stat(local.path("evidence/2017/a")).st_ino == os.stat(staged).st_ino
    assert linked is link


def test_a_name_already_stored_is_refused_unless_replaced(local, staged):
    local.save("evidence/2017/a", ContentFile(b"earlier"))
    for link in (True, False):
        with pytest.raises(FileExistsError):
            storage.save_hashed("evidence/2017/a", staged, storage=local, link=link)
    assert list(storage.walk(storage=local)) == ["evidence/2017/a"]  # nothing left beside it
    saved = storage.save_hashed("evidence/2017/a", staged, storage=local, replace=True)
    assert storage.sha256_of("evidence/2017/a", storage=local) == (saved.sha256, saved.size)


def test_walk_lists_every_file_below_a_folder_and_no_symbolic_link(local, tmp_path):
    for name in ("evidence/2017/b", "evidence/2017/a", "evidence/2018/c", "exports/x.zip"):
        local.save(name, ContentFile(b"x"))
    outside = tmp_path / "outside"
    (outside / "deep").mkdir(parents=True)
    (outside / "secret").write_bytes(b"not ours")
    os.symlink(outside / "secret", local.path("evidence/2017/link"))
    os.symlink(outside, local.path("evidence/linked-folder"))
    assert list(storage.walk("evidence", storage=local)) == [
        "evidence/2017/a", "evidence/2017/b", "evidence/2018/c"]
    assert len(list(storage.walk(storage=local))) == 4
    assert list(storage.walk("nothing-here", storage=local)) == []


def test_open_stream_keeps_a_local_files_fileno_for_sendfile(local):
    local.save("evidence/2017/a", ContentFile(b"12345"))
    with storage.open_stream("evidence/2017/a", storage=local) as handle:
        assert handle.size == 5 and handle.fileno() > 2 and handle.read(2) == b"12"
    with pytest.raises(FileNotFoundError):
        storage.open_stream("evidence/2017/missing", storage=local)
