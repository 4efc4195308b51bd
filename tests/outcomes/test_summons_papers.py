"""A summons a released correction withdraws takes its signed notice with it: the paper
(约谈通知, with its 发文字号) would otherwise stay in force, summoning a unit no longer 较差."""

import pytest

from kaohe.audit.models import AuditEntry
from kaohe.documents import signing
from kaohe.documents.base import get_exporter
from kaohe.documents.models import NumberSequence, SignOff
from kaohe.outcomes.models import Summons
from tests.outcomes.test_corrections import _correct_b_to_average, _release
from tests.outcomes.test_outcomes import approved  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


def _sign_notice(personas, summons) -> SignOff:
    # The office's 发文字号 of notices, for whichever year the test's clock signs in.
    for year in (summons.round.year, summons.round.year + 1):
        NumberSequence.objects.get_or_create(year=year, kind="notice",
                                             defaults={"prefix": "国开办发"})
    return signing.sign_off(exporter=get_exporter("summons_notice"), obj=summons,
                            actor=personas["office"])


def test_a_correction_out_of_poor_withdraws_the_signed_summons_notice(
        approved, personas, world):  # noqa: F811
    _release(approved, personas)
    summons = Summons.objects.get(unit=world["unit_b"])
    paper = _sign_notice(personas, summons)
    assert not paper.withdrawn
    corrected = _correct_b_to_average(approved, personas, world)

    paper.refresh_from_db()
    assert paper.withdrawn and paper.withdrawn_by == personas["office"]
    assert f"第{corrected.version}版" in paper.withdraw_reason
    assert "约谈撤销" in paper.withdraw_reason
    entry = AuditEntry.objects.get(action="document.withdrawn", target_id=str(paper.pk))
    assert entry.data["doc_number"] == paper.doc_number
    # The 发文字号 is kept on record and never given again.
    assert SignOff.objects.filter(pk=paper.pk, doc_number=paper.doc_number).exists()


def test_an_earlier_withdrawn_notice_is_left_as_the_office_withdrew_it(
        approved, personas, world):  # noqa: F811
    from kaohe.documents import withdrawal

    _release(approved, personas)
    summons = Summons.objects.get(unit=world["unit_b"])
    first = withdrawal.withdraw(sign_off=_sign_notice(personas, summons),
                                actor=personas["office"], reason="文字有误")
    second = _sign_notice(personas, summons)
    _correct_b_to_average(approved, personas, world)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.withdraw_reason == "文字有误"
    assert second.withdrawn and "约谈撤销" in second.withdraw_reason
    assert AuditEntry.objects.filter(action="document.withdrawn").count() == 2


def test_a_finished_summons_keeps_its_notice(approved, personas, world):  # noqa: F811
    """A summons already held (closed before the correction) is not withdrawn: the talk
    happened, and so did the notice that called it."""
    from kaohe.outcomes import services

    _release(approved, personas)
    summons = Summons.objects.get(unit=world["unit_b"])
    paper = _sign_notice(personas, summons)
    services.summons_update(summons=summons, actor=personas["lead_reviewer_b"],
                            minutes="已约谈", closed=True)
    _correct_b_to_average(approved, personas, world)
    paper.refresh_from_db()
    assert not paper.withdrawn
