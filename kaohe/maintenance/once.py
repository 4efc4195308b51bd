"""One record per act: a one-time token in every form that creates something.

``{% once_token %}`` renders a hidden field with a fresh random value each time a form is
rendered. ``OnceTokenMiddleware`` records (user, token) after the CSRF check and before the
view runs, in its own committed write; the unique constraint lets exactly one of several
identical POSTs through (a double click, a resent form, five at once). The others change
nothing: they get "该操作已提交，请勿重复提交。" and go where the first one went (or back).
A form re-rendered with errors carries a new token; a request that failed (4xx/5xx) gives
its token back so the same page can be sent again.
"""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import HttpResponseRedirect
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

FIELD = "once_token"
_VALID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
KEEP = timedelta(days=1)


def new_token() -> str:
    return secrets.token_urlsafe(24)


def submitted_token(request) -> str | None:
    if request.method != "POST" or not request.content_type.startswith(_FORM_TYPES):
        return None
    token = request.POST.get(FIELD, "")
    return token if _VALID.match(token) else None


def purge_spent_tokens(now=None) -> int:
    """Forget tokens older than a day (a form that old is re-rendered before it is sent)."""
    from kaohe.maintenance.models import SpentFormToken

    now = now or timezone.now()  # replay protection: real time, not kaohe.lib.clock
    deleted, _ = SpentFormToken.objects.filter(created_at__lt=now - KEEP).delete()
    return deleted


def _back(request) -> str:
    referer = request.META.get("HTTP_REFERER", "")
    if referer and url_has_allowed_host_and_scheme(referer, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return referer
    return "/"


class OnceTokenMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        spent = getattr(request, "_spent_form_token", None)
        if spent is not None:
            if response.status_code >= 400:
                spent.delete()  # nothing was done: the same form may be sent again
            elif response.status_code in (301, 302, 303) and response.get("Location"):
                spent.redirect_to = response["Location"][:500]
                spent.save(update_fields=["redirect_to"])
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        # After CsrfViewMiddleware and LoginRequiredMiddleware: a refused request spends nothing.
        if not request.user.is_authenticated:
            return None
        token = submitted_token(request)
        if token is None:
            return None
        from kaohe.maintenance.models import SpentFormToken

        try:
            # Committed on its own (a savepoint inside a test's transaction): the identical
            # requests racing this one wait on the unique index, then fail.
            with transaction.atomic():
                request._spent_form_token = SpentFormToken.objects.create(
                    user=request.user, token=token, path=request.path[:300])
        except IntegrityError:
            first = SpentFormToken.objects.filter(user=request.user, token=token).first()
            messages.warning(request, _("该操作已提交，请勿重复提交。"))
            target = first.redirect_to if first is not None and first.redirect_to else ""
            return HttpResponseRedirect(target or _back(request))
        return None
