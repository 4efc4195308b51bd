"""Rounds: loading the shipped 2017 plan, copying a round, editing it, and who may see what."""

import datetime
import re

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.urls import reverse

from kaohe.audit.models import AuditEntry
from kaohe.directory.models import County, Pairing
from kaohe.directory.services import reference_data_load
from kaohe.grading.engine import AREA_CODES
from kaohe.rounds.forms import MethodForm
from kaohe.rounds.models import (
    Area,
    EvidenceRequirement,
    Indicator,
    IndicatorItem,
    Round,
    SeriousProblemKind,
    Step,
)
from kaohe.rounds.services import (
    indicator_update,
    round_copy,
    round_create_from_plan,
    round_update_method,
    round_update_schedule,
)

ROUND_FIELDS = ["name", "document_number", "plan_title", "planned_unit_count", "purpose",
                "method_text", "major_incident_text", "result_use_text"]


def content_of(round_):
    """Everything a round says, without database ids, in order."""
    return {
        "areas": [
            {
                "code": area.code, "number": area.number, "name": area.name,
                "source": area.source, "source_text": area.source_text,
                "indicators": [
                    {
                        "number": ind.number, "name": ind.name, "summary": ind.summary,
                        "definition": ind.definition, "evidence_basis": ind.evidence_basis,
                        "source": ind.source, "deep_poverty_only": ind.deep_poverty_only,
                        "per_county": ind.per_county,
                        "items": [
                            {"code": item.code, "name": item.name, "definition": item.definition,
                             "evidence_basis": item.evidence_basis}
                            for item in ind.items.order_by("order")
                        ],
                        "evidence_items": [
                            req.name for req in ind.evidence_requirements.order_by("order")
                        ],
                    }
                    for ind in area.indicators.order_by("number")
                ],
            }
            for area in round_.areas.order_by("number")
        ],
        "serious_problem_kinds": [
            {"code": kind.code, "name": kind.name}
            for kind in round_.problem_kinds.order_by("order")
        ],
    }


def steps_of(round_):
    return [
        {"code": s.code, "number": s.number, "name": s.name, "heading": s.heading,
         "actor": s.actor, "description": s.description, "due": s.due}
        for s in round_.steps.order_by("order")
    ]


def expected_from_plan(plan):
    return {
        "areas": [
            {
                "code": area["code"], "number": area["number"], "name": area["name"],
                "source": area["source"], "source_text": area.get("source_text", ""),
                "indicators": [
                    {
                        "number": ind["number"], "name": ind["name"],
                        "summary": ind.get("summary", ""),
                        "definition": ind.get("definition", ""),
                        "evidence_basis": ind.get("evidence_basis", ""),
                        "source": ind.get("source", area["source"]),
                        "deep_poverty_only": ind.get("deep_poverty_only", False),
                        "per_county": ind.get("per_county", False),
                        "items": [
                            {"code": item["code"], "name": item["name"],
                             "definition": item.get("definition", ""),
                             "evidence_basis": item.get("evidence_basis", "")}
                            for item in ind.get("items", [])
                        ],
                        "evidence_items": list(ind.get("evidence_items", [])),
                    }
                    for ind in area["indicators"]
                ],
            }
            for area in plan["areas"]
        ],
        "serious_problem_kinds": [
            {"code": kind["code"], "name": kind["name"]}
            for kind in plan.get("serious_problem_kinds", [])
        ],
    }


def counts():
    return {model.__name__: model.objects.count() for model in (
        Round, Area, Indicator, IndicatorItem, EvidenceRequirement, Step, SeriousProblemKind,
        Pairing,
    )}


@pytest.fixture
def office(personas):
    return personas["office"]


# -- Loading the 2017 plan ---------------------------------------------------------------


def test_the_2017_round_in_the_database_says_what_the_plan_says(round_2017, plan):
    round_2017.refresh_from_db()
    assert round_2017.year == plan["year"] == 2017
    for field in ROUND_FIELDS:
        assert getattr(round_2017, field) == plan.get(field, type(getattr(round_2017, field))())
    assert content_of(round_2017) == expected_from_plan(plan)
    # Non-trivial: the plan has areas, items, evidence and problem kinds to compare.
    expected = expected_from_plan(plan)
    assert len(expected["areas"]) == 6
    assert sum(len(a["indicators"]) for a in expected["areas"]) == 13
    assert expected["serious_problem_kinds"]


