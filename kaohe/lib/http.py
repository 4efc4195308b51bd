"""Small helpers shared by the views of every app."""

from django.http import Http404


def int_param(value) -> int:
    """An id from a form field; -1 (matching nothing) for anything that is not a number."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


def current_round_or_404():
    from kaohe.rounds.selectors import current_round

    round_ = current_round()
    if round_ is None:
        raise Http404
    return round_
