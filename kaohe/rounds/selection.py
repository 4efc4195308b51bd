"""The round a request works on: the year the user chose, else the default round.

``?year=YYYY`` chooses a round among those the user may see (``rounds_visible_to``); an
unknown or hidden year answers 404. The choice is remembered in the session, so following
links and posting forms stay on that year; choosing the default round again forgets it. With
nothing chosen, pages work on ``current_round()`` (the newest active round).

``RoundSelectionMiddleware`` makes the request reachable from ``chosen_round()`` (a context
variable, reset after the response), so helpers such as ``current_round_or_404()`` follow the
user's choice without a request argument. Outside a request (commands, services, tests calling
services) ``chosen_round()`` is the default round. Services keep their own notion of current.
"""

from contextvars import ContextVar

from django.http import Http404, HttpRequest

from kaohe.rounds.models import Round
from kaohe.rounds.selectors import current_round, rounds_visible_to

SESSION_KEY = "kaohe_round_year"

_request: ContextVar[HttpRequest | None] = ContextVar("kaohe_round_request", default=None)


def _parse_year(value: str) -> int:
    value = value.strip()
    # ASCII digits only: str.isdigit() also takes "²" or "①", which int() refuses (a 500).
    if not (value.isascii() and value.isdigit()) or len(value) > 4:
        raise Http404
    return int(value)


FORM_FIELD = "kaohe_year"


def _posted_year(request) -> str | None:
    """The year a posted form was rendered for (``{% once_token %}`` writes it), "" for the
    default round, None when the request carries none (not a form, or an older one)."""
    if request.method != "POST" or not request.content_type.startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        return None
    value = request.POST.get(FORM_FIELD)
    return None if value is None else value.strip()


def _visible_or_404(user, year: int) -> Round:
    try:
        return rounds_visible_to(user).get(year=year)
    except Round.DoesNotExist:
        raise Http404 from None


def resolve(request) -> tuple[Round | None, bool]:
    """(the round the request works on, whether the user chose it) — cached on the request.

    Raises Http404 for a ``?year=`` the user may not see."""
    cached: tuple[Round | None, bool] | None = getattr(request, "_kaohe_round", None)
    if cached is not None:
        return cached
    user = getattr(request, "user", None)
    result: tuple[Round | None, bool] = (current_round(), False)
    posted = _posted_year(request)
    if user is not None and user.is_authenticated and posted is not None:
        # A form says which year it was rendered for ("" for the default round): another
        # tab, or a link, that changed the remembered year meanwhile does not redirect it.
        if posted:
            result = (_visible_or_404(user, _parse_year(posted)), True)
    elif user is not None and user.is_authenticated:
        session = getattr(request, "session", None)
        asked = request.GET.get("year", "")
        if asked.strip():
            year = _parse_year(asked)
            try:
                round_ = rounds_visible_to(user).get(year=year)
            except Round.DoesNotExist:
                raise Http404 from None
            default = result[0]
            if session is not None:
                if default is not None and round_.pk == default.pk:
                    session.pop(SESSION_KEY, None)  # back on the default: follow it again
                else:
                    session[SESSION_KEY] = round_.year
            result = (round_, True)
        elif session is not None and session.get(SESSION_KEY) is not None:
            # A remembered year the user can no longer see is forgotten, never a 404.
            round_ = rounds_visible_to(user).filter(year=session[SESSION_KEY]).first()
            if round_ is None:
                session.pop(SESSION_KEY, None)
            else:
                result = (round_, True)
    request._kaohe_round = result
    return result


def chosen_round() -> Round | None:
    """The round of the request being served (chosen or default); the default round outside
    a request."""
    request = _request.get()
    if request is None:
        return current_round()
    return resolve(request)[0]


def explicit_round() -> Round | None:
    """The round the user chose (``?year=`` or remembered), or None when the request follows
    the default. Pages with a default of their own (a unit's latest released result, the
    round whose rectification is followed up) use it to honour the user's choice."""
    request = _request.get()
    if request is None:
        return None
    round_, chosen = resolve(request)
    return round_ if chosen else None


class RoundSelectionMiddleware:
    """Resolve the chosen round once the user is known and has passed the sign-in checks
    (``process_view``, after the two-factor and password-expiry middleware), and expose the
    request to ``chosen_round()`` for the duration of the response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _request.set(request)
        try:
            return self.get_response(request)
        finally:
            _request.reset(token)

    def process_view(self, request, view_func, view_args, view_kwargs):
        from kaohe.accounts import twofactor

        if request.user.is_authenticated and not twofactor.must_verify(request.user):
            resolve(request)  # a year the user may not see answers 404 here
        return None
