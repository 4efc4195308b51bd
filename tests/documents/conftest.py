"""A round with results approved (and released), for the documents made from them."""

import pytest

from kaohe.outcomes import services as outcomes
from tests.outcomes.test_outcomes import approved  # noqa: F401 - a fixture used here


@pytest.fixture
def released(approved, personas):  # noqa: F811
    """unit_a 好, unit_b 较差 with feedback drafted from its sub-report; results released."""
    outcomes.feedback_prepare(result_set=approved, actor=personas["office"])
    return outcomes.release(result_set=approved, actor=personas["office"])
