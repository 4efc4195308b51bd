"""Backup and restore of an installation: the database and the stored files, in one directory.

    manifest.json       the size and SHA-256 of every file below, the rows of every table
    database.sqlite3    SQLite: a consistent copy made with SQLite's online backup API
    database.pgdump     PostgreSQL: `pg_dump -Fc` of one snapshot (read by pg_restore)
    files/...           the stored files (storages["default"]: a folder or an S3 bucket)

The database comes first, then the files, listed and read through Django's storage API,
whichever storage is configured. Stored files are written once and never changed in place,
so every file the copied database refers to is still there when the files are copied.
Evidence files that arrived after the database snapshot (their row is not in it) are left
out, so that a restored installation verifies cleanly with `kaohe verify`.

Restoring checks every size and hash against the manifest (and, on SQLite, the rows of the
copy) before it touches anything, and refuses a target that holds data unless forced. It
writes a journal into the storage first (.kaohe-restore/<id>.json: the files it will add,
the ones it will replace with the SHA-256 of their content, and the stored files the backup
does not hold). Then the files go into the storage, each hashed again as it is copied: a
stored file under the same name with other content is first copied aside
(.kaohe-restore/<id>/), so that until the database is replaced every file the previous
database lists is still there. The database is replaced last, in one transaction (SQLite's
backup API, one psql transaction) that also compares the rows of every table with the
manifest before it commits and writes a marker row with the journal's id. After it the
copies aside, the stored files the backup does not hold, the journal and the marker are
removed, in that order.

A restore that fails, or is killed at any point, is settled by whoever finds its journal
(the restore itself, the next `kaohe restore`, or `kaohe restore --recover`; `kaohe verify`
reports it): if the database holds the journal's marker, the restore is finished; if not,
the files added are removed and the replaced ones put back, each checked by its hash. The
previous installation or the backup's, never a mixture of the two.

Its length (over 400 lines) is backup, check and restore, which must agree on the manifest's
format line by line, and the restore's journal, which must be settled the same way from
every point a restore can be killed at.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime
import fcntl
import hashlib
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path, PurePosixPath

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import DatabaseError, OperationalError, connection, transaction

from kaohe.lib import storage

FORMAT = "kaohe-backup/1"
MANIFEST = "manifest.json"
FILES = "files"
DATABASE_FILES = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
_BLOCK = 1024 * 1024


class BackupError(Exception):
    """A refusal or failure with a message for the operator (Chinese, then English)."""


class TargetNotEmpty(BackupError):
    pass


@dataclass
class BackupSummary:
    path: Path
    manifest: dict
    manifest_sha256: str

    @property
    def rows(self) -> int:
        return sum(self.manifest["tables"].values())

    @property
    def stored_files(self) -> int:
        return sum(1 for name in self.manifest["files"] if name.startswith(f"{FILES}/"))

    @property
    def size(self) -> int:
        return sum(entry["size"] for entry in self.manifest["files"].values())


@dataclass
class RestoreSummary:
    backup: BackupSummary
    tables: int = 0
    rows: int = 0
    files: int = 0
    replaced: bool = False
    extra_tables: list[str] = field(default_factory=list)
    settled: list[Settled] = field(default_factory=list)  # interrupted restores settled first


# Places ----------------------------------------------------------------------------------

def _engine() -> str:
    vendor = connection.vendor
    if vendor not in DATABASE_FILES:
        raise BackupError(f"不支持的数据库类型：{vendor}。 (Unsupported database: {vendor}.)")
    if vendor == "sqlite":
        _sqlite_path()  # refuses an in-memory database
    return vendor


def _sqlite_path() -> Path:
    """The SQLite database's file (an in-memory database has none: refused)."""
    name = str(connection.settings_dict["NAME"])
    if not name or name == ":memory:" or name.startswith("file:"):
        raise BackupError("内存数据库无法备份。 (An in-memory database cannot be backed up.)")
    return Path(name)


# Files and hashes ------------------------------------------------------------------------

def _sha256_copy(source: Path, target: Path | None) -> tuple[str, int]:
    """Hash a file, copying it to target on the way (fsynced); returns (sha256, size)."""
    with open(source, "rb") as src:
        return _copy_stream(src, target)


