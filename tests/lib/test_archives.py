"""Bounded ZIP reading: what a member really inflates to counts, never what it declares."""

import io
import struct
import zipfile

import pytest

from kaohe.lib.archives import ArchiveLimits, ArchiveRefused, BoundedZip
from tests.lib.archive_samples import MiB, declare_size, zeros, zip_with

ROOMY = ArchiveLimits(max_entries=100, max_total_bytes=64 * MiB)


def _check(data: bytes, limits: ArchiveLimits = ROOMY) -> BoundedZip:
    with BoundedZip(io.BytesIO(data), limits) as archive:
        archive.check_all()
    return archive


def test_an_honest_archive_is_read_whole_and_counted():
    data = zip_with({"a.txt": b"hello", "b/c.txt": b"x" * 100_000})
    with BoundedZip(io.BytesIO(data), ROOMY) as archive:
        archive.check_all()
        assert archive.bytes_read == 100_005
        assert archive.read("a.txt") == b"hello"
        assert sorted(archive.names()) == ["a.txt", "b/c.txt"]


def test_a_member_that_declares_1000_bytes_but_inflates_to_far_more_is_refused_early():
    bomb = declare_size(zip_with({"ok.txt": b"fine", "bomb.bin": zeros(200 * MiB)}),
                        "bomb.bin", 1000)
    assert len(bomb) < 400_000
    with zipfile.ZipFile(io.BytesIO(bomb)) as archive:  # what a naive check sees
        assert sum(i.file_size for i in archive.infolist()) == 1004
    with BoundedZip(io.BytesIO(bomb), ROOMY) as archive, \
            pytest.raises(ArchiveRefused) as info:
        archive.check_all()
    assert info.value.code == "declared_size"
    assert "bomb.bin" in str(info.value) and "1000" in str(info.value)
    # It stopped right after the declared size, not after 200 MiB.
    assert archive.bytes_read < 2 * MiB


def test_the_real_total_is_bounded_even_when_every_declared_size_is_small():
    # Several honest-looking members that together exceed the limit.
    data = zip_with({f"{i}.bin": zeros(3 * MiB) for i in range(5)})
    limits = ArchiveLimits(max_entries=100, max_total_bytes=10 * MiB)
    with pytest.raises(ArchiveRefused) as info:
        _check(data, limits)
    assert info.value.code == "total"
    assert "10 MB" in str(info.value)


def test_a_single_member_over_its_own_limit_is_refused():
    data = zip_with({"big.bin": zeros(3 * MiB)})
    limits = ArchiveLimits(max_entries=100, max_total_bytes=64 * MiB, max_member_bytes=MiB)
    with pytest.raises(ArchiveRefused) as info:
        _check(data, limits)
    assert info.value.code == "member" and "big.bin" in str(info.value)


def test_the_ratio_is_measured_on_real_bytes():
    data = zip_with({"zeros.bin": zeros(50 * MiB)})
    limits = ArchiveLimits(max_entries=100, max_total_bytes=4096 * MiB, max_ratio=100)
    with BoundedZip(io.BytesIO(data), limits) as archive, \
            pytest.raises(ArchiveRefused) as info:
        archive.check_all()
    assert info.value.code == "ratio" and "100" in str(info.value)
    assert archive.bytes_read <= 100 * len(data) + 64 * 1024


def test_too_many_entries_are_refused():
    data = zip_with({f"{i}.txt": b"" for i in range(101)}, compression=zipfile.ZIP_STORED)
    with pytest.raises(ArchiveRefused) as info:
        _check(data)
    assert info.value.code == "entries" and "100" in str(info.value)


def test_a_central_directory_too_large_for_the_entry_limit_is_refused_before_parsing(
        monkeypatch):
    # Long names: few entries, but a directory far larger than the limit allows.
    data = zip_with({f"{i:05d}" + "n" * 60_000: b"" for i in range(40)},
                    compression=zipfile.ZIP_STORED)
    limits = ArchiveLimits(max_entries=50, max_total_bytes=MiB)

    def never(*args, **kwargs):
        raise AssertionError("the directory was parsed")

    monkeypatch.setattr(zipfile.ZipFile, "_RealGetContents", never)
    with pytest.raises(ArchiveRefused) as info:
        BoundedZip(io.BytesIO(data), limits)
    assert info.value.code == "directory"


def test_local_and_central_headers_that_disagree_are_refused():
    data = bytearray(zip_with({"a.txt": b"hello world"}))
    # Only the local header lies this time.
    struct.pack_into("<I", data, 22, 5)
    with pytest.raises(ArchiveRefused) as info:
        _check(bytes(data))
    assert info.value.code == "declared_size"


def test_a_wrong_crc_is_refused():
    data = bytearray(zip_with({"a.txt": b"hello world"}, compression=zipfile.ZIP_STORED))
    data[30 + len("a.txt")] ^= 0xFF  # the first stored byte
    with pytest.raises(ArchiveRefused) as info:
        _check(bytes(data))
    assert info.value.code == "damaged"


def test_an_encrypted_member_cannot_be_counted_and_is_refused():
    data = bytearray(zip_with({"secret.txt": b"hello"}))
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        start = archive.start_dir
    data[6] |= 1  # local header flag
    data[start + 8] |= 1  # central header flag
    with pytest.raises(ArchiveRefused) as info:
        _check(bytes(data))
    assert info.value.code == "encrypted" and "secret.txt" in str(info.value)


@pytest.mark.parametrize("data", [b"", b"not a zip", b"PK\x03\x04" + bytes(100),
                                  b"PK\x05\x06" + bytes(18)[:10]])
def test_garbage_is_refused_as_damaged(data):
    with pytest.raises(ArchiveRefused) as info:
        _check(data)
    assert info.value.code == "damaged"


def test_an_empty_archive_is_fine():
    assert _check(b"PK\x05\x06" + bytes(18)).bytes_read == 0


def test_the_refusal_has_an_english_text_too():
    data = zip_with({f"{i}.txt": b"" for i in range(101)}, compression=zipfile.ZIP_STORED)
    with pytest.raises(ArchiveRefused) as info:
        _check(data)
    assert "100" in info.value.english and "entries" in info.value.english
