"""URLs of the api app: the token pages of the security administrator, and version 1 of
the API under ``v1/`` (its schema at ``v1/openapi.json``, its page at ``v1/docs``).

The API answers bearer tokens, not sessions: its views are exempt from the login
redirect (a missing or bad token answers 401) and from CSRF (no cookie authenticates).
Every call to an operation is logged with its token, method, path and status."""

from functools import wraps

from django.urls import path

from kaohe.api import views
from kaohe.api.v1 import api


def _logged(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        from kaohe.api.services import call_record
        from kaohe.audit.context import current_ip

        status = 500  # unless the view answers
        try:
            response = view(request, *args, **kwargs)
            status = response.status_code
            return response
        finally:
            call_record(token=getattr(request, "api_token", None), method=request.method,
                        path=request.path, status=status, ip=current_ip.get())

    return wrapped


def _api_patterns():
    patterns, app_name, namespace = api.urls
    for pattern in patterns:
        if pattern.name not in ("openapi-json", "openapi-view", "api-root"):
            pattern.callback = _logged(pattern.callback)
        # Reachable without a session: the schema and its page describe the interface only;
        # every operation checks its bearer token itself.
        pattern.callback.login_required = False
    return patterns, app_name, namespace


app_name = "api"
urlpatterns = [
    path("tokens/", views.token_list, name="tokens"),
    path("tokens/new/", views.token_issue, name="token_issue"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
    path("v1/", _api_patterns()),
]
