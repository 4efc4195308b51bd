"""An upload's PATCH body copied into its partial file, hashed on the way.

The body is read into page-aligned buffers in turn (kaohe.lib.request_body: under gunicorn
straight from the socket). Each buffer filled is written in one helper thread and hashed
in another while the request's thread fills the next; receiving, writing and SHA-256 each
release the GIL. A buffer is refilled only when both helpers are done with it, and each
helper takes the buffers in the order the bytes came.

The bytes go to the disk with O_DIRECT where the file system allows it: the disk takes them
from the buffer, with no copy into the page cache first. On the 2-core machine of
bench/bench_upload.py that copy cost more CPU than receiving and hashing together (1.2 s a
GiB), and the upload of 1 GiB went from 0.35 to about 0.5 of the client's ceiling without
it. O_DIRECT wants whole blocks at block-aligned offsets from block-aligned memory, so a
buffer holds its bytes at the place within a block they have in the file: its whole blocks
are written direct, and a part block at either end (a PATCH that starts or stops
mid-block) through the page cache, with pwrite on the file's own descriptor. The kernel
keeps the two coherent (it flushes and drops cached pages of a range before writing it
direct), but not in the order they reach the disk: a direct write past a cached block
could be durable before it, so a PATCH that starts mid-block syncs that block at once
(`_write_direct`). Where the file system refuses
O_DIRECT (tmpfs, some network file systems: the open or the first write fails with EINVAL),
every byte goes through the page cache and every WRITEBACK_BYTES the range written is
handed to the disk (`_write_back`), so that the fsync on the last byte waits for the tail.

`written` counts the bytes written from `start`, without a gap: after a failed write
nothing more is written. `digest` is None when the hash does not cover exactly those bytes
(a write failed, the request's thread stopped on an error), and completion then hashes the
file instead (kaohe.evidence.services).
"""

from __future__ import annotations

import errno
import mmap
import os
from concurrent.futures import Future, ThreadPoolExecutor
from typing import BinaryIO

from kaohe.lib import request_body

# The size of a buffer, and how many a request holds (the memory a PATCH takes).
CHUNK_BYTES = 1024 * 1024
BUFFERS = 4
# O_DIRECT's unit: offsets, lengths and memory in whole blocks of this size (a multiple of
# every logical block size Linux file systems use).
BLOCK_BYTES = 4096
# Without O_DIRECT: every so many bytes written, the kernel is asked to start writing them
# to the disk, so that the disk works while the next bytes arrive.
WRITEBACK_BYTES = 8 * 1024 * 1024


