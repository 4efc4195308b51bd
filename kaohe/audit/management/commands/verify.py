import datetime
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q
from django.utils import timezone

from kaohe.audit.anchors import anchor_path, parse_paper
from kaohe.audit.services import AnchorProblem, ChainReport, verify_chain
from kaohe.documents.services import verify_export_files
from kaohe.evidence.services import verify_evidence_files
from kaohe.grading.models import ResultSet, ResultSetStatus, SealBroken
from kaohe.grading.readmodel import row_disagreements
from kaohe.launch.files import verify_launch_files
from kaohe.maintenance.backup import restore_leftovers


class Command(BaseCommand):
    help = ("Verify Kaohe's records: the audit log's keyed hash chain and its anchors, every "
            "stored file's SHA-256 (evidence, launch files, kept exports), and the seals of "
            "approved result sets.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--anchor", action="append", default=[], metavar="COUNT:HASH",
            help="Also check the log against an anchor kept on paper (as printed by "
                 "`kaohe audit_anchor`); may be given more than once.")

    def handle(self, *args: Any, **options: Any) -> None:
        problems = []
        try:
            paper = [parse_paper(text) for text in options["anchor"]]
        except ValueError as exc:
            raise CommandError(f"--anchor: {exc} (锚点格式应为 记录数:哈希值)") from None
        if settings.AUDIT_KEY_IS_DEMO:
            self.stdout.write("note: the audit log is keyed with the demo AUDIT_KEY, for debug "
                              "only (审计日志使用演示密钥，仅供演示)")
        chain = verify_chain(extra_anchors=paper)
        if chain.first_broken_id is None:
            self.stdout.write(f"audit log OK: {chain.checked} entries verified")
        else:
            problems.append(
                f"audit log broken at entry {chain.first_broken_id}: {chain.reason} "
                f"(审计日志第{chain.first_broken_id}条记录被改动)"
            )
        problems += [_anchor_problem(problem) for problem in chain.anchor_problems]
        if not chain.anchor_problems:
            self._anchors_ok(chain)
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
        for what, report in (("launch files", verify_launch_files()),
                             ("exports", verify_export_files())):
            problems += [f"{label}: file missing (文件缺失)" for label in report.missing]
            problems += [f"{label}: SHA-256 does not match (文件被改动)"
                         for label in report.changed]
            problems += [f"file {name}: stored but not listed in {what} (未登记的文件)"
                         for name in report.orphans]
            if report.ok:
                self.stdout.write(f"{what} OK: {report.checked} files verified")
        if leftovers := restore_leftovers():
            problems.append(f"an interrupted restore left {', '.join(leftovers)}: run "
                            f"`kaohe restore --recover` (恢复操作曾被中断，请运行 "
                            f"kaohe restore --recover)")
        # Every version ever approved, a superseded one included (its letters are on record).
        sealed = ResultSet.objects.filter(
            Q(status__in=[ResultSetStatus.APPROVED, ResultSetStatus.RELEASED])
            | Q(status__in=[ResultSetStatus.SUPERSEDED, ResultSetStatus.ABANDONED],
                approved_at__isnull=False))
        for result_set in sealed:
            try:
                result_set.verify_seal()
            except SealBroken:
                problems.append(f"result set {result_set}: content does not match its seal "
                                f"(已审定的等次建议被改动)")
            # The rows the pages read must say what the sealed snapshots say.
            if wrong := row_disagreements(result_set):
                problems.append(f"result set {result_set}: {len(wrong)} rows or fields differ "
                                f"from its sealed content, e.g. {', '.join(wrong[:5])} "
                                f"(排名与等次数据与封存内容不符)")
            if not result_set.scheme_matches():
                problems.append(f"result set {result_set}: the round's scheme (indicators or "
                                f"method) changed after it was sealed (封存后考核方案被改动)")
        if problems:
            raise CommandError("\n".join(problems))
        self.stdout.write(f"result sets OK: {sealed.count()} sealed result sets verified")

    def _anchors_ok(self, chain: ChainReport) -> None:
        latest = chain.latest_anchor
        if latest is None and not chain.anchors_checked:
            self.stdout.write("audit anchors: none yet, run `kaohe audit_anchor` "
                              "(尚未记录锚点)")
            return
        self.stdout.write(f"audit anchors OK: {chain.anchors_checked} anchors checked"
                          + (f", the newest of {latest.label} ({latest.count} entries)"
                             if latest else ""))
        if latest and latest.written_at and timezone.now() - latest.written_at > _STALE:
            self.stdout.write(
                f"warning: the newest anchor is from {latest.label}; the task worker anchors "
                f"daily: is `kaohe worker` running? (最近的锚点已超过两天)")


_STALE = datetime.timedelta(days=2)


def _anchor_problem(problem: AnchorProblem) -> str:
    anchor = problem.anchor
    if problem.kind == "truncated":
        return (f"audit log truncated: anchor of {anchor.label} records {anchor.count} "
                f"entries, the database holds {problem.held} "
                f"(审计日志被截断：{anchor.label} 的锚点记录了 {anchor.count} 条记录，"
                f"数据库中只有 {problem.held} 条)")
    if problem.kind == "mismatch":
        return (f"audit log does not match the anchor of {anchor.label}: its entry "
                f"{anchor.count} is not the anchored one (id {anchor.last_id or '?'}, hash "
                f"{anchor.head[:16]}…) (审计日志与锚点不符：第{anchor.count}条及其之前的记录"
                f"已被改写)")
    return (f"anchor line {anchor.line} of {anchor_path()} was altered or is garbled "
            f"(锚点文件第{anchor.line}行已被改动)")
