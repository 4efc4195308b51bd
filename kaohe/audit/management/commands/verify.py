from django.core.management.base import BaseCommand, CommandError

from kaohe.audit.services import verify_chain
from kaohe.evidence.services import verify_evidence_files
from kaohe.grading.models import ResultSet, ResultSetStatus, SealBroken


class Command(BaseCommand):
    help = ("Verify Kaohe's records: the audit log's hash chain, every evidence file's "
            "SHA-256, and the seals of approved result sets.")

    def handle(self, *args, **options):
        problems = []
        chain = verify_chain()
        if chain.ok:
            self.stdout.write(f"audit log OK: {chain.checked} entries verified")
        else:
            problems.append(
                f"audit log broken at entry {chain.first_broken_id}: {chain.reason} "
                f"(审计日志第{chain.first_broken_id}条记录被改动)"
            )
        files = verify_evidence_files()
        for pk in files.missing:
            problems.append(f"evidence {pk}: file missing (证明材料文件缺失)")
        for pk in files.changed:
            problems.append(f"evidence {pk}: SHA-256 does not match (证明材料文件被改动)")
        for name in files.orphans:
            problems.append(f"file {name}: stored but not listed as evidence (未登记的文件)")
        for name in files.stray_partials:
            problems.append(f"partial upload {name}: no upload record (残留的上传片段)")
        if files.ok:
            self.stdout.write(f"evidence files OK: {files.checked} files verified")
        sealed = ResultSet.objects.filter(
            status__in=[ResultSetStatus.APPROVED, ResultSetStatus.RELEASED])
        for result_set in sealed:
            try:
                result_set.verify_seal()
            except SealBroken:
                problems.append(f"result set {result_set}: content does not match its seal "
                                f"(已审定的等次建议被改动)")
        if problems:
            raise CommandError("\n".join(problems))
        self.stdout.write(f"result sets OK: {sealed.count()} sealed result sets verified")
