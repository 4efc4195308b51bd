"""The overview's figures come from unit_tallies: the active units counted by category and by
the status of their self-report in the round. Read in two grouped queries (the units, and
their reports from an index of the round's reports by status); the counts are checked here
against counting the units one by one."""

from collections import Counter

import pytest

from kaohe.dashboard.selectors import unit_tallies
from kaohe.directory.models import Category, Unit
from kaohe.rounds.models import Round
from kaohe.submissions.models import ReportStatus, SelfReport

pytestmark = pytest.mark.django_db


def test_tallies_count_each_active_unit_once_by_its_reports_status_in_the_round(world):
    round_ = world["round"]
    other = Round.objects.create(year=2016, name="2016年度")
    statuses = [ReportStatus.SUBMITTED, ReportStatus.DRAFT, ReportStatus.RETURNED, None]
    for i, category in enumerate(Category.objects.order_by("order")[:4]):
        for n in range(5 + i):
            unit = Unit.objects.create(code=f"T{i}{n:02d}", name=f"计数单位{i}-{n}",
                                       category=category, active=n != 4)
            status = statuses[(n + i) % 4]
            if status is not None:
                SelfReport.objects.create(round=round_, unit=unit, status=status)
            # A report of another round is not counted, whatever its status.
            SelfReport.objects.create(round=other, unit=unit, status=ReportStatus.SUBMITTED)

    expected = Counter()
    for unit in Unit.objects.filter(active=True).select_related("category"):
        report = SelfReport.objects.filter(round=round_, unit=unit).first()
        expected[(unit.category_id, unit.category.ranked, unit.category.lead_department_id,
                  report.status if report else None)] += 1
    tallies = unit_tallies(round_, Unit.objects.all())
    assert Counter({(t.category_id, t.ranked, t.lead_department_id, t.report_status): t.units
                    for t in tallies}) == expected
    assert len(tallies) == len(expected) and all(t.units > 0 for t in tallies)
    # Scoped to some units: only theirs are counted.
    party = Unit.objects.filter(category__code="party_organs")
    assert sum(t.units for t in unit_tallies(round_, party)) == party.filter(active=True).count()
