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
    assert "audit log OK" in checked.stdout
    assert "evidence files OK: 3 files verified" in checked.stdout
    assert "exports OK: 1 files verified" in checked.stdout
    # New rows take new ids (PostgreSQL: the dump sets every sequence past the rows loaded).
    target.shell("from kaohe.directory.models import Category, Unit\n"
                 "Unit.objects.create(code='NEW1', name='恢复后新建',"
                 " category=Category.objects.get(code='universities'))")
    assert target.count("directory_unit") == manifest["tables"]["directory_unit"] + 1
    assert "kaohe_restore_marker" not in target.tables()


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
    def database_restore(*args, **kwargs):
        raise OSError("injected: database is locked")

    backup._sqlite_restore = backup._postgresql_restore = database_restore
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


@pytest.mark.parametrize("empty", [True, False])
def test_row_counts_that_disagree_with_the_manifest_are_refused_and_nothing_changes(
        backup, source, new_installation, empty):
    """SQLite counts the backup's copy before anything is touched; PostgreSQL counts the
    loaded rows inside the restore's transaction, before it commits, and the files placed
    are taken back."""
    manifest = _manifest(backup)
    manifest["tables"]["directory_unit"] += 1
    (backup / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    target = new_installation(empty=True) if empty else _target_with_data(new_installation,
                                                                          source)
    rows, files = ({}, {}) if empty else (target.tables(), target.stored_files())
    refused = target.kaohe("restore", str(backup), "--force", check=False)
    assert refused.returncode != 0
    message = [line for line in refused.stderr.splitlines() if "directory_unit" in line]
    assert len(message) == 1 and "清单中为" in message[0], refused.stderr
    if empty:
        _assert_untouched(target)
    else:
        assert target.tables() == rows
        assert [code for (code,) in target.sql("SELECT code FROM directory_unit")] == ["KEEP"]
        assert target.stored_files() == files
    assert not (target.files_dir / ".kaohe-restore").exists()


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


# A restore killed (SIGKILL) at each point: the next run knows which side won -------------

CRASH = """
import os, signal
from pathlib import Path
from kaohe.maintenance import backup

point = POINT


def checkpoint(name):
    if name == point:
        print("killed at", name, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)


backup._checkpoint = checkpoint
backup.backup_restore(Path(SRC), force=True)
print("not killed")
"""

# Where the process is killed, and whether the restore is then finished (the database step
# had committed) or rolled back (it had not).
CRASH_POINTS = {
    "file-aside": "back",  # a replaced file copied aside, some files already added
    "files-placed": "back",  # every file in place, the database not yet replaced
    "database-committed": "forward",  # the database is the backup's, the files not settled
    "files-finished": "forward",  # copies aside and obsolete files gone, the journal not
    "journal-deleted": "done",  # only the marker row is left
}


def crash_restore(target, backup, point, env=None):
    code = CRASH.replace("POINT", repr(point)).replace("SRC", repr(str(backup)))
    killed = target.kaohe("shell", "--no-imports", "-c", code, check=False, env=env)
    assert killed.returncode == -9 and f"killed at {point}" in killed.stdout, (
        killed.returncode, killed.stdout, killed.stderr)


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_a_restore_killed_at_any_point_is_settled_by_the_next_run(source, new_installation,
                                                                  point):
    target = _target_with_data(new_installation, source)
    rows, files = target.tables(), target.stored_files()
    crash_restore(target, source.backup, point)

    outcome = CRASH_POINTS[point]
    if outcome != "done":
        assert (target.files_dir / ".kaohe-restore").is_dir()
        reported = target.kaohe("verify", check=False)
        assert reported.returncode != 0
        assert "an interrupted restore left .kaohe-restore/" in reported.stderr
        assert "kaohe restore --recover" in reported.stderr

    recovered = target.kaohe("restore", "--recover")
    assert not (target.files_dir / ".kaohe-restore").exists()
    assert "kaohe_restore_marker" not in target.tables()
    if outcome == "back":
        assert "已回滚" in recovered.stdout
        assert target.tables() == rows
        assert [code for (code,) in target.sql("SELECT code FROM directory_unit")] == ["KEEP"]
        assert target.stored_files() == files
    else:
        if outcome == "forward":
            assert "已完成" in recovered.stdout
            # The restore's audit entry, written by the run that finished it.
            [(data,)] = target.sql("SELECT data FROM audit_auditentry ORDER BY id DESC LIMIT 1")
            data = json.loads(data) if isinstance(data, str) else data
            assert data["completed_after_interruption"] is True
        else:
            assert "没有中断的恢复" in recovered.stdout
        assert [code for (code,) in target.sql("SELECT code FROM directory_unit")] == ["BK01"]
        assert target.stored_files() == source.stored_files()
        checked = target.kaohe("verify")
        assert "audit log OK" in checked.stdout
        assert "evidence files OK: 3 files verified" in checked.stdout


def test_the_next_restore_settles_an_interrupted_one_before_it_starts(source, new_installation):
    target = _target_with_data(new_installation, source)
    crash_restore(target, source.backup, "files-placed")
    # Without --force: the interrupted restore is rolled back first, then the target (which
    # holds data again) is refused.
    refused = target.kaohe("restore", str(source.backup), check=False)
    assert refused.returncode != 0 and "目标不是空的" in refused.stderr
    assert "已回滚" in refused.stdout
    assert not (target.files_dir / ".kaohe-restore").exists()

    crash_restore(target, source.backup, "database-committed")
    restored = target.kaohe("restore", str(source.backup), "--force")
    assert "已完成" in restored.stdout and "恢复完成" in restored.stdout
    assert target.stored_files() == source.stored_files()
    target.kaohe("verify")


def test_copies_aside_without_a_journal_are_refused_with_what_to_do(source, new_installation):
    target = new_installation(empty=True)
    aside = target.files_dir / ".kaohe-restore" / ("0" * 32) / "exports"
    aside.mkdir(parents=True)
    (aside / "old.txt").write_bytes(b"old")
    refused = target.kaohe("restore", str(source.backup), "--force", check=False)
    assert refused.returncode != 0
    assert ".kaohe-restore/" + "0" * 32 in refused.stderr and "kaohe verify" in refused.stderr
    assert "移出存储" in refused.stderr
    assert (aside / "old.txt").read_bytes() == b"old"


def test_a_recovery_killed_mid_way_is_finished_by_the_next_one(source, new_installation):
    target = _target_with_data(new_installation, source)
    crash_restore(target, source.backup, "database-committed")
    code = CRASH.replace("POINT", repr("files-finished")).replace(
        "backup.backup_restore(Path(SRC), force=True)", "backup.recover()")
    killed = target.kaohe("shell", "--no-imports", "-c", code, check=False)
    assert killed.returncode == -9, killed.stderr
    assert "已完成" in target.kaohe("restore", "--recover").stdout
    assert target.stored_files() == source.stored_files()
    target.kaohe("verify")


# psql is still in its transaction when the restoring process is killed: it is killed with
# it (PR_SET_PDEATHSIG) and the transaction rolls back; or, if it survives, the next run
# waits for its transaction to end and follows its outcome.
MID_DATABASE_STEP = """
import os, signal, subprocess, threading
from pathlib import Path
from kaohe.maintenance import backup

real_run = backup._run


def run(args, **kwargs):
    if args[0] != "psql":
        return real_run(args, **kwargs)
    at = args.index("--command") + 1
    args = [*args[:at], args[at] + " SELECT pg_sleep(8);", *args[at + 1:]]
    threading.Timer(2, os.kill, [os.getpid(), signal.SIGKILL]).start()
    if DIE_WITH_PARENT:
        return real_run(args, **kwargs)
    # A psql that outlives the restoring process: no pipe to it that would break.
    with open(Path(SRC).parent / "psql.log", "ab") as log:
        subprocess.run(args, env=backup._pg_env(), stdout=log, stderr=log, check=True)


backup._run = run
backup.backup_restore(Path(SRC), force=True)
"""


@pytest.mark.parametrize("die_with_parent", [True, False])
def test_a_restore_killed_inside_the_postgresql_transaction(backup, source, new_installation,
                                                            die_with_parent):
    target = _target_with_data(new_installation, source)
    if target.is_sqlite:
        pytest.skip("SQLite's database step runs in the restoring process itself")
    rows, files = target.tables(), target.stored_files()
    code = (MID_DATABASE_STEP.replace("DIE_WITH_PARENT", repr(die_with_parent))
            .replace("SRC", repr(str(backup))))
    killed = target.kaohe("shell", "--no-imports", "-c", code, check=False)
    assert killed.returncode == -9, killed.stderr

    recovered = target.kaohe("restore", "--recover")  # while psql sleeps in its transaction
    assert "kaohe_restore_marker" not in target.tables()
    if die_with_parent:  # psql died before its COMMIT
        assert "已回滚" in recovered.stdout
        assert target.tables() == rows and target.stored_files() == files
    else:  # psql went on and committed while the recovery waited for it
        assert "已完成" in recovered.stdout
        assert target.stored_files() == source.stored_files()
        target.kaohe("verify")


@pytest.mark.django_db
def test_the_restore_lock_is_free_as_soon_as_a_step_has_let_it_go():
    """A restore takes the lock to settle leftovers, lets it go and takes it again at once.
    On PostgreSQL the lock (an advisory lock of a connection of its own) is released before
    that connection closes: the server ends a closed session a moment later, and a lock
    taken at once found it still held ("Another `kaohe restore` is running", seen in CI)."""
    from django.db import connection

    from kaohe.maintenance import backup as backups

    if connection.vendor == "sqlite":
        pytest.skip("SQLite's lock is a flock of the data directory; tests run in memory")
    for _ in range(100):
        with backups._restore_lock():
            pass


@pytest.mark.django_db(transaction=True)  # the recovery closes its connection
def test_recovery_waits_for_a_killed_restores_psql_for_a_while_not_for_ever(monkeypatch):
    """The recovery learns a killed restore's outcome once its psql lets the database
    step's lock go; a psql that never ends gets the operator a clear message, not a hang."""
    import psycopg
    from django.db import connection

    from kaohe.maintenance import backup as backups

    if connection.vendor == "sqlite":
        pytest.skip("the database step's lock is PostgreSQL's (SQLite's step is a file)")
    settings = connection.settings_dict
    holder = psycopg.connect(host=settings["HOST"] or None, port=settings["PORT"] or None,
                             user=settings["USER"], dbname=settings["NAME"], autocommit=True)
    try:
        holder.execute("SELECT pg_advisory_lock(%s)", [backups._LOCK_DATABASE_STEP])
        monkeypatch.setattr(backups, "STEP_WAIT_SECONDS", 1)
        with pytest.raises(backups.BackupError, match="仍未结束"):
            backups._marker()
    finally:
        holder.close()
    assert backups._marker() is None  # once let go, the outcome is read at once
