"""Uploads, evidence and the files behind them.

The order of the steps is what makes a cut harmless. An upload's bytes go to a partial
file in the staging directory (settings.KAOHE_UPLOAD_STAGING_DIR) and its offset to the
database only after they are flushed; bytes beyond the recorded offset are dropped on the
next request. On the last byte the file is fsynced and checked, then stored in the
default storage (a local folder or an S3 bucket, kaohe.lib.storage) with the SHA-256
computed while the bytes arrived (kaohe.evidence.running_hash), or hashed in the same pass
when another process received some of them, and only then is the Evidence row written, in
one transaction with its audit entry; the partial file is removed last. A crash before the
row leaves a stored file that no row lists (verify_evidence_files reports it) and the
partial file, from which the next request completes the upload again; it never leaves a
row without its file.

Every change to an upload happens under an exclusive flock on its partial file, which
exists until the row is written, so a request that arrives during completion either
waits for nothing (UploadBusy, answered 423 and retried by the client) or finds the
finished row.

Its length (over 400 lines) is the order of the steps below, which has to be read in one
place to see that every cut is harmless.
"""

import fcntl
import hashlib
import logging
import os
import re
import shutil
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kaohe.accounts.scope import Reach, Scope
from kaohe.audit.services import log_action
from kaohe.directory.models import Province, Unit
from kaohe.evidence import filetypes, running_hash
from kaohe.evidence.models import Evidence, EvidenceKind, Upload
from kaohe.evidence.receiving import Receiving
from kaohe.lib import clock, storage
from kaohe.rounds.guards import ensure_round_writable
from kaohe.rounds.selectors import current_round

logger = logging.getLogger(__name__)

# Room left on the disk beyond the announced upload, so that uploads never fill it.
_DISK_RESERVE = 512 * 1024 * 1024
# Evidence files are stored in this folder of the default storage, named by their ids.
EVIDENCE_FOLDER = "evidence"
_STORAGE_NAME = re.compile(r"evidence/\d{4}/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-"
                           r"[0-9a-f]{12}")


class UploadError(Exception):
    """A refusal with a message for the user."""


class UploadRefused(UploadError):
    """The request or the finished file is not acceptable (type, name, round)."""


class UploadTypeRefused(UploadRefused):
    """The file's name announces a type that is not allowed."""


class UploadTooLarge(UploadError):
    pass


class UploadNoSpace(UploadError):
    pass


class UploadGone(UploadError):
    """The upload was refused earlier or its data was lost; the client must start again."""


class UploadBusy(UploadError):
    """Another request is working on this upload right now."""


class OffsetMismatch(UploadError):
    def __init__(self, offset: int):
        super().__init__(_("上传进度不一致，请从 %(offset)d 字节处继续。") % {"offset": offset})
        self.offset = offset


# Limits and places -------------------------------------------------------------------------

def max_file_bytes() -> int:
    return getattr(settings, "EVIDENCE_MAX_FILE_BYTES", 4 * 1024**3)


def max_request_bytes() -> int:
    """One PATCH request's body; the page sends 8 MiB chunks, the benchmark 64 MiB."""
    return getattr(settings, "EVIDENCE_MAX_REQUEST_BYTES", 128 * 1024**2)


def partial_root() -> Path:
    """The staging directory of uploads in progress (shared by every app server)."""
    return Path(settings.KAOHE_UPLOAD_STAGING_DIR)


def partial_path(upload: Upload) -> Path:
    return partial_root() / f"{upload.pk}.part"


def storage_name_for(upload: Upload) -> str:
    """The finished file's name in the default storage; never from user input."""
    return f"{EVIDENCE_FOLDER}/{timezone.localtime(upload.created_at).year:04d}/{upload.pk}"