def test_the_2017_round_has_the_plan_s_steps_with_their_dates(round_2017, plan):
    assert steps_of(round_2017) == [
        {"code": s["code"], "number": s.get("number", ""), "name": s["name"],
         "heading": s.get("heading", ""), "actor": s["actor"],
         "description": s.get("description", ""), "due": datetime.date.fromisoformat(s["due"])}
        for s in plan["steps"]
    ]
    assert round_2017.steps.get(code="rectification").due == datetime.date(2018, 3, 31)


def test_the_2017_round_has_the_plan_s_method(round_2017, plan):
    round_2017.refresh_from_db()
    assert round_2017.method == plan["method"]


def test_the_2017_round_orders_items_and_evidence_as_the_plan(round_2017, plan):
    for area in plan["areas"]:
        for ind in area["indicators"]:
            indicator = round_2017.indicators.get(number=ind["number"])
            assert list(indicator.items.values_list("order", flat=True)) == list(
                range(1, len(ind.get("items", [])) + 1))
            assert list(indicator.evidence_requirements.values_list("name", flat=True)) == (
                ind.get("evidence_items", []))


def test_loading_the_plan_twice_changes_nothing(round_2017, plan):
    before = counts()
    counties = County.objects.count()
    logged = AuditEntry.objects.filter(action="round.created").count()
    again = round_create_from_plan(data=plan)
    reference_data_load(plan=plan)
    assert again.pk == round_2017.pk
    assert counts() == before
    assert County.objects.count() == counties == 832
    assert AuditEntry.objects.filter(action="round.created").count() == logged


def test_reloading_reference_data_keeps_a_designation(round_2017, plan):
    county = County.objects.get(code="130125")
    county.province_designated = True
    county.save()
    reference_data_load(plan=plan)
    county.refresh_from_db()
    assert county.province_designated is True


# -- Copying a round ---------------------------------------------------------------------


def test_copying_a_round_copies_its_content_method_and_source(world, office):
    source = world["round"]
    new = round_copy(source=source, year=2018, actor=office)
    new.refresh_from_db()
    assert new.year == 2018
    assert new.copied_from == source
    assert new.name == "2018年中央单位定点扶贫工作考核"
    assert new.plan_title == "2018年中央单位定点扶贫工作考核实施方案"
    assert new.document_number == ""
    assert new.method == source.method
    for field in ("planned_unit_count", "purpose", "method_text", "major_incident_text",
                  "result_use_text"):
        assert getattr(new, field) == getattr(source, field)
    assert content_of(new) == content_of(source)
    # New rows, not the old ones re-pointed.
    assert source.indicators.count() == new.indicators.count() == 13
    assert not Indicator.objects.filter(round=new, pk__in=source.indicators.values("pk"))


def test_copying_a_round_moves_every_deadline_by_a_year(world, office):
    source = world["round"]
    new = round_copy(source=source, year=2018, actor=office)
    old_steps, new_steps = steps_of(source), steps_of(new)
    assert [s["code"] for s in new_steps] == [s["code"] for s in old_steps]
    for old, copied in zip(old_steps, new_steps, strict=True):
        assert copied["due"] == old["due"].replace(year=old["due"].year + 1)
        for key in ("number", "name", "heading", "actor"):
            assert copied[key] == old[key]
    assert new.steps.get(code="launch").due == datetime.date(2018, 11, 20)


def _shifted(text, years):
    """Every year in the text moved once (a chained replace would move 2017 twice)."""
    return re.sub(r"(\d{4})年", lambda m: f"{int(m[1]) + years}年", text)


def test_copying_a_round_two_years_on_shifts_the_years_in_step_descriptions(world, office):
    source = world["round"]
    new = round_copy(source=source, year=2019, actor=office)
    for old, copied in zip(steps_of(source), steps_of(new), strict=True):
        assert copied["description"] == _shifted(old["description"], 2)
    assert "2019年11月20日前完成" in new.steps.get(code="launch").description


