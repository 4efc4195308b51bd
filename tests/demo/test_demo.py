import datetime

import pytest
from django.core.management import call_command
from django.db.models import Count
from django.urls import reverse

from kaohe.accounts.models import Role, User
from kaohe.accounts.twofactor import TWO_FACTOR_ROLES
from kaohe.demo.builder import DEMO_PASSWORD, build_demo
from kaohe.directory.models import Pairing, Unit
from kaohe.rounds.models import Round
from kaohe.submissions.models import ReportStatus, SelfReport


@pytest.fixture
def demo(db):
    build_demo(today=datetime.date(2017, 12, 20))


def test_demo_has_310_ranked_units_and_army_units_apart(demo):
    assert Unit.objects.filter(category__ranked=True).count() == 310
    assert Unit.objects.filter(category__ranked=False).count() == 6
    assert Unit.objects.values("category").distinct().count() == 7
    assert all(name.startswith("示例") for name in Unit.objects.values_list("name", flat=True))


def test_demo_pairs_592_real_counties_one_to_four_per_unit(demo):
    round_ = Round.objects.get(year=2017)
    assert Pairing.objects.filter(round=round_).count() == 592
    assert Pairing.objects.values("county").distinct().count() == 592
    per_unit = Unit.objects.annotate(n=Count("pairings")).values_list("n", flat=True)
    assert min(per_unit) >= 1 and max(per_unit) <= 4


def test_demo_shows_a_believable_state_of_progress(demo):
    statuses = dict(SelfReport.objects.values_list("status").annotate(n=Count("pk")))
    assert 0 < statuses[ReportStatus.SUBMITTED] < 316
    assert statuses[ReportStatus.DRAFT] > 0
    assert SelfReport.objects.count() < 316  # some units have not started


def test_demo_has_an_account_for_every_role(demo):
    assert set(User.objects.values_list("role", flat=True)) == set(Role.values)
    assert User.objects.filter(role=Role.UNIT).values("unit__category").distinct().count() == 7
    assert User.objects.filter(role=Role.PROVINCE).count() >= 2
    assert User.objects.filter(role=Role.LEAD_REVIEWER).values("lead_department").distinct(
    ).count() == 6
    assert User.objects.filter(is_liaison=True).count() == 6


def test_every_demo_account_logs_in_and_lands_on_its_home_page(demo, client, settings):
    # As `make run` serves the demo: two factors are offered to the roles that need them,
    # not forced, so the demo can be seen without an authenticator app.
    settings.KAOHE_TWO_FACTOR = "optional"
    for username, role in User.objects.values_list("username", "role"):
        response = client.post(reverse("login"), {"username": username,
                                                  "password": DEMO_PASSWORD}, follow=True)
        assert response.status_code == 200, username
        if role in TWO_FACTOR_ROLES:
            assert response.redirect_chain[-1][0].startswith(
                reverse("accounts:two_factor_enrol")), username
            response = client.get(reverse("home"))
            assert response.status_code == 200, username
        else:
            assert response.redirect_chain[-1][0] == reverse("home"), username
        assert response.context["user"].username == username
        client.post(reverse("logout"))


@pytest.mark.django_db
def test_running_demo_twice_keeps_the_data(capsys):
    call_command("demo")
    first = capsys.readouterr().out
    unit = Unit.objects.order_by("code").first()
    unit.name = "示例已改名单位"
    unit.save()
    call_command("demo")
    second = capsys.readouterr().out
    assert "演示数据已创建" in first and DEMO_PASSWORD in first
    assert "保留现有数据" in second
    assert Unit.objects.get(pk=unit.pk).name == "示例已改名单位"
    assert Unit.objects.count() == 316


def test_evaluate_command_on_the_demo_data_agrees_with_the_web_result_set(demo, tmp_path):
    """The demo moved on to the comprehensive review; its inputs, exported as the CSV the
    command reads, give the same grades from `kaohe evaluate` as the web result set."""
    import csv
    import json

    from kaohe.demo.builder import advance_demo_to_review
    from kaohe.grading.engine import AREA_CODES, AREA_NAMES, GRADE_LABELS, Grade
    from kaohe.grading.models import ResultSet
    from kaohe.grading.services import problem_text  # sealed as codes, named as the engine does

    assert advance_demo_to_review(today=datetime.date(2018, 1, 20))
    result_set = ResultSet.objects.get()
    assert len(result_set.inputs) == 310
    path = tmp_path / "demo.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["单位", "类别", *[AREA_NAMES[c] for c in AREA_CODES], "突出问题",
                         "重大涉贫事件", "省级推荐等次"])
        for item in result_set.inputs:
            writer.writerow([
                item["unit"], item["category"],
                *[GRADE_LABELS[Grade(item["grades"][c])] for c in AREA_CODES],
                "；".join(problem_text(p) for p in item["serious_problems"]),
                "是" if item["incidents"] else "否",
                GRADE_LABELS[Grade(item["recommended_grade"])] if item["recommended_grade"]
                else "",
            ])
    out = tmp_path / "out.json"
    call_command("evaluate", str(path), "--output", str(out))
    cli = {r["unit"]: r["grade"] for r in json.loads(out.read_text(encoding="utf-8"))["results"]}
    web = {r["unit"]: r["grade"] for r in result_set.outputs["results"]}
    assert cli == web
    assert set(web.values()) >= {"好", "较好", "一般"}
