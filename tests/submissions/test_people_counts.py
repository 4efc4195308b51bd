"""People counts beyond any plausible range are field errors, never a server error (item 8).

A 20-digit 计划脱贫人口 gave HTTP 500 (the database cannot store it). The model's validators
bound every people count; the web form and the offline import (test_offline_bounds) both
answer with a field error and save nothing.
"""

import pytest
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse

from kaohe.submissions.forms import CountyOutcomeForm
from kaohe.submissions.models import PEOPLE_COUNT_MAX, CountyOutcome

from .test_views import _prov_form, messages_of

TWENTY_DIGITS = "12345678901234567890"


@pytest.fixture
def prov_report(world):
    from kaohe.submissions import services

    return services.provincial_report_for(round=world["round"], province=world["province_a"],
                                          unit=world["unit_a"])


@pytest.mark.parametrize("field", ["planned_exit", "actual_exit"])
@pytest.mark.parametrize("value", [TWENTY_DIGITS, str(PEOPLE_COUNT_MAX + 1), "-1"])
def test_a_count_out_of_range_in_the_web_form_is_a_field_error(world, personas, login,
                                                              prov_report, field, value):
    client = login(personas["province"])
    response = client.post(reverse("submissions:provincial_save", args=[prov_report.pk]),
                           _prov_form(prov_report, **{f"c{{c}}-{field}": value}), follow=True)
    assert response.status_code == 200
    label = str(CountyOutcomeForm.base_fields[field].label)
    assert any("填写有误" in m and label in m for m in messages_of(response))
    prov_report.refresh_from_db()
    assert prov_report.revision == 0 and prov_report.work_text == ""
    outcome = prov_report.outcomes.get()
    assert (outcome.planned_exit, outcome.actual_exit) == (None, None)


def test_the_largest_plausible_count_is_saved(world, personas, login, prov_report):
    client = login(personas["province"])
    client.post(reverse("submissions:provincial_save", args=[prov_report.pk]),
                _prov_form(prov_report, **{"c{c}-planned_exit": str(PEOPLE_COUNT_MAX)}))
    assert prov_report.outcomes.get().planned_exit == PEOPLE_COUNT_MAX


@pytest.mark.parametrize("field", ["planned_exit", "actual_exit"])
def test_the_model_itself_bounds_people_counts(world, prov_report, field):
    outcome = prov_report.outcomes.get()
    setattr(outcome, field, PEOPLE_COUNT_MAX + 1)
    with pytest.raises(ValidationError) as info:
        outcome.full_clean()
    assert field in info.value.message_dict
    setattr(outcome, field, PEOPLE_COUNT_MAX)
    outcome.full_clean()
    assert isinstance(CountyOutcome._meta.get_field(field), models.PositiveIntegerField)
