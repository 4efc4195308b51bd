from django.core.management.base import BaseCommand, CommandError

from kaohe.audit.services import verify_chain


class Command(BaseCommand):
    help = "Verify the integrity of Kaohe's records: the audit log's hash chain."

    def handle(self, *args, **options):
        report = verify_chain()
        if not report.ok:
            raise CommandError(
                f"audit log broken at entry {report.first_broken_id}: {report.reason} "
                f"(审计日志第{report.first_broken_id}条记录被改动)"
            )
        self.stdout.write(f"audit log OK: {report.checked} entries verified")