def _copy_stream(src, target: Path | None) -> tuple[str, int]:
    """Hash an open stream, copying it to target on the way (fsynced); (sha256, size)."""
    digest, size = hashlib.sha256(), 0
    out = open(target, "xb") if target is not None else None  # noqa: SIM115 - closed below
    try:
        while block := src.read(_BLOCK):
            digest.update(block)
            size += len(block)
            if out is not None:
                out.write(block)
        if out is not None:
            out.flush()
            os.fsync(out.fileno())
    finally:
        if out is not None:
            out.close()
    return digest.hexdigest(), size


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _stored_files() -> list[str]:
    """The name of every file in the default storage (relative POSIX paths)."""
    names = list(storage.walk())
    unsafe = [name for name in names if not _safe_name(f"{FILES}/{name}")]
    if unsafe:
        # An object key such as "a/../b" or "a//b" (put into a bucket by hand) would not
        # come back under the same name.
        raise BackupError("存储中有无法备份的文件名 (stored names that cannot be backed up): "
                          + ", ".join(repr(name) for name in unsafe[:20]))
    return names


def _safe_name(name: str) -> bool:
    """A manifest entry must stay inside the backup: no absolute path, no "..", no oddities."""
    if not isinstance(name, str) or not name or "\\" in name or "\x00" in name:
        return False
    path = PurePosixPath(name)
    return (not path.is_absolute() and path.as_posix() == name
            and all(part not in {"", ".", ".."} for part in path.parts))


# Backup ----------------------------------------------------------------------------------

def backup_create(dest: Path) -> BackupSummary:
    """Write a backup of the database and the stored files into dest (new or empty)."""
    engine = _engine()
    dest = Path(dest)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BackupError(f"备份目录 {dest} 已存在且不是空目录，请指定新的目录。 "
                          f"(The backup directory {dest} exists and is not empty.)")
    created = not dest.exists()
    dest.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        database = DATABASE_FILES[engine]
        if engine == "sqlite":
            tables, listed = _sqlite_backup(dest / database)
        else:
            tables, listed = _postgresql_backup(dest / database)
        files = {database: _entry(*_sha256_copy(dest / database, None))}
        evidence = _evidence_prefix()
        left_out = 0
        for name in _stored_files():
            if name.startswith(f"{RESTORE_FOLDER}/"):
                continue  # an interrupted restore's journal and copies (`kaohe verify`)
            if name.startswith(evidence) and name not in listed:
                left_out += 1  # arrived after the snapshot: no row of the backup lists it
                continue
            target = dest / FILES / name
            target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            try:
                with storage.open_stream(name) as stored:
                    files[f"{FILES}/{name}"] = _entry(*_copy_stream(stored, target))
            except FileNotFoundError:
                target.unlink(missing_ok=True)
                continue  # removed while we were copying (an expired export, say)
        manifest = {
            "format": FORMAT,
            "created_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "kaohe": _version(),
            "engine": engine,
            "database": database,
            "tables": tables,
            "files": files,
            "left_out_newer_evidence": left_out,
        }
        text = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
        partial = dest / f".{MANIFEST}.partial"
        with open(partial, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        # The manifest last: a backup cut short has none and is never taken for a whole one.
        os.replace(partial, dest / MANIFEST)
        _fsync_dir(dest)
    except BaseException:
        if created:
            shutil.rmtree(dest, ignore_errors=True)
        else:
            for child in dest.iterdir():
                if child.is_dir():
                    shutil.rmtree(child)
                else:
                    child.unlink()
        raise
    return BackupSummary(dest, manifest, hashlib.sha256(text.encode()).hexdigest())


def _evidence_prefix() -> str:
    """Where evidence files live in the storage (evidence rows name them relative to it)."""
    from kaohe.evidence.services import EVIDENCE_FOLDER

    return f"{EVIDENCE_FOLDER}/"


def _entry(sha256: str, size: int) -> dict:
    return {"sha256": sha256, "size": size}


def _version() -> str:
    try:
        return metadata.version("kaohe")
    except metadata.PackageNotFoundError:
        return "unknown"


def _sqlite_tables(db: sqlite3.Connection) -> dict[str, int]:
    names = [row[0] for row in db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "ORDER BY name")]
    quoted = {name: '"' + name.replace('"', '""') + '"' for name in names}
    return {name: db.execute(f"SELECT COUNT(*) FROM {quoted[name]}").fetchone()[0]  # noqa: S608
            for name in names}


def _listed_evidence(rows) -> set[str]:
    return {name for (name,) in rows if name}


def _sqlite_backup(target: Path) -> tuple[dict[str, int], set[str]]:
    source = _sqlite_path()
    if not source.is_file():
        raise BackupError(f"数据库文件 {source} 不存在。 (The database file {source} is missing.)")
    connection.close()
    src = sqlite3.connect(source, timeout=60)
    try:
        dst = sqlite3.connect(target)
        try:
            # One step: a consistent snapshot, taken while other processes keep writing (WAL).
            src.backup(dst)
            # The copy stands alone: no write-ahead log next to it.
            dst.execute("PRAGMA journal_mode=DELETE")
            dst.execute(f"DROP TABLE IF EXISTS {MARKER_TABLE}")  # a finished restore's
            tables = _sqlite_tables(dst)
            listed = (_listed_evidence(dst.execute(
                "SELECT storage_name FROM evidence_evidence")) if "evidence_evidence" in tables
                else set())
        finally:
            dst.close()
    finally:
        src.close()
    os.chmod(target, 0o600)
    return tables, listed


