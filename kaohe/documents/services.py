"""Workflow steps for documents: make one now, queue a bulk one, run it, purge expired ones.

Every document is recorded (Export) before it is rendered, and every export is logged in the
audit log with its code and the SHA-256 of the bytes handed out.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kaohe.audit.services import log_action
from kaohe.documents import withdrawal
from kaohe.documents.base import RenderedFile, get_exporter
from kaohe.documents.models import INTERRUPTED, DocumentTemplate, Export, ExportStatus
from kaohe.documents.officialdoc import Mark
from kaohe.lib import clock, storage

logger = logging.getLogger(__name__)


def _mark(exporter, user, export: Export) -> Mark | None:
    if not exporter.confidential:
        return None
    return Mark(maker=user.full_name or user.username, username=user.username,
                made_at=timezone.localtime(export.created_at), export_code=export.code)


def template_for(exporter) -> bytes | None:
    if not exporter.templatable:
        return None
    found = DocumentTemplate.objects.filter(identifier=exporter.identifier).first()
    return bytes(found.content) if found else None


def _record(user, exporter, obj, fmt, round_, status) -> Export:
    return Export.objects.create(
        round=round_, identifier=exporter.identifier, fmt=fmt,
        object_key=exporter.object_key(obj) if obj is not None else "",
        title=f"{exporter.name}（{exporter.describe(obj)}）" if obj is not None else exporter.name,
        made_by=user, status=status,
    )


def export_now(user, exporter, obj, fmt: str, *, round_=None) -> tuple[Export, RenderedFile]:
    """Make one document for the user, synchronously, and log it."""
    export = _record(user, exporter, obj, fmt, round_, ExportStatus.RUNNING)
    try:
        rendered = exporter.render(fmt, obj, _mark(exporter, user, export),
                                   template=template_for(exporter) if fmt == "docx" else None)
        _refuse_if_withdrawn_meanwhile(export)
    except Exception as error:
        export.status = ExportStatus.FAILED
        export.error = f"{type(error).__name__}: {error}"[:2000]
        export.finished_at = clock.now()
        export.save(update_fields=["status", "error", "finished_at"])
        log_action("document.export", actor=user, target=export, success=False,
                   data={"document": exporter.identifier, "format": fmt, "code": export.code})
        raise
    _finish(export, rendered)
    log_action("document.export", actor=user, target=export, data=_audit_data(export, exporter))
    return export, rendered


def _refuse_if_withdrawn_meanwhile(export: Export) -> None:
    """A paper withdrawn while this export was made is not handed out (as for bulk exports in
    ``_publishable``); the caller records the export as failed."""
    with transaction.atomic():
        withdrawal.lock_papers_held(export)
        paper = withdrawal.withdrawn_in(export)
    if paper is not None:
        raise ExportStopped(_("生成期间文书 %(number)s 已作废，已停止生成，请重新生成。")
                            % {"number": paper.doc_number})


def _finish(export: Export, rendered: RenderedFile):
    export.status = ExportStatus.DONE
    export.file_name = rendered.file_name
    export.content_type = rendered.content_type
    export.size = len(rendered.data)
    export.sha256 = hashlib.sha256(rendered.data).hexdigest()
    export.finished_at = clock.now()
    export.progress = export.total or export.progress
    export.save()


def _audit_data(export: Export, exporter) -> dict:
    data = {
        "document": exporter.identifier, "format": export.fmt, "object": export.object_key,
        "code": export.code, "sha256": export.sha256, "size": export.size,
        "marked": exporter.confidential,
    }
    # The 份号 of the copy (or how many copies a bulk export numbered): kaohe.documents.signing.
    copies = [copy.label for copy in export.copies.all()[:2]]
    if len(copies) == 1:
        data["copy_number"] = copies[0]
    elif copies:
        data["copies"] = export.copies.count()
    return data


def request_export(user, exporter, obj, fmt: str, *, round_=None) -> Export:
    """Queue a bulk export; a worker makes it (run_export) and the page shows its progress."""
    from kaohe.documents.tasks import run_export_task

    with transaction.atomic():
        export = _record(user, exporter, obj, fmt, round_, ExportStatus.QUEUED)
        log_action("document.export_requested", actor=user, target=export,
                   data={"document": exporter.identifier, "format": fmt,
                         "object": export.object_key, "code": export.code})
        transaction.on_commit(lambda: run_export_task.enqueue(export.pk))
    return export


def run_export(export_id: int):
    """The worker's side of a bulk export: render with progress, store, log."""
    with transaction.atomic():
        export = (Export.objects.select_for_update(of=("self",)).select_related("made_by", "round")
                  .get(pk=export_id))
        if export.status != ExportStatus.QUEUED:
            return  # already taken by another worker, or cancelled
        export.status = ExportStatus.RUNNING
        export.heartbeat_at = timezone.now()  # a lease: real time, not kaohe.lib.clock
        export.save(update_fields=["status", "heartbeat_at"])
    with _Heartbeat(export.pk):
        _render_and_store(export)


