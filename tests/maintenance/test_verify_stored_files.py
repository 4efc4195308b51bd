"""`kaohe verify` re-hashes the launch files (category plans, training materials) and the kept
exports as it does evidence: missing, altered and orphan files are reported, on a local disk
and in S3-compatible object storage (a real S3 API: moto in server mode)."""

import hashlib
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command

from kaohe.documents.models import Export, ExportStatus
from kaohe.documents.services import verify_export_files
from kaohe.launch.files import verify_launch_files
from kaohe.lib import clock
from tests.evidence.factories import use_data_dir
from tests.launch.conftest import matrix_material, matrix_plan
from tests.s3 import moto_server_fixture, never_spooled_fixture, s3_fixture  # noqa: F401


@pytest.fixture(params=["local", "s3"])
def stored(request, settings, tmp_path):
    if request.param == "local":
        use_data_dir(settings, tmp_path / "data")
    else:
        request.getfixturevalue("s3")
        request.getfixturevalue("never_spooled")
    return request.param


def _replace(name: str, data: bytes) -> None:
    default_storage.delete(name)
    assert default_storage.save(name, ContentFile(data)) == name


def _export(user, *, status=ExportStatus.DONE, data: bytes = b"PK\x03\x04 letters") -> Export:
    export = Export.objects.create(identifier="feedback_letters", fmt="zip", title="t",
                                   made_by=user, status=status)
    if status in (ExportStatus.DONE, ExportStatus.RUNNING):
        name = default_storage.save(f"exports/{export.code}.zip", ContentFile(data))
    if status == ExportStatus.DONE:
        Export.objects.filter(pk=export.pk).update(
            storage_name=name, size=len(data), sha256=hashlib.sha256(data).hexdigest(),
            file_name="a.zip", expires_at=clock.now() + timedelta(hours=1))
        export.refresh_from_db()
    return export


def test_verify_rehashes_the_launch_files(stored, world, personas):
    plan = matrix_plan(world, world["lead_a"])
    material = matrix_material(world)
    report = verify_launch_files()
    assert report.ok and report.checked == 2

    _replace(plan.storage_name, b"%PDF-1.4 altered")
    default_storage.delete(material.storage_name)
    orphan = default_storage.save("launch/2017/plans/0b8f4a52-left-behind", ContentFile(b"x"))
    default_storage.save("evidence/2017/not-a-launch-file", ContentFile(b"x"))

    report = verify_launch_files()
    assert not report.ok and report.checked == 2
    assert report.changed == [f"category plan {plan.pk}"]
    assert report.missing == [f"training material {material.pk}"]
    assert report.orphans == [orphan]


def test_verify_rehashes_the_kept_exports(stored, world, personas):
    kept = _export(personas["office"])
    lost = _export(personas["office"])
    _export(personas["office"], status=ExportStatus.EXPIRED)  # its file is gone, as it should
    _export(personas["office"], status=ExportStatus.RUNNING)  # written, its row not yet done
    report = verify_export_files()
    assert report.ok and report.checked == 2

    _replace(kept.storage_name, b"PK\x03\x04 altered")
    default_storage.delete(lost.storage_name)
    orphan = default_storage.save("exports/K9999999.pdf", ContentFile(b"%PDF-"))
    report = verify_export_files()
    assert report.changed == [f"export {kept.code}"]
    assert report.missing == [f"export {lost.code}"]
    assert report.orphans == [orphan]


def test_the_verify_command_reports_launch_files_and_exports(stored, world, personas, capsys):
    plan = matrix_plan(world, world["lead_a"])
    export = _export(personas["office"])
    call_command("verify")
    out = capsys.readouterr().out
    assert "launch files OK: 1 files verified" in out
    assert "exports OK: 1 files verified" in out

    _replace(plan.storage_name, b"%PDF-1.4 altered")
    default_storage.delete(export.storage_name)
    with pytest.raises(CommandError) as failed:
        call_command("verify")
    message = str(failed.value)
    assert f"category plan {plan.pk}: SHA-256 does not match" in message
    assert f"export {export.code}: file missing" in message
