"""Show a closed round's refusal to whoever posted to it, whatever the view.

Most views catch their app's error and show it; a view that does not (a plain delete or
record button) would otherwise answer 500 for a closed round. This turns the refusal
(``kaohe.rounds.guards.RoundClosed``) into an error message on the page the user came
from, or on the home page.
"""

from django.contrib import messages
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme

from kaohe.rounds.guards import RoundClosed, refusal_text


class RoundClosedMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, RoundClosed):
            return None
        messages.error(request, refusal_text(exception))
        back = request.META.get("HTTP_REFERER", "")
        if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()},
                                               require_https=request.is_secure()):
            back = "/"
        return redirect(back)
