"""Withdrawal (作废) of a signed-off paper, and what it does to the exports holding a copy:
kept ones expire, running ones stop, and a worker or a download checks the papers again
before it hands one out."""

from __future__ import annotations

from functools import partial

from django.db import transaction
from django.utils.translation import gettext as _

from kaohe.audit.services import log_action
from kaohe.documents.models import DocumentCopy, SignOff
from kaohe.documents.signing import SigningError
from kaohe.lib import clock
from kaohe.lib.errors import refuse_longer
from kaohe.rounds.guards import ensure_round_writable

# The longest reason for a withdrawal: a longer one is refused.
REASON_LIMIT = 2000


def withdraw(*, sign_off: SignOff, actor, reason: str) -> SignOff:
    """The office withdraws a signed paper (作废), giving its reason. The sign-off stays on
    record with its 发文字号, which is never given again (sign_off takes the numbers after
    every one used); later copies are made as for a paper not signed off (a draft, marked as
    such) until the office signs it off anew. Bulk exports kept on the server that hold a
    copy of the withdrawn paper are expired at once, so it is not handed out again."""
    from kaohe.accounts.capabilities import SIGN_DOCUMENTS, has_capability

    if not has_capability(actor, SIGN_DOCUMENTS):
        raise SigningError(_("无权作废该文书。"))
    reason = reason.strip()
    if not reason:
        raise SigningError(_("请填写作废原因。"))
    refuse_longer(reason, REASON_LIMIT, field=_("作废原因"), error=SigningError)
    ensure_round_writable(sign_off.round_id, error=SigningError)
    with transaction.atomic():
        paper = SignOff.objects.select_for_update().get(pk=sign_off.pk)
        if paper.withdrawn:
            raise SigningError(_("%(number)s 已作废，不能再次作废。")
                               % {"number": paper.doc_number})
        _withdraw(paper, actor=actor, reason=reason)
    return paper


def withdraw_papers_of(*, identifier: str, object_key: str, actor, reason: str) -> list[SignOff]:
    """Withdraw the signed papers in force of an object whose act the workflow itself ended
    (a summons a released correction withdrew: its notice would still summon the unit).
    The act that ends the object is the authority, so no capability is asked here; each
    withdrawal is recorded as the office's own is, with the reason."""
    papers = list(SignOff.objects.select_for_update().filter(
        identifier=identifier, object_key=object_key, withdrawn_at__isnull=True))
    for paper in papers:
        _withdraw(paper, actor=actor, reason=reason)
    return papers


def _withdraw(paper: SignOff, *, actor, reason: str) -> None:
    """Withdraw a locked paper in force: stamp it, expire or stop the exports holding a
    copy, log it."""
    paper.withdrawn_at, paper.withdrawn_by = clock.now(), actor
    paper.withdraw_reason = reason
    paper.save(update_fields=["withdrawn_at", "withdrawn_by", "withdraw_reason"])
    expired, stopped = _expire_exports_holding(paper)
    log_action("document.withdrawn", actor=actor, target=paper,
               data={"document": paper.identifier, "object": paper.object_key,
                     "doc_number": paper.doc_number, "reason": reason,
                     "exports_expired": expired, "exports_stopped": stopped})


def _expire_exports_holding(paper: SignOff) -> tuple[list[str], list[str]]:
    """Expire the kept bulk exports with a copy of the paper made since it was signed off
    (each confidential copy is recorded with its export), their files going once committed,
    and stop those being made (their worker sees it and stores nothing). The codes of both."""
    from django.core.files.storage import default_storage

    from kaohe.documents.models import Export, ExportStatus

    holding = DocumentCopy.objects.filter(
        identifier=paper.identifier, object_key=paper.object_key,
        created_at__gte=paper.signed_at).values("export_id")
    exports = list(Export.objects.select_for_update().filter(
        pk__in=holding, status__in=[ExportStatus.DONE, ExportStatus.RUNNING]).order_by("pk"))
    expired, stopped = [], []
    for export in exports:
        if export.status == ExportStatus.RUNNING:
            stop_export(export, paper)
            stopped.append(export.code)
            continue
        if not export.storage_name:
            continue
        name = export.storage_name
        export.status, export.storage_name = ExportStatus.EXPIRED, ""
        export.error = _("含已作废的文书 %(number)s，已停止下载，请重新生成。") % {
            "number": paper.doc_number}
        export.save(update_fields=["status", "storage_name", "error"])
        transaction.on_commit(partial(default_storage.delete, name))
        expired.append(export.code)
    return expired, stopped


def withdrawn_in(export) -> SignOff | None:
    """A paper the export holds a copy of that was withdrawn since the export was asked for
    (None if there is none): such an export is not stored or handed out. A paper withdrawn
    before is printed as a draft in it (``prepared``)."""
    from django.db.models import Exists, OuterRef

    held = DocumentCopy.objects.filter(export_id=export.pk, identifier=OuterRef("identifier"),
                                       object_key=OuterRef("object_key"))
    return (SignOff.objects.filter(Exists(held), withdrawn_at__gte=export.created_at)
            .order_by("withdrawn_at", "pk").first())


def lock_papers_held(export) -> None:
    """Lock the sign-offs of the papers the export holds a copy of, in the order ``withdraw``
    takes them (the paper, then the exports): a withdrawal either commits before the caller
    reads the papers' state, or waits until the caller's export is published and then finds
    it (and expires it)."""
    from django.db.models import Exists, OuterRef

    held = DocumentCopy.objects.filter(export_id=export.pk, identifier=OuterRef("identifier"),
                                       object_key=OuterRef("object_key"))
    list(SignOff.objects.select_for_update().filter(Exists(held)).order_by("pk")
         .values_list("pk", flat=True))


def stop_export(export, paper: SignOff) -> None:
    """Mark a running bulk export failed because ``paper``, of which it holds a copy, was
    withdrawn; its worker stops at its next step and stores nothing."""
    from kaohe.documents.models import STOPPED, ExportStatus

    export.status, export.finished_at = ExportStatus.FAILED, clock.now()
    export.error = STOPPED + _("生成期间文书 %(number)s 已作废，已停止生成，请重新生成。") % {
        "number": paper.doc_number}
    export.save(update_fields=["status", "finished_at", "error"])
