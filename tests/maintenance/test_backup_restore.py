"""`kaohe backup DEST` and `kaohe restore SRC` on real installations (security.md 5).

Each test backs up an installation with evidence uploaded through the tus services and
restores into an empty place: a new SQLite file, or, when the suite runs on PostgreSQL, a
fresh database created for the test. Then the rows of every table and the hash of every
stored file are compared, and `kaohe verify` re-checks the audit chain and the evidence.
"""

import hashlib
import json
import shutil

import pytest

from kaohe.maintenance.backup import BackupError, backup_check
from tests.reliability.fixtures import make_installation

SOURCE_SETUP = """
import io, os
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from kaohe.accounts.models import Role, User
from kaohe.directory.models import Category, County, Pairing, Unit
from kaohe.evidence import services
from kaohe.rounds.models import Round

round_ = Round.objects.get(year=2017)
unit = Unit.objects.create(code="BK01", name="备份测试单位",
                           category=Category.objects.get(code="party_organs"))
Pairing.objects.create(round=round_, unit=unit, county=County.objects.order_by("code").first())
user = User(username="unit-bk", role=Role.UNIT, unit=unit, full_name="备份测试")
user.set_password("Backup-2017-pass")
user.save()
for n, size in enumerate((1000, 300_000, 2_500_000)):
    data = (b"\\x00\\x00\\x00\\x18ftypisom\\x00\\x00\\x02\\x00isomiso2"
            + (size - 24).to_bytes(4, "big") + b"mdat")
    data += os.urandom(size - len(data))
    upload = services.upload_create(user=user, length=size, filename=f"材料{n}.mp4", metadata={})
    services.upload_append(upload=upload, offset=0, body=io.BytesIO(data), body_length=size)
# A stored file that is not evidence: a kept export, which `kaohe verify` re-hashes too.
import hashlib
from kaohe.documents.models import Export
data = "不是证明材料的存储文件".encode()
name = default_storage.save("exports/2017/说明.txt", ContentFile(data))
Export.objects.create(identifier="feedback_letters", fmt="txt", title="说明", made_by=user,
                      status="done", storage_name=name, file_name="说明.txt",
                      content_type="text/plain", size=len(data),
                      sha256=hashlib.sha256(data).hexdigest())
"""


@pytest.fixture(scope="module")
def source(tmp_path_factory, installation_databases, installation_template):
    """An installation with evidence, and its backup (made once for the module)."""
    installation = make_installation(tmp_path_factory.mktemp("source"), installation_databases,
                                     installation_template)
    installation.shell(SOURCE_SETUP)
    installation.backup = tmp_path_factory.mktemp("backups") / "backup"
    installation.backup_output = installation.kaohe("backup", str(installation.backup)).stdout
    return installation


@pytest.fixture
def backup(source, tmp_path):
    """A copy of the source's backup that a test may damage."""
    return shutil.copytree(source.backup, tmp_path / "backup")


def _manifest(backup):
    return json.loads((backup / "manifest.json").read_text(encoding="utf-8"))


def _sha256(path):
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _assert_untouched(target):
    assert not target.files_dir.exists() or not any(target.files_dir.rglob("*"))
    if target.is_sqlite:
        assert not target.sqlite_path.exists()
    else:
        assert target.tables() == {}


def test_a_backup_restores_into_an_empty_place_with_the_same_rows_and_files(
        source, new_installation):
    backup = source.backup
    assert "备份完成" in source.backup_output

    manifest = _manifest(backup)
    rows = source.tables()
    engine = "sqlite" if source.is_sqlite else "postgresql"
    assert manifest["engine"] == engine
    assert manifest["tables"]["evidence_evidence"] == 3
    # Rows per table as of the snapshot; the backup itself was logged after it.
    assert rows["audit_auditentry"] == manifest["tables"]["audit_auditentry"] + 1
    assert {k: v for k, v in rows.items() if k != "audit_auditentry"} == {
        k: v for k, v in manifest["tables"].items() if k != "audit_auditentry"}
    # The SHA-256 of every stored file and of the database file.
    stored = source.stored_files()
    assert len(stored) == 4
    assert {name: entry["sha256"] for name, entry in manifest["files"].items()
            if name.startswith("files/")} == {f"files/{k}": v for k, v in stored.items()}
    database = manifest["database"]
    assert manifest["files"][database]["sha256"] == _sha256(backup / database)

    target = new_installation(empty=True)
    restored = target.kaohe("restore", str(backup))
    assert "恢复完成" in restored.stdout and "行数与备份一致" in restored.stdout

    after = target.tables()
    assert after["audit_auditentry"] == manifest["tables"]["audit_auditentry"] + 1
    assert {k: v for k, v in after.items() if k != "audit_auditentry"} == {
        k: v for k, v in manifest["tables"].items() if k != "audit_auditentry"}
    assert target.stored_files() == stored
    assert target.sql("SELECT action FROM audit_auditentry ORDER BY id DESC")[0][0] == (
        "maintenance.backup.restored")
    checked = target.kaohe("verify")
    assert "evidence files OK: 3 files verified" in checked.stdout
    assert "exports OK: 1 files verified" in checked.stdout