def _pg_env() -> dict[str, str]:
    """libpq's environment for pg_dump, pg_restore and psql, from the Django settings."""
    settings_dict = connection.settings_dict
    _args, env = connection.client.settings_to_cmd_args_env(settings_dict, [])
    env = {**os.environ, **(env or {})}
    for key, name in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"),
                      ("NAME", "PGDATABASE")):
        if settings_dict.get(key):
            env[name] = str(settings_dict[key])
    return env


def _die_with_parent() -> None:
    """In the child before exec (Linux): SIGKILL it when the restoring process dies, so
    that no psql sends its COMMIT after a restore was killed and settled."""
    PR_SET_PDEATHSIG = 1  # prctl(2)
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _run(args: list[str], *, what: str, die_with_parent: bool = False) -> None:
    """Run a PostgreSQL client program; `what` names the step for the operator."""
    if shutil.which(args[0]) is None:
        raise BackupError(f"找不到 {args[0]}，请安装 PostgreSQL 客户端工具。 "
                          f"({args[0]} is not installed.)")
    result = subprocess.run(  # noqa: S603 - fixed programs, arguments are ours
        args, env=_pg_env(), capture_output=True, text=True, check=False,
        preexec_fn=_die_with_parent if die_with_parent else None)
    if result.returncode != 0:
        raise BackupError(f"{what}失败 ({args[0]} failed): {result.stderr.strip()[-2000:]}")


def _postgresql_backup(target: Path) -> tuple[dict[str, int], set[str]]:
    with transaction.atomic(), connection.cursor() as cursor:
        # One snapshot for the counts, the evidence list and pg_dump: they agree exactly.
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        tables = {}
        for name in sorted(set(connection.introspection.table_names(cursor)) - {MARKER_TABLE}):
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(name)}")  # noqa: S608
            tables[name] = cursor.fetchone()[0]
        listed = set()
        if "evidence_evidence" in tables:
            cursor.execute("SELECT storage_name FROM evidence_evidence")
            listed = _listed_evidence(cursor.fetchall())
        _run(["pg_dump", "--format=custom", f"--snapshot={snapshot}",
              f"--exclude-table=public.{MARKER_TABLE}", "--file", str(target)],
             what="导出数据库")
    os.chmod(target, 0o600)
    return tables, listed


# Checking a backup -----------------------------------------------------------------------

def backup_check(src: Path) -> BackupSummary:
    """Read the manifest and check every file's size and SHA-256; raise BackupError if not."""
    src = Path(src)
    manifest_path = src / MANIFEST
    try:
        text = manifest_path.read_text(encoding="utf-8")
        manifest = json.loads(text)
    except FileNotFoundError:
        raise BackupError(f"{src} 中没有 {MANIFEST}，不是完整的备份。 "
                          f"({src} has no {MANIFEST}: not a complete backup.)") from None
    except (OSError, ValueError) as exc:
        raise BackupError(f"{MANIFEST} 无法读取：{exc} (unreadable manifest)") from None
    problems = _manifest_problems(manifest)
    if problems:
        raise BackupError("备份清单无效 (invalid manifest): " + "; ".join(problems))
    present = {path.relative_to(src).as_posix() for path in src.rglob("*")
               if path.is_file() or path.is_symlink()} - {MANIFEST}
    listed = set(manifest["files"])
    for name in sorted(listed - present):
        problems.append(f"{name}: 文件缺失 (missing)")
    for name in sorted(present - listed):
        problems.append(f"{name}: 清单未列出的文件 (not in the manifest)")
    for name in sorted(listed & present):
        path = src / name
        if path.is_symlink():
            problems.append(f"{name}: 是符号链接 (a symbolic link)")
            continue
        expected = manifest["files"][name]
        sha256, size = _sha256_copy(path, None)
        if size != expected["size"] or sha256 != expected["sha256"]:
            problems.append(f"{name}: 大小或 SHA-256 与清单不符，文件已损坏或被改动 "
                            f"(size or SHA-256 does not match: damaged or altered)")
    if problems:
        raise BackupError("备份未通过校验，未做任何改动 (the backup failed its check; "
                          "nothing was changed):\n  " + "\n  ".join(problems))
    return BackupSummary(src, manifest, hashlib.sha256(text.encode()).hexdigest())


