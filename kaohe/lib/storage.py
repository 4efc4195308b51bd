"""Stored files through Django's storage API, on a local disk or in object storage alike.

Everything Kaohe keeps (evidence, launch files, exports) is in storages["default"]: a
FileSystemStorage under DATA_DIR/files unless KAOHE_S3_BUCKET names a bucket
(kaohe.lib.s3). This module adds what the API lacks: storing a local file while hashing
it, reading a stored file as a stream, and listing a folder with everything below it.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, BinaryIO, cast

from django.core.files import File
from django.core.files.storage import FileSystemStorage, Storage, default_storage

_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Saved:
    name: str
    sha256: str
    size: int


class _HashingReader:
    """A read-only stream over a local file that hashes every byte read through it.

    It cannot seek, so that nobody (boto3 retrying a part, say) reads a byte twice: the
    hash is of exactly the bytes sent, in order, and the file is read once.
    """

    def __init__(self, handle: BinaryIO, *, hashing: bool = True) -> None:
        self._handle = handle
        self.digest = hashlib.sha256() if hashing else None
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        data = self._handle.read(size)
        if self.digest is not None:
            self.digest.update(data)
        self.size += len(data)
        return data

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    @property
    def closed(self) -> bool:
        return self._handle.closed

    def close(self) -> None:
        """The caller closes the file it opened."""


class _Content(File[bytes]):
    DEFAULT_CHUNK_SIZE = _CHUNK  # FileSystemStorage writes in File.chunks() (64 KiB)


def local_path(name: str, *, storage: Storage | None = None) -> Path | None:
    """The file's path when the storage is a local file system, else None."""
    storage = storage or default_storage
    if isinstance(storage, FileSystemStorage):  # default_storage's proxy answers too
        return Path(storage.path(name))
    return None


def save_hashed(name: str, source: Path, *, storage: Storage | None = None,
                replace: bool = False, link: bool = False, sha256: str | None = None) -> Saved:
    """Store the local file `source` under exactly `name`, reading it once; (name, SHA-256,
    size) of the bytes stored.

    `sha256`, when the caller already knows the file's hash (computed as its bytes were
    written, under a lock that kept anyone else from changing it), is taken as the hash
    and the file is not hashed again.

    `replace` deletes what is stored under the name first. `link` lets a local storage on
    the same file system take the file as a hard link (no copy; the caller then removes
    `source`): measured on 1 GiB, a link and one read for the hash take 1.7-2.0 s, a copy
    hashed on the way and fsynced 6.5-10 s. Anywhere else the bytes are copied and
    hashed in the same pass (a multipart upload on S3).
    """
    storage = storage or default_storage
    if replace:
        storage.delete(name)
    target = local_path(name, storage=storage)
    if link and target is not None:
        saved = _link(name, source, target, storage, sha256=sha256)
        if saved is not None:
            return saved
    with open(source, "rb") as handle:
        reader = _HashingReader(handle, hashing=sha256 is None)
        stored = storage.save(name, _Content(cast(IO[bytes], reader), name=name))
    if stored != name:
        # Another process stored a file under the name meanwhile: keep neither's doubt.
        storage.delete(stored)
        raise FileExistsError(f"{name} is already stored")
    if target is not None:
        _fsync(target)
    if reader.digest is not None:
        sha256 = reader.digest.hexdigest()
    return Saved(name, cast(str, sha256), reader.size)


def copy(source: str, target: str, *, storage: Storage | None = None) -> Saved:
    """Store a copy of the stored file `source` under exactly `target` (nothing stored
    there yet), hashed on the way."""
    storage = storage or default_storage
    with open_stream(source, storage=storage) as handle:
        reader = _HashingReader(handle)
        stored = storage.save(target, _Content(cast(IO[bytes], reader), name=target))
    if stored != target:
        storage.delete(stored)
        raise FileExistsError(f"{target} is already stored")
    if (path := local_path(target, storage=storage)) is not None:
        _fsync(path)
    return Saved(target, cast(Any, reader.digest).hexdigest(), reader.size)


