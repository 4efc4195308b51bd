"""The auditor's pages: search the log, verify its chain, export it. Nothing here changes
anything but the log itself, which records every search and every export."""

import json
from collections.abc import Iterator
from typing import Any

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from kaohe.accounts.capabilities import EXPORT_AUDIT_LOG, VIEW_AUDIT_LOG, capability_required
from kaohe.audit.forms import AuditSearchForm
from kaohe.audit.labels import action_label
from kaohe.audit.models import AuditEntry
from kaohe.audit.redaction import for_auditor
from kaohe.audit.services import log_action, verify_chain
from kaohe.lib import paging
from kaohe.lib.spreadsheets import csv_writer

EXPORT_HEADERS = ["编号", "时间", "操作人", "操作人编号", "来源地址", "操作", "对象类型",
                  "对象编号", "对象", "结果", "详情", "前一条哈希", "哈希", "操作说明"]


def _search(request: HttpRequest) -> tuple[AuditSearchForm, QuerySet[AuditEntry]]:
    """The bound search form and the entries it selects (none while it has errors)."""
    form = AuditSearchForm(request.GET or None)
    entries: QuerySet[AuditEntry] = AuditEntry.objects.order_by("-id")
    if form.is_bound:
        entries = form.filter(entries) if form.is_valid() else entries.none()
    return form, entries


def _filters(form: AuditSearchForm) -> dict[str, Any]:
    return form.used_filters() if form.is_bound and form.is_valid() else {}


@capability_required(VIEW_AUDIT_LOG)
def entry_list(request: HttpRequest) -> HttpResponse:
    form, entries = _search(request)
    filters = _filters(form)
    verify = request.GET.get("verify") == "1"
    # Logged first, so the page counted and the page shown are the same log.
    log_action("audit.log.viewed", actor=request.user,
               data={"q": filters.pop("q", ""), "verify": verify, **filters})
    chain = verify_chain() if verify else None
    page = Paginator(entries, paging.ROWS).get_page(request.GET.get("page"))
    # The page shows the entries as the auditor may see them, in place of the rows.
    page.object_list = list(for_auditor(page.object_list))  # type: ignore[arg-type]
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("verify", None)
    return render(request, "audit/entry_list.html", {
        "form": form, "page": page, "chain": chain, "query": query.urlencode(),
    })


class _Echo:
    def write(self, value: str) -> str:
        return value


def _rows(entries: QuerySet[AuditEntry]) -> Iterator[str]:
    # Failed sign-ins put whatever a stranger typed as the username into the log: text that
    # a spreadsheet would run as a formula is neutralised.
    writer = csv_writer(_Echo(), lineterminator="\r\n")
    # A BOM, so that Excel opens the UTF-8 file with its Chinese intact.
    yield "\ufeff" + writer.writerow(EXPORT_HEADERS)
    for entry in for_auditor(entries.iterator(chunk_size=2000)):
        yield writer.writerow((
            entry.id,
            timezone.localtime(entry.created_at).strftime("%Y-%m-%d %H:%M:%S"),
            entry.actor_repr, entry.actor_id or "", entry.ip or "", entry.action,
            entry.target_type, entry.target_id, entry.target_repr,
            "成功" if entry.success else "失败",
            json.dumps(entry.data, ensure_ascii=False, sort_keys=True),
            entry.prev_hash, entry.hash, action_label(entry.action),
        ))


@capability_required(EXPORT_AUDIT_LOG)
def export(request: HttpRequest) -> HttpResponseBase:
    """The selected entries as CSV (UTF-8 with BOM), oldest first, with their hashes (which
    can be compared with the anchors on paper), business values hidden as on the page. The
    export is logged (with its filters and row count) before it is written; it holds the
    entries made before that record."""
    form, entries = _search(request)
    if form.is_bound and not form.is_valid():
        return render(request, "audit/entry_list.html", {
            "form": form, "page": Paginator(entries, paging.ROWS).get_page(1), "chain": None,
            "query": "",
        }, status=400)
    # The log only grows: fixing its last entry first makes the count and the file agree.
    last = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
    entries = entries.filter(id__lte=last).order_by("id")
    record = log_action("audit.log.exported", actor=request.user,
                        data={"filters": _filters(form), "rows": entries.count()})
    stamp = timezone.localtime(record.created_at).strftime("%Y%m%d-%H%M%S")
    response = StreamingHttpResponse(_rows(entries), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f"attachment; filename=audit-log-{stamp}.csv"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