class _Heartbeat:
    """Renew a running export's lease every quarter of EXPORT_LEASE_SECONDS while the
    worker lives. A worker killed outright (kill -9, the machine) stops renewing, and
    recover_stale_exports marks the export failed instead of leaving it running for ever."""

    def __init__(self, export_id: int):
        self.export_id = export_id
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._beat, daemon=True,
                                       name=f"export-heartbeat-{export_id}")

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopped.set()
        self.thread.join(timeout=10)

    def _beat(self):
        from django.db import connection

        interval = max(settings.EXPORT_LEASE_SECONDS / 4, 0.2)
        try:
            while not self.stopped.wait(interval):
                try:
                    Export.objects.filter(pk=self.export_id, status=ExportStatus.RUNNING
                                          ).update(heartbeat_at=timezone.now())
                except Exception:  # a busy database: the next beat tries again
                    logger.warning("export %s: heartbeat not recorded", self.export_id,
                                   exc_info=True)
        finally:
            connection.close()


class ExportStopped(Exception):
    """A bulk export stopped while it was made (a paper it holds was withdrawn)."""


def _publishable(export_id: int) -> bool:
    """Whether a bulk export may be stored and handed out: still running, and holding no
    paper withdrawn since it was asked for. One that holds such a paper is stopped here
    (withdrawal.stop_export), should the withdrawal have run before its copy was numbered."""
    with transaction.atomic():
        withdrawal.lock_papers_held(Export(pk=export_id))
        export = Export.objects.select_for_update().get(pk=export_id)
        if export.status != ExportStatus.RUNNING:
            return False
        paper = withdrawal.withdrawn_in(export)
        if paper is not None:
            withdrawal.stop_export(export, paper)
            return False
    return True


def _stopped(export: Export, user):
    logger.info("export %s stopped: a paper it holds was withdrawn", export.code)
    log_action("document.export", actor=user, target=export, success=False,
               data={"document": export.identifier, "code": export.code, "stopped": True})


def _render_and_store(export: Export):
    exporter = get_exporter(export.identifier)
    user = export.made_by

    def progress(done: int, total: int):
        # Stopped (a paper withdrawn meanwhile): no more work on a file nobody gets.
        if not Export.objects.filter(pk=export.pk, status=ExportStatus.RUNNING).update(
                progress=done, total=total, heartbeat_at=timezone.now()):
            raise ExportStopped

    try:
        # Access is checked again in the worker: the user's scope may have changed.
        obj = exporter.get_object(user, export.round, export.object_key)
        rendered = exporter.render(export.fmt, obj, _mark(exporter, user, export),
                                   template=template_for(exporter), progress=progress)
        # The papers' state is checked again before anything is written.
        if not _publishable(export.pk):
            raise ExportStopped
        name = default_storage.save(f"exports/{export.code}.{export.fmt}",
                                    ContentFile(rendered.data))
    except ExportStopped:
        _stopped(export, user)
        return
    except Exception as error:
        logger.exception("export %s failed", export.code)
        Export.objects.filter(pk=export.pk).update(
            status=ExportStatus.FAILED, error=f"{type(error).__name__}: {error}"[:2000],
            finished_at=clock.now())
        log_action("document.export", actor=user, target=export, success=False,
                   data={"document": export.identifier, "code": export.code})
        return
    # And once more as it is published, the export locked: a withdrawal either comes
    # before (and the file is deleted unseen) or finds the export done and expires it.
    with transaction.atomic():
        if not _publishable(export.pk):
            transaction.on_commit(partial(default_storage.delete, name))
            _stopped(export, user)
            return
        export.refresh_from_db()
        export.storage_name = name
        export.expires_at = clock.now() + timedelta(hours=settings.EXPORT_TTL_HOURS)
        _finish(export, rendered)
        log_action("document.export", actor=user, target=export,
                   data=_audit_data(export, exporter))