def test_restore_refuses_a_target_that_holds_data_unless_forced(source, new_installation):
    backup = source.backup
    target = new_installation()  # migrated, with the 2017 round: not empty
    target.shell("from kaohe.directory.models import Category, Unit\n"
                 "Unit.objects.create(code='KEEP', name='原有单位',"
                 " category=Category.objects.get(code='universities'))")

    refused = target.kaohe("restore", str(backup), check=False)
    assert refused.returncode != 0
    assert "目标不是空的" in refused.stderr and "--force" in refused.stderr
    assert [code for (code,) in target.sql("SELECT code FROM directory_unit")] == ["KEEP"]
    assert target.stored_files() == {}

    forced = target.kaohe("restore", str(backup), "--force")
    assert "已覆盖目标中原有的数据" in forced.stdout
    assert [code for (code,) in target.sql("SELECT code FROM directory_unit")] == ["BK01"]
    assert target.stored_files() == source.stored_files()
    target.kaohe("verify")


def test_stored_files_alone_make_a_target_not_empty(source, new_installation):
    backup = source.backup
    target = new_installation(empty=True)
    (target.files_dir / "evidence").mkdir(parents=True)
    (target.files_dir / "evidence" / "left-over").write_bytes(b"x")
    refused = target.kaohe("restore", str(backup), check=False)
    assert refused.returncode != 0 and "1 个文件" in refused.stderr
    assert (target.files_dir / "evidence" / "left-over").read_bytes() == b"x"


@pytest.mark.parametrize("victim", ["evidence", "database"])
def test_a_tampered_backup_is_refused_before_anything_is_touched(backup, new_installation,
                                                                 victim):
    manifest = _manifest(backup)
    if victim == "evidence":
        name = next(n for n in manifest["files"] if n.startswith("files/evidence/"))
    else:
        name = manifest["database"]
    path = backup / name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit, same size
    path.write_bytes(bytes(data))

    target = new_installation(empty=True)
    refused = target.kaohe("restore", str(backup), check=False)
    assert refused.returncode != 0
    assert name in refused.stderr and "SHA-256" in refused.stderr
    assert "未做任何改动" in refused.stderr
    _assert_untouched(target)
    if victim == "database":
        assert target.kaohe("restore", str(backup), "--check", check=False).returncode != 0


def test_a_backup_of_the_other_database_engine_is_refused(new_installation, tmp_path):
    target = new_installation(empty=True)
    other = "postgresql" if target.is_sqlite else "sqlite"
    database = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}[other]
    backup = tmp_path / "backup"
    backup.mkdir()
    (backup / database).write_bytes(b"not really a database")
    (backup / "manifest.json").write_text(json.dumps({
        "format": "kaohe-backup/1", "engine": other, "database": database, "tables": {},
        "files": {database: {"sha256": _sha256(backup / database), "size": 21}},
    }), encoding="utf-8")
    refused = target.kaohe("restore", str(backup), check=False)
    assert refused.returncode != 0 and "不支持跨数据库恢复" in refused.stderr
    _assert_untouched(target)


def test_backup_refuses_a_directory_that_is_not_empty(source, tmp_path):
    (tmp_path / "old").write_text("keep me", encoding="utf-8")
    refused = source.kaohe("backup", str(tmp_path), check=False)
    assert refused.returncode != 0 and "不是空目录" in refused.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["old"]


# The check of a backup directory alone (no database involved) ---------------------------

def _fake_backup(root, files: dict[str, bytes], *, extra_entries=None):
    root.mkdir()
    entries = {}
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        entries[name] = {"sha256": hashlib.sha256(content).hexdigest(), "size": len(content)}
    entries.update(extra_entries or {})
    (root / "manifest.json").write_text(json.dumps({
        "format": "kaohe-backup/1", "engine": "sqlite", "database": "database.sqlite3",
        "tables": {"t": 1}, "files": entries}), encoding="utf-8")
    return root


def test_a_consistent_backup_directory_passes_the_check(tmp_path):
    backup = _fake_backup(tmp_path / "b", {"database.sqlite3": b"db", "files/a/b.txt": b"x"})
    assert backup_check(backup).stored_files == 1


@pytest.mark.parametrize("name", ["../outside", "files/../../etc/passwd", "/etc/passwd",
                                  "files//x", "other/file", "files/./x"])
