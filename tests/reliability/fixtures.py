"""Fixtures for tests with real installations (tests/reliability, tests/maintenance).

Imported by tests/conftest.py, so that the migrated template is made once per session.
"""

import sqlite3
from urllib.parse import urlsplit

import pytest

from tests.reliability.harness import BASE_SETUP, Databases, Installation


@pytest.fixture(scope="session")
def installation_databases():
    databases = Databases()
    yield databases
    databases.drop_all()


def _sqlite_url(root) -> str:
    return f"sqlite:///{root / 'data' / 'kaohe.sqlite3'}"


@pytest.fixture(scope="session")
def installation_template(tmp_path_factory, installation_databases) -> Installation:
    """Migrated, with the reference data and the 2017 round: what every installation starts from."""
    root = tmp_path_factory.mktemp("template")
    url = (installation_databases.create() if installation_databases.engine == "postgresql"
           else _sqlite_url(root))
    template = Installation(root, url)
    template.kaohe("migrate", "--noinput", "-v0")
    template.shell(BASE_SETUP)
    return template


def make_installation(root, databases: Databases, template: Installation, *,
                      empty: bool = False) -> Installation:
    """A clone of the template in root, or (empty=True) one whose database has no tables."""
    if databases.engine == "postgresql":
        template_name = urlsplit(template.database_url).path.lstrip("/")
        return Installation(root, databases.create(template=None if empty else template_name))
    installation = Installation(root, _sqlite_url(root))
    if not empty:
        source = sqlite3.connect(template.sqlite_path)
        target = sqlite3.connect(installation.sqlite_path)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
    return installation


@pytest.fixture
def new_installation(tmp_path_factory, installation_databases, installation_template):
    """A factory: new_installation() is a clone of the template, (empty=True) has no tables."""
    made: list[Installation] = []

    def make(*, empty: bool = False) -> Installation:
        installation = make_installation(tmp_path_factory.mktemp("installation"),
                                         installation_databases, installation_template,
                                         empty=empty)
        made.append(installation)
        return installation

    yield make
    for installation in made:
        installation.close()
