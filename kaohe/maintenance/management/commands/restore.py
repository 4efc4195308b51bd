from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from kaohe.audit.services import log_action
from kaohe.maintenance.backup import (
    BackupError,
    Settled,
    backup_check,
    backup_restore,
)
from kaohe.maintenance.backup import recover as recover_restores


class Command(BaseCommand):
    help = ("Restore a backup made by `kaohe backup` into this installation's database and "
            "storage. Every hash is checked first; a target that holds data is refused unless "
            "--force is given. A restore that was interrupted is settled first (finished or "
            "rolled back, whichever its database step decided). Stop the app servers before "
            "restoring.")

    def add_arguments(self, parser):
        parser.add_argument("src", type=Path, nargs="?", help="the backup directory")
        parser.add_argument("--force", action="store_true",
                            help="overwrite a target database and storage that hold data")
        parser.add_argument("--check", action="store_true",
                            help="only check the backup against its manifest; change nothing")
        parser.add_argument("--recover", action="store_true",
                            help="only settle a restore that was interrupted (killed, power "
                                 "lost); no backup is needed")

    def handle(self, *args, src, force, check, recover: bool, **options):
        if src is None and not recover:
            raise CommandError("请指定备份目录，或使用 --recover。 (Give the backup directory, "
                               "or --recover.)")
        try:
            if check and src is not None:
                backup = backup_check(src)
                self.stdout.write(
                    f"备份校验通过 (backup verified): {len(backup.manifest['files'])} 个文件 "
                    f"files, 清单 SHA-256 (manifest): {backup.manifest_sha256}")
                return
            # An interrupted restore is settled first, whatever comes next.
            settled = recover_restores()
            self._settled(settled)
            if src is None:
                if not settled:
                    self.stdout.write("没有中断的恢复 (no interrupted restore found)")
                return
            summary = backup_restore(src, force=force)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self._settled(summary.settled)
        backup = summary.backup
        log_action("maintenance.backup.restored", actor_repr="kaohe restore", data={
            "path": str(backup.path.resolve()), "manifest_sha256": backup.manifest_sha256,
            "made": backup.manifest["created_at"], "replaced": summary.replaced,
            "tables": summary.tables, "rows": summary.rows, "files": summary.files,
        })
        self.stdout.write(
            f"恢复完成 (restored) from {backup.path}, made {backup.manifest['created_at']}\n"
            f"  校验 (checked): {len(backup.manifest['files'])} 个文件的 SHA-256 与清单一致 "
            f"files match the manifest ({backup.manifest_sha256})\n"
            f"  数据库 (database): {summary.tables} 张表 tables, {summary.rows} 行 rows, "
            f"行数与备份一致 (rows match the backup)\n"
            f"  存储文件 (stored files): {summary.files} 个 restored")
        if summary.replaced:
            self.stdout.write("  已覆盖目标中原有的数据 (the target's previous data was replaced)")
        if summary.extra_tables:
            self.stdout.write(f"  目标中有备份没有的表 (tables not in the backup): "
                              f"{', '.join(summary.extra_tables)}")
        self.stdout.write("  下一步 (next): kaohe migrate（如代码较新 if the code is newer）; "
                          "kaohe verify")

    def _settled(self, settled: list[Settled]) -> None:
        for one in settled:
            if one.rolled_forward:
                # The restore was done but not logged: its process died after the commit.
                log_action("maintenance.backup.restored", actor_repr="kaohe restore",
                           data={**one.summary, "completed_after_interruption": True})
            self.stdout.write(one.describe())
