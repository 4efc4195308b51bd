"""A double click on a creating button sends the form once (issue 17, item 6): once.js
disables the buttons after the first submit, and the server would refuse the repeated token
anyway. One cadre, no error page."""

import pytest

from kaohe.submissions.models import SecondedCadre
from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_double_click_on_add_makes_one_cadre(world, personas, live_server, page, screenshot,
                                               settings):
    settings.KAOHE_TODAY = "2017-11-15"
    sign_in(page, live_server.url, "unit_a", PASSWORD)
    page.goto(f"{live_server.url}/reports/cadres/")
    page.select_option("#id_cadre-county", str(world["county_a"].pk))
    page.fill("#id_cadre-name", "王五")
    page.fill("#id_cadre-post", "副县长")
    page.fill("#id_cadre-start", "2017-03-01")
    button = page.locator("form[action$='/cadres/add/'] button[type=submit]")
    button.dblclick()
    page.wait_for_load_state("networkidle")
    page.wait_for_selector("text=王五")
    screenshot("double-click-one-cadre")
    assert SecondedCadre.objects.filter(unit=world["unit_a"], name="王五").count() == 1
