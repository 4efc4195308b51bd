"""`kaohe export IDENTIFIER KEY --format docx|pdf|xlsx --as USERNAME [--output PATH]`: make a
document from the command line as a named user, for operators' batch work and for checking
documents automatically. `kaohe export --list --as USERNAME` prints what that user may
export, one line each: `IDENTIFIER KEY 名称`.

The user's scope, the maker's mark and the audit entry are those of the web download: the
command asks the same documents services (document_for, export_now, documents_offered). A
refusal is one line on stderr and a non-zero exit, never a traceback; a document outside the
user's scope is refused like an unknown one, as the web answers 404 to both.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.http import Http404
from django.utils.translation import gettext as _

from kaohe.accounts.models import User
from kaohe.documents import selectors, services
from kaohe.documents.base import TemplateFillError
from kaohe.rounds.selectors import current_round, visible_round


class Command(BaseCommand):
    help = ("Make one document as a named user (scope, mark and audit as in the web "
            "download), or list the documents that user may export.")
    # A refusal is one line on stderr: no system-check warnings before it.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("identifier", nargs="?", help="the document, e.g. feedback_letter")
        parser.add_argument("key", nargs="?", help="its object, as --list prints it")
        parser.add_argument("--format", dest="fmt", choices=["docx", "pdf", "xlsx"])
        parser.add_argument("--as", dest="username", required=True,
                            help="the user the document is made for and by")
        parser.add_argument("--output", default="",
                            help="file or directory to write; default: the document's own "
                                 "name in the current directory")
        parser.add_argument("--year", type=int, default=None,
                            help="the round; default: the current round")
        parser.add_argument("--list", action="store_true", dest="list_only",
                            help="print the documents the user may export")

    def handle(self, *args, identifier, key, fmt, username, output, year, list_only,
               **options):
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(_("没有名为“%(username)s”的可用账号。") % {"username": username})
        round_ = self._round(user, year)
        if list_only:
            self._list(user, round_)
            return
        if not identifier or not key or not fmt:
            raise CommandError(_("请指定文书、对象和格式：kaohe export 文书 对象 --format "
                                 "docx|pdf|xlsx --as 用户名（可用 --list 查看）。"))
        target = self._target(output)
        try:
            exporter, obj = selectors.document_for(user, round_, identifier, key, fmt)
        except Http404:
            raise CommandError(
                _("“%(identifier)s %(key)s”（%(format)s）不存在，或不在%(username)s可导出的"
                  "范围内。") % {"identifier": identifier, "key": key, "format": fmt,
                                "username": username}) from None
        try:
            export, rendered = services.export_now(user, exporter, obj, fmt, round_=round_)
        except TemplateFillError:
            # Recorded as a failed export and audited by export_now, as on the web.
            raise CommandError(_("“%(document)s”的Word模板无法填充，文书未生成。")
                               % {"document": exporter.name}) from None
        except Exception as error:
            # Recorded (with the error) and audited as a failed export by export_now.
            raise CommandError(_("“%(document)s”生成失败：%(error)s")
                               % {"document": exporter.name,
                                  # one line, whatever the error's own text holds
                                  "error": " ".join(f"{type(error).__name__}: {error}"
                                                    .split())}) from None
        path = target / rendered.file_name if target.is_dir() else target
        try:
            path.write_bytes(rendered.data)
        except OSError as error:
            raise CommandError(_("无法写入%(path)s：%(error)s")
                               % {"path": path, "error": error.strerror or error}) from None
        self.stdout.write(f"{path}\t{export.code}")

    def _round(self, user, year):
        if year is None:
            round_ = current_round()
            if round_ is None:
                raise CommandError(_("还没有考核年度。"))
            return round_
        try:
            return visible_round(user, year)
        except Http404:
            raise CommandError(_("%(year)s年度考核不存在，或%(username)s无权查看。")
                               % {"year": year, "username": user.username}) from None

    def _target(self, output: str) -> Path:
        """Where the file goes, checked before anything is made or recorded."""
        target = Path(output) if output else Path.cwd()
        folder = target if target.is_dir() else target.parent
        if not folder.is_dir():
            raise CommandError(_("目录%(path)s不存在。") % {"path": folder})
        return target

    def _list(self, user, round_):
        for exporter, objects in selectors.documents_offered(user, round_):
            for obj in objects:
                self.stdout.write(f"{exporter.identifier}\t{exporter.object_key(obj)}\t"
                                  f"{exporter.name}（{exporter.describe(obj)}）")
