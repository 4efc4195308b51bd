"""Issue 17: the demo's submissions fall within their steps' deadlines, on the demo's dates.

Built on the real date (long after the 2017 round) and moved on to the reviewed stage, the
demo's reports were all dated after their deadline; they are dated by the round's schedule.
"""

import datetime
from zoneinfo import ZoneInfo

import pytest

from kaohe.demo.builder import advance_demo_to_review, build_demo
from kaohe.reviews.models import CategorySubmission
from kaohe.submissions import lateness
from kaohe.submissions.models import ProvincialReport, ReportStatus, SelfReport

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _days(queryset):
    return {at.astimezone(SHANGHAI).date()
            for at in queryset.filter(status=ReportStatus.SUBMITTED)
            .values_list("submitted_at", flat=True)}


@pytest.mark.django_db
def test_the_reviewed_demo_built_today_has_every_submission_in_time(settings):
    today = datetime.date(2026, 12, 6)  # the demo command passes the real date
    build_demo(today=today)
    assert advance_demo_to_review(today=today)
    days = _days(SelfReport.objects) | _days(ProvincialReport.objects)
    assert days and max(days) <= datetime.date(2017, 12, 31)
    assert not SelfReport.objects.filter(submitted_late=True).exists()
    assert not ProvincialReport.objects.filter(submitted_late=True).exists()
    submissions = CategorySubmission.objects.all()
    assert submissions.count() == 6
    assert {s.submitted_at.astimezone(SHANGHAI).date() for s in submissions} == {
        datetime.date(2018, 1, 15)}
    assert not submissions.filter(submitted_late=True).exists()
    settings.KAOHE_TODAY = "2018-01-20"
    round_ = SelfReport.objects.first().round
    assert not [r for r in lateness.late_and_missing(round_) if r.state == lateness.LATE]
