from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from kaohe.audit.services import log_action
from kaohe.maintenance.backup import BackupError, backup_create


class Command(BaseCommand):
    help = ("Back up the database (SQLite: online backup API; PostgreSQL: pg_dump -Fc) and the "
            "stored files into DEST, with a manifest of SHA-256 hashes and rows per table.")

    def add_arguments(self, parser):
        parser.add_argument("dest", type=Path, help="a new or empty directory")

    def handle(self, *args, dest, **options):
        try:
            summary = backup_create(dest)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        manifest = summary.manifest
        # A backup is an export of everything: the audit log records who made it and where.
        log_action("maintenance.backup.created", actor_repr="kaohe backup", data={
            "path": str(summary.path.resolve()), "manifest_sha256": summary.manifest_sha256,
            "tables": len(manifest["tables"]), "rows": summary.rows,
            "files": summary.stored_files, "bytes": summary.size,
        })
        self.stdout.write(
            f"备份完成 (backup written): {summary.path}\n"
            f"  数据库 (database, {manifest['engine']}): {len(manifest['tables'])} 张表 tables, "
            f"{summary.rows} 行 rows\n"
            f"  存储文件 (stored files): {summary.stored_files} 个, {summary.size} 字节 bytes "
            f"in all\n"
            f"  清单 SHA-256 (manifest): {summary.manifest_sha256}")
        if manifest["left_out_newer_evidence"]:
            self.stdout.write(
                f"  {manifest['left_out_newer_evidence']} 个证明材料文件晚于数据库快照，未列入本次"
                f"备份 (evidence files newer than the database snapshot were left out)")
