"""The security administrator's pages for API tokens: issue (the token is shown once, in
that response only), list with their last use and recent calls, revoke.

Issuing a token grants an organization's scope to another system, as granting a role
grants it to a person, so these pages belong to the same duty (MANAGE_ROLES)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from kaohe.accounts.capabilities import MANAGE_ROLES, capability_required
from kaohe.api import services
from kaohe.api.forms import TokenIssueForm
from kaohe.api.models import ApiCall, ApiToken
from kaohe.lib import paging


def _list_context(form=None) -> dict:
    tokens = ApiToken.objects.select_related("user", "user__unit", "user__province",
                                             "created_by", "revoked_by")
    return {"tokens": tokens, "form": form or TokenIssueForm(),
            "calls": ApiCall.objects.select_related("token")[:50]}


@capability_required(MANAGE_ROLES)
def token_list(request):
    context = _list_context()
    context["page"] = Paginator(context["tokens"], paging.ROWS).get_page(request.GET.get("page"))
    return render(request, "api/tokens.html", context)


@capability_required(MANAGE_ROLES)
@never_cache
@require_POST
def token_issue(request):
    form = TokenIssueForm(request.POST)
    if form.is_valid():
        try:
            token, raw = services.token_issue(user=form.cleaned_data["user"],
                                              name=form.cleaned_data["name"],
                                              actor=request.user)
        except ValidationError as refused:
            form.add_error(None, refused)
        else:
            return render(request, "api/token_issued.html", {"token": token, "raw": raw})
    context = _list_context(form)
    context["page"] = Paginator(context["tokens"], paging.ROWS).get_page(1)
    return render(request, "api/tokens.html", context, status=400)


@capability_required(MANAGE_ROLES)
@require_POST
def token_revoke(request, pk):
    token = get_object_or_404(ApiToken, pk=pk)
    try:
        services.token_revoke(token=token, actor=request.user)
    except ValidationError as refused:
        messages.error(request, " ".join(refused.messages))
    else:
        messages.success(request, _("已吊销令牌 %(prefix)s…。") % {"prefix": token.prefix})
    return redirect("api:tokens")
