"""Cadre locks (issue 17 item 1): once the unit's self-report is submitted or the organization
department has checked a seconded cadre or first secretary, the unit can no longer delete it,
only withdraw it with a reason the department sees; after the deadline nothing is added.
"""

import datetime

import pytest
from django.urls import reverse

from kaohe.audit.models import AuditEntry
from kaohe.reviews import services as review_services
from kaohe.reviews.models import CadreCheck
from kaohe.submissions import services
from kaohe.submissions.models import FirstSecretary, SecondedCadre
from kaohe.submissions.selectors import cadres_visible_to
from tests.submissions.conftest import matrix_self_report

START = datetime.date(2017, 3, 1)
CLOSED_DAY = "2018-01-05"


def _cadre(world, user, name="王五", unit=None, county=None):
    return services.cadre_add(round=world["round"], unit=unit or world["unit_a"], actor=user,
                              county=county or world["county_a"], name=name, post="副县长",
                              duties="分管扶贫", in_charge_of_poverty=True, start=START,
                              end=None, document="任职文件")


def _secretary(world, user, name="赵六"):
    return services.first_secretary_add(round=world["round"], unit=world["unit_a"], actor=user,
                                        county=world["county_a"], village="某某村", name=name,
                                        start=START, end=None, document="")


def _flag(record, org):
    """The organization department marks the record 挂名无实 and reports it as a problem."""
    return review_services.cadre_check_save(
        record=record, actor=org, in_post=True, in_charge=True, nominal_only=True,
        discipline_issue=False, note="挂名无实", raise_problem=True)


def _remove_url(kind, record):
    return reverse("submissions:cadre_remove", kwargs={"kind": kind, "pk": record.pk})


def _withdraw_url(kind, record):
    return reverse("submissions:cadre_withdraw", kwargs={"kind": kind, "pk": record.pk})


# The issue's reproduction ---------------------------------------------------------------


def test_a_unit_cannot_delete_a_flagged_cadre_after_submitting(world, personas, login):
    unit_user, org = personas["unit"], personas["org_department"]
    cadre = _cadre(world, unit_user)
    matrix_self_report(world, world["unit_a"])
    _flag(cadre, org)

    response = login(unit_user).post(_remove_url("cadre", cadre), follow=True)

    assert response.status_code == 200
    assert "不能删除" in response.content.decode()
    assert SecondedCadre.objects.filter(pk=cadre.pk).exists()
    assert CadreCheck.objects.filter(cadre=cadre, nominal_only=True).exists()
    cadres, _secretaries = cadres_visible_to(org, round=world["round"])
    assert cadre in cadres
    page = login(org).get(reverse("reviews:org_cadres")).content.decode()
    assert f'id="cadre-{cadre.pk}"' in page
    assert not AuditEntry.objects.filter(action="secondedcadre.removed").exists()


@pytest.mark.parametrize("kind", ["cadre", "secretary"])
def test_a_submitted_report_locks_its_cadres(world, personas, kind):
    user = personas["unit"]
    record = _cadre(world, user) if kind == "cadre" else _secretary(world, user)
    matrix_self_report(world, world["unit_a"])

    with pytest.raises(services.LockedError, match="已提交"):
        services.cadre_remove(record=record, actor=user)

    assert type(record).objects.filter(pk=record.pk).exists()


@pytest.mark.parametrize("kind", ["cadre", "secretary"])
def test_a_check_by_the_org_department_locks_the_record(world, personas, kind):
    user = personas["unit"]
    record = _cadre(world, user) if kind == "cadre" else _secretary(world, user)
    review_services.cadre_check_save(record=record, actor=personas["org_department"],
                                     in_post=True, in_charge=True, nominal_only=False,
                                     discipline_issue=False, note="在岗", raise_problem=False)

    with pytest.raises(services.LockedError, match="中央组织部"):
        services.cadre_remove(record=record, actor=user)

    assert type(record).objects.filter(pk=record.pk).exists()


def test_a_record_of_a_draft_report_not_yet_checked_can_still_be_deleted(world, personas):
    user = personas["unit"]
    cadre = _cadre(world, user)
    assert not services.cadre_is_locked(cadre)

    services.cadre_remove(record=cadre, actor=user)

    assert not SecondedCadre.objects.exists()


def test_a_returned_report_unlocks_unchecked_records(world, personas):
    user = personas["unit"]
    cadre = _cadre(world, user)
    report = matrix_self_report(world, world["unit_a"])
    assert services.cadre_is_locked(cadre)
    services.self_report_return(report=report, actor=personas["lead_reviewer"], reason="补充")

    services.cadre_remove(record=cadre, actor=user)

    assert not SecondedCadre.objects.exists()


def test_another_units_record_is_refused_by_the_service(world, personas):
    cadre = _cadre(world, personas["unit_b"], unit=world["unit_b"], county=world["county_b"])

    with pytest.raises(services.SubmissionError):
        services.cadre_remove(record=cadre, actor=personas["unit"])
    with pytest.raises(services.SubmissionError):
        services.cadre_withdraw(record=cadre, actor=personas["unit"], reason="x")

    cadre.refresh_from_db()
    assert cadre.withdrawn_at is None


# Deadline ------------------------------------------------------------------------------


