"""The pages of API tokens: the security administrator authorizes tokens, lists them with
their last use and recent calls, and revokes them; the account's holder activates a token
authorized for them (it is shown once, in that response only) and may revoke it.

Authorizing a token grants an organization's scope to another system, as granting a role
grants it to a person, so it belongs to the same duty (MANAGE_ROLES); only the holder
makes the token itself (kaohe.api.services)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from kaohe.accounts.capabilities import MANAGE_ROLES, USE_API_TOKENS, capability_required
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
@require_POST
def token_authorize(request):
    form = TokenIssueForm(request.POST)
    if form.is_valid():
        try:
            token = services.token_authorize(user=form.cleaned_data["user"],
                                             name=form.cleaned_data["name"],
                                             actor=request.user)
        except ValidationError as refused:
            form.add_error(None, refused)
        else:
            messages.success(request, _("已授权令牌“%(name)s”。账户 %(username)s 本人登录后在"
                                        "“我的接口令牌”中生成令牌，令牌只向其本人显示。")
                             % {"name": token.name, "username": token.user.username})
            return redirect("api:tokens")
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


@capability_required(USE_API_TOKENS)
def my_tokens(request):
    """The tokens authorized for the signed-in account: activate one, or revoke it."""
    tokens = ApiToken.objects.filter(user=request.user).select_related("created_by")
    page = Paginator(tokens, paging.ROWS).get_page(request.GET.get("page"))
    return render(request, "api/my_tokens.html", {"page": page})


@capability_required(USE_API_TOKENS)
@never_cache
@require_POST
def token_activate(request, pk):
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    try:
        token, raw = services.token_activate(token=token, actor=request.user)
    except ValidationError as refused:
        messages.error(request, " ".join(refused.messages))
        return redirect("api:my_tokens")
    return render(request, "api/token_issued.html", {"token": token, "raw": raw})


@capability_required(USE_API_TOKENS)
@require_POST
def my_token_revoke(request, pk):
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    try:
        services.token_revoke(token=token, actor=request.user)
    except ValidationError as refused:
        messages.error(request, " ".join(refused.messages))
    else:
        messages.success(request, _("已吊销令牌“%(name)s”。") % {"name": token.name})
    return redirect("api:my_tokens")