def _manifest_problems(manifest) -> list[str]:
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        return [f"不是 {FORMAT} 格式 (not a {FORMAT} manifest)"]
    problems = []
    engine = manifest.get("engine")
    if engine not in DATABASE_FILES or manifest.get("database") != DATABASE_FILES[engine]:
        problems.append("数据库类型或文件名无效 (bad engine or database file)")
    tables = manifest.get("tables")
    if not isinstance(tables, dict) or not all(
            isinstance(k, str) and isinstance(v, int) and v >= 0 for k, v in tables.items()):
        problems.append("表行数无效 (bad table counts)")
    files = manifest.get("files")
    if not isinstance(files, dict) or manifest.get("database") not in files:
        problems.append("文件列表无效 (bad file list)")
        return problems
    for name, entry in files.items():
        if not _safe_name(name) or not (name == manifest["database"]
                                         or name.startswith(f"{FILES}/")):
            problems.append(f"{name!r}: 路径不允许 (path not allowed)")
        elif not (isinstance(entry, dict) and isinstance(entry.get("size"), int)
                  and isinstance(entry.get("sha256"), str) and len(entry["sha256"]) == 64):
            problems.append(f"{name}: 条目无效 (bad entry)")
    return problems


# Restore ---------------------------------------------------------------------------------
#
# A restore keeps a journal in the storage, .kaohe-restore/<id>.json, written before
# anything is changed and deleted only when everything is done. It lists the files the
# restore adds, the ones it replaces (with the SHA-256 of the previous content, copied
# aside first to .kaohe-restore/<id>/) and the stored files the backup does not hold. The
# database step writes a marker row, kaohe_restore_marker(id), in the same transaction that
# loads the rows. So whoever finds a journal (the next `kaohe restore`, or `kaohe restore
# --recover`; `kaohe verify` reports it) knows which side won:
#
#   marker = journal id   the database is the backup's: roll forward (drop the copies aside
#                         and the files the backup does not hold)
#   no such marker        the previous database is in place: roll back (remove the files
#                         added, put back the replaced ones, each checked by its hash)
#
# The journal goes before the marker: a marker left without a journal is only dropped.

# Where a restore keeps its journal and the files it replaces until it is settled.
RESTORE_FOLDER = ".kaohe-restore"
MARKER_TABLE = "kaohe_restore_marker"
# PostgreSQL advisory locks: one restore at a time (held by the restoring process), and
# the database step's transaction (held by psql until it commits or rolls back).
_LOCK_RESTORE, _LOCK_DATABASE_STEP = 0x6B616F6865_01, 0x6B616F6865_02
# How long the outcome of a killed restore's database step is waited for (its psql may
# still be committing or rolling back); then the operator is told, nothing is guessed.
STEP_WAIT_SECONDS = 300
_JOURNAL_NAME = re.compile(r"[0-9a-f]{32}\.json")
_ROWS = "KAOHE-ROWS "


def _checkpoint(name: str) -> None:
    """A named point of the restore: the tests stop the process here (SIGKILL)."""


@dataclass
class _Journal:
    id: str
    add: list[str] = field(default_factory=list)
    replace: dict[str, dict] = field(default_factory=dict)  # name -> previous sha256, size
    obsolete: list[str] = field(default_factory=list)  # stored, not in the backup
    summary: dict = field(default_factory=dict)  # what the audit entry of the restore says

    @property
    def name(self) -> str:
        return f"{RESTORE_FOLDER}/{self.id}.json"

    @property
    def aside(self) -> str:
        return f"{RESTORE_FOLDER}/{self.id}"

    def write(self) -> None:
        """Store the journal in one step: a whole journal or none."""
        text = json.dumps({"id": self.id, "add": self.add, "replace": self.replace,
                           "obsolete": self.obsolete, "summary": self.summary},
                          ensure_ascii=False, sort_keys=True).encode()
        path = storage.local_path(self.name)
        if path is None:
            default_storage.save(self.name, ContentFile(text))  # one PUT: atomic
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.partial")
        with open(partial, "wb") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)
        _fsync_dir(path.parent)

    @classmethod
    def read(cls, name: str) -> _Journal:
        try:
            with default_storage.open(name, "rb") as handle:
                data = json.loads(handle.read().decode())
            return cls(id=data["id"], add=data["add"], replace=data["replace"],
                       obsolete=data["obsolete"], summary=data.get("summary", {}))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            # It is written in one step: only a hand or a damaged disk makes it unreadable.
            raise BackupError(f"恢复日志 {name} 无法读取，无法判断应完成还是回滚；请勿删除 "
                              f"{RESTORE_FOLDER}/ (the restore journal {name} is unreadable: "
                              f"{exc!r}; keep {RESTORE_FOLDER}/ and settle it by hand)") from None