def test_after_the_deadline_nothing_is_added_or_deleted(world, personas, settings):
    user = personas["unit"]
    cadre = _cadre(world, user)
    settings.KAOHE_TODAY = CLOSED_DAY

    with pytest.raises(services.ClosedError):
        _cadre(world, user, name="迟到")
    with pytest.raises(services.ClosedError):
        _secretary(world, user, name="迟到")
    with pytest.raises(services.ClosedError):
        services.cadre_remove(record=cadre, actor=user)

    assert list(SecondedCadre.objects.all()) == [cadre]
    assert not FirstSecretary.objects.exists()


def test_an_extension_reopens_adding(world, personas, settings):
    step = world["round"].steps.get(code="self_report")
    services.extension_grant(step=step, actor=personas["office"], unit=world["unit_a"],
                             until=datetime.date(2018, 1, 10), reason="机构调整")
    settings.KAOHE_TODAY = CLOSED_DAY

    _cadre(world, personas["unit"], name="延期后")

    assert SecondedCadre.objects.get().name == "延期后"


def test_the_closed_page_hides_the_add_forms_and_says_why(world, personas, login, settings):
    _cadre(world, personas["unit"])
    settings.KAOHE_TODAY = CLOSED_DAY
    client = login(personas["unit"])

    page = client.get(reverse("submissions:cadres")).content.decode()

    assert reverse("submissions:cadre_add") not in page
    assert reverse("submissions:first_secretary_add") not in page
    assert "登记已截止" in page and "2017年12月31日" in page
    assert _remove_url("cadre", SecondedCadre.objects.get()) not in page

    response = client.post(reverse("submissions:cadre_add"), {
        "cadre-county": world["county_a"].pk, "cadre-name": "手工", "cadre-post": "副县长",
        "cadre-start": "2017-03-01"}, follow=True)
    assert "截止" in response.content.decode()
    assert SecondedCadre.objects.count() == 1


def test_the_open_page_offers_the_add_forms(world, personas, login):
    page = login(personas["unit"]).get(reverse("submissions:cadres")).content.decode()

    assert reverse("submissions:cadre_add") in page
    assert "登记已截止" not in page


# Withdrawal ----------------------------------------------------------------------------


def test_a_locked_record_is_withdrawn_with_a_reason_and_stays(world, personas):
    user = personas["unit"]
    cadre = _cadre(world, user)
    matrix_self_report(world, world["unit_a"])

    services.cadre_withdraw(record=cadre, actor=user, reason="已调回原单位")

    cadre.refresh_from_db()
    assert cadre.withdrawn_by == user and cadre.withdrawn_reason == "已调回原单位"
    assert cadre.withdrawn_at is not None
    entry = AuditEntry.objects.get(action="secondedcadre.withdrawn")
    assert entry.actor == user and entry.data == {"reason": "已调回原单位"}
    with pytest.raises(services.LockedError):
        services.cadre_remove(record=cadre, actor=user)
    with pytest.raises(services.SubmissionError, match="已撤回"):
        services.cadre_withdraw(record=cadre, actor=user, reason="再撤一次")


def test_a_withdrawal_needs_a_reason(world, personas):
    secretary = _secretary(world, personas["unit"])

    with pytest.raises(services.SubmissionError, match="撤回原因"):
        services.cadre_withdraw(record=secretary, actor=personas["unit"], reason="  ")

    secretary.refresh_from_db()
    assert secretary.withdrawn_at is None


def test_the_org_department_sees_the_withdrawal(world, personas, login):
    unit_user, org = personas["unit"], personas["org_department"]
    cadre = _cadre(world, unit_user, name="钱七")
    _flag(cadre, org)
    client = login(unit_user)

    page = client.get(reverse("submissions:cadres")).content.decode()
    assert _remove_url("cadre", cadre) not in page
    assert _withdraw_url("cadre", cadre) in page

    response = client.post(_withdraw_url("cadre", cadre), {"reason": "挂职期满返回"})
    assert response.status_code == 302

    org_page = login(org).get(reverse("reviews:org_cadres")).content.decode()
    assert "钱七" in org_page and "已撤回" in org_page and "挂职期满返回" in org_page
    assert SecondedCadre.objects.get(pk=cadre.pk).withdrawn_reason == "挂职期满返回"


def test_a_hand_made_withdrawal_of_another_units_record_is_404(world, personas, login):
    cadre = _cadre(world, personas["unit_b"], unit=world["unit_b"], county=world["county_b"])
    client = login(personas["unit"])

    assert client.post(_withdraw_url("cadre", cadre), {"reason": "x"}).status_code == 404
    assert client.post(_remove_url("cadre", cadre)).status_code == 404
    assert client.post(reverse("submissions:cadre_withdraw",
                               kwargs={"kind": "user", "pk": cadre.pk}),
                       {"reason": "x"}).status_code == 404
    cadre.refresh_from_db()
    assert cadre.withdrawn_at is None


def test_a_withdrawal_without_a_reason_through_the_page_changes_nothing(world, personas, login):
    cadre = _cadre(world, personas["unit"])

    response = login(personas["unit"]).post(_withdraw_url("cadre", cadre), {"reason": ""},
                                            follow=True)

    assert "撤回原因" in response.content.decode()
    cadre.refresh_from_db()
    assert cadre.withdrawn_at is None
