"""Fixtures for tests with real installations (tests/reliability, tests/maintenance).

Imported by tests/conftest.py, so that the migrated template is made once per session.
"""

import sqlite3
from dataclasses import dataclass
from typing import Any
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
                      empty: bool = False, storage: dict[str, str] | None = None) -> Installation:
    """A clone of the template in root, or (empty=True) one whose database has no tables;
    storage: its file store's settings (the storage fixture), local files by default."""
    if databases.engine == "postgresql":
        template_name = urlsplit(template.database_url).path.lstrip("/")
        return Installation(root, databases.create(template=None if empty else template_name),
                            storage)
    installation = Installation(root, _sqlite_url(root), storage)
    if not empty:
        source = sqlite3.connect(template.sqlite_path)
        target = sqlite3.connect(installation.sqlite_path)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
    return installation


# The file stores the deployment tests run on: local files (shared as on NFS) and an S3
# bucket of the moto server (tests/s3.py).
STORAGES = ["local", "s3"]


@dataclass
class Storage:
    kind: str
    # The settings of every command and server of the installation (Installation.storage).
    settings: dict[str, str]
    # S3: the bucket, seen from outside (boto3).
    bucket: Any = None


@pytest.fixture(scope="session", params=STORAGES)
def storage(request, tmp_path_factory) -> Storage:
    """The one place where the file store of the deployment tests is chosen (the "Files"
    settings of deploy/kaohe.env.example). Either way the unfinished uploads are in a
    staging directory that every app server shares.
    """
    settings = {"KAOHE_UPLOAD_STAGING_DIR": str(tmp_path_factory.mktemp("shared-staging"))}
    if request.param == "local":
        return Storage("local", settings)
    if request.param == "s3":
        from tests.s3 import new_bucket

        bucket = new_bucket(request.getfixturevalue("moto_server"))
        return Storage("s3", {**settings, **bucket.env()}, bucket)
    raise ValueError(f"unknown storage {request.param!r}")


@pytest.fixture(scope="session")
def deployment(tmp_path_factory, installation_databases, installation_template, storage):
    """deploy/ running (tests/reliability/deployment.py): nginx and two app servers on a
    clone of the template with the storage's settings and the deployment tests' users.
    One for the session (per storage): the tests each use users of their own."""
    from tests.reliability.deployment import SETUP, deployed

    installation = make_installation(tmp_path_factory.mktemp("deployment"),
                                     installation_databases, installation_template,
                                     storage=storage.settings)
    installation.shell(SETUP)
    # On object storage each app server gets a data directory of its own, as on its own
    # host: they share only the database, the bucket and the staging directory.
    with deployed(installation, tmp_path_factory.mktemp("nginx"),
                  own_data_dirs=storage.kind != "local") as stack:
        yield stack


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
