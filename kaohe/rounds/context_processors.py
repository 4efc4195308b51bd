"""The year selector of the page header (base.html): the round the page works on and the
other years the user may see, each a link carrying ``?year=`` (kaohe.rounds.selection)."""

from django.http import Http404
from django.urls import reverse
from django.utils.http import urlencode


def _link(request, year: int) -> str:
    # A page of one object (a pk or a year in its path) belongs to one round: switching the
    # year goes home; a list page is shown again for the chosen year.
    match = getattr(request, "resolver_match", None)
    path = request.path if match is not None and not match.kwargs else reverse("home")
    return f"{path}?{urlencode({'year': year})}"


def round_selector(request):
    from kaohe.accounts import twofactor
    from kaohe.rounds.selection import resolve
    from kaohe.rounds.selectors import visible_rounds

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or twofactor.must_verify(user):
        return {}
    rounds = visible_rounds(user)
    if len(rounds) < 2:
        return {}
    try:
        chosen = resolve(request)[0]
    except Http404:  # an error page rendered for a year the user may not see
        return {}
    return {"year_choice": {
        "chosen": chosen,
        "rounds": [(r, r == chosen, _link(request, r.year)) for r in rounds],
    }}
