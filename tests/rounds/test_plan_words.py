"""The plan's words documents quote are round data: verbatim from the plan, copied with the
round, editable by the office until the scheme is frozen (issue 18)."""

import importlib
import re
from pathlib import Path

import pytest
from django.apps import apps as django_apps
from django.contrib.messages import get_messages
from django.urls import reverse

from kaohe.audit.models import AuditEntry
from kaohe.grading.models import ResultSet
from kaohe.rounds.models import Round
from kaohe.rounds.services import (
    PLAN_WORDS,
    RoundError,
    round_copy,
    round_update_words,
)

SEED = Path(__file__).resolve().parents[3] / "shared" / "seed" / "000_e01c1b015bb3e73e.txt"


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture
def seed() -> str:
    if not SEED.exists():
        pytest.skip("the plan's text is not beside the repository")
    return _flat(SEED.read_text(encoding="utf-8"))


@pytest.fixture
def office(personas):
    return personas["office"]


def test_the_words_are_the_plans_own(plan, seed):
    for key in ("measures_title", "leading_group_name", "working_group_name",
                "grading_rule_text", "summons_text", "plan_title"):
        assert _flat(plan[key]) in seed, key
    assert f"《{plan['measures_title']}》" in seed
    assert plan["working_group_name"] == "中央单位定点扶贫考核工作组"
    assert plan["grading_rule_text"] == (
        "排名前10%为好，排名前11%—30%为较好，排名靠后10%且存在突出问题的单位确定为较差等次，"
        "其余单位为一般等次。")
    assert plan["summons_text"] == (
        "对考核结果为较差等次的单位,由牵头部门约谈分管负责同志,经报党中央、国务院同意,"
        "也可由国务院扶贫开发领导小组约谈主要负责同志。")
    # The rules quoted are the ones the plan's section 七 sets out (bands and result use).
    assert plan["grading_rule_text"] in plan["bands_text"]
    assert plan["summons_text"] in plan["result_use_text"]
    # The issuer is the office whose notice (the 文号) issued the plan.
    assert plan["issuer_name"] == plan["office"]["name"]


def test_the_2017_round_carries_the_words(round_2017, plan):
    for name in PLAN_WORDS:
        assert getattr(round_2017, name) == plan[name], name


def test_a_copied_round_keeps_the_words(world, office):
    new = round_copy(source=world["round"], year=2018, actor=office)
    for name in PLAN_WORDS:
        assert getattr(new, name) == getattr(world["round"], name), name


def test_the_migration_fills_blank_words_from_the_data_file(round_2017, plan):
    migration = importlib.import_module("kaohe.rounds.migrations.0004_plan_words")
    Round.objects.filter(pk=round_2017.pk).update(**{name: "" for name in PLAN_WORDS})
    Round.objects.filter(pk=round_2017.pk).update(working_group_name="已改")
    migration.fill_words(django_apps, None)
    round_2017.refresh_from_db()
    assert round_2017.working_group_name == "已改"  # what the office set is kept
    assert round_2017.summons_text == plan["summons_text"]
    assert round_2017.measures_title == plan["measures_title"]


def test_the_office_changes_the_words_and_it_is_logged(round_2017, office):
    round_update_words(round=round_2017, actor=office, summons_text="新的约谈规定。")
    round_2017.refresh_from_db()
    assert round_2017.summons_text == "新的约谈规定。"
    entry = AuditEntry.objects.get(action="round.words.changed")
    assert entry.data["summons_text"]["new"] == "新的约谈规定。"


def test_words_not_of_the_plan_are_refused(round_2017, office):
    with pytest.raises(ValueError):
        round_update_words(round=round_2017, actor=office, name="别的名称")


def _freeze(round_, user):
    ResultSet.objects.create(round=round_, version=1, inputs=[], method=round_.method,
                             outputs={"results": [], "warnings": [], "counts": {}},
                             created_by=user)


def test_the_words_freeze_with_the_scheme(round_2017, office):
    _freeze(round_2017, office)
    with pytest.raises(RoundError, match="已冻结"):
        round_update_words(round=round_2017, actor=office, summons_text="改")
    round_2017.refresh_from_db()
    assert round_2017.summons_text != "改"


def test_the_office_edits_the_words_on_the_round_page(world, personas, login, plan):
    client = login(personas["office"])
    url = reverse("rounds:words_edit", args=[2017])
    page = client.get(url)
    assert page.status_code == 200
    assert plan["summons_text"] in page.content.decode()
    detail = client.get(reverse("rounds:detail", args=[2017])).content.decode()
    assert plan["working_group_name"] in detail and url in detail
    form = page.context["form"]
    data = {name: form.initial[name] for name in form.fields}
    data["working_group_name"] = "2018年考核工作组"
    assert client.post(url, data).status_code == 302
    assert Round.objects.get(year=2017).working_group_name == "2018年考核工作组"


def test_an_empty_rule_is_refused_and_nothing_changes(world, personas, login, plan):
    client = login(personas["office"])
    url = reverse("rounds:words_edit", args=[2017])
    form = client.get(url).context["form"]
    data = {name: form.initial[name] for name in form.fields}
    data["grading_rule_text"] = ""
    data["working_group_name"] = "不应保存"
    response = client.post(url, data)
    assert response.status_code == 200
    assert "grading_rule_text" in response.context["form"].errors
    assert Round.objects.get(year=2017).working_group_name == plan["working_group_name"]


def test_a_frozen_scheme_sends_the_office_back_with_the_reason(world, personas, login):
    _freeze(world["round"], personas["office"])
    client = login(personas["office"])
    response = client.get(reverse("rounds:words_edit", args=[2017]))
    assert response.status_code == 302
    assert any("已冻结" in str(m) for m in get_messages(response.wsgi_request))
    detail = client.get(reverse("rounds:detail", args=[2017])).content.decode()
    assert reverse("rounds:words_edit", args=[2017]) not in detail


def test_the_words_are_not_part_of_the_sealed_scheme(round_2017):
    """The scheme hash sealed with each result set covers what is assessed and how (which
    decides grades); the words quoted change no grade, and a hash over them would break the
    seals of every result set made before they were round data (`kaohe verify`)."""
    from kaohe.rounds.selectors import scheme_hash

    before = scheme_hash(round_2017)
    Round.objects.filter(pk=round_2017.pk).update(summons_text="改", working_group_name="改")
    round_2017.refresh_from_db()
    assert scheme_hash(round_2017) == before
