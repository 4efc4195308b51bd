"""Hostile review of 814bd9c: ``?year=`` values that are digits to str.isdigit() but not to
int() (superscripts, other scripts' digits) answer 404, never 500."""

import pytest
from django.urls import reverse


@pytest.mark.parametrize("year", ["²", "2⁰17", "①", "٢٠١٧"])
def test_a_year_of_unusual_digits_is_404_not_500(world, personas, client, year):
    client.force_login(personas["unit"])
    client.raise_request_exception = False
    response = client.get(reverse("home"), {"year": year})
    assert response.status_code == 404