def evidence_file_open(evidence: Evidence):
    """The evidence's stored file, opened for reading in chunks, with its `size`.

    Raises FileNotFoundError when it is missing, ValueError for a name Kaohe never gives.
    """
    if not _STORAGE_NAME.fullmatch(evidence.storage_name):
        raise ValueError(f"unexpected storage name for evidence {evidence.pk}")
    return storage.open_stream(evidence.storage_name)


def upload_owner(user) -> dict | None:
    """Whose evidence the user's uploads become: its unit or its province, else nobody's."""
    scope = Scope.of(user)
    if scope.reach is Reach.UNIT:
        return {"unit_id": scope.unit_id, "province_id": None}
    if scope.reach is Reach.PROVINCE:
        return {"unit_id": None, "province_id": scope.province_id}
    return None


# The step the owner's evidence serves (tus metadata "step"), and the default one.
_EVIDENCE_STEPS = {"unit": ("self_report", "rectification"), "province": ("provincial_report",)}


def evidence_step_closed(*, round, unit_id=None, province_id=None, step_code: str = ""
                         ) -> str | None:
    """Why the owner can no longer add evidence for the step, or None while it is open:
    after the owner's deadline (with its extension) for the step the evidence belongs to."""
    from kaohe.submissions import deadlines

    kind = "unit" if unit_id else "province"
    codes = _EVIDENCE_STEPS[kind]
    code = step_code if step_code in codes else codes[0]
    if code == "rectification":  # its round is the unit's results round; sent back reopens
        from kaohe.outcomes.services import rectification_upload_closed

        return rectification_upload_closed(unit_id=unit_id)
    step = round.steps.filter(code=code).first()
    if step is None:
        return None
    party = ({"unit": Unit.objects.get(pk=unit_id)} if unit_id
             else {"province": Province.objects.get(pk=province_id)})
    if deadlines.is_open(step, **party):
        return None
    return _("“%(step)s”已于%(day)s截止，不能再上传材料；如需延期，请联系国务院扶贫办。") % {
        "step": step.name,
        "day": deadlines.deadline_for(step, **party).strftime("%Y-%m-%d")}


# The tus operations -----------------------------------------------------------------------

def _printable(text: str) -> str:
    return "".join(ch for ch in text if ch >= " " and ch != "\x7f")


def upload_create(*, user, length: int, filename: str, metadata: dict) -> Upload:
    """Start an upload of `length` bytes for the user's unit or province in the current round."""
    owner = upload_owner(user)
    if owner is None:
        raise UploadRefused(_("当前账号不能上传证明材料。"))
    round_ = current_round()
    if round_ is None:
        raise UploadRefused(_("当前没有考核轮次，暂不能上传材料。"))
    ensure_round_writable(round_, error=UploadRefused)
    closed = evidence_step_closed(round=round_, step_code=str(metadata.get("step", "")),
                                  **owner)
    if closed:
        raise UploadRefused(closed)
    if length <= 0:
        raise UploadRefused(_("文件为空。"))
    if length > max_file_bytes():
        raise UploadTooLarge(_("文件过大：单个文件不能超过 %(max)s。")
                             % {"max": _size_text(max_file_bytes())})
    label = filetypes.clean_label(filename)
    try:
        filetypes.check_name(label)
    except filetypes.Refused as refusal:
        raise UploadTypeRefused(str(refusal)) from None
    partial_root().mkdir(parents=True, exist_ok=True)
    if shutil.disk_usage(partial_root()).free < length + _DISK_RESERVE:
        raise UploadNoSpace(_("服务器存储空间不足，请联系管理员。"))

    # Metadata is client text: control characters (NUL above all, which PostgreSQL cannot
    # store in JSON) are dropped before it is kept.
    metadata = {_printable(str(k))[:100]: _printable(str(v))[:1000]
                for k, v in list(metadata.items())[:20]}
    upload = Upload(round=round_, created_by=user, original_name=label, length=length,
                    metadata=metadata, **owner)
    # The partial file first: a crash before the row leaves only a stray partial file.
    with open(partial_path(upload), "xb"):
        pass
    try:
        upload.save()
    except BaseException:
        partial_path(upload).unlink(missing_ok=True)
        raise
    return upload


