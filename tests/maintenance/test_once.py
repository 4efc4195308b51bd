"""One record per act (issue 17, item 6): a form's one-time token lets one of several
identical POSTs through; the others change nothing and say so."""

import re
import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from kaohe.maintenance.models import SpentFormToken
from kaohe.maintenance.once import FIELD, purge_spent_tokens
from kaohe.submissions.models import FirstSecretary, SecondedCadre
from tests.state import changed, snapshot
from tests.test_permissions import PERSONAS, ROUTES, _url

DUPLICATE = "该操作已提交，请勿重复提交。"
TOKEN = re.compile(r'name="once_token" value="([A-Za-z0-9_-]+)"')


def owner(route):
    """The persona that may make the act (the first allowed one)."""
    expected = ROUTES[route][3]
    return next(p for p in PERSONAS if not p.endswith("_b") and expected(p) != 404)


# Every creating POST in the matrix; the matrix's data makes a valid request.
CREATING = [
    "submissions:cadre_add",
    "submissions:first_secretary_add",
    "submissions:provincial_start",
    "submissions:provincial_finding_add",
    "submissions:extension_grant",
    "submissions:self_report_link",
    "submissions:self_report_attach",
    "reviews:activity_add",
    "reviews:problem_add",
    "reviews:incident_add",
    "reviews:military_add",
    "launch:member_add",
    "launch:refined_add",
    "launch:session_add",
    "launch:material_add",
    "rounds:copy",
    "accounts:admin_user_create",
    # A return to the unit is recorded as a row each time.
    "submissions:self_report_return",
]


def _post(client, route, url, token):
    data = dict(ROUTES[route][2] or {})
    data[FIELD] = token
    return client.post(url, data)


@pytest.mark.django_db
def test_a_creating_form_carries_a_token_and_each_render_a_new_one(client, personas, settings):
    settings.KAOHE_TODAY = "2017-11-15"
    client.force_login(personas["unit"])
    page = client.get(reverse("submissions:cadres")).content.decode()
    assert "kaohe/once.js" in page  # disables the buttons after the first click (no inline JS)
    first = TOKEN.findall(page)
    second = TOKEN.findall(client.get(reverse("submissions:cadres")).content.decode())
    assert len(first) == 2  # the seconded cadre's form and the first secretary's
    assert len(set(first) | set(second)) == 4


@pytest.mark.django_db
@pytest.mark.parametrize("route", CREATING)
def test_five_identical_posts_make_one_record(client, world, personas, route, settings):
    # Within the round's schedule, before every deadline.
    settings.KAOHE_TODAY = "2017-11-15"
    persona = owner(route)
    client.force_login(personas[persona])
    url = _url(route, world, persona)  # the route's own objects exist before the snapshot
    before = snapshot()
    first = _post(client, route, url, "a-token-of-one-form-0001")
    assert first.status_code in (200, 302), route
    after_first = snapshot()
    assert changed(before, after_first), f"{route}: the first request made nothing"
    for _ in range(4):
        again = _post(client, route, url, "a-token-of-one-form-0001")
        assert again.status_code == 302
        if first.status_code == 302:
            assert again["Location"] == first["Location"]  # where the first one went
    assert changed(after_first, snapshot()) == []
    # Said once the user sees a page (where the first one went may no longer be theirs).
    assert DUPLICATE in client.get(reverse("home")).content.decode()


@pytest.mark.django_db
def test_a_new_form_is_a_new_act(client, world, personas):
    client.force_login(personas["unit"])
    url = _url("submissions:first_secretary_add", world, "unit")
    for token in ("first-form-token-0001", "second-form-token-002"):
        _post(client, "submissions:first_secretary_add", url, token)
    # The second form is a second act; the domain's own rules decide whether it may be
    # one more first secretary (here it is the same person: see the natural key).
    assert SpentFormToken.objects.count() == 2


@pytest.mark.django_db
def test_a_refused_request_gives_its_token_back(client, world, personas):
    """A 404 (another unit's object) spends nothing: the form may be sent again."""
    client.force_login(personas["unit_b"])
    url = reverse("submissions:self_report_link", kwargs=ROUTES["submissions:self_report_link"][1](
        world, "unit"))
    assert client.post(url, {FIELD: "a-token-of-one-form-0002"}).status_code == 404
    assert not SpentFormToken.objects.exists()


@pytest.mark.django_db
def test_tokens_are_per_user(client, world, personas):
    """Another user sending the same value is not refused (the value is the form's, not a
    secret; it only tells one user's repeated act)."""
    for persona in ("unit", "unit_b"):
        client.force_login(personas[persona])
        response = client.post(reverse("submissions:cadre_add"), {
            FIELD: "same-value-two-users-01", "cadre-name": "王五"})
        assert response.status_code in (200, 302)
    assert SpentFormToken.objects.count() == 2


@pytest.mark.django_db
def test_old_tokens_are_purged(personas):
    from datetime import timedelta

    from django.utils import timezone

    old = SpentFormToken.objects.create(user=personas["unit"], token="x" * 20, path="/")
    SpentFormToken.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=2))
    SpentFormToken.objects.create(user=personas["unit"], token="y" * 20, path="/")
    assert purge_spent_tokens() == 1
    assert list(SpentFormToken.objects.values_list("token", flat=True)) == ["y" * 20]


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="SQLite serialises writers; the race needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("route", "model"), [
    ("submissions:cadre_add", SecondedCadre),
    ("submissions:first_secretary_add", FirstSecretary),
])
def test_five_concurrent_posts_with_one_token_make_one_record(world, personas, route, model,
                                                             settings):
    settings.KAOHE_TODAY = "2017-11-15"
    barrier, statuses, errors = threading.Barrier(5), [], []
    url = _url(route, world, "unit")
    data = {**{k: str(v) for k, v in ROUTES[route][2].items()}, FIELD: "concurrent-token-0001"}

    def post():
        try:
            client = Client()
            client.force_login(personas["unit"])
            barrier.wait(timeout=20)
            statuses.append(client.post(url, data).status_code)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert statuses == [302] * 5
    assert model.objects.filter(unit=world["unit_a"]).count() == 1
