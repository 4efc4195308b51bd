"""One rule for every write: a closed round is read-only (issue 16).

Every service that changes a round's data calls ``ensure_round_writable`` first. The
refusal is raised as the calling app's own error type (so its views show it as they show
every other refusal), mixed with ``RoundClosed``, which ``RoundClosedMiddleware`` turns
into a message for views that do not catch their app's error.
"""

from django.utils.translation import gettext as _

from kaohe.rounds.models import Round, RoundStatus


class RoundClosed(Exception):
    """Marks a refusal because the round is closed; mixed into the caller's error type."""


# One mixed type per app error type, made on first use.
_CLOSED_ERRORS: dict[type[Exception], type[Exception]] = {}


def _closed_error(error: type[Exception]) -> type[Exception]:
    if issubclass(error, RoundClosed):
        return error
    if error not in _CLOSED_ERRORS:
        # setdefault: two threads making it at once end up with the same type.
        _CLOSED_ERRORS.setdefault(
            error, type(f"RoundClosed{error.__name__}", (error, RoundClosed), {}))
    return _CLOSED_ERRORS[error]


def round_closed_message(year: int) -> str:
    return _("%(year)s年度考核已结束，只能查阅，不能修改。") % {"year": year}


def ensure_round_writable(round_: Round | int, *, error: type[Exception] | None = None) -> None:
    """Refuse any change of a closed round's data.

    ``round_`` is a round or its id; its status is read from the database, so a round
    closed since the caller loaded it is refused too. ``error`` is the refusal type of the
    calling app (``RoundError`` by default)."""
    round_id = round_ if isinstance(round_, int) else round_.pk
    year = (Round.objects.filter(pk=round_id, status=RoundStatus.CLOSED)
            .values_list("year", flat=True).first())
    if year is None:
        return
    if error is None:
        from kaohe.rounds.services import RoundError

        error = RoundError
    raise _closed_error(error)(round_closed_message(year))


def refusal_text(exc: Exception) -> str:
    """The user's message of a refusal (a ValidationError keeps it in ``messages``)."""
    messages = getattr(exc, "messages", None)
    if messages:
        return "；".join(str(m) for m in messages)
    return str(exc.args[0]) if exc.args else str(exc)
