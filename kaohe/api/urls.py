"""URLs of the api app: the token pages of the security administrator and of the accounts
tokens act as, and version 1 of
the API under ``v1/`` (its schema at ``v1/openapi.json``, its page at ``v1/docs``).

The API answers bearer tokens, not sessions: its views are exempt from the login
redirect (a missing or bad token answers 401) and from CSRF (no cookie authenticates).
Every call to an operation is logged with its token, method, path and status."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponseBase
from django.urls import URLPattern, URLResolver, path

from kaohe.api import views
from kaohe.api.v1 import api


def _logged(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        from kaohe.api.services import call_record
        from kaohe.audit.context import current_ip

        status = 500  # unless the view answers
        try:
            response = view(request, *args, **kwargs)
            status = response.status_code
            return response
        finally:
            call_record(token=getattr(request, "api_token", None), method=request.method or "",
                        path=request.path, status=status, ip=current_ip.get())

    return wrapped


def _api_patterns() -> tuple[list[URLResolver | URLPattern], str, str]:
    patterns, app_name, namespace = api.urls
    for pattern in patterns:
        assert isinstance(pattern, URLPattern), pattern  # ninja's routes are flat
        callback = pattern.callback
        if pattern.name not in ("openapi-json", "openapi-view", "api-root"):
            callback = _logged(callback)
        # Reachable without a session: the schema and its page describe the interface only;
        # every operation checks its bearer token itself.
        pattern.callback = login_not_required(callback)
    return patterns, app_name, namespace


app_name = "api"
urlpatterns = [
    path("tokens/", views.token_list, name="tokens"),
    path("tokens/new/", views.token_authorize, name="token_authorize"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
    path("tokens/mine/", views.my_tokens, name="my_tokens"),
    path("tokens/mine/<int:pk>/activate/", views.token_activate, name="token_activate"),
    path("tokens/mine/<int:pk>/revoke/", views.my_token_revoke, name="my_token_revoke"),
    path("v1/", _api_patterns()),
]
