"""Security tests: each test gets its own data directory, so that files made on the way
(the permission matrix makes evidence files) never reach another test's `kaohe verify`."""

import pytest


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    return settings.DATA_DIR