def upload_append(*, upload: Upload, offset: int, body, body_length: int) -> Upload:
    """Append up to body_length bytes read from body (a request) at offset.

    The body is streamed through a few buffers (kaohe.evidence.receiving), never held
    whole. A client that goes away mid-body keeps what arrived: the new offset is what was
    written. On the last byte the upload is completed, which may raise UploadRefused.
    """
    ensure_round_writable(upload.round_id, error=UploadRefused)
    with _locked(upload) as (upload, f):
        if upload.rejected_reason:
            raise UploadGone(upload.rejected_reason)
        if upload.completed_at:
            if offset != upload.length or body_length:
                raise OffsetMismatch(upload.length)
            return upload
        if f is None:
            _reject(upload, _("上传的数据已丢失，请重新上传。"), source=None)
            raise UploadGone(upload.rejected_reason)
        _reconcile(upload, f)
        if offset != upload.offset:
            raise OffsetMismatch(upload.offset)
        if body_length > upload.length - upload.offset:
            raise UploadTooLarge(_("发送的数据超过了文件声明的大小。"))
        # The SHA-256 of the bytes so far, if this process received them all (running_hash).
        digest = running_hash.hashes.take(upload.pk, offset=upload.offset,
                                          stamp=upload.updated_at)
        if digest is None and upload.offset == 0:
            digest = hashlib.sha256()
        f.seek(upload.offset)
        receiving = Receiving(digest, start=upload.offset)
        try:
            receiving.copy(body, body_length, f)
        finally:
            # Flushed before it is recorded: the recorded offset never runs ahead of the file.
            f.flush()
            _save_offset(upload, upload.offset + receiving.written)
            if receiving.digest is not None:
                running_hash.hashes.put(upload.pk, offset=upload.offset,
                                        stamp=upload.updated_at, digest=receiving.digest)
        if upload.offset == upload.length:
            os.fsync(f.fileno())
            _finish(upload)
        return upload


def upload_status(*, upload: Upload) -> Upload:
    """The upload as a HEAD request reports it.

    An upload that has all its bytes but neither evidence nor a refusal had its completion
    cut short (the server stopped mid-way): complete it now, so the client that comes back
    is not told "done" about evidence that does not exist.
    """
    if upload.rejected_reason:
        raise UploadGone(upload.rejected_reason)
    if upload.offset == upload.length and upload.completed_at is None:
        upload_complete(upload=upload)
    return upload


def upload_complete(*, upload: Upload) -> Evidence | None:
    """Check, hash and store a fully received upload as Evidence (id = the upload's id).

    Refused files (wrong type, archive over the limits) are deleted and the reason kept on
    the upload; UploadRefused is raised with it.
    """
    ensure_round_writable(upload.round_id, error=UploadRefused)
    with _locked(upload) as (upload, f):
        if upload.completed_at:
            # Finished by another request meanwhile (its evidence may since have been removed).
            return Evidence.objects.filter(pk=upload.pk).first()
        if upload.rejected_reason:
            raise UploadGone(upload.rejected_reason)
        if upload.offset != upload.length:
            raise ValueError(f"upload {upload.pk} is not complete")
        if f is None:
            _reject(upload, _("上传的数据已丢失，请重新上传。"), source=None)
            raise UploadGone(upload.rejected_reason)
        os.fsync(f.fileno())
        return _finish(upload)


def upload_terminate(*, upload: Upload) -> None:
    """The tus termination: drop the upload and its partial data; finished evidence stays."""
    with _locked(upload) as (upload, f):
        running_hash.hashes.drop(upload.pk)
        if f is not None:
            partial_path(upload).unlink(missing_ok=True)
        if upload.completed_at is None and upload.offset == upload.length:
            # A completion cut short may have stored the file without its row: nobody
            # else refers to it.
            default_storage.delete(storage_name_for(upload))
        upload.delete()