def test_copying_a_round_into_the_next_year_shifts_the_years_in_step_descriptions(
    world, office
):
    source = world["round"]
    new = round_copy(source=source, year=2018, actor=office)
    for old, copied in zip(steps_of(source), steps_of(new), strict=True):
        assert copied["description"] == _shifted(old["description"], 1)
    assert "2018年11月20日前完成" in new.steps.get(code="launch").description
    assert "2019年1月15日前完成" in new.steps.get(code="review").description
    assert "2019年" not in new.steps.get(code="launch").description


def test_copying_a_round_copies_its_pairings(world, office):
    source = world["round"]
    new = round_copy(source=source, year=2018, actor=office)
    pairs = sorted(Pairing.objects.filter(round=source).values_list("unit_id", "county_id"))
    assert len(pairs) == 3
    assert sorted(Pairing.objects.filter(round=new).values_list("unit_id", "county_id")) == pairs


def test_copying_a_round_is_logged(world, office):
    new = round_copy(source=world["round"], year=2018, actor=office)
    entry = AuditEntry.objects.get(action="round.copied")
    assert entry.actor == office
    assert entry.target_id == str(new.pk)
    assert entry.data == {"from_year": 2017}


@pytest.mark.parametrize("year", [2017, 2018])
def test_copying_into_an_existing_year_is_refused_and_creates_nothing(world, office, year):
    if year == 2018:
        round_copy(source=world["round"], year=2018, actor=office)
    before = counts()
    with pytest.raises(ValidationError) as excinfo:
        round_copy(source=world["round"], year=year, actor=office)
    assert "year" in excinfo.value.message_dict
    assert f"{year}年度的考核已存在" in excinfo.value.message_dict["year"][0]
    assert counts() == before
    assert AuditEntry.objects.filter(action="round.copied").count() == (year == 2018)


# -- Editing ----------------------------------------------------------------------------


def test_updating_the_schedule_changes_the_dates_and_logs_old_and_new(round_2017, office):
    review = round_2017.steps.get(code="review")
    training = round_2017.steps.get(code="training")
    round_update_schedule(round=round_2017, actor=office, dues={
        review.pk: datetime.date(2018, 1, 20),
        training.pk: training.due,  # unchanged, so not logged
    })
    review.refresh_from_db()
    assert review.due == datetime.date(2018, 1, 20)
    entry = AuditEntry.objects.get(action="round.schedule.changed")
    assert entry.actor == office
    assert entry.target_id == str(round_2017.pk)
    assert entry.data == {"review": {"old": "2018-01-15", "new": "2018-01-20"}}


def test_a_schedule_update_without_a_change_is_not_logged(round_2017, office):
    dues = {step.pk: step.due for step in round_2017.steps.all()}
    round_update_schedule(round=round_2017, dues=dues, actor=office)
    assert not AuditEntry.objects.filter(action="round.schedule.changed").exists()


def test_updating_the_method_stores_it_normalized_and_logs_old_and_new(round_2017, office):
    old = dict(round_2017.method)
    round_update_method(round=round_2017, actor=office,
                        method={**old, "rounding": "ceil", "shares": {
                            "good": "0.15", "fairly_good": "0.30", "poor": "0.10"}})
    round_2017.refresh_from_db()
    assert round_2017.method["rounding"] == "ceil"
    assert round_2017.method["shares"]["good"] == "0.15"
    entry = AuditEntry.objects.get(action="round.method.changed")
    assert entry.data["old"] == old
    assert entry.data["new"] == round_2017.method


@pytest.mark.parametrize("method", [
    {"rounding": "sideways"},
    {"shares": {"good": "1.5"}},
    {"shares": {"good": "0.40", "fairly_good": "0.30"}},
    {"shares": {"poor": "-0.1"}},
    {"points": {"good": 1, "fairly_good": 3, "average": 2, "poor": 1}},
    {"weights": {code: 0 for code in AREA_CODES}},
    {"weights": {"leadership": "heavy"}},
    {"tie_break": ["area:effectiveness", "area:effectiveness"]},
    {"incident_cap": "good"},
    {"backfill": "yes"},
    {"colour": "red"},
])
def test_an_invalid_method_is_refused_and_the_old_one_kept(round_2017, office, method):
    old = dict(round_2017.method)
    with pytest.raises(ValidationError):
        round_update_method(round=round_2017, method=method, actor=office)
    round_2017.refresh_from_db()
    assert round_2017.method == old
    assert not AuditEntry.objects.filter(action="round.method.changed").exists()


