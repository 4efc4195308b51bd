"""`kaohe audit_anchor`: anchor the audit log's head outside the database, now."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from kaohe.audit.anchors import anchor_path, write_anchor


class Command(BaseCommand):
    help = ("Append the audit log's head (entry count, last id, hash) to the anchor file "
            "(AUDIT_ANCHOR_FILE) and print it, for the auditor to keep on paper. The task "
            "worker does the same daily; `kaohe verify` checks the log against every anchor.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            anchor = write_anchor(actor_repr="kaohe audit_anchor")
        except OSError as exc:
            raise CommandError(
                f"cannot write the anchor file {anchor_path()}: {exc.strerror} "
                f"(无法写入锚点文件 {anchor_path()})") from None
        when = timezone.localtime(anchor.written_at).strftime("%Y-%m-%d %H:%M:%S %z")
        groups = " ".join(anchor.head[i:i + 8] for i in range(0, len(anchor.head), 8))
        self.stdout.write(
            f"审计日志锚点 (audit log anchor), appended to {anchor_path()}\n"
            f"  时间 (time):          {when}\n"
            f"  记录数 (entries):     {anchor.count}\n"
            f"  最后一条 (last id):   {anchor.last_id}\n"
            f"  哈希 (head hash):     {groups}\n"
            "请打印或抄录保存；核对日志时运行\n"
            "(keep this on paper; to check the log against it, run):\n"
            f"kaohe verify --anchor {anchor.count}:{anchor.head}"
        )
