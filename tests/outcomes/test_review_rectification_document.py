"""Hostile review of 814bd9c: the 整改报告 is a document in the unit's name. Its lead
department and the office may make it once the unit submitted it (the documents page lists
only those); a hand-made URL must not make one of a draft the unit has not sent."""

import pytest
from django.urls import reverse

from kaohe.documents.base import get_exporter
from kaohe.outcomes import services
from tests.documents.conftest import released  # noqa: F401 - a fixture used here
from tests.outcomes.test_outcomes import approved  # noqa: F401 - a fixture used here


@pytest.fixture
def draft_b(released, world, personas, settings):  # noqa: F811
    settings.KAOHE_TODAY = "2018-03-20"
    report = services.rectification_for(round=world["round"], unit=world["unit_b"])
    services.rectification_save(report=report, actor=personas["unit_b"], summary="草稿，尚未报送",
                                items={i.pk: {"measures": "草拟措施"} for i in report.items.all()})
    return report


def test_a_draft_rectification_report_is_made_only_for_its_unit(draft_b, personas, client):
    url = reverse("documents:make", args=["rectification_report", draft_b.pk, "docx"])
    for persona, expected in (("unit_b", 200), ("office", 404), ("lead_reviewer_b", 404)):
        client.force_login(personas[persona])
        assert client.get(url + "?year=2017").status_code == expected, persona


def test_the_exporter_offers_and_makes_the_same_reports(draft_b, personas, world):
    exporter = get_exporter("rectification_report")
    for persona in ("office", "lead_reviewer_b"):
        user = personas[persona]
        assert list(exporter.objects_for(user, world["round"])) == []
        with pytest.raises(Exception) as info:
            exporter.get_object(user, world["round"], str(draft_b.pk))
        assert type(info.value).__name__ == "Http404"