@contextmanager
def _locked(upload: Upload):
    """Hold the exclusive lock on the upload's partial file; yield (fresh upload, file).

    The file is None when there is none: the upload was finished, refused, or its data
    was lost.
    """
    try:
        f = open(partial_path(upload), "r+b")  # noqa: SIM115 - closed below
    except FileNotFoundError:
        upload.refresh_from_db()
        yield upload, None
        return
    with f:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UploadBusy(_("该文件正在处理中，请稍后重试。")) from None
        # Whoever held the lock before may have changed the row (and finished the upload).
        upload.refresh_from_db()
        if upload.completed_at or upload.rejected_reason:
            # Left behind by a cut after the row was written: the stored file is the one.
            partial_path(upload).unlink(missing_ok=True)
            yield upload, None
            return
        yield upload, f


def _reconcile(upload: Upload, f) -> None:
    """Make the partial file and the recorded offset agree before appending."""
    size = os.fstat(f.fileno()).st_size
    if size > upload.offset:
        # Written but never acknowledged (the worker died before recording it): drop it.
        f.truncate(upload.offset)
    elif size < upload.offset:
        # The tail never reached the disk before a crash: resume from what is there.
        _save_offset(upload, size)


def _save_offset(upload: Upload, offset: int) -> None:
    """Record the offset; the stamp written with it tells a running hash of this offset
    from one of an earlier pass over it (running_hash)."""
    stamp = clock.now()
    Upload.objects.filter(pk=upload.pk).update(offset=offset, updated_at=stamp)
    upload.offset, upload.updated_at = offset, stamp


def _finish(upload: Upload) -> Evidence:
    """Check the partial file, store it (hashed on the way), write the row, then remove
    the partial file; the caller holds the lock."""
    source = partial_path(upload)
    closed = evidence_step_closed(round=upload.round, unit_id=upload.unit_id,
                                  province_id=upload.province_id,
                                  step_code=str(upload.metadata.get("step", "")))
    if closed:
        _reject(upload, closed, source=source)
        raise UploadRefused(upload.rejected_reason)
    try:
        file_type = filetypes.detect(source, label=upload.original_name)
    except filetypes.Refused as refusal:
        _reject(upload, str(refusal), source=source)
        raise UploadRefused(upload.rejected_reason) from None
    if source.stat().st_size != upload.length:
        _reject(upload, _("收到的文件大小与声明不符，请重新上传。"), source=source)
        raise UploadRefused(upload.rejected_reason)

    # The hash computed while the bytes arrived, when this process received them all in
    # order; else the file is hashed as it is stored.
    sha256 = running_hash.hashes.peek(upload.pk, offset=upload.length, stamp=upload.updated_at)
    # An earlier completion cut short may have stored the file already, without its row.
    saved = storage.save_hashed(storage_name_for(upload), source, replace=True, link=True,
                                sha256=sha256)
    if saved.size != upload.length:  # nothing changes a locked partial file, but if it did
        default_storage.delete(saved.name)
        raise RuntimeError(f"upload {upload.pk}: {saved.size} of {upload.length} bytes stored")

    with transaction.atomic():
        evidence = Evidence.objects.create(
            id=upload.pk, round_id=upload.round_id, unit_id=upload.unit_id,
            province_id=upload.province_id, kind=EvidenceKind.FILE,
            original_name=upload.original_name, storage_name=saved.name, size=saved.size,
            sha256=saved.sha256, content_type=file_type.content_type,
            uploaded_by_id=upload.created_by_id,
        )
        upload.completed_at = clock.now()
        upload.save(update_fields=["completed_at", "updated_at"])
        log_action("evidence.uploaded", actor=upload.created_by, target=evidence, data={
            "name": evidence.original_name, "size": saved.size, "sha256": saved.sha256,
            "content_type": evidence.content_type,
        })
    running_hash.hashes.drop(upload.pk)
    # Last: until the row is written, the partial file is where the upload is finished from.
    source.unlink(missing_ok=True)
    return evidence


