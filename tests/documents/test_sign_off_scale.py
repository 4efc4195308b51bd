"""Issue 19, the sign-off desk (签发): 351 queries at 310 units, 3,290 at 3,100. The desk
lists every paper of the round that may be signed off, with its sign-off and the papers
withdrawn before it; its queries do not grow with the number of letters."""

import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kaohe.documents import signing, withdrawal
from kaohe.documents.base import get_exporter
from kaohe.documents.models import DocumentKind
from kaohe.lib import clock
from kaohe.outcomes.models import Feedback
from tests.documents.conftest import released  # noqa: F401 - a fixture used here
from tests.outcomes.test_outcomes import approved  # noqa: F401 - a fixture used here
from tests.outcomes.test_slow_pages import _letters, _more_units

SIGN_DAY = datetime.date(2018, 2, 20)


def _sign_some(world, office, units):
    """Sign off the letters of the units, and withdraw and re-sign every other one."""
    exporter = get_exporter("feedback_letter")
    with clock.on(SIGN_DAY):
        for i, unit in enumerate(units):
            letter = Feedback.objects.get(round=world["round"], unit=unit)
            paper = signing.sign_off(exporter=exporter, obj=letter, actor=office)
            if i % 2:
                withdrawal.withdraw(sign_off=paper, actor=office, reason="重发")
                signing.sign_off(exporter=exporter, obj=letter, actor=office)


def _count(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("documents:sign_off"))
    assert response.status_code == 200
    return len(queries), response.content.decode()


def test_the_sign_off_desk_runs_the_same_queries_for_three_times_the_letters(
        released, world, personas, client):  # noqa: F811
    office = personas["office"]
    signing.sequence_save(year=2018, kind=DocumentKind.LETTER, prefix="国开办函",
                          next_number=1, actor=office)
    client.force_login(office)
    first = _more_units(world, 5)
    _letters(world, released, first, office)
    _sign_some(world, office, first[:2])
    with clock.on(SIGN_DAY):
        before, page = _count(client)
    assert page.count('id="sign-feedback_letter-') == 7
    more = _more_units(world, 10, start=5)
    _letters(world, released, more, office)
    _sign_some(world, office, more[:4])
    with clock.on(SIGN_DAY):
        after, page = _count(client)
    assert page.count('id="sign-feedback_letter-') == 17
    assert page.count("已作废") == 3  # the withdrawn papers are still shown
    assert after == before, (before, after)


# The bulk export of every letter: each as signed off, each with its own 份号 ---------------


def _bulk_queries(world, office, monkeypatch):
    """The queries of making every letter of the round in one ZIP, and the letters made."""
    from kaohe.documents.exporters import outcomes as letters
    from kaohe.documents.models import Export
    from kaohe.documents.services import _mark

    made = []

    def render(args):
        made.append(args[2])
        return args[0], b""

    monkeypatch.setattr(letters, "_render_letter", render)
    monkeypatch.setattr(letters, "_processes", lambda: 1)
    export = Export.objects.create(round=world["round"], identifier="feedback_letters",
                                   fmt="pdf", title="全部", made_by=office)
    exporter = letters.FeedbackLettersExporter()
    with clock.on(SIGN_DAY), CaptureQueriesContext(connection) as queries:
        exporter.render("pdf", world["round"], _mark(exporter, office, export))
    return len(queries), made, export


def test_the_bulk_letters_run_the_same_queries_for_three_times_the_letters(
        released, world, personas, monkeypatch):  # noqa: F811
    from kaohe.documents.models import DocumentCopy

    office = personas["office"]
    signing.sequence_save(year=2018, kind=DocumentKind.LETTER, prefix="国开办函",
                          next_number=1, actor=office)
    first = _more_units(world, 5)
    _letters(world, released, first, office)
    _sign_some(world, office, first[:2])
    before, made, _export = _bulk_queries(world, office, monkeypatch)
    assert len(made) == 7
    more = _more_units(world, 10, start=5)
    _letters(world, released, more, office)
    _sign_some(world, office, more[:4])
    after, made, export = _bulk_queries(world, office, monkeypatch)
    assert len(made) == 17
    assert after == before, (before, after)
    # The signed letters as signed, the others as drafts; every copy numbered once more.
    signed = [doc for doc in made if not getattr(doc, "draft", False)]
    assert len(signed) == 6
    assert all(doc.doc_number.startswith("国开办函〔2018〕") for doc in signed)
    drafts = [doc for doc in made if getattr(doc, "draft", False)]
    assert {doc.doc_number for doc in drafts} == {"国开办函〔2018〕\u3000\u3000号"}
    copies = DocumentCopy.objects.filter(export=export, identifier="feedback_letter")
    assert sorted(c.label for c in copies) == sorted(doc.copy_number for doc in made)
    # The second copy of the first seven letters, the first of the ten new ones.
    assert sorted(c.number for c in copies) == [1] * 10 + [2] * 7


# The desk pages each kind of paper (issue 19: 1,520 ms at 3,100 units) ------------------


def test_the_sign_off_desk_shows_one_page_of_letters_and_the_next_page_the_rest(
        released, world, personas, client):  # noqa: F811
    from kaohe.documents.views import PAGE_SIZE

    office = personas["office"]
    signing.sequence_save(year=2018, kind=DocumentKind.LETTER, prefix="国开办函",
                          next_number=1, actor=office)
    client.force_login(office)
    first = _more_units(world, 5)
    _letters(world, released, first, office)
    _sign_some(world, office, first[:2])
    with clock.on(SIGN_DAY):
        before, _page = _count(client)
    more = _more_units(world, PAGE_SIZE + 10, start=5)  # two pages in all
    _letters(world, released, more, office)
    _sign_some(world, office, more[:2])
    with clock.on(SIGN_DAY):
        after, page = _count(client)
    assert after == before, (before, after)
    assert page.count('id="sign-feedback_letter-') == PAGE_SIZE  # one page of PAGE_SIZE + 17
    assert "第 1/2 页" in page and "page_feedback_letter=2" in page
    # Signing all is still offered for every letter waiting, not only those shown.
    assert f"签发全部未签发的考核结果反馈函（{PAGE_SIZE + 13}份）" in page
    with clock.on(SIGN_DAY):
        second = client.get(reverse("documents:sign_off"),
                            {"page_feedback_letter": 2}).content.decode()
    assert second.count('id="sign-feedback_letter-') == 17
    assert "第 2/2 页" in second and f"测试企业{PAGE_SIZE + 14}" in second
    # The sign-all POST signs every letter waiting, on every page.
    with clock.on(SIGN_DAY):
        client.post(reverse("documents:sign_all", kwargs={"identifier": "feedback_letter"}),
                    {"year": world["round"].year})
    from kaohe.documents.models import SignOff
    assert SignOff.objects.filter(identifier="feedback_letter",
                                  withdrawn_at__isnull=True).count() == PAGE_SIZE + 17
