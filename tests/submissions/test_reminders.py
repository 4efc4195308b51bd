"""Reminders: on the home pages of units and provinces, and by e-mail where configured."""

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from kaohe.submissions import services
from kaohe.submissions.models import ReportStatus, SelfReport
from kaohe.submissions.reminders import reminder_for


@pytest.mark.parametrize(("today", "expected"), [
    ("2017-12-01", None),  # more than 14 days ahead: no reminder yet
    ("2017-12-20", "还有11天"),
    ("2018-01-02", "已于2017年12月31日截止"),
])
def test_unit_reminder_follows_the_deadline(personas, settings, today, expected):
    settings.KAOHE_TODAY = today
    reminder = reminder_for(personas["unit"], personas["unit"].unit.pairings.first().round)
    if expected is None:
        assert reminder is None
    else:
        assert expected in reminder.message


def test_no_reminder_once_submitted_and_an_extension_moves_the_date(world, personas, settings):
    settings.KAOHE_TODAY = "2018-01-02"
    round_ = world["round"]
    step = round_.steps.get(code="self_report")
    services.extension_grant(step=step, actor=personas["office"], unit=world["unit_a"],
                             until=timezone.datetime(2018, 1, 10).date(), reason="网络故障")
    assert "还有8天" in reminder_for(personas["unit"], round_).message
    SelfReport.objects.create(round=round_, unit=world["unit_a"], status=ReportStatus.SUBMITTED)
    assert reminder_for(personas["unit"], round_) is None


def test_home_pages_show_the_reminder(client, personas, settings):
    settings.KAOHE_TODAY = "2017-12-29"
    client.force_login(personas["unit"])
    assert "本单位自评报告尚未报送" in client.get(reverse("home")).content.decode()
    client.force_login(personas["province"])
    province_home = client.get(reverse("home")).content.decode()
    assert "省级总结报告还有1份未报送（已报送0份，共1份），距截止" in province_home
    assert "已报送0/1" not in province_home
    client.force_login(personas["office"])
    # The office is not reminded of a report (its 待办 follows up the missing ones: issue 21).
    office_home = client.get(reverse("home")).content.decode()
    assert "本单位自评报告尚未报送" not in office_home and "省级总结报告还有" not in office_home


def test_reminders_are_e_mailed_only_to_users_with_outstanding_reports(
        world, personas, settings, django_capture_on_commit_callbacks):
    settings.KAOHE_TODAY = "2017-12-30"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    personas["unit"].email = "a@example.org"
    personas["unit"].save()
    personas["unit_b"].email = "b@example.org"
    personas["unit_b"].save()
    SelfReport.objects.create(round=world["round"], unit=world["unit_b"],
                              status=ReportStatus.SUBMITTED)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("remind")
    assert [m.to for m in mail.outbox] == [["a@example.org"]]
    assert "测试单位甲" in mail.outbox[0].subject and "截止提醒" in mail.outbox[0].subject


def test_remind_command_says_when_no_backend_is_configured(world, capsys, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
    call_command("remind")
    assert "no e-mail backend configured" in capsys.readouterr().out
