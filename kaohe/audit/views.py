from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import render

from kaohe.accounts.capabilities import VIEW_AUDIT_LOG, capability_required
from kaohe.audit.models import AuditEntry
from kaohe.audit.services import log_action, verify_chain


@capability_required(VIEW_AUDIT_LOG)
def entry_list(request):
    entries = AuditEntry.objects.order_by("-id")
    query = request.GET.get("q", "").strip()
    if query:
        entries = entries.filter(
            Q(action__icontains=query) | Q(actor_repr__icontains=query)
            | Q(target_repr__icontains=query)
        )
    failed = request.GET.get("failed") == "1"
    if failed:
        entries = entries.filter(success=False)
    verify = request.GET.get("verify") == "1"
    # Logged first, so the page counted and the page shown are the same log.
    log_action("audit.log.viewed", actor=request.user, data={"q": query, "verify": verify})
    chain = verify_chain() if verify else None
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    return render(request, "audit/entry_list.html",
                  {"page": page, "q": query, "failed": failed, "chain": chain})
