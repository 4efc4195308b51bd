"""The review desk's forms: every id once, so each field has its own label (issue 21)."""

from collections import Counter
from html.parser import HTMLParser

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


class Ids(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids = Counter()
        self.label_for = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids[attrs["id"]] += 1
        if tag == "label" and attrs.get("for"):
            self.label_for.append(attrs["for"])


def test_no_id_appears_twice_on_the_review_desk(world, reviewer, login, review_a):
    response = login(reviewer).get(reverse("reviews:desk", args=[world["unit_a"].pk]))
    assert response.status_code == 200
    parser = Ids()
    parser.feed(response.content.decode())
    assert [i for i, n in parser.ids.items() if n > 1] == []
    # The problem and incident forms each label their own fields.
    assert "problem_county" in parser.ids and "incident_county" in parser.ids
    assert "problem_description" in parser.label_for
    assert "incident_description" in parser.label_for
    assert set(parser.label_for) <= set(parser.ids)


def test_the_findings_forms_still_record(world, reviewer, login, review_a):
    from kaohe.reviews.models import MajorIncident

    client = login(reviewer)
    desk = client.get(reverse("reviews:desk", args=[world["unit_a"].pk]))
    form = desk.context["incident_form"]
    data = {name: "" for name in form.fields}
    data["county"] = str(world["county_a"].pk)
    data["description"] = "发生一起涉贫舆情事件"
    client.post(reverse("reviews:incident_add", args=[world["unit_a"].pk]), data)
    assert MajorIncident.objects.filter(unit=world["unit_a"],
                                        description="发生一起涉贫舆情事件").exists()
