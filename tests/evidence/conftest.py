"""Evidence tests: each test gets its own data directory, so files never leak between tests."""

import pytest

from tests.evidence.factories import submitted_evidence_of, use_data_dir


@pytest.fixture(autouse=True)
def _uploads_open(settings):
    """Evidence is refused after its step's deadline (self-reports and provincial reports
    close on 2017-12-31): tests upload on a day both are open unless they set their own."""
    settings.KAOHE_TODAY = "2017-12-15"


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    return use_data_dir(settings, tmp_path / "data")


@pytest.fixture
def world_with_evidence(world, personas):
    """The shared world plus one evidence file per owner: both units, the army, both provinces
    (the units' attached to their submitted self-reports, so that reviewers have received
    them: tests/evidence/test_draft_evidence.py covers the drafts)."""
    return {**world, "evidence": {
        owner: submitted_evidence_of(world, owner)
        for owner in ("unit_a", "unit_b", "army", "province_a", "province_b")
    }}
