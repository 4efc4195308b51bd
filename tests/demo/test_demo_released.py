"""`kaohe demo --stage released` (KAOHE_TODAY=2018-02-20): the demo carried through the
working group's decisions, the leading group's approval, the office's sign-off and the
release, so that every document of the round can be made from a fresh installation."""

import io

import pytest
from django.core.management import call_command
from pypdf import PdfReader

from kaohe.accounts.models import User
from kaohe.documents import services
from kaohe.documents.base import REGISTRY
from kaohe.documents.models import SignOff
from kaohe.grading.models import ResultSet, ResultSetStatus
from kaohe.outcomes.models import Feedback, Summons
from kaohe.rounds.models import Round


@pytest.mark.django_db
def test_the_released_demo(settings, capsys):
    """One build of the 310-unit demo (about a minute and a half) for all three checks."""
    settings.KAOHE_TODAY = "2018-02-20"
    call_command("demo", "--stage", "released")
    _has_signed_and_released_results(capsys.readouterr().out)
    _every_document_can_be_made()
    _the_review_report_of_310_units_is_at_most_30_pages()


def _has_signed_and_released_results(released_demo):
    assert "已推进到结果反馈阶段" in released_demo
    result_set = ResultSet.objects.get(status=ResultSetStatus.RELEASED)
    assert len(result_set.final_grades()) == 310
    assert "pending" not in result_set.final_grades().values()
    letters = Feedback.objects.filter(result_set=result_set)
    assert letters.count() == 310
    signed = SignOff.objects.filter(identifier="feedback_letter")
    assert signed.count() == 310
    assert {s.issued_on.isoformat() for s in signed} == {"2018-02-20"}
    numbers = sorted(signed.values_list("number", flat=True))
    assert numbers == list(range(numbers[0], numbers[0] + 310))  # one sequence, no gaps
    assert SignOff.objects.get(identifier="results_report").signer
    assert SignOff.objects.filter(identifier="circular").exists()
    poor = Summons.objects.count()
    assert poor > 0
    assert SignOff.objects.filter(identifier="summons_notice").count() == poor
    # Running it again changes nothing.
    call_command("demo", "--stage", "released")
    assert SignOff.objects.count() == 310 + 2 + poor


def _every_document_can_be_made():
    round_ = Round.objects.get(year=2017)
    made = set()
    users = list(User.objects.filter(username__in=[
        "office", "workgroup", "leader", "orgdept"]).order_by("username"))
    users.append(User.objects.filter(role="unit").order_by("username").first())
    users.append(User.objects.filter(role="province").order_by("username").first())
    users.append(User.objects.filter(role="lead_reviewer").order_by("username").first())
    for identifier, cls in sorted(REGISTRY.items()):
        exporter = cls()
        if exporter.bulk:
            continue  # the ZIP and the long report: measured in bench/bench_documents.py
        for user in users:
            objects = list(exporter.objects_for(user, round_))
            if objects:
                _, rendered = services.export_now(user, exporter, objects[0],
                                                  exporter.formats[0], round_=round_)
                assert rendered.data, identifier
                made.add(identifier)
                break
    expected = {"circular", "feedback_letter", "results_report", "summons_notice",
                "org_department_list", "sub_report", "category_report", "self_report",
                "provincial_report"}
    assert expected <= made, expected - made


def _the_review_report_of_310_units_is_at_most_30_pages():
    """Measured once on the full demo: the ranking one line a unit in a landscape 附件."""
    from kaohe.documents.base import get_exporter

    result_set = ResultSet.objects.get(status=ResultSetStatus.RELEASED)
    rendered = get_exporter("review_report").render("pdf", result_set, None)
    reader = PdfReader(io.BytesIO(rendered.data))
    assert len(reader.pages) <= 30
    landscape = [p for p in reader.pages if p.mediabox.width > p.mediabox.height]
    assert landscape and "附件" in landscape[0].extract_text()
    text = "".join(p.extract_text() for p in reader.pages)
    # Every unit is in the ranking, each warning group names its units.
    assert text.count("示例") >= 310
    assert "家）：示例" in text