def purge_expired(now=None) -> int:
    """Delete the files of bulk exports past their time; the rows stay for the record."""
    now = now or clock.now()  # expires_at is shown to users ("保留至"): the clock's time
    count = 0
    for export in Export.objects.filter(status=ExportStatus.DONE, expires_at__lte=now):
        if export.storage_name and default_storage.exists(export.storage_name):
            default_storage.delete(export.storage_name)
        export.status = ExportStatus.EXPIRED
        export.storage_name = ""
        export.save(update_fields=["status", "storage_name"])
        count += 1
    if count:
        log_action("document.exports_purged", data={"count": count})
    return count


def save_template(user, exporter, uploaded) -> DocumentTemplate:
    """Store the office's Word template after checking docxtpl can fill it."""
    from django.core.exceptions import ValidationError

    from kaohe.documents.forms import check_template

    try:
        content = check_template(exporter, uploaded)
    except ValidationError as error:
        # An expression the sandbox refuses is an attempt worth a trace, not just a typo.
        if getattr(error, "code", None) == "template_refused":
            log_action("document.template_refused", actor=user, success=False,
                       data={"document": exporter.identifier, "file": uploaded.name[:255],
                             "expression": (error.params or {}).get("expression", "")})
        raise
    template, _created = DocumentTemplate.objects.update_or_create(
        identifier=exporter.identifier,
        defaults={"original_name": uploaded.name[:255], "content": content,
                  "sha256": hashlib.sha256(content).hexdigest(), "uploaded_by": user},
    )
    log_action("document.template_saved", actor=user, target=template,
               data={"document": exporter.identifier, "sha256": template.sha256})
    return template


def delete_template(user, exporter):
    deleted, _by_model = DocumentTemplate.objects.filter(identifier=exporter.identifier).delete()
    if deleted:
        log_action("document.template_deleted", actor=user,
                   data={"document": exporter.identifier})


def recover_stale_exports(*, now=None, export_id: int | None = None) -> int:
    """Mark failed every running export whose lease ran out: its worker died mid-way.

    Called when a worker starts and when a page polls an export; the user is told the
    background task was interrupted and may start the export again."""
    now = now or timezone.now()  # heartbeats are leases: real time
    limit = now - timedelta(seconds=settings.EXPORT_LEASE_SECONDS)
    made_limit = clock.now() - (timezone.now() - limit)  # created_at is on kaohe.lib.clock
    stale = Export.objects.filter(status=ExportStatus.RUNNING).filter(
        models.Q(heartbeat_at__lt=limit)
        | models.Q(heartbeat_at__isnull=True, created_at__lt=made_limit))
    if export_id is not None:
        stale = stale.filter(pk=export_id)
    count = 0
    for export in stale.select_related("made_by"):
        # Only if still stale when written: a live worker's beat in between wins.
        updated = Export.objects.filter(pk=export.pk, status=ExportStatus.RUNNING,
                                        heartbeat_at=export.heartbeat_at).update(
            status=ExportStatus.FAILED, finished_at=clock.now(),
            error=f"{INTERRUPTED}: no heartbeat since {export.heartbeat_at or export.created_at}")
        if updated:
            count += 1
            log_action("document.export_interrupted", target=export, success=False,
                       data={"document": export.identifier, "code": export.code,
                             "progress": export.progress, "total": export.total})
    return count


def mark_failed(export_id: int):
    """An export whose task broke before it could record the failure itself."""
    Export.objects.filter(pk=export_id, status__in=[ExportStatus.QUEUED, ExportStatus.RUNNING]
                          ).update(status=ExportStatus.FAILED, finished_at=clock.now(),
                                   error="task failed")


# Integrity --------------------------------------------------------------------------------

EXPORTS_FOLDER = "exports"


def verify_export_files() -> storage.FilesReport:
    """Re-hash the file of every export that keeps one (a bulk export until it expires);
    list missing and changed ones, and files in the exports folder no row lists but for
    those of exports still being made (`kaohe verify`)."""
    kept = (Export.objects.filter(status=ExportStatus.DONE).exclude(storage_name="")
            .order_by("pk").only("pk", "storage_name", "sha256", "size"))
    # Stored as exports/<code>.<format>, or with a suffix the storage adds to a taken name.
    writing = tuple(f"{EXPORTS_FOLDER}/{export.code}{sep}" for export in Export.objects.filter(
        status__in=[ExportStatus.QUEUED, ExportStatus.RUNNING]).only("pk") for sep in "._")
    rows = ((f"export {export.code}", export.storage_name, export.sha256, export.size)
            for export in kept.iterator(chunk_size=500))
    return storage.verify_files(rows, folder=EXPORTS_FOLDER,
                                pending=lambda name: name.startswith(writing))
