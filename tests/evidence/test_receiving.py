"""A PATCH body into the partial file (kaohe.evidence.receiving): whole blocks go to the disk
with O_DIRECT, part blocks through the page cache, the hash covers exactly the bytes written,
and a file system without O_DIRECT gets every byte through the page cache."""

import errno
import hashlib
import io
import itertools
import os
import random

import pytest

from kaohe.evidence import receiving

BLOCK = receiving.BLOCK_BYTES


@pytest.fixture
def writes(monkeypatch):
    """Every pwrite the receiving makes: (descriptor, offset, length)."""
    seen = []
    original = os.pwrite

    def recording(fd, data, offset):
        seen.append((fd, offset, len(data)))
        return original(fd, data, offset)

    monkeypatch.setattr(receiving.os, "pwrite", recording)
    return seen


@pytest.fixture
def direct_io(tmp_path):
    """Skip where this machine's temporary file system has no O_DIRECT."""
    probe = tmp_path / "probe"
    probe.touch()
    fd = receiving._open_direct(str(probe))
    if fd is None:
        pytest.skip("no O_DIRECT on the temporary file system")
    os.close(fd)


@pytest.fixture
def no_direct_io(monkeypatch):
    """A file system that refuses O_DIRECT at the open, as tmpfs does."""
    original = os.open

    def refusing(path, flags, *args):
        if flags & getattr(os, "O_DIRECT", 0):
            raise OSError(errno.EINVAL, "Invalid argument")
        return original(path, flags, *args)

    monkeypatch.setattr(receiving.os, "open", refusing)


def _receive(path, data: bytes, *, start: int, digest=None):
    with open(path, "r+b" if path.exists() else "wb") as f:
        copying = receiving.Receiving(digest or hashlib.sha256(), start=start)
        copying.copy(io.BytesIO(data), len(data), f)
    return copying


def test_whole_blocks_go_direct_and_part_blocks_through_the_page_cache(tmp_path, direct_io,
                                                                       writes):
    path = tmp_path / "partial"
    path.write_bytes(b"a" * 7)  # a resumed upload: this PATCH starts mid-block
    data = random.Random(1).randbytes(3 * receiving.CHUNK_BYTES + 123)
    copying = _receive(path, data, start=7)

    assert path.read_bytes() == b"a" * 7 + data
    assert copying.written == len(data)
    assert copying.digest.hexdigest() == hashlib.sha256(data).hexdigest()
    buffered_fd = writes[0][0]  # the head part block comes first
    direct = [(offset, length) for fd, offset, length in writes if fd != buffered_fd]
    cached = [(offset, length) for fd, offset, length in writes if fd == buffered_fd]
    assert all(offset % BLOCK == 0 and length % BLOCK == 0 for offset, length in direct)
    assert sum(length for _offset, length in direct) == (7 + len(data)) // BLOCK * BLOCK - BLOCK
    # The head to the first block boundary, the tail after the last: nothing else cached.
    assert [c for c in cached if c[1]] == [(7, BLOCK - 7), ((7 + len(data)) // BLOCK * BLOCK,
                                                          (7 + len(data)) % BLOCK)]


@pytest.mark.parametrize("direct", [True, False])
def test_patches_of_any_length_at_any_offset_make_the_file(tmp_path, monkeypatch, direct,
                                                           request):
    """Many PATCHes of odd lengths, buffers smaller than a block and larger: the file holds
    every byte once, the hash carried from PATCH to PATCH is the file's."""
    request.getfixturevalue("direct_io" if direct else "no_direct_io")
    rng = random.Random(2)
    data = rng.randbytes(300_000)
    for chunk_bytes in (97, 3 * BLOCK, 64 * 1024):
        monkeypatch.setattr(receiving, "CHUNK_BYTES", chunk_bytes)
        path = tmp_path / f"partial-{chunk_bytes}"
        digest, offset = hashlib.sha256(), 0
        while offset < len(data):
            length = rng.choice([1, 100, BLOCK - 1, BLOCK, BLOCK + 1, 50_000])
            part = data[offset:offset + length]
            digest = _receive(path, part, start=offset, digest=digest).digest
            offset += len(part)
        assert path.read_bytes() == data
        assert digest.hexdigest() == hashlib.sha256(data).hexdigest()