@dataclass
class Settled:
    """An interrupted restore found and settled (rolled forward or back)."""

    journal: str
    rolled_forward: bool
    summary: dict

    def describe(self) -> str:
        if self.rolled_forward:
            return (f"上次中断的恢复已完成：数据库已是备份的内容，已清理旧文件 "
                    f"(the interrupted restore {self.journal} had committed its database; "
                    f"its files were finished)")
        return (f"上次中断的恢复已回滚：数据库未被替换，存储文件已还原 "
                f"(the interrupted restore {self.journal} had not committed its database; "
                f"the previous files were put back)")


def restore_leftovers() -> list[str]:
    """What an interrupted restore left in the storage (journals, copies aside); for
    `kaohe verify`. Reads only."""
    try:
        directories, files = default_storage.listdir(RESTORE_FOLDER)
    except FileNotFoundError:
        return []
    return sorted(f"{RESTORE_FOLDER}/{name}" for name in [*directories, *files])


def target_contents() -> tuple[list[str], list[str]]:
    """(tables in the target database, files in the target storage)."""
    try:
        tables = _drop_stale_marker()
    except DatabaseError as exc:
        raise BackupError(f"无法连接目标数据库：{exc} (cannot open the target database)") from None
    finally:
        connection.close()
    return tables, _stored_files()


def backup_restore(src: Path, *, force: bool = False) -> RestoreSummary:
    """Restore a checked backup into this installation's database and storage."""
    backup = backup_check(src)
    manifest = backup.manifest
    engine = _engine()
    if manifest["engine"] != engine:
        raise BackupError(
            f"备份来自 {manifest['engine']}，目标数据库是 {engine}，不支持跨数据库恢复。 "
            f"(The backup is of {manifest['engine']}, the target is {engine}.)")
    database = backup.path / manifest["database"]
    if engine == "sqlite":
        # The copy's rows first: a backup whose rows disagree changes nothing.
        _sqlite_check_rows(database, manifest["tables"])
    with _restore_lock():
        settled = _recover()
        tables, stored = target_contents()
        if (tables or stored) and not force:
            raise TargetNotEmpty(
                f"目标不是空的：数据库中已有 {len(tables)} 张表，存储目录中已有 {len(stored)} 个"
                f"文件。恢复会覆盖这些数据；确需覆盖请加 --force。 (The target is not empty: "
                f"{len(tables)} tables, {len(stored)} stored files; use --force to overwrite "
                f"them.)")
        summary = RestoreSummary(backup=backup, replaced=bool(tables or stored),
                                 tables=len(manifest["tables"]),
                                 rows=sum(manifest["tables"].values()),
                                 files=backup.stored_files, settled=settled)
        journal = _plan(backup, stored, summary)
        # Files first, the database last: until the database is replaced, every file the
        # previous one lists is kept (a replaced one is copied aside first).
        try:
            _put_files(backup, journal)
            _checkpoint("files-placed")
            if engine == "sqlite":
                _sqlite_restore(database, journal.id, manifest["tables"])
            else:
                _postgresql_restore(database, journal.id, manifest["tables"],
                                    replace=bool(tables))
        except BaseException as exc:
            try:
                _settle(journal)
            except Exception as failure:  # the original failure is the one raised
                exc.add_note(f"恢复失败后未能自动还原，请运行 kaohe restore --recover "
                             f"(could not settle the failed restore: {failure!r}; run "
                             f"`kaohe restore --recover`)")
            raise
        _checkpoint("database-committed")
        _roll_forward(journal)
        summary.extra_tables = _extra_tables(manifest["tables"])
    return summary


def recover() -> list[Settled]:
    """Settle the restores interrupted in this installation (`kaohe restore --recover`)."""
    engine = _engine()
    with _restore_lock():
        settled = _recover()
        if engine != "sqlite" or _sqlite_path().exists():
            try:
                _drop_stale_marker()
            finally:
                connection.close()
        return settled


def _drop_stale_marker() -> list[str]:
    """The database's tables, without the marker that a finished restore leaves when it is
    killed after deleting its journal (dropped here; journals are settled first)."""
    tables = connection.introspection.table_names()
    if MARKER_TABLE in tables:
        _drop_marker()
        tables.remove(MARKER_TABLE)
    return tables


