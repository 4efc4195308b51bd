"""Hostile review of 814bd9c: the chosen round lives in the session, so a year chosen in
another tab (or by a link someone sent: a top-level GET carries ``?year=``) changes which
round a form rendered earlier writes to. The office's extension form on the 2018 page must
extend the 2018 step, whatever year the session holds when it is posted."""

import re

from django.urls import reverse

from kaohe.submissions.models import Extension
from tests.outcomes.test_outcomes import approved  # noqa: F401  (a fixture)
from tests.rounds.test_selection import two_years  # noqa: F401  (a fixture)


def test_an_extension_form_writes_to_the_year_it_was_rendered_for(two_years, personas,  # noqa: F811
                                                                  client, world):
    client.force_login(personas["office"])
    page = client.get(reverse("submissions:extensions"))
    assert page.context["round"].year == 2018
    html = page.content.decode()
    form = html[html.index(f'action="{reverse("submissions:extension_grant")}"'):]
    form = form[:form.index("</form>")]
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form))
    # Another tab switches to 2017 before the 2018 form is sent (with its hidden fields).
    assert client.get(reverse("home"), {"year": 2017}).status_code == 200
    client.post(reverse("submissions:extension_grant"), {
        **hidden, "step": "self_report", "unit": world["unit_a"].pk,
        "until": "2019-01-20", "reason": "机构调整"})
    extension = Extension.objects.get()
    assert extension.step.round.year == 2018


def test_a_form_chosen_for_2017_stays_on_2017_after_switching_back(two_years, personas,  # noqa: F811
                                                                   client, world):
    client.force_login(personas["office"])
    page = client.get(reverse("submissions:extensions"), {"year": 2017})
    assert page.context["round"].year == 2017
    assert 'name="kaohe_year" value="2017"' in page.content.decode()
    client.get(reverse("home"), {"year": 2018})  # another tab: back on the default
    # 2017's results are released: its rectification may still be extended (its reports
    # may not: tests/submissions/test_self_report.py).
    client.post(reverse("submissions:extension_grant"), {
        "kaohe_year": "2017", "step": "rectification", "unit": world["unit_a"].pk,
        "until": "2019-01-20", "reason": "机构调整"})
    assert Extension.objects.get().step.round.year == 2017


def test_a_posted_year_the_user_may_not_see_is_404(two_years, personas, client, world):  # noqa: F811
    client.force_login(personas["unit_b"])
    response = client.post(reverse("outcomes:my_rectification_save"),
                           {"kaohe_year": "1999", "summary": "x"})
    assert response.status_code == 404
