"""The user's own notifications: the list, open one (marks it read), mark all read."""

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from kaohe.lib import paging
from kaohe.notifications import selectors, services
from kaohe.notifications.models import Notification


def notification_list(request):
    page = Paginator(selectors.notifications_of(request.user), paging.ROWS).get_page(
        request.GET.get("page"))
    return render(request, "notifications/list.html", {"page": page})


@require_POST
def notification_read(request, pk):
    try:
        notification = selectors.notification_of(request.user, pk)
    except Notification.DoesNotExist:
        raise Http404 from None
    services.mark_read(notification=notification, user=request.user)
    link = notification.link
    if not url_has_allowed_host_and_scheme(link, allowed_hosts=None) or not link.startswith("/"):
        link = reverse("notifications:list")
    return redirect(link)


@require_POST
def notification_read_all(request):
    services.mark_all_read(user=request.user)
    return redirect("notifications:list")