def test_a_manifest_naming_a_path_outside_the_backup_is_refused(tmp_path, name):
    backup = _fake_backup(tmp_path / "b", {"database.sqlite3": b"db"}, extra_entries={
        name: {"sha256": "0" * 64, "size": 0}})
    with pytest.raises(BackupError, match="路径不允许"):
        backup_check(backup)


def test_a_file_the_manifest_does_not_list_is_refused(tmp_path):
    backup = _fake_backup(tmp_path / "b", {"database.sqlite3": b"db"})
    (backup / "files").mkdir()
    (backup / "files" / "smuggled").write_bytes(b"?")
    with pytest.raises(BackupError, match="files/smuggled: 清单未列出的文件"):
        backup_check(backup)


def test_a_missing_file_or_manifest_is_refused(tmp_path):
    backup = _fake_backup(tmp_path / "b", {"database.sqlite3": b"db", "files/x": b"x"})
    (backup / "files" / "x").unlink()
    with pytest.raises(BackupError, match="files/x: 文件缺失"):
        backup_check(backup)
    (backup / "manifest.json").unlink()
    with pytest.raises(BackupError, match="不是完整的备份"):
        backup_check(backup)


# A restore that fails mid-way leaves the previous installation as it was ------------------

INJECT_FAILURE = """
from pathlib import Path
from kaohe.lib import storage
from kaohe.maintenance import backup

where, src = WHERE, Path(SRC)
if where == "files":  # the third file put into the storage fails (a full disk, say)
    real, calls = storage.save_hashed, []

    def save_hashed(*args, **kwargs):
        calls.append(args[0])
        if len(calls) == 3:
            raise OSError("injected: no space left on device")
        return real(*args, **kwargs)

    storage.save_hashed = save_hashed
else:  # the database cannot be replaced (locked, say): after the files are in place
    def sqlite_restore(database):
        raise OSError("injected: database is locked")

    backup._sqlite_restore = sqlite_restore
try:
    backup.backup_restore(src, force=True)
except OSError as exc:
    print("restore failed:", exc)
else:
    print("restore did not fail")
"""


def _target_with_data(new_installation, source):
    """A target holding data: a unit of its own, a file the backup does not hold, and a file
    under a name the backup holds with other content (the restore replaces it)."""
    target = new_installation()
    target.shell("from kaohe.directory.models import Category, Unit\n"
                 "Unit.objects.create(code='KEEP', name='原有单位',"
                 " category=Category.objects.get(code='universities'))")
    shared = next(name for name in source.stored_files() if name.startswith("exports/"))
    for name, data in (("evidence/2016/own-file", b"own"), (shared, "原有内容".encode())):
        path = target.files_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return target


@pytest.mark.parametrize("where", ["files", "database"])
def test_a_restore_failing_mid_way_leaves_the_previous_installation_intact(
        source, new_installation, where):
    target = _target_with_data(new_installation, source)
    if not target.is_sqlite:
        pytest.skip("the injected database failure replaces the SQLite step")
    rows, files = target.tables(), target.stored_files()

    code = INJECT_FAILURE.replace("WHERE", repr(where)).replace("SRC", repr(str(source.backup)))
    result = target.kaohe("shell", "--no-imports", "-c", code)
    assert "restore failed: injected" in result.stdout, result.stdout + result.stderr
    assert target.tables() == rows
    assert [code for (code,) in target.sql("SELECT code FROM directory_unit")] == ["KEEP"]
    assert target.stored_files() == files  # nothing added, replaced or removed is left so
    target.kaohe("verify", check=False)  # its own state, whatever it was, is still readable

    # Run again without the failure: it completes.
    target.kaohe("restore", str(source.backup), "--force")
    assert target.stored_files() == source.stored_files()
    assert [code for (code,) in target.sql("SELECT code FROM directory_unit")] == ["BK01"]


def test_row_counts_that_disagree_with_the_manifest_are_refused_before_anything_changes(
        backup, new_installation):
    manifest = _manifest(backup)
    manifest["tables"]["directory_unit"] += 1
    (backup / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    target = new_installation(empty=True)
    if not target.is_sqlite:
        pytest.skip("PostgreSQL checks the rows inside the restore's transaction")
    refused = target.kaohe("restore", str(backup), check=False)
    assert refused.returncode != 0 and "directory_unit" in refused.stderr
    _assert_untouched(target)


@pytest.mark.django_db
def test_an_in_memory_database_is_refused_before_anything_is_written(tmp_path):
    from django.db import connection

    from kaohe.maintenance.backup import backup_create

    if connection.vendor != "sqlite":
        pytest.skip("only SQLite keeps a database in memory")
    # The test database is SQLite's shared in-memory one: there is no file to copy.
    with pytest.raises(BackupError, match="内存数据库无法备份"):
        backup_create(tmp_path / "backup")
    assert not (tmp_path / "backup").exists()