@contextlib.contextmanager
def _restore_lock():
    """One restore (or recovery) at a time: on SQLite a lock on the database's directory,
    on PostgreSQL an advisory lock of a connection held for the whole restore."""
    busy = BackupError("另一个 kaohe restore 正在运行。 (Another `kaohe restore` is running.)")
    if connection.vendor == "sqlite":
        fd = os.open(_sqlite_path().parent, os.O_RDONLY)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise busy from None
            yield
        finally:
            os.close(fd)
        return
    held = connection.get_new_connection(connection.get_connection_params())
    locked = False
    try:
        held.autocommit = True
        with held.cursor() as cursor:
            # A few seconds' patience: a session another step of this restore closed may not
            # have ended on the server yet (below); another restore holds it for minutes.
            deadline = time.monotonic() + 5
            while True:
                cursor.execute("SELECT pg_try_advisory_lock(%s)", [_LOCK_RESTORE])
                if cursor.fetchone()[0]:
                    break
                if time.monotonic() > deadline:
                    raise busy
                time.sleep(0.1)
            locked = True
        yield
    finally:
        # Released before the connection closes: the server ends a closed connection's
        # session (and drops its locks) a moment after the client has gone, so the next
        # restore step taking the lock at once found it still held.
        if locked:
            with contextlib.suppress(Exception), held.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [_LOCK_RESTORE])
        held.close()


def _recover() -> list[Settled]:
    """Settle every journal left by an interrupted restore (the restore lock is held)."""
    if connection.vendor == "sqlite":
        for leftover in _sqlite_path().parent.glob(f"{RESTORE_FOLDER}-*"):
            shutil.rmtree(leftover, ignore_errors=True)  # a working copy of a database step
    try:
        directories, files = default_storage.listdir(RESTORE_FOLDER)
    except FileNotFoundError:
        return []
    journals = sorted(name for name in files if _JOURNAL_NAME.fullmatch(name))
    for name in files:
        if name.endswith(".json.partial"):  # cut short before the journal existed
            default_storage.delete(f"{RESTORE_FOLDER}/{name}")
    unknown = sorted({*(d for d in directories if f"{d}.json" not in journals),
                      *(f for f in files if f not in journals and not f.endswith(".partial"))})
    if unknown:
        # No journal says whose they are (a restore of an older Kaohe, or put there by hand).
        raise BackupError(
            f"存储中有没有日志的恢复残留：{', '.join(f'{RESTORE_FOLDER}/{n}' for n in unknown)}。"
            f"请把 {RESTORE_FOLDER}/ 移出存储另行保存，再运行 kaohe verify：通过则不再需要；"
            f"如报告文件缺失或被改动，用其中同名的文件还原。 (Left by a restore without a "
            f"journal. Move {RESTORE_FOLDER}/ out of the storage and run `kaohe verify`: if "
            f"it passes they are not needed; if it reports files missing or altered, put back "
            f"the copies of the same names.)")
    return [_settle(_Journal.read(f"{RESTORE_FOLDER}/{name}")) for name in journals]


def _settle(journal: _Journal) -> Settled:
    """Finish or undo a restore, whichever its database step decided."""
    committed = _marker() == journal.id
    if committed:
        _roll_forward(journal)
    else:
        _roll_back(journal)
    return Settled(journal.id, committed, journal.summary)


def _plan(backup: BackupSummary, stored: list[str], summary: RestoreSummary) -> _Journal:
    """The journal of the restore, stored before anything is changed."""
    journal = _Journal(id=uuid.uuid4().hex, summary={
        "path": str(backup.path.resolve()), "manifest_sha256": backup.manifest_sha256,
        "made": backup.manifest["created_at"], "replaced": summary.replaced,
        "tables": summary.tables, "rows": summary.rows, "files": summary.files})
    before = set(stored)
    keep = set()
    for name, expected in backup.manifest["files"].items():
        if not name.startswith(f"{FILES}/"):
            continue
        stored_name = name.removeprefix(f"{FILES}/")
        keep.add(stored_name)
        try:
            found = storage.sha256_of(stored_name) if stored_name in before else None
        except FileNotFoundError:
            found = None
        if found is None:
            journal.add.append(stored_name)
        elif found != (expected["sha256"], expected["size"]):
            journal.replace[stored_name] = _entry(*found)
    journal.obsolete = sorted(name for name in before - keep
                              if not name.startswith(f"{RESTORE_FOLDER}/"))
    journal.write()
    return journal


def _put_files(backup: BackupSummary, journal: _Journal) -> None:
    """Put the backup's files into the storage, checking each hash again as it is copied;
    a replaced file is copied aside (and the copy checked) first."""
    for name in [*journal.add, *journal.replace]:
        expected = backup.manifest["files"][f"{FILES}/{name}"]
        if name in journal.replace:
            copied = storage.copy(name, f"{journal.aside}/{name}")
            previous = journal.replace[name]
            if (copied.sha256, copied.size) != (previous["sha256"], previous["size"]):
                raise BackupError(f"{name}: 目标文件在恢复过程中被改动 (changed during the "
                                  f"restore)")
            _checkpoint("file-aside")
        saved = storage.save_hashed(name, backup.path / FILES / name,
                                    replace=name in journal.replace)
        if (saved.sha256, saved.size) != (expected["sha256"], expected["size"]):
            raise BackupError(f"{FILES}/{name}: 复制时校验失败，文件在检查后被改动 "
                              f"(changed after the check)")


