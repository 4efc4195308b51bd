"""One clock (issue 21): a submission's 提交时间 is on the day KAOHE_TODAY sets."""

from django.urls import reverse
from django.utils import timezone

from kaohe.submissions import services

from .conftest import OPEN_DAY, fill_completely


def test_submitted_at_is_on_the_simulated_day(world, personas, report_a, login):
    user = personas["unit"]
    report = fill_completely(report_a, user)
    services.self_report_submit(report=report, actor=user, revision=report.revision)
    report.refresh_from_db()
    assert timezone.localdate(report.submitted_at).isoformat() == OPEN_DAY
    page = login(user).get(reverse("submissions:self_report", args=[report.pk])
                           ).content.decode()
    assert "提交时间：2017年12月15日" in page
    assert timezone.localdate(report.versions.get().submitted_at).isoformat() == OPEN_DAY

