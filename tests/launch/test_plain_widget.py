"""The team filing's fields are written without a template a widget (issue 19): the same
markup as Django's, blank or filled, valid or with errors, escaped."""

from django.urls import reverse

from kaohe.launch.forms import team_row_forms
from kaohe.launch.templatetags.launch_forms import plain_widget
from kaohe.lib.addresses import url_for_pk


def _fields(forms):
    return [field for form in forms for field in form]


def test_the_rows_fields_are_djangos_markup_blank_and_filled():
    forms = team_row_forms(initial=[
        {"name": "张<三>", "post": 'a"b&c', "level": "division", "phone": "010-1",
         "email": "a@example.org"},
        {"name": "", "post": "", "level": "", "phone": "", "email": ""}])
    for field in _fields(forms):
        assert plain_widget(field) == str(field), field.html_name


def test_the_rows_fields_are_djangos_markup_with_errors():
    forms = team_row_forms({"rows": "3", "m0-name": "<b>李四</b>", "m0-email": "not mail",
                            "m0-level": "nonsense", "m1-post": "处长", "m2-phone": "'1'"})
    assert not all(form.is_valid() for form in forms)
    for field in _fields(forms):
        assert plain_widget(field) == str(field), field.html_name


def test_a_rows_address_is_the_reversed_one():
    desk = url_for_pk("reviews:desk")
    check = url_for_pk("reviews:org_cadre_check", "secretary")
    for pk in (1, 12, 987654321):
        assert desk(pk) == reverse("reviews:desk", args=[pk])
        assert check(pk) == reverse("reviews:org_cadre_check", args=["secretary", pk])