def _roll_forward(journal: _Journal) -> None:
    """The database is the backup's: drop the copies aside and the stored files that the
    backup does not hold; then the journal, then the marker."""
    _drop_folder(journal.aside)
    for name in journal.obsolete:
        default_storage.delete(name)
        _prune(name)
    _checkpoint("files-finished")
    default_storage.delete(journal.name)
    _prune(journal.name)
    _checkpoint("journal-deleted")
    _drop_marker()


def _roll_back(journal: _Journal) -> None:
    """The previous database is in place: remove the files added and put back the replaced
    ones (each checked by its hash); the copies aside and the journal go last."""
    for name in journal.add:
        default_storage.delete(name)
        _prune(name)
    for name, previous in journal.replace.items():
        wanted = (previous["sha256"], previous["size"])
        try:
            if storage.sha256_of(name) == wanted:
                continue  # never replaced, or already put back
        except FileNotFoundError:
            pass
        # Replaced: its copy aside was complete and checked before that.
        default_storage.delete(name)
        copied = storage.copy(f"{journal.aside}/{name}", name)
        if (copied.sha256, copied.size) != wanted:
            raise BackupError(f"{name}: 无法还原原文件，副本在 {journal.aside}/ (cannot put "
                              f"the previous file back)")
    _drop_folder(journal.aside)
    default_storage.delete(journal.name)
    _prune(journal.name)


def _drop_folder(folder: str) -> None:
    for name in list(storage.walk(folder)):
        default_storage.delete(name)
    if (path := storage.local_path(folder)) is not None:
        shutil.rmtree(path, ignore_errors=True)
        _prune(folder)


def _prune(name: str) -> None:
    """On a local disk, remove the folders above a deleted file that are left empty."""
    if (path := storage.local_path(name)) is None:
        return
    root = Path(storage.local_path("")).resolve()  # type: ignore[arg-type]
    parent = path.resolve().parent
    while parent != root and root in parent.parents:
        try:
            parent.rmdir()
        except OSError:
            return
        parent = parent.parent


def _marker() -> str | None:
    """The id in the marker row of the database step that committed last, if any."""
    try:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # psql may still be running a database step whose process was killed: it
                # holds this lock until its transaction ends; the outcome is known after.
                cursor.execute("SELECT set_config('lock_timeout', %s, false)",
                               [f"{STEP_WAIT_SECONDS}s"])
                try:
                    cursor.execute("SELECT pg_advisory_lock(%s), pg_advisory_unlock(%s)",
                                   [_LOCK_DATABASE_STEP, _LOCK_DATABASE_STEP])
                except OperationalError:
                    raise BackupError(
                        f"上一次恢复的数据库步骤（psql）在 {STEP_WAIT_SECONDS} 秒内仍未结束，"
                        "请等待它结束或终止它后重试 kaohe restore --recover。 (The database "
                        "step of an earlier restore is still running; wait for it or stop "
                        "its psql, then run kaohe restore --recover again.)") from None
            if MARKER_TABLE not in connection.introspection.table_names(cursor):
                return None
            cursor.execute(f"SELECT id FROM {MARKER_TABLE}")  # noqa: S608 - a constant
            rows = cursor.fetchall()
    finally:
        connection.close()
    return rows[0][0] if rows else None


def _drop_marker() -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {MARKER_TABLE}")
    finally:
        connection.close()


def _sqlite_check_rows(database: Path, expected: dict[str, int]) -> None:
    """Compare the rows per table of the backup's SQLite copy with its manifest."""
    db = sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
    try:
        found = _sqlite_tables(db)
    finally:
        db.close()
    problems = _row_problems(found, expected)
    if problems:
        raise BackupError("备份数据库的行数与清单不符，未做任何改动 (the backup's rows do not "
                          "match its manifest; nothing was changed): " + "; ".join(problems))


def _row_problems(found: dict[str, int], expected: dict[str, int]) -> list[str]:
    problems = [f"{name}: {found.get(name, 0)} 行，清单中为 {count} 行 "
                f"({found.get(name, 0)} rows, the manifest says {count})"
                for name, count in sorted(expected.items()) if found.get(name) != count]
    return problems + [f"{name}: 清单未列出的表 (a table not in the manifest)"
                       for name in sorted(set(found) - set(expected) - {MARKER_TABLE})]


