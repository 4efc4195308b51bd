from django.http import HttpRequest, HttpResponseBase

from kaohe.audit.context import current_ip
from kaohe.lib.clientip import client_address
from kaohe.lib.middleware import GetResponse


class AuditContextMiddleware:
    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        # REMOTE_ADDR, or the client behind the trusted proxies (KAOHE_TRUSTED_PROXIES).
        token = current_ip.set(client_address(request))
        try:
            return self.get_response(request)
        finally:
            current_ip.reset(token)