def test_updating_an_indicator_logs_what_changed(round_2017, office):
    indicator = round_2017.indicators.get(number=1)
    old_name = indicator.name
    indicator_update(indicator=indicator, actor=office, name="新的指标名称",
                     summary=indicator.summary)
    indicator.refresh_from_db()
    assert indicator.name == "新的指标名称"
    entry = AuditEntry.objects.get(action="round.indicator.changed")
    assert entry.actor == office
    assert entry.target_id == str(indicator.pk)
    assert entry.data == {"name": {"old": old_name, "new": "新的指标名称"}}


def test_an_indicator_update_without_a_change_is_not_logged(round_2017, office):
    indicator = round_2017.indicators.get(number=1)
    indicator_update(indicator=indicator, actor=office, name=indicator.name)
    assert not AuditEntry.objects.filter(action="round.indicator.changed").exists()


@pytest.mark.parametrize("field", ["number", "source", "round", "deep_poverty_only"])
def test_an_indicator_update_refuses_fields_that_are_not_editable(round_2017, office, field):
    indicator = round_2017.indicators.get(number=1)
    with pytest.raises(ValueError, match=field):
        indicator_update(indicator=indicator, actor=office, **{field: 99})
    assert Indicator.objects.get(pk=indicator.pk).number == 1


# -- Views: who sees what ----------------------------------------------------------------

DATA_PERSONAS = ["office", "working_group", "leading_group", "org_department",
                 "military_inspector", "lead_reviewer", "unit", "province"]
ADMINS = ["system_admin", "security_admin", "auditor"]
METHOD_READERS = ["office", "working_group", "leading_group"]
NOT_METHOD_READERS = ["unit", "unit_b", "province", "province_b", "lead_reviewer",
                      "lead_reviewer_b", "org_department", "military_inspector", *ADMINS]
ALL_BUT_OFFICE = ["working_group", "leading_group", "org_department", "military_inspector",
                  "lead_reviewer", "lead_reviewer_b", "unit", "unit_b", "province",
                  "province_b", *ADMINS]


@pytest.mark.parametrize("persona", DATA_PERSONAS)
def test_data_personas_see_the_round_list_and_detail(personas, login, persona):
    client = login(personas[persona])
    response = client.get(reverse("rounds:list"))
    assert response.status_code == 200
    assert "2017年中央单位定点扶贫工作考核" in response.content.decode()
    response = client.get(reverse("rounds:detail", args=[2017]))
    assert response.status_code == 200
    assert "国开办发〔2017〕59号" in response.content.decode()


@pytest.mark.parametrize("persona", ADMINS)
def test_administrators_do_not_see_rounds(personas, login, persona):
    client = login(personas[persona])
    assert client.get(reverse("rounds:list")).status_code == 404
    assert client.get(reverse("rounds:detail", args=[2017])).status_code == 404


def test_an_unknown_year_is_404(personas, login):
    assert login(personas["office"]).get(reverse("rounds:detail", args=[1999])).status_code == 404


@pytest.mark.parametrize("persona", METHOD_READERS)
def test_the_method_page_is_shown_to_office_and_groups_and_the_reading_is_logged(
    personas, login, persona
):
    user = personas[persona]
    response = login(user).get(reverse("rounds:method", args=[2017]))
    assert response.status_code == 200
    entry = AuditEntry.objects.get(action="round.method.viewed")
    assert entry.actor == user
    assert entry.target_type == "rounds.Round"


@pytest.mark.parametrize("persona", NOT_METHOD_READERS)
def test_the_method_page_is_404_for_everyone_else(personas, login, persona):
    response = login(personas[persona]).get(reverse("rounds:method", args=[2017]))
    assert response.status_code == 404
    assert not AuditEntry.objects.filter(action="round.method.viewed").exists()


