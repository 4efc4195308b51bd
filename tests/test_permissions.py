"""Who may open which page: every URL, every role, own and foreign objects.

A new URL without an entry in ROUTES fails test_every_url_is_in_the_matrix, so no view
can ship without a decision on who sees it. Denied requests answer 404, never 403, so
that a foreign record's existence does not leak.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from kaohe.accounts.models import Role

ALL_DATA = {
    "office", "working_group", "leading_group", "org_department", "military_inspector",
    "lead_reviewer", "unit", "province",
}
ADMINS = {"system_admin", "security_admin", "auditor"}
PERSONAS = sorted(ALL_DATA | ADMINS | {"lead_reviewer_b", "unit_b", "province_b"})
OVERVIEW = {"office", "working_group", "leading_group"}

# Reachable without signing in: the login page, the language switch, the health check.
ALLOWLIST = {"login", "set_language", "healthz"}


def _allowed(roles, ok=200):
    return lambda persona: ok if persona.removesuffix("_b") in roles else 404


def _own_unit(persona, world):
    """The unit a persona can see (None where it sees none) for detail pages."""
    return {
        "military_inspector": world["army"], "lead_reviewer_b": world["unit_b"],
        "unit_b": world["unit_b"], "province_b": world["unit_b"],
    }.get(persona, world["unit_a"])


# route -> (method, kwargs(world, persona), data, expected(persona) -> status)
ROUTES = {
    "home": ("get", None, None, _allowed(ALL_DATA | ADMINS)),
    "accounts:user_list": ("get", None, None, _allowed({"system_admin", "security_admin"})),
    "rounds:list": ("get", None, None, _allowed(ALL_DATA)),
    "rounds:detail": ("get", lambda w, p: {"year": 2017}, None, _allowed(ALL_DATA)),
    "rounds:method": ("get", lambda w, p: {"year": 2017}, None, _allowed(OVERVIEW)),
    "rounds:schedule_edit": ("get", lambda w, p: {"year": 2017}, None, _allowed({"office"})),
    "rounds:indicator_edit": ("get", lambda w, p: {"year": 2017, "number": 3}, None,
                              _allowed({"office"})),
    "rounds:copy": ("post", lambda w, p: {"year": 2017}, {"year": 2018},
                    _allowed({"office"}, ok=302)),
    "directory:unit_list": ("get", None, None, _allowed(ALL_DATA)),
    "directory:unit_detail": ("get", lambda w, p: {"pk": _own_unit(p, w).pk}, None,
                              _allowed(ALL_DATA)),
    "directory:county_list": ("get", None, None, _allowed(ALL_DATA)),
    "directory:county_detail": (
        "get", lambda w, p: {"pk": (w["county_b"] if p.endswith("_b") or
                                    p == "military_inspector" else w["county_a"]).pk},
        None, _allowed(ALL_DATA),
    ),
    "directory:county_designation": (
        "post", lambda w, p: {"pk": w["county_a"].pk}, {"designated": "on", "note": "省发文"},
        _allowed({"office"}, ok=302),
    ),
    "directory:import": ("get", None, None, _allowed({"office"})),
    "directory:import_template": ("get", None, None, _allowed({"office"})),
    "audit:list": ("get", None, None, _allowed({"auditor"})),
    "logout": ("post", None, None, _allowed(ALL_DATA | ADMINS, ok=302)),
    "login": ("get", None, None, lambda p: 302),  # signed in: sent on to the home page
    "set_language": ("post", None, {"language": "en"}, lambda p: 302),
    "healthz": ("get", None, None, lambda p: 200),
}

# Foreign objects: (route, kwargs(world) of an object outside the persona's scope).
FOREIGN = {
    "lead_reviewer": [("directory:unit_detail", lambda w: {"pk": w["unit_b"].pk}),
                      ("directory:unit_detail", lambda w: {"pk": w["army"].pk})],
    "lead_reviewer_b": [("directory:unit_detail", lambda w: {"pk": w["unit_a"].pk})],
    "unit": [("directory:unit_detail", lambda w: {"pk": w["unit_b"].pk}),
             ("directory:county_detail", lambda w: {"pk": w["county_b"].pk})],
    "unit_b": [("directory:unit_detail", lambda w: {"pk": w["unit_a"].pk}),
               ("directory:county_detail", lambda w: {"pk": w["county_a"].pk})],
    "province": [("directory:unit_detail", lambda w: {"pk": w["unit_b"].pk}),
                 ("directory:county_detail", lambda w: {"pk": w["county_b"].pk})],
    "province_b": [("directory:unit_detail", lambda w: {"pk": w["unit_a"].pk}),
                   ("directory:county_detail", lambda w: {"pk": w["county_a"].pk})],
    "military_inspector": [("directory:unit_detail", lambda w: {"pk": w["unit_a"].pk})],
}


def _walk(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            namespace = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            yield from _walk(entry, namespace)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{prefix}{entry.name}"


def _url(route, world, persona):
    kwargs_fn = ROUTES[route][1]
    return reverse(route, kwargs=kwargs_fn(world, persona) if kwargs_fn else None)


def test_every_url_is_in_the_matrix():
    assert set(_walk()) == set(ROUTES)


@pytest.mark.django_db
@pytest.mark.parametrize("route", sorted(ROUTES))
def test_it_sends_anonymous_users_to_login_except_the_allowlist(client, world, route):
    method, _, data, _ = ROUTES[route]
    response = getattr(client, method)(_url(route, world, "office"), data or {})
    if route in ALLOWLIST:
        assert response.status_code in (200, 302)
        if response.status_code == 302:
            assert not response["Location"].startswith(reverse("login"))
    else:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("route", sorted(ROUTES))
def test_permission_matrix(client, world, personas, route, persona):
    method, _, data, expected = ROUTES[route]
    client.force_login(personas[persona])
    response = getattr(client, method)(_url(route, world, persona), data or {})
    assert response.status_code == expected(persona), (route, persona)


@pytest.mark.django_db
@pytest.mark.parametrize("persona", sorted(FOREIGN))
def test_foreign_objects_answer_404(client, world, personas, persona):
    client.force_login(personas[persona])
    for route, kwargs_fn in FOREIGN[persona]:
        response = client.get(reverse(route, kwargs=kwargs_fn(world)))
        assert response.status_code == 404, (route, persona)


@pytest.mark.django_db
def test_missing_objects_answer_404_not_500(client, world, personas):
    client.force_login(personas["office"])
    for route, kwargs in [("directory:unit_detail", {"pk": 999999}),
                          ("directory:county_detail", {"pk": 999999}),
                          ("rounds:detail", {"year": 1999}),
                          ("rounds:indicator_edit", {"year": 2017, "number": 99})]:
        assert client.get(reverse(route, kwargs=kwargs)).status_code == 404, route


def test_every_role_has_a_persona():
    assert {p.removesuffix("_b") for p in PERSONAS} == set(Role.values)
