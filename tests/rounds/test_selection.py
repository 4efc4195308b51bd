"""Issue 16: every page works on a chosen round (``?year=``, remembered in the session),
defaulting to the current one; earlier rounds stay reachable to whoever could see them."""

import pytest
from django.urls import reverse
from django.utils import timezone

from kaohe.outcomes import services as outcomes
from kaohe.outcomes.models import Feedback
from kaohe.rounds.selection import SESSION_KEY, chosen_round
from kaohe.rounds.selectors import current_round
from kaohe.rounds.services import round_activate, round_copy
from kaohe.submissions.models import ReportStatus, SelfReport
from tests.outcomes.test_outcomes import approved  # noqa: F401  (a fixture)


@pytest.fixture
def two_years(approved, personas, world):  # noqa: F811
    """2017 released (unit_b 较差), then 2018 copied and activated: both rounds active."""
    outcomes.release(result_set=approved, actor=personas["office"])
    new = round_copy(source=world["round"], year=2018, actor=personas["office"])
    round_activate(round=new, actor=personas["office"])
    assert current_round() == new
    return {"2017": world["round"], "2018": new,
            "letter": Feedback.objects.get(unit=world["unit_b"], result_set=approved)}


def test_the_unit_reaches_its_2017_result_and_letter_by_year(two_years, personas, client):
    client.force_login(personas["unit_b"])
    page = client.get(reverse("outcomes:my_result") + "?year=2017")
    assert page.status_code == 200
    assert page.context["round"].year == 2017 and page.context["grade"] == "较差"
    letter = two_years["letter"]
    for fmt in ("pdf", "docx"):
        response = client.get(reverse("documents:make", args=["feedback_letter", letter.pk, fmt])
                              + "?year=2017")
        assert response.status_code == 200, fmt


def test_without_a_year_pages_work_on_2018(two_years, personas, client, world):
    client.force_login(personas["unit_b"])
    home = client.get(reverse("home"))
    assert home.context["round"].year == 2018
    report = client.get(reverse("submissions:self_reports"), follow=True)
    assert report.context["round"].year == 2018
    client.force_login(personas["office"])
    assert client.get(reverse("home")).context["round"].year == 2018
    assert client.get(reverse("directory:unit_list")).context["round"].year == 2018


def test_the_unit_home_shows_its_2017_result_beside_its_2018_report(two_years, personas,
                                                                    client):
    client.force_login(personas["unit_b"])
    home = client.get(reverse("home"))
    html = home.content.decode()
    assert home.context["round"].year == 2018
    assert [r["round"].year for r in home.context["results"]] == [2017]
    assert home.context["results"][0]["grade"] == "较差"
    assert 'id="earlier-results"' in html and 'id="current-report"' in html
    assert reverse("outcomes:my_result") + "?year=2017" in html
    letter = reverse("documents:make", args=["feedback_letter", two_years["letter"].pk, "pdf"])
    assert letter + "?year=2017" in html
    assert "2018年度" in html  # the current report's card names its year


def test_a_preparing_year_is_the_office_s_only(two_years, personas, client):
    round_copy(source=two_years["2018"], year=2019, actor=personas["office"])
    for persona in ("unit_b", "province", "lead_reviewer", "working_group"):
        client.force_login(personas[persona])
        assert client.get(reverse("home") + "?year=2019").status_code == 404, persona
        assert "2019年度" not in client.get(reverse("home")).content.decode(), persona
    client.force_login(personas["office"])
    home = client.get(reverse("home") + "?year=2019")
    assert home.status_code == 200 and home.context["round"].year == 2019
    assert "筹备中" in home.content.decode()


@pytest.mark.parametrize("year", ["1999", "abc", "20170", "-1"])
def test_an_unknown_or_malformed_year_is_404(two_years, personas, client, year):
    client.force_login(personas["office"])
    assert client.get(reverse("home"), {"year": year}).status_code == 404
    assert client.get(reverse("documents:index"), {"year": year}).status_code == 404