def test_a_file_system_refusing_the_first_direct_write_gets_the_page_cache(
        tmp_path, direct_io, monkeypatch):
    """Some file systems take O_DIRECT at the open and refuse the write (EINVAL): that
    block and every byte after it go through the page cache."""
    original = os.pwrite
    calls = []

    def refusing_the_first(fd, data, offset):
        calls.append(fd)
        if len(calls) == 1:  # the PATCH starts on a block boundary: a direct write first
            raise OSError(errno.EINVAL, "Invalid argument")
        return original(fd, data, offset)

    monkeypatch.setattr(receiving.os, "pwrite", refusing_the_first)
    data = random.Random(3).randbytes(2 * receiving.CHUNK_BYTES + 5)
    path = tmp_path / "partial"
    copying = _receive(path, data, start=0)
    assert path.read_bytes() == data and copying.written == len(data)
    assert copying.digest.hexdigest() == hashlib.sha256(data).hexdigest()
    assert copying.direct is None
    assert len(set(calls[1:])) == 1 and calls[0] not in calls[1:]


def test_a_failed_write_leaves_no_hash_of_bytes_not_written(tmp_path, monkeypatch,
                                                            no_direct_io):
    """A chunk is hashed while it is written: if the write fails (the disk is full), the
    hash holds bytes the file does not, so it is dropped (completion hashes the file), and
    nothing is written after the failed chunk: the file has no gap."""
    monkeypatch.setattr(receiving, "CHUNK_BYTES", 10)
    original = os.pwrite
    calls = []

    def filling_up(fd, data, offset):
        calls.append(offset)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return original(fd, data, offset)

    monkeypatch.setattr(receiving.os, "pwrite", filling_up)
    path = tmp_path / "partial"
    with open(path, "wb") as f:
        copying = receiving.Receiving(hashlib.sha256(), start=0)
        with pytest.raises(OSError, match="No space"):
            copying.copy(io.BytesIO(b"x" * 50), 50, f)
    assert copying.written == 20 and path.read_bytes() == b"x" * 20
    assert copying.digest is None
    assert calls == [0, 10, 20]  # nothing after the failed write


def test_a_client_gone_midway_keeps_the_hash_of_what_arrived(tmp_path, monkeypatch):
    monkeypatch.setattr(receiving, "CHUNK_BYTES", 10)

    class Cut(io.BytesIO):
        def read(self, size=-1):
            if self.tell() >= 25:
                raise OSError("client went away")
            return super().read(size)

    path = tmp_path / "partial"
    with open(path, "wb") as f:
        copying = receiving.Receiving(hashlib.sha256(), start=0)
        copying.copy(Cut(bytes(range(50))), 50, f)
    assert copying.written == 30 and path.read_bytes() == bytes(range(30))
    assert copying.digest.hexdigest() == hashlib.sha256(bytes(range(30))).hexdigest()


def test_without_o_direct_received_bytes_are_handed_to_the_disk_as_they_arrive(
        monkeypatch, tmp_path, no_direct_io):
    """Every WRITEBACK_BYTES the kernel is asked to write the range just received, so the
    fsync on the last byte waits for the tail only: the ranges follow one another from
    where the PATCH starts, and the file holds every byte."""
    monkeypatch.setattr(receiving, "CHUNK_BYTES", 10)
    monkeypatch.setattr(receiving, "WRITEBACK_BYTES", 25)
    advised = []

    def advise(fd, offset, length, advice):
        assert advice == os.POSIX_FADV_DONTNEED
        # Written before it is advised: the bytes of the range are in the file.
        assert os.fstat(fd).st_size >= offset + length
        advised.append((offset, length))

    monkeypatch.setattr(receiving.os, "posix_fadvise", advise)
    path = tmp_path / "partial"
    path.write_bytes(b"a" * 7)
    _receive(path, bytes(range(100)), start=7)
    assert path.read_bytes() == b"a" * 7 + bytes(range(100))
    assert advised[0][0] == 7 and len(advised) == 3
    assert all(length >= 25 for _offset, length in advised)
    assert all(a[0] + a[1] == b[0] for a, b in itertools.pairwise(advised))