class Receiving:
    def __init__(self, digest, *, start: int) -> None:
        self.digest = digest
        self.start = start
        self.written = 0
        self.written_back = 0
        self.failed = False
        self.fd = -1
        self.direct: int | None = None

    def copy(self, body, body_length: int, f: BinaryIO) -> None:
        """Copy up to body_length bytes of body (a request, or a stream) into f (the
        partial file, open for writing) at `start`."""
        f.flush()
        self.fd = f.fileno()
        source = request_body.body_source(body)
        in_use: list[list[Future]] = [[] for _ in range(BUFFERS)]
        received = 0
        failure: BaseException | None = None
        try:
            buffers = [memoryview(mmap.mmap(-1, min(CHUNK_BYTES, body_length) + BLOCK_BYTES))
                       for _ in range(BUFFERS)]
            self.direct = _open_direct(f.name)
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="upload-write") as writer, \
                 ThreadPoolExecutor(max_workers=1, thread_name_prefix="upload-hash") as hasher:
                try:
                    turn = 0
                    while received < body_length:
                        index, turn = turn, (turn + 1) % len(buffers)
                        if any(job.exception() is not None for job in in_use[index]):
                            break  # a write failed: nothing after it is written
                        buffer = buffers[index]
                        # Where the bytes sit within a block in the file: so in the buffer;
                        # a full buffer then ends on a block boundary.
                        lead = (self.start + received) % BLOCK_BYTES
                        room = CHUNK_BYTES - lead if lead < CHUNK_BYTES else CHUNK_BYTES
                        view = buffer[lead:lead + min(room, body_length - received)]
                        filled, ended = _fill(source, view)
                        if not filled:
                            break
                        chunk = view[:filled]
                        jobs = [writer.submit(self._write, chunk, self.start + received)]
                        if self.digest is not None:
                            jobs.append(hasher.submit(self.digest.update, chunk))
                        in_use[index] = jobs
                        received += filled
                        if ended:
                            break
                finally:
                    failure = next((job.exception() for jobs in in_use for job in jobs
                                    if job.exception() is not None), None)
                    in_use.clear()  # the futures hold the failure: no cycle through here
            if failure is not None:
                raise failure
            if self.written != received:
                self.digest = None
        except BaseException:
            self.digest = None
            raise
        finally:
            failure = None
            if self.direct is not None:
                os.close(self.direct)

    def _write(self, chunk: memoryview, offset: int) -> None:
        """Write chunk at offset (in the writer's thread, in the order of the bytes)."""
        if self.failed:
            return
        try:
            if self.direct is not None:
                self._write_direct(self.direct, chunk, offset)
            else:
                _pwrite_all(self.fd, chunk, offset)
            self.written += len(chunk)
            if self.direct is None and self.written - self.written_back >= WRITEBACK_BYTES:
                self._write_back()
        except BaseException:
            self.failed = True
            raise

    def _write_direct(self, direct: int, chunk: memoryview, offset: int) -> None:
        end = offset + len(chunk)
        first = min(offset + (-offset % BLOCK_BYTES), end)  # the first block boundary
        last = max(end - end % BLOCK_BYTES, first)
        if first > offset:
            _pwrite_all(self.fd, chunk[:first - offset], offset)
            # A direct write extends the file's size on the disk at once, a block written
            # through the page cache reaches the disk at its writeback, up to 30 s later:
            # a direct write after it (in this PATCH or the next) would leave zeros inside
            # the size after a power cut, where bytes already acknowledged were (a previous
            # PATCH's tail shares this block). So the block goes to the disk now: one sync
            # for a PATCH that starts mid-block, after a cut (rare). A PATCH's tail needs
            # none: the next PATCH starts in its block, here.
            os.fdatasync(self.fd)
        if last > first:
            try:
                _pwrite_all(direct, chunk[first - offset:last - offset], first)
            except OSError as error:
                if error.errno != errno.EINVAL:
                    raise
                # The file system took the open but not the write: the page cache it is.
                self.direct = None
                os.close(direct)
                _pwrite_all(self.fd, chunk[first - offset:], first)
                return
        _pwrite_all(self.fd, chunk[last - offset:], last)

    def _write_back(self) -> None:
        """Start writing the bytes since the last call to the disk, without waiting.

        Left to itself the kernel writes an upload's bytes back 30 s after they arrive, or
        when dirty pages exceed a tenth of the memory: the fsync on the last byte of a 1 GiB
        file then waited for all of it. POSIX_FADV_DONTNEED starts the writeback of the
        range (it does not wait for it) and drops the pages already clean: nothing reads
        them again (the hash is taken on the way). Where the call does not exist, the fsync does
        all the work.
        """
        advise = getattr(os, "posix_fadvise", None)
        if advise is not None:
            advise(self.fd, self.start + self.written_back, self.written - self.written_back,
                   os.POSIX_FADV_DONTNEED)
        self.written_back = self.written


def _open_direct(path: str) -> int | None:
    """A second descriptor of the file for O_DIRECT writes, or None where there is none."""
    flag = getattr(os, "O_DIRECT", None)
    if flag is None:
        return None
    try:
        return os.open(path, os.O_WRONLY | os.O_CLOEXEC | flag)
    except OSError as error:
        if error.errno == errno.EINVAL:
            return None
        raise


def _pwrite_all(fd: int, data: memoryview, offset: int) -> None:
    while data:
        count = os.pwrite(fd, data, offset)
        data = data[count:]
        offset += count


def _fill(source, view: memoryview) -> tuple[int, bool]:
    """Read into view until it is full; (bytes read, whether the body ended first). The
    client going away mid-body (UnreadablePostError, a reset, a timeout) ends it."""
    filled = 0
    while filled < len(view):
        try:
            count = source.readinto(view[filled:])
        except OSError:
            return filled, True
        if not count:
            return filled, True
        filled += count
    return filled, False