def _link(name: str, source: Path, target: Path, storage: Storage, *,
          sha256: str | None) -> Saved | None:
    """Hard-link source into the local storage and hash it (unless its hash is known);
    None if the file system cannot link across the two places (another device, no hard
    links)."""
    with open(source, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        if sha256 is None:
            sha256 = hashlib.file_digest(handle, "sha256").hexdigest()
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except FileExistsError:
        raise FileExistsError(f"{name} is already stored") from None
    except OSError:
        return None
    mode = getattr(storage, "file_permissions_mode", None)
    if mode is not None:
        os.chmod(target, mode)
    _fsync_dir(target.parent)
    return Saved(name, sha256, size)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    _fsync_dir(path.parent)


def _fsync_dir(path: Path) -> None:
    """Make a new name in the directory durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _ObjectStream:
    """An S3 object read as its bytes arrive (django-storages' S3File would first copy the
    whole object to a spooled temporary file)."""

    def __init__(self, handle: Any) -> None:
        self._handle = handle
        self._body: Any = None
        self.size: int = handle.size
        self.name: str = handle.name
        self.closed = False

    def start(self) -> None:
        """Send the GET now: its answer is the object as it is now, even if it is deleted
        before the body is read."""
        if self._body is None:
            self._body = self._handle.obj.get()["Body"]

    def read(self, size: int | None = -1) -> bytes:
        self.start()
        return cast(bytes, self._body.read(None if size is None or size < 0 else size))

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        if self._body is not None:
            self._body.close()
        self._handle.close()
        self.closed = True

    def __enter__(self) -> _ObjectStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_stream(name: str, *, storage: Storage | None = None) -> Any:
    """A stored file opened for reading from its start, with `size`; read it in chunks.

    Raises FileNotFoundError if nothing is stored under the name. A local file keeps its
    fileno(), so a WSGI server can send it with sendfile.
    """
    storage = storage or default_storage
    handle = storage.open(name, "rb")
    if getattr(handle, "obj", None) is not None:  # S3File: its boto3 Object
        return _ObjectStream(handle)
    return handle


class StoredStream:
    """A stored file as a streaming response reads it: in chunks, opened when its bytes are
    first wanted or, with `open_now`, at once (a file about to be deleted: a local file
    stays readable through its open descriptor, an S3 GET is already answering).

    A response that is built but never sent (Django's test client does not close a
    streaming response nobody reads) holds no open file: nothing is opened until the first
    read, and a file opened at once is closed when the stream is dropped. It has no `name`,
    so that FileResponse never derives a Content-Disposition from the storage name.
    """

    def __init__(self, name: str, *, storage: Storage | None = None,
                 open_now: bool = False) -> None:
        self.storage_name = name
        self._storage = storage
        self._file: Any = None
        if open_now:
            handle = self._open()
            if hasattr(handle, "start"):
                handle.start()

    def _open(self) -> Any:
        if self._file is None:
            self._file = open_stream(self.storage_name, storage=self._storage)
        return self._file

    @property
    def size(self) -> int:
        return int(self._open().size)

    def read(self, size: int = -1) -> bytes:
        return cast(bytes, self._open().read(size))

    def fileno(self) -> int:
        """A local file's descriptor, so that a WSGI server can send it with sendfile."""
        handle = self._open()
        if not hasattr(handle, "fileno"):
            raise io.UnsupportedOperation("fileno")
        return int(handle.fileno())

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> StoredStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()


def sha256_of(name: str, *, storage: Storage | None = None) -> tuple[str, int]:
    """(SHA-256, size) of a stored file, read once as a stream."""
    digest, size = hashlib.sha256(), 0
    with open_stream(name, storage=storage) as handle:
        while block := handle.read(_CHUNK):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


@dataclass
class FilesReport:
    """What re-hashing the files a table lists found (the labels name rows, for the operator)."""

    checked: int = 0
    missing: list[str] = field(default_factory=list)  # rows whose file is gone
    changed: list[str] = field(default_factory=list)  # rows whose SHA-256 or size differs
    orphans: list[str] = field(default_factory=list)  # stored names in the folder no row lists

    @property
    def ok(self) -> bool:
        return not (self.missing or self.changed or self.orphans)


def verify_files(rows: Iterable[tuple[str, str, str, int]], *, folder: str,
                 pending: Callable[[str], bool] = lambda name: False,
                 storage: Storage | None = None) -> FilesReport:
    """Re-hash the stored file of every (label, storage name, SHA-256, size) row, and list
    the files under `folder` that no row lists, but for those `pending` says are being
    written. A name outside the folder counts as missing: Kaohe never gives one."""
    report, listed = FilesReport(), set()
    for label, name, sha256, size in rows:
        listed.add(name)
        report.checked += 1
        if not name.startswith(f"{folder}/"):
            report.missing.append(label)
            continue
        try:
            found = sha256_of(name, storage=storage)
        except FileNotFoundError:
            report.missing.append(label)
            continue
        if found != (sha256, size):
            report.changed.append(label)
    report.orphans = sorted(name for name in walk(folder, storage=storage)
                            if name not in listed and not pending(name))
    return report


def walk(folder: str = "", *, storage: Storage | None = None) -> Iterator[str]:
    """Every stored file's name under folder (all of the storage by default), sorted by
    folder; a folder that does not exist holds nothing. On a local disk symbolic links are
    neither listed nor followed: Kaohe never makes them, so they point outside its files."""
    storage = storage or default_storage
    try:
        directories, files = storage.listdir(folder)
    except FileNotFoundError:
        return
    prefix = f"{folder.rstrip('/')}/" if folder else ""
    for name in sorted(files):
        if not _is_link(prefix + name, storage):
            yield prefix + name
    for directory in sorted(directories):
        if not _is_link(prefix + directory, storage):
            yield from walk(prefix + directory, storage=storage)


def _is_link(name: str, storage: Storage) -> bool:
    path = local_path(name, storage=storage)
    return path is not None and path.is_symlink()
