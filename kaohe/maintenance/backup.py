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
copy) before it touches anything, and refuses a target that holds data unless forced. Then
the files go into the storage, each hashed again as it is copied: a stored file under the
same name with other content is first copied aside (.kaohe-restore/), so that until the
database is replaced every file the previous database lists is still there. The database
is replaced last, in one step (SQLite's backup API, one psql transaction), and its rows
compared with the manifest. A failure before or during that step removes the files added
and puts back the ones replaced: the previous installation is left as it was. After it,
the copies aside and (when forced) the stored files the backup does not hold are deleted;
a restore cut short there leaves only unlisted files, and can be run again with --force.

Its length (over 400 lines) is backup, check and restore, which must agree on the manifest's
format line by line.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import uuid
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path, PurePosixPath

from django.core.files.storage import default_storage
from django.db import DatabaseError, connection, transaction

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


def _run(args: list[str], *, what: str) -> None:
    """Run a PostgreSQL client program; `what` names the step for the operator."""
    if shutil.which(args[0]) is None:
        raise BackupError(f"找不到 {args[0]}，请安装 PostgreSQL 客户端工具。 "
                          f"({args[0]} is not installed.)")
    result = subprocess.run(  # noqa: S603 - fixed programs, arguments are ours
        args, env=_pg_env(), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{what}失败 ({args[0]} failed): {result.stderr.strip()[-2000:]}")


def _postgresql_backup(target: Path) -> tuple[dict[str, int], set[str]]:
    with transaction.atomic(), connection.cursor() as cursor:
        # One snapshot for the counts, the evidence list and pg_dump: they agree exactly.
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        tables = {}
        for name in sorted(connection.introspection.table_names(cursor)):
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(name)}")  # noqa: S608
            tables[name] = cursor.fetchone()[0]
        listed = set()
        if "evidence_evidence" in tables:
            cursor.execute("SELECT storage_name FROM evidence_evidence")
            listed = _listed_evidence(cursor.fetchall())
        _run(["pg_dump", "--format=custom", f"--snapshot={snapshot}", "--file", str(target)],
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

def target_contents() -> tuple[list[str], list[str]]:
    """(tables in the target database, files in the target storage)."""
    try:
        tables = connection.introspection.table_names()
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
    tables, stored = target_contents()
    if (tables or stored) and not force:
        raise TargetNotEmpty(
            f"目标不是空的：数据库中已有 {len(tables)} 张表，存储目录中已有 {len(stored)} 个文件。"
            f"恢复会覆盖这些数据；确需覆盖请加 --force。 (The target is not empty: "
            f"{len(tables)} tables, {len(stored)} stored files; use --force to overwrite them.)")
    summary = RestoreSummary(backup=backup, replaced=bool(tables or stored))

    # Files first, the database last: until the database is replaced, every file the
    # previous one lists is kept (a replaced one is copied aside first), and a failure
    # puts the storage back as it was.
    placed = _put_files(backup, stored)
    try:
        if engine == "sqlite":
            _sqlite_restore(database)
        else:
            _postgresql_restore(database, replace=bool(tables))
    except BaseException as exc:
        placed.undo(exc)
        raise
    placed.finish()
    summary.tables, summary.rows, summary.extra_tables = _check_counts(manifest["tables"])
    summary.files = backup.stored_files
    return summary


# Where a restore keeps the files it replaces until the database is replaced too.
RESTORE_FOLDER = ".kaohe-restore"


@dataclass
class _Placed:
    """The files a restore put into the storage, and the previous files they replaced."""

    aside: str  # the folder holding copies of the replaced files
    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    obsolete: list[str] = field(default_factory=list)  # stored, not in the backup

    def undo(self, exc: BaseException) -> None:
        """Put the storage back as it was: remove what was added, put back what was
        replaced. The previous database still lists exactly those files."""
        try:
            for name in self.added:
                default_storage.delete(name)
            for name in self.replaced:
                default_storage.delete(name)
                storage.copy(f"{self.aside}/{name}", name)
            self._drop_aside()
        except Exception as failure:  # the original failure is the one raised
            exc.add_note(f"恢复失败后未能还原存储文件，之前的文件保存在 {self.aside}/ "
                         f"(the storage could not be put back: {failure!r}; the replaced "
                         f"files are kept in {self.aside}/)")

    def finish(self) -> None:
        """The database is the backup's: drop the copies kept aside and the stored files
        that the backup does not hold (a failure here leaves only unlisted files, which
        `kaohe verify` reports and a forced restore removes)."""
        self._drop_aside()
        for name in self.obsolete:
            default_storage.delete(name)

    def _drop_aside(self) -> None:
        for name in list(storage.walk(self.aside)):
            default_storage.delete(name)
        if (path := storage.local_path(self.aside)) is not None:
            shutil.rmtree(path, ignore_errors=True)


def _put_files(backup: BackupSummary, stored: list[str]) -> _Placed:
    """Put the backup's files into the storage, checking each hash again as it is copied.

    A stored file under the same name with the same content stays; one with other content
    is first copied aside. On any failure what was done is undone before it is raised.
    """
    before, present = set(stored), set(stored)
    placed = _Placed(aside=f"{RESTORE_FOLDER}/{uuid.uuid4().hex}")
    try:
        for name, expected in backup.manifest["files"].items():
            if not name.startswith(f"{FILES}/"):
                continue
            stored_name = name.removeprefix(f"{FILES}/")
            present.discard(stored_name)
            if stored_name in before:
                try:
                    if storage.sha256_of(stored_name) == (expected["sha256"], expected["size"]):
                        continue  # already there
                except FileNotFoundError:
                    pass
                else:
                    storage.copy(stored_name, f"{placed.aside}/{stored_name}")
                    placed.replaced.append(stored_name)
            if stored_name not in placed.replaced:
                placed.added.append(stored_name)
            saved = storage.save_hashed(stored_name, backup.path / name,
                                        replace=stored_name in before)
            if (saved.sha256, saved.size) != (expected["sha256"], expected["size"]):
                raise BackupError(f"{name}: 复制时校验失败，文件在检查后被改动 "
                                  f"(changed after the check)")
    except BaseException as exc:
        placed.undo(exc)
        raise
    placed.obsolete = sorted(name for name in present
                             if not name.startswith(f"{RESTORE_FOLDER}/"))
    return placed


def _sqlite_check_rows(database: Path, expected: dict[str, int]) -> None:
    """Compare the rows per table of the backup's SQLite copy with its manifest."""
    db = sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
    try:
        found = _sqlite_tables(db)
    finally:
        db.close()
    problems = [f"{name}: {found.get(name, 0)} 行，清单中为 {count} 行 "
                f"({found.get(name, 0)} rows, the manifest says {count})"
                for name, count in sorted(expected.items()) if found.get(name) != count]
    problems += [f"{name}: 清单未列出的表 (a table not in the manifest)"
                 for name in sorted(set(found) - set(expected))]
    if problems:
        raise BackupError("备份数据库的行数与清单不符，未做任何改动 (the backup's rows do not "
                          "match its manifest; nothing was changed): " + "; ".join(problems))


def _sqlite_restore(database: Path) -> None:
    connection.close()
    src = sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
    try:
        dst = sqlite3.connect(_sqlite_path(), timeout=60)
        try:
            # The backup API replaces every page of the target in one step, WAL included.
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=WAL")
        finally:
            dst.close()
    finally:
        src.close()


def _postgresql_restore(dump: Path, *, replace: bool) -> None:
    connection.close()
    with tempfile.TemporaryDirectory(prefix="kaohe-restore-") as work:
        script = Path(work) / "restore.sql"
        # The dump as SQL, then one psql transaction: all of it is restored, or nothing.
        _run(["pg_restore", "--no-owner", "--no-privileges", "--file", str(script), str(dump)],
             what="读取备份")
        args = ["psql", "--no-psqlrc", "--quiet", "--set", "ON_ERROR_STOP=1",
                "--single-transaction"]
        if replace:
            args += ["--command", "DROP SCHEMA public CASCADE; CREATE SCHEMA public;"]
        _run([*args, "--file", str(script)], what="恢复数据库")


def _check_counts(expected: dict[str, int]) -> tuple[int, int, list[str]]:
    """Compare the restored rows per table with the manifest; (tables, rows, extra tables)."""
    with connection.cursor() as cursor:
        present = set(connection.introspection.table_names(cursor))
        problems = []
        for name, count in sorted(expected.items()):
            if name not in present:
                problems.append(f"{name}: 表缺失 (table missing)")
                continue
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(name)}")  # noqa: S608
            found = cursor.fetchone()[0]
            if found != count:
                problems.append(f"{name}: {found} 行，备份中为 {count} 行 "
                                f"({found} rows, the backup has {count})")
    connection.close()
    if problems:
        raise BackupError("恢复后的行数与备份不符 (rows after the restore do not match the "
                          "backup): "
                          + "; ".join(problems))
    extra = sorted(name for name in present - set(expected) if not name.startswith("sqlite_"))
    return len(expected), sum(expected.values()), extra
