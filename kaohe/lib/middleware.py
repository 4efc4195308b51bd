"""Language: Simplified Chinese unless the user chose another language on the login page.

Django's LocaleMiddleware would follow the browser's Accept-Language, so an official with
an English browser would get English screens by surprise; here only an explicit choice
(the language cookie set by the switch) changes the language.
"""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils import translation

GetResponse = Callable[[HttpRequest], HttpResponseBase]


class ChosenLanguageMiddleware:
    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response
        self.supported = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in self.supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response


class RequestSizeLimitMiddleware:
    """Refuse a request body larger than REQUEST_MAX_BYTES before anything reads it.

    Django limits form fields in memory but not the files of a multipart upload in total; this
    caps every request (a form with a plan or training material included). The resumable
    evidence uploads are cut into requests and limited by EVIDENCE_MAX_REQUEST_BYTES in the
    tus view, so they pass here.
    """

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        from django.template.defaultfilters import filesizeformat
        from django.utils.html import escape
        from django.utils.translation import gettext as _

        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = settings.REQUEST_MAX_BYTES
        if length > limit and not request.path.startswith(settings.REQUEST_SIZE_EXEMPT_PREFIX):
            message = _("提交的内容超过%(limit)s，未被接收。请压缩或拆分文件后重试。") % {
                "limit": filesizeformat(limit)}
            return HttpResponse(f"<!DOCTYPE html><meta charset=utf-8><p>{escape(message)}</p>",
                                status=413, content_type="text/html; charset=utf-8")
        return self.get_response(request)


class ProjectNotFoundMiddleware:
    """A view's 404 (an object that does not exist or is out of the user's scope) shows the
    project's own page, 404.html, also when DEBUG is on, as it is in the demo.

    With DEBUG, Django would show its technical 404 page, naming the model and the query that
    found nothing. A path that matches no URL pattern is resolved before any view runs and still
    gets the technical page under DEBUG, which is what a developer needs. Without DEBUG this
    renders what Django's own handler would.
    """

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest,
                          exception: Exception) -> HttpResponse | None:
        from django.http import Http404
        from django.views.defaults import page_not_found

        if not isinstance(exception, Http404):
            return None
        return page_not_found(request, exception)