def method_post(method, **changes):
    data = {key: "" if value is None else str(value)
            for key, value in MethodForm.initial_from(method).items()}
    data.pop("backfill")
    if method["backfill"]:
        data["backfill"] = "on"
    for i in range(1, 6):
        data.setdefault(f"tie_{i}", "")
    data.update(changes)
    return data


def test_the_office_changes_the_method_through_the_form(personas, login, round_2017):
    response = login(personas["office"]).post(
        reverse("rounds:method", args=[2017]),
        method_post(round_2017.method, share_good="0.15", rounding="ceil", backfill="on",
                    tie_1="count_good", tie_2="", tie_3="", tie_4=""),
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("rounds:method", args=[2017])
    round_2017.refresh_from_db()
    assert round_2017.method["shares"]["good"] == "0.15"
    assert round_2017.method["rounding"] == "ceil"
    assert round_2017.method["backfill"] is True
    assert round_2017.method["tie_break"] == ["count_good"]
    assert AuditEntry.objects.get(action="round.method.changed").actor == personas["office"]


def test_posting_the_unchanged_form_keeps_the_method(personas, login, round_2017, plan):
    response = login(personas["office"]).post(reverse("rounds:method", args=[2017]),
                                              method_post(round_2017.method))
    assert response.status_code == 302
    round_2017.refresh_from_db()
    assert round_2017.method == plan["method"]


@pytest.mark.parametrize("persona", ["working_group", "leading_group"])
def test_a_method_reader_cannot_change_the_method(personas, login, round_2017, persona):
    old = dict(round_2017.method)
    response = login(personas[persona]).post(
        reverse("rounds:method", args=[2017]),
        method_post(round_2017.method, share_good="0.20", rounding="ceil"),
    )
    assert response.status_code == 302
    round_2017.refresh_from_db()
    assert round_2017.method == old
    assert not AuditEntry.objects.filter(action="round.method.changed").exists()


@pytest.mark.parametrize(("changes", "message"), [
    ({"share_good": "1.5"}, None),
    ({"rounding": "sideways"}, None),
    ({"share_good": "0.50", "share_fairly_good": "0.30"}, "shares.fairly_good"),
    ({"points_good": "1"}, "严格递减"),
])
def test_an_invalid_method_form_shows_the_error_and_keeps_the_method(
    personas, login, round_2017, changes, message
):
    old = dict(round_2017.method)
    response = login(personas["office"]).post(reverse("rounds:method", args=[2017]),
                                              method_post(round_2017.method, **changes))
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors
    if message:
        # The engine's rule, shown above the form, naming the setting.
        assert any(message in error for error in form.non_field_errors())
        assert message in response.content.decode()
    round_2017.refresh_from_db()
    assert round_2017.method == old


# -- Views: editing is for the office only -----------------------------------------------


@pytest.mark.parametrize("persona", ALL_BUT_OFFICE)
def test_only_the_office_edits_schedule_and_indicators_and_copies(
    personas, login, round_2017, persona
):
    client = login(personas[persona])
    step = round_2017.steps.get(code="review")
    indicator = round_2017.indicators.get(number=1)
    before = counts()
    schedule = reverse("rounds:schedule_edit", args=[2017])
    edit = reverse("rounds:indicator_edit", args=[2017, 1])
    assert client.get(schedule).status_code == 404
    assert client.post(schedule, {f"step_{step.pk}": "2018-02-01"}).status_code == 404
    assert client.get(edit).status_code == 404
    assert client.post(edit, {"name": "改", "summary": "", "definition": "",
                              "evidence_basis": ""}).status_code == 404
    assert client.post(reverse("rounds:copy", args=[2017]), {"year": 2018}).status_code == 404
    assert Step.objects.get(pk=step.pk).due == step.due
    assert Indicator.objects.get(pk=indicator.pk).name == indicator.name
    assert counts() == before


def test_the_office_edits_the_schedule(personas, login, round_2017):
    client = login(personas["office"])
    url = reverse("rounds:schedule_edit", args=[2017])
    assert client.get(url).status_code == 200
    data = {f"step_{s.pk}": s.due.isoformat() for s in round_2017.steps.all()}
    review = round_2017.steps.get(code="review")
    data[f"step_{review.pk}"] = "2018-01-22"
    response = client.post(url, data)
    assert response.status_code == 302
    assert response["Location"] == reverse("rounds:detail", args=[2017])
    review.refresh_from_db()
    assert review.due == datetime.date(2018, 1, 22)
    assert AuditEntry.objects.get(action="round.schedule.changed").data == {
        "review": {"old": "2018-01-15", "new": "2018-01-22"}}


def test_a_schedule_with_a_bad_date_is_refused(personas, login, round_2017):
    client = login(personas["office"])
    review = round_2017.steps.get(code="review")
    data = {f"step_{s.pk}": s.due.isoformat() for s in round_2017.steps.all()}
    data[f"step_{review.pk}"] = "2018-02-30"
    response = client.post(reverse("rounds:schedule_edit", args=[2017]), data)
    assert response.status_code == 200
    assert response.context["form"].errors
    review.refresh_from_db()
    assert review.due == datetime.date(2018, 1, 15)


def test_the_office_edits_an_indicator(personas, login, round_2017):
    client = login(personas["office"])
    url = reverse("rounds:indicator_edit", args=[2017, 3])
    assert client.get(url).status_code == 200
    indicator = round_2017.indicators.get(number=3)
    response = client.post(url, {"name": "修改后的指标", "summary": indicator.summary,
                                 "definition": indicator.definition,
                                 "evidence_basis": "新的评价依据"})
    assert response.status_code == 302
    indicator.refresh_from_db()
    assert indicator.name == "修改后的指标"
    assert indicator.evidence_basis == "新的评价依据"
    entry = AuditEntry.objects.get(action="round.indicator.changed")
    assert set(entry.data) == {"name", "evidence_basis"}


def test_editing_an_unknown_indicator_is_404(personas, login, round_2017):
    url = reverse("rounds:indicator_edit", args=[2017, 99])
    assert login(personas["office"]).get(url).status_code == 404


def test_the_office_copies_a_round_and_lands_on_the_copy(personas, login, world):
    response = login(personas["office"]).post(reverse("rounds:copy", args=[2017]),
                                              {"year": 2018})
    assert response.status_code == 302
    assert response["Location"] == reverse("rounds:detail", args=[2018])
    new = Round.objects.get(year=2018)
    assert new.copied_from == world["round"]
    assert new.indicators.count() == 13
    assert new.pairings.count() == 3


def test_copying_to_an_existing_year_shows_an_error_and_creates_nothing(
    personas, login, round_2017
):
    client = login(personas["office"])
    round_copy(source=round_2017, year=2018, actor=personas["office"])
    before = counts()
    response = client.post(reverse("rounds:copy", args=[2017]), {"year": 2018})
    assert response.status_code == 302
    assert response["Location"] == reverse("rounds:detail", args=[2017])
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["2018年度的考核已存在。"]
    assert counts() == before


def test_copying_to_a_year_out_of_range_shows_an_error(personas, login, round_2017):
    before = counts()
    response = login(personas["office"]).post(reverse("rounds:copy", args=[2017]),
                                              {"year": 1999})
    assert response.status_code == 302
    assert list(get_messages(response.wsgi_request))
    assert counts() == before


def test_the_copy_view_refuses_get(personas, login, round_2017):
    assert login(personas["office"]).get(reverse("rounds:copy", args=[2017])).status_code == 405


def test_a_unit_does_not_see_the_method_link_or_edit_links(personas, login):
    content = login(personas["unit"]).get(reverse("rounds:detail", args=[2017])).content.decode()
    assert reverse("rounds:method", args=[2017]) not in content
    assert reverse("rounds:schedule_edit", args=[2017]) not in content
    assert reverse("rounds:indicator_edit", args=[2017, 1]) not in content



def test_creating_a_round_from_a_plan_is_logged(round_2017, plan):
    new = round_create_from_plan(data={**plan, "year": 2030, "name": "2030年考核"})
    entry = AuditEntry.objects.get(action="round.created", target_id=str(new.pk))
    assert entry.data == {"from": "plan"}
    assert new.steps.count() == 8 and new.indicators.count() == 13