def _sqlite_restore(database: Path, restore_id: str, expected: dict[str, int]) -> None:
    """A working copy of the backup's database gets the marker and its rows are counted;
    then SQLite's backup API replaces every page of the target in one transaction."""
    target = _sqlite_path()
    connection.close()
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=f"{RESTORE_FOLDER}-") as work:
        copy = Path(work) / "database.sqlite3"
        _sqlite_copy(sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro&immutable=1",
                                     uri=True), copy)
        db = sqlite3.connect(copy)
        try:
            db.execute(f"DROP TABLE IF EXISTS {MARKER_TABLE}")
            db.execute(f"CREATE TABLE {MARKER_TABLE} (id TEXT PRIMARY KEY)")
            db.execute(f"INSERT INTO {MARKER_TABLE} (id) VALUES (?)", [restore_id])  # noqa: S608
            db.commit()
            problems = _row_problems(_sqlite_tables(db), expected)
        finally:
            db.close()
        if problems:
            raise BackupError("恢复的行数与备份清单不符，已回滚 (rows do not match the "
                              "manifest; rolled back): " + "; ".join(problems))
        _sqlite_copy(sqlite3.connect(copy), target, wal=True)


def _sqlite_copy(src: sqlite3.Connection, target: Path, *, wal: bool = False) -> None:
    try:
        dst = sqlite3.connect(target, timeout=60)
        try:
            src.backup(dst)  # one step: all pages or none (the target's journal or WAL)
            if wal:
                dst.execute("PRAGMA journal_mode=WAL")
        finally:
            dst.close()
    finally:
        src.close()


# The database step on PostgreSQL, after pg_restore's script, in the same transaction: the
# rows of every table compared with the manifest (an exception rolls everything back), then
# the marker (_ROWS, MARKER_TABLE). psql sets and quotes the variables; pg_restore's script
# empties search_path.
_POSTGRESQL_EPILOGUE = """
SELECT set_config('kaohe.expected', :'kaohe_expected', true);
DO $kaohe$
DECLARE
  item record;
  found bigint;
  problems text[] := ARRAY[]::text[];
BEGIN
  FOR item IN SELECT key, value::bigint AS wanted
      FROM jsonb_each_text(current_setting('kaohe.expected')::jsonb) ORDER BY key LOOP
    IF to_regclass(format('public.%I', item.key)) IS NULL THEN
      problems := problems || format('%s: 表缺失 (table missing)', item.key);
    ELSE
      EXECUTE format('SELECT count(*) FROM public.%I', item.key) INTO found;
      IF found <> item.wanted THEN
        problems := problems || format('%s: %s 行，清单中为 %s 行 (%s rows, the manifest says %s)',
                                       item.key, found, item.wanted, found, item.wanted);
      END IF;
    END IF;
  END LOOP;
  IF cardinality(problems) > 0 THEN
    RAISE EXCEPTION 'KAOHE-ROWS %', array_to_string(problems, '; ');
  END IF;
END
$kaohe$;
DROP TABLE IF EXISTS public.kaohe_restore_marker;
CREATE TABLE public.kaohe_restore_marker (id text PRIMARY KEY);
INSERT INTO public.kaohe_restore_marker (id) VALUES (:'kaohe_restore_id');
"""


def _postgresql_restore(dump: Path, restore_id: str, expected: dict[str, int], *,
                        replace: bool) -> None:
    connection.close()
    with tempfile.TemporaryDirectory(prefix="kaohe-restore-") as work:
        script, epilogue = Path(work) / "restore.sql", Path(work) / "epilogue.sql"
        _run(["pg_restore", "--no-owner", "--no-privileges", "--file", str(script), str(dump)],
             what="读取备份")
        epilogue.write_text(_POSTGRESQL_EPILOGUE, encoding="utf-8")
        # One psql transaction: all of it is restored, or nothing.
        prologue = f"SELECT pg_advisory_xact_lock({_LOCK_DATABASE_STEP});"
        if replace:
            prologue += " DROP SCHEMA public CASCADE; CREATE SCHEMA public;"
        args = ["psql", "--no-psqlrc", "--quiet", "--set", "ON_ERROR_STOP=1",
                "--set", f"kaohe_expected={json.dumps(expected)}",
                "--set", f"kaohe_restore_id={restore_id}", "--single-transaction",
                "--command", prologue, "--file", str(script), "--file", str(epilogue)]
        try:
            _run(args, what="恢复数据库", die_with_parent=True)
        except BackupError as exc:
            text = str(exc)
            if _ROWS in text:
                rows = text.split(_ROWS, 1)[1].splitlines()[0]
                raise BackupError("恢复的行数与备份清单不符，已回滚 (rows do not match the "
                                  "manifest; rolled back): " + rows) from None
            raise


def _extra_tables(expected: dict[str, int]) -> list[str]:
    """Tables of the restored database that the backup does not list."""
    try:
        present = set(connection.introspection.table_names())
    finally:
        connection.close()
    return sorted(name for name in present - set(expected) - {MARKER_TABLE}
                  if not name.startswith("sqlite_"))