def _reject(upload: Upload, reason: str, *, source: Path | None) -> None:
    running_hash.hashes.drop(upload.pk)
    if source is not None:
        source.unlink(missing_ok=True)
        # A completion cut short may have stored the file: no row lists it.
        default_storage.delete(storage_name_for(upload))
    upload.rejected_reason = reason[:300]
    with transaction.atomic():
        upload.save(update_fields=["rejected_reason", "updated_at"])
        log_action("evidence.upload.refused", actor=upload.created_by, target=upload,
                   data={"name": upload.original_name, "reason": upload.rejected_reason},
                   success=False)


def _size_text(size: int) -> str:
    return f"{size / 1024**3:g} GB" if size >= 1024**3 else f"{size / 1024**2:g} MB"


# Links ------------------------------------------------------------------------------------

def evidence_add_link(*, round, owner: Unit | Province, url: str, title: str, actor) -> Evidence:
    """A link to a news report or another page, as evidence of the owner."""
    ensure_round_writable(round)
    url = url.strip()
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise ValidationError(
            {"url": _("请输入以 http:// 或 https:// 开头的有效链接。")}) from None
    max_length = Evidence._meta.get_field("url").max_length
    if max_length is not None and len(url) > max_length:
        raise ValidationError({"url": _("链接过长。")})
    label = filetypes.clean_text(title)[: filetypes.LABEL_MAX] or url[: filetypes.LABEL_MAX]
    with transaction.atomic():
        evidence = Evidence.objects.create(
            round=round, kind=EvidenceKind.LINK, url=url, original_name=label,
            unit=owner if isinstance(owner, Unit) else None,
            province=owner if isinstance(owner, Province) else None,
            uploaded_by=actor,
        )
        log_action("evidence.link.added", actor=actor, target=evidence, data={"url": url})
    return evidence


# Integrity --------------------------------------------------------------------------------

@dataclass
class EvidenceFilesReport:
    checked: int = 0
    missing: list[str] = field(default_factory=list)   # evidence ids whose file is gone
    changed: list[str] = field(default_factory=list)   # ids whose SHA-256 or size differs
    orphans: list[str] = field(default_factory=list)   # stored files no row lists (names)
    stray_partials: list[str] = field(default_factory=list)  # partial files without upload

    @property
    def ok(self) -> bool:
        return not (self.missing or self.changed or self.orphans or self.stray_partials)


def verify_evidence_files() -> EvidenceFilesReport:
    """Re-hash every stored evidence file (in whichever storage is configured); list
    missing and changed files and stored ones that no row lists."""
    report = EvidenceFilesReport()
    listed = set()
    files = Evidence.objects.filter(kind=EvidenceKind.FILE).only(
        "id", "storage_name", "sha256", "size")
    for evidence in files.order_by("created_at").iterator(chunk_size=500):
        listed.add(evidence.storage_name)
        report.checked += 1
        try:
            if not _STORAGE_NAME.fullmatch(evidence.storage_name):
                raise ValueError(evidence.storage_name)
            sha256, size = storage.sha256_of(evidence.storage_name)
        except (FileNotFoundError, ValueError):
            report.missing.append(str(evidence.pk))
            continue
        if (sha256, size) != (evidence.sha256, evidence.size):
            report.changed.append(str(evidence.pk))
    report.orphans = sorted(name for name in storage.walk(EVIDENCE_FOLDER) if name not in listed)
    if partial_root().is_dir():
        open_uploads = {f"{pk}.part" for pk in Upload.objects.filter(
            completed_at=None, rejected_reason="").values_list("pk", flat=True)}
        report.stray_partials = sorted(
            p.name for p in partial_root().iterdir() if p.name not in open_uploads)
    return report
