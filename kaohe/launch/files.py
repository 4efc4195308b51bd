"""The files of the launch: category plans and training materials.

They are private like evidence: stored with the default storage under a random name (never
one taken from the user), checked by content with kaohe.evidence.filetypes, and served
only through views that check access (attachment, nosniff, private, no-store).
"""

import hashlib
import tempfile
import uuid
from dataclasses import dataclass
from itertools import chain
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.http import FileResponse
from django.utils.translation import gettext as _

from kaohe.evidence import filetypes
from kaohe.lib import storage

# Every launch file is stored below this folder (launch/<year>/plans, launch/<year>/training).
FOLDER = "launch"
PLAN_TYPES = frozenset({"pdf", "doc", "docx"})
# Slides, handbooks, forms and recordings of a training session.
MATERIAL_TYPES = frozenset({"pdf", "doc", "docx", "xls", "xlsx", "pptx", "zip", "mp4",
                            "jpeg", "png"})


class FileRefused(Exception):
    """The upload is not accepted; the message is for the user."""


@dataclass(frozen=True)
class StoredFile:
    original_name: str
    storage_name: str
    size: int
    sha256: str
    content_type: str


def max_file_bytes() -> int:
    return getattr(settings, "LAUNCH_MAX_FILE_BYTES", 200 * 1024**2)


def _allowed_text(keys) -> str:
    return "、".join(sorted(ext for key in keys for ext in filetypes.ALLOWED[key].extensions))


def store(upload, *, folder: str, allowed: frozenset[str]) -> StoredFile:
    """Check an uploaded file by its content and keep it under a random name.

    The file is checked in a temporary copy first, so a refused file never reaches the
    storage. The caller writes the row that lists the returned name, and discards the
    file if that fails.
    """
    label = filetypes.clean_label(upload.name or "")
    if upload.size is None or upload.size <= 0:
        raise FileRefused(_("文件为空。"))
    if upload.size > max_file_bytes():
        raise FileRefused(_("文件过大：单个文件不能超过 %(max)d MB。")
                          % {"max": max_file_bytes() // 1024**2})
    try:
        expected = filetypes.check_name(label)
    except filetypes.Refused as refusal:
        raise FileRefused(str(refusal)) from None
    if expected.key not in allowed:
        raise FileRefused(_("不支持的文件类型“.%(ext)s”。允许的类型：%(allowed)s。")
                          % {"ext": filetypes.extension_of(label),
                             "allowed": _allowed_text(allowed)})
    digest = hashlib.sha256()
    with tempfile.NamedTemporaryFile(prefix="kaohe-launch-") as temp:
        for chunk in upload.chunks():
            digest.update(chunk)
            temp.write(chunk)
        temp.flush()
        try:
            file_type = filetypes.detect(temp.name, label=label)
        except filetypes.Refused as refusal:
            raise FileRefused(str(refusal)) from None
        temp.seek(0)
        name = default_storage.save(f"{folder}/{uuid.uuid4()}", File(temp))
    return StoredFile(label, name, default_storage.size(name), digest.hexdigest(),
                      file_type.content_type)


def verify_launch_files() -> storage.FilesReport:
    """Re-hash every category plan's and training material's stored file; list missing and
    changed ones, and files in the launch folder that no row lists (`kaohe verify`)."""
    from kaohe.launch.models import CategoryPlan, TrainingMaterial

    fields = ("pk", "storage_name", "sha256", "size")
    plans = CategoryPlan.objects.order_by("pk").values_list(*fields)
    materials = TrainingMaterial.objects.order_by("pk").values_list(*fields)
    rows = chain(
        ((f"category plan {pk}", name, sha256, size) for pk, name, sha256, size in plans),
        ((f"training material {pk}", name, sha256, size)
         for pk, name, sha256, size in materials))
    return storage.verify_files(rows, folder=FOLDER)


def discard(storage_name: str) -> None:
    """Remove a stored file whose row was never written (the caller's change failed)."""
    default_storage.delete(storage_name)


def delete_on_commit(storage_name: str) -> None:
    """Remove a file that no row lists any more, once that change is committed."""
    transaction.on_commit(lambda: default_storage.delete(storage_name))


class _OpenOnRead:
    """A stored file opened only when its bytes are first wanted.

    A response that is built but never sent (the test client does not close a streaming
    response nobody reads) then holds no open file. In S3 the object is streamed, not
    first copied whole (kaohe.lib.storage.open_stream).
    """

    def __init__(self, storage_name: str):
        self.storage_name = storage_name
        self._file: Any = None  # the stream of kaohe.lib.storage.open_stream, once opened

    def read(self, size=-1):
        if self._file is None:
            self._file = storage.open_stream(self.storage_name)
        return self._file.read(size)

    def close(self):
        if self._file is not None:
            self._file.close()


def response(*, storage_name: str, original_name: str, content_type: str) -> FileResponse:
    """The file as a download: never shown inline, never sniffed, never cached.

    Raises FileNotFoundError when the stored file is missing.
    """
    size = default_storage.size(storage_name)
    result = FileResponse(_OpenOnRead(storage_name),
                          content_type=content_type or "application/octet-stream")
    result.block_size = 512 * 1024  # not FileResponse's 4 KiB
    result["Content-Length"] = str(size)
    result["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(original_name, safe='')}"
    result["X-Content-Type-Options"] = "nosniff"
    result["Cache-Control"] = "private, no-store"
    return result