def test_the_session_remembers_the_chosen_year(two_years, personas, client):
    client.force_login(personas["unit_b"])
    assert client.get(reverse("home") + "?year=2017").context["round"].year == 2017
    assert client.session[SESSION_KEY] == 2017
    # Following links without the parameter stays on 2017.
    assert client.get(reverse("home")).context["round"].year == 2017
    assert client.get(reverse("outcomes:my_result")).context["round"].year == 2017
    report = client.get(reverse("submissions:self_reports"), follow=True)
    assert report.context["round"].year == 2017
    # Choosing the default year again forgets the choice.
    assert client.get(reverse("home") + "?year=2018").context["round"].year == 2018
    assert SESSION_KEY not in client.session
    assert client.get(reverse("home")).context["round"].year == 2018


def test_a_remembered_year_no_longer_visible_is_forgotten(two_years, personas, client):
    client.force_login(personas["unit_b"])
    session = client.session
    session[SESSION_KEY] = 1999
    session.save()
    home = client.get(reverse("home"))
    assert home.status_code == 200 and home.context["round"].year == 2018
    assert SESSION_KEY not in client.session


def test_the_office_switches_years_on_its_home(two_years, personas, client, world):
    SelfReport.objects.create(round=two_years["2017"], unit=world["unit_a"],
                              status=ReportStatus.SUBMITTED, submitted_at=timezone.now())
    client.force_login(personas["office"])
    home = client.get(reverse("home"))
    steps = {p.step.code: p for p in home.context["steps"]}
    assert steps["self_report"].done == 0
    html = home.content.decode()
    assert 'id="year-selector"' in html
    assert "?year=2017" in html and "?year=2018" in html
    home = client.get(reverse("home") + "?year=2017")
    assert home.context["round"].year == 2017
    steps = {p.step.code: p for p in home.context["steps"]}
    assert (steps["self_report"].done, steps["self_report"].total) == (1, 3)
    cats = {c.code: c for c in home.context["categories"]}
    assert cats["party_organs"].submitted == 1
    assert "2017" in home.content.decode()


def test_the_selector_lists_visible_years_with_their_state(two_years, personas, client):
    round_copy(source=two_years["2018"], year=2019, actor=personas["office"])
    client.force_login(personas["office"])
    home = client.get(reverse("home"))
    choice = home.context["year_choice"]
    assert [(r.year, chosen) for r, chosen, _link in choice["rounds"]] == [
        (2019, False), (2018, True), (2017, False)]
    assert "筹备中" in home.content.decode() and "进行中" in home.content.decode()
    # On a page of one object, switching years goes home; on a list, the same list.
    listing = client.get(reverse("directory:unit_list"))
    assert [link for _r, _c, link in listing.context["year_choice"]["rounds"]][-1] == (
        reverse("directory:unit_list") + "?year=2017")
    client.force_login(personas["unit_b"])
    choice = client.get(reverse("home")).context["year_choice"]
    assert [r.year for r, _c, _l in choice["rounds"]] == [2018, 2017]


def test_no_selector_with_a_single_round(world, personas, client):
    client.force_login(personas["office"])
    home = client.get(reverse("home"))
    assert "year_choice" not in home.context
    assert 'id="year-selector"' not in home.content.decode()


def test_tracking_pages_follow_the_chosen_year(two_years, personas, client, world):
    client.force_login(personas["lead_reviewer_b"])
    listing = client.get(reverse("outcomes:rectification_list"))
    assert listing.context["round"].year == 2017  # the round in rectification by default
    listing = client.get(reverse("outcomes:rectification_list") + "?year=2018")
    assert listing.context["round"].year == 2018 and not listing.context["released"]


def test_the_choice_ends_with_the_request(two_years, personas, client):
    client.force_login(personas["office"])
    client.get(reverse("home") + "?year=2017")
    assert chosen_round() == two_years["2018"]  # outside a request: the default round
