"""A double click on 生成等次建议 makes one result set (issue 17, item 6): the form's
one-time token lets one computation through; two computations with different tokens at
once are numbered one after the other on the round's row lock, never a 500."""

import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from kaohe.grading.models import ResultSet


@pytest.fixture(autouse=True)
def _during_the_review(settings):
    """Before the lead departments' deadline, so that the fixtures can submit results."""
    settings.KAOHE_TODAY = "2018-01-10"


def test_the_compute_form_carries_a_token(mixed, personas, login):
    page = login(personas["working_group"]).get(reverse("grading:index")).content.decode()
    assert 'name="once_token"' in page


def test_a_double_click_makes_one_result_set(mixed, personas, login):
    client = login(personas["working_group"])
    responses = [client.post(reverse("grading:compute"), {"once_token": "double-click-000001"})
                 for _ in range(2)]
    assert [r.status_code for r in responses] == [302, 302]
    assert responses[1]["Location"] == responses[0]["Location"]
    assert list(ResultSet.objects.values_list("version", flat=True)) == [1]


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="SQLite serialises writers; the race needs row locks (PostgreSQL)")
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("same_token", [True, False])
def test_computations_at_once_through_the_page(mixed, personas, same_token):
    barrier, statuses, errors = threading.Barrier(5), [], []

    def post(number):
        try:
            client = Client()
            client.force_login(personas["working_group"])
            token = "same-token-000001" if same_token else f"token-of-click-{number:05d}"
            barrier.wait(timeout=20)
            statuses.append(client.post(reverse("grading:compute"),
                                        {"once_token": token}).status_code)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(n,)) for n in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == [] and statuses == [302] * 5  # never a 500
    versions = sorted(ResultSet.objects.values_list("version", flat=True))
    assert versions == ([1] if same_token else [1, 2, 3, 4, 5])
