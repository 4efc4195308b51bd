"""Workflow steps for documents: make one now, queue a bulk one, run it, purge expired ones.

Every document is recorded (Export) before it is rendered, and every export is logged in the
audit log with its code and the SHA-256 of the bytes handed out.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import models, transaction
from django.utils import timezone

from kaohe.audit.services import log_action
from kaohe.documents.base import RenderedFile, get_exporter
from kaohe.documents.models import INTERRUPTED, DocumentTemplate, Export, ExportStatus
from kaohe.documents.officialdoc import Mark
from kaohe.lib import clock

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


def documents_offered(user, round_) -> list[tuple]:
    """(exporter, objects) for every exporter that offers the user something in the round:
    each exporter scopes itself. The documents page and `kaohe export --list` show these."""
    from kaohe.accounts.capabilities import EXPORT_DOCUMENTS, has_capability
    from kaohe.documents.base import REGISTRY

    if not has_capability(user, EXPORT_DOCUMENTS):
        return []
    offered = []
    for cls in REGISTRY.values():
        exporter = cls()
        objects = list(exporter.objects_for(user, round_))
        if objects:
            offered.append((exporter, objects))
    return offered


# The most objects of one document the documents page names in a list; more are chosen on a
# page of their own, searched and paginated (issue 19: the page grew with the units).
OFFER_LIMIT = 50


def documents_offered_briefly(user, round_, *, limit: int = OFFER_LIMIT) -> list[dict]:
    """For the documents page: per exporter that offers the user something, {"exporter",
    "objects", "many"}; "many" (and no objects) when there are more than ``limit``: they
    are chosen on the choose page, so that the page reads a bounded number of rows in the
    same number of queries at any scale."""
    from kaohe.accounts.capabilities import EXPORT_DOCUMENTS, has_capability
    from kaohe.documents.base import REGISTRY

    if not has_capability(user, EXPORT_DOCUMENTS):
        return []
    offered = []
    for cls in REGISTRY.values():
        exporter = cls()
        objects = _as_listed(exporter.objects_for(user, round_))
        first = list(objects[:limit + 1])
        if not first:
            continue
        if len(first) <= limit:
            offered.append({"exporter": exporter, "objects": first, "many": False})
        elif exporter.bulk:  # a few versions or rounds, each made in the background
            offered.append({"exporter": exporter, "objects": list(objects), "many": False})
        else:  # not counted either: the choose page does
            offered.append({"exporter": exporter, "objects": [], "many": True})
    return offered


def _unit_fields(model) -> list[str]:
    """The fields a search by unit (or province) name or code looks in, where the model has
    them."""
    names = {field.name for field in model._meta.get_fields()}
    fields = []
    if "unit" in names:
        fields += ["unit__name", "unit__code"]
    if "province" in names:
        fields += ["province__name"]
    return fields


def _as_listed(objects):
    """A scoped queryset of objects about units read as the documents pages list them: by
    their unit's (and province's) name only, without the related rows a document is made
    from (issue 19: a letter's version, sorted with every letter, costs 10 ms at 3,100
    units). An exporter's ``describe`` of such objects names the unit or the province."""
    from django.db.models import QuerySet

    if not isinstance(objects, QuerySet):
        return objects
    fields = _unit_fields(objects.model)
    if not fields:
        return objects
    related = sorted({field.split("__")[0] for field in fields})
    return objects.select_related(None).select_related(*related).only("pk", *related, *fields)


def document_objects(user, round_, identifier: str, query: str = ""):
    """(exporter, objects) of one document the user may make, one object at a time, for
    the page that chooses among many: those whose unit (or province) name or code contains
    ``query``, in a stable order. Http404 for a bulk document and when the user may make
    none (the same answer as for a document outside the user's scope)."""
    from django.db.models import Q, QuerySet
    from django.http import Http404

    from kaohe.accounts.capabilities import EXPORT_DOCUMENTS, has_capability

    exporter = get_exporter(identifier)
    if not has_capability(user, EXPORT_DOCUMENTS) or exporter.bulk:
        raise Http404
    objects = _as_listed(exporter.objects_for(user, round_))
    if not (objects.exists() if isinstance(objects, QuerySet) else objects):
        raise Http404
    query = query.strip()
    if isinstance(objects, QuerySet):
        if not objects.ordered:
            objects = objects.order_by("pk")
        fields = _unit_fields(objects.model)
        if query and fields:
            match = Q()
            for field in fields:
                match |= Q(**{f"{field}__icontains": query})
            return exporter, objects.filter(match)
    if query:
        objects = [obj for obj in objects if query.lower() in exporter.describe(obj).lower()]
    return exporter, objects


def document_for(user, round_, identifier: str, key: str, fmt: str):
    """(exporter, object) of one document the user may make in that format; Http404 for an
    unknown document or format and for an object outside the user's scope (the web
    download and `kaohe export` ask the same question)."""
    from django.http import Http404

    from kaohe.accounts.capabilities import EXPORT_DOCUMENTS, has_capability

    if not has_capability(user, EXPORT_DOCUMENTS):
        raise Http404
    exporter = get_exporter(identifier)
    if fmt not in exporter.formats:
        raise Http404
    return exporter, exporter.get_object(user, round_, key)


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


def _render_and_store(export: Export):
    exporter = get_exporter(export.identifier)
    user = export.made_by

    def progress(done: int, total: int):
        Export.objects.filter(pk=export.pk).update(progress=done, total=total,
                                                   heartbeat_at=timezone.now())

    try:
        # Access is checked again in the worker: the user's scope may have changed.
        obj = exporter.get_object(user, export.round, export.object_key)
        rendered = exporter.render(export.fmt, obj, _mark(exporter, user, export),
                                   template=template_for(exporter), progress=progress)
        name = default_storage.save(f"exports/{export.code}.{export.fmt}",
                                    ContentFile(rendered.data))
    except Exception as error:
        logger.exception("export %s failed", export.code)
        Export.objects.filter(pk=export.pk).update(
            status=ExportStatus.FAILED, error=f"{type(error).__name__}: {error}"[:2000],
            finished_at=clock.now())
        log_action("document.export", actor=user, target=export, success=False,
                   data={"document": export.identifier, "code": export.code})
        return
    export.refresh_from_db()
    export.storage_name = name
    export.expires_at = clock.now() + timedelta(hours=settings.EXPORT_TTL_HOURS)
    with transaction.atomic():
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
                             "expression": error.params["expression"]})
        raise
    template, _ = DocumentTemplate.objects.update_or_create(
        identifier=exporter.identifier,
        defaults={"original_name": uploaded.name[:255], "content": content,
                  "sha256": hashlib.sha256(content).hexdigest(), "uploaded_by": user},
    )
    log_action("document.template_saved", actor=user, target=template,
               data={"document": exporter.identifier, "sha256": template.sha256})
    return template


def delete_template(user, exporter):
    deleted, _ = DocumentTemplate.objects.filter(identifier=exporter.identifier).delete()
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