def test_a_patch_starting_mid_block_makes_that_block_durable_before_writing_direct(
        tmp_path, direct_io, monkeypatch):
    """A direct write extends the file's size on the disk at once; a block written through
    the page cache reaches the disk at its writeback, up to 30 s later. A PATCH resumed
    mid-block (after a cut) writes the rest of that block through the page cache: were
    the direct writes after it to come first, a power cut would leave zeros inside the
    file's size where acknowledged bytes were (found by a crash test on an ext4 image),
    and nothing would notice. So the block is synced before the first direct write."""
    events = []
    original_pwrite, original_sync = os.pwrite, os.fdatasync

    def pwrite(fd, data, offset):
        events.append(("write", offset, len(data)))
        return original_pwrite(fd, data, offset)

    def fdatasync(fd):
        events.append(("sync",))
        return original_sync(fd)

    monkeypatch.setattr(receiving.os, "pwrite", pwrite)
    monkeypatch.setattr(receiving.os, "fdatasync", fdatasync)
    path = tmp_path / "partial"
    path.write_bytes(b"a" * 5000)  # acknowledged by an earlier PATCH, cut mid-block
    data = random.Random(4).randbytes(3 * receiving.CHUNK_BYTES)
    _receive(path, data, start=5000)
    assert path.read_bytes() == b"a" * 5000 + data
    assert events[:3] == [("write", 5000, 2 * BLOCK - 5000), ("sync",),
                          ("write", 2 * BLOCK, receiving.CHUNK_BYTES - BLOCK)]
    assert events.count(("sync",)) == 1

    # A PATCH starting on a block boundary has nothing cached before it: no sync.
    events.clear()
    _receive(tmp_path / "aligned", data, start=0)
    assert ("sync",) not in events

    # One resumed mid-block that ends on a boundary writes no block direct itself, but
    # the next PATCH does: its head is synced all the same (found by the same crash test).
    events.clear()
    path = tmp_path / "edge"
    _receive(path, data[:5000], start=0)
    _receive(path, data[5000:2 * BLOCK], start=5000)
    assert events[-2:] == [("write", 5000, 2 * BLOCK - 5000), ("sync",)]
    _receive(path, data[2 * BLOCK:], start=2 * BLOCK)
    assert path.read_bytes() == data


def test_a_failed_copy_leaves_no_descriptor_open(tmp_path, direct_io, monkeypatch):
    """Whatever fails (here the buffers cannot be had), the O_DIRECT descriptor is closed:
    an open one would keep a removed partial file's space."""
    def open_fds():
        return len(os.listdir("/proc/self/fd"))

    path = tmp_path / "partial"
    path.touch()
    before = open_fds()

    def no_memory(*args):
        raise OSError(errno.ENOMEM, "Cannot allocate memory")

    monkeypatch.setattr(receiving.mmap, "mmap", no_memory)
    with open(path, "r+b") as f, pytest.raises(OSError, match="allocate"):
        receiving.Receiving(hashlib.sha256(), start=0).copy(io.BytesIO(b"x" * 10), 10, f)
    assert open_fds() == before


def test_a_failed_write_leaves_no_cycle_holding_the_buffers(tmp_path, monkeypatch, no_direct_io):
    """The write error raised to the caller must not keep the request's buffers alive
    through a reference cycle (they would stay until the garbage collector runs)."""
    import gc
    import weakref

    monkeypatch.setattr(receiving, "CHUNK_BYTES", 10)
    made = []
    original_mmap = receiving.mmap.mmap

    class Tracked(original_mmap):
        pass

    def tracking(*args):
        buffer = Tracked(*args)
        made.append(weakref.ref(buffer))
        return buffer

    monkeypatch.setattr(receiving.mmap, "mmap", tracking)

    def full(fd, data, offset):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(receiving.os, "pwrite", full)
    gc.disable()
    try:
        with open(tmp_path / "partial", "wb") as f, pytest.raises(OSError, match="No space"):
            receiving.Receiving(hashlib.sha256(), start=0).copy(io.BytesIO(b"x" * 50), 50, f)
        assert made and all(ref() is None for ref in made)
    finally:
        gc.enable()
