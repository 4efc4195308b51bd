"""Security tests: each test gets its own data directory, so that files made on the way
(the permission matrix makes evidence files) never reach another test's `kaohe verify`."""

import pytest

from tests.evidence.factories import use_data_dir


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    return use_data_dir(settings, tmp_path / "data")
