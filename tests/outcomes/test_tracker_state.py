"""The rectification tracker's states, decided in Python from the figures one grouped query
reads (issue 19): the same rules the tracker's pages, filters and export show."""

import datetime
from types import SimpleNamespace

import pytest

from kaohe.outcomes.selectors import TrackerState, tracker_state

DUE = datetime.date(2018, 4, 30)
STEP = SimpleNamespace(due=DUE)
SUBMITTED = datetime.datetime(2018, 4, 1, 9, 0, tzinfo=datetime.UTC)


def _state(*, submitted_at=None, total=0, accepted=0, rejected=0, extended=None,
           step=STEP, released=True, today=DUE):
    return tracker_state(submitted_at=submitted_at, items_total=total,
                         items_accepted=accepted, items_rejected=rejected,
                         extended_until=extended, step=step, released=released, today=today)


AFTER = DUE + datetime.timedelta(days=1)


@pytest.mark.parametrize(("figures", "state"), [
    # No report: overdue only after the deadline, once results are out.
    ({}, TrackerState.NOT_SUBMITTED),
    ({"today": AFTER}, TrackerState.OVERDUE),
    ({"today": AFTER, "released": False}, TrackerState.NOT_SUBMITTED),
    ({"today": AFTER, "step": None}, TrackerState.NOT_SUBMITTED),
    # An extension counts while it runs, to its last day; an expired one does not.
    ({"today": AFTER, "extended": AFTER}, TrackerState.NOT_SUBMITTED),
    ({"today": AFTER + datetime.timedelta(days=1), "extended": AFTER}, TrackerState.OVERDUE),
    # Submitted: a rejected or sent-back item outweighs the accepted ones.
    ({"submitted_at": SUBMITTED, "today": AFTER}, TrackerState.SUBMITTED),
    ({"submitted_at": SUBMITTED, "total": 3, "accepted": 2}, TrackerState.SUBMITTED),
    ({"submitted_at": SUBMITTED, "total": 3, "accepted": 3}, TrackerState.ACCEPTED),
    ({"submitted_at": SUBMITTED, "total": 3, "accepted": 2, "rejected": 1},
     TrackerState.NOT_ACCEPTED),
    ({"submitted_at": SUBMITTED, "total": 0, "accepted": 0}, TrackerState.SUBMITTED),
])
def test_the_state_of_a_tracked_unit(figures, state):
    assert _state(**figures) is state
