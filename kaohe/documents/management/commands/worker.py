"""`kaohe worker`: run the background task queue (documents, bulk exports, the audit log's
daily anchor)."""

from django.core.management import call_command
from django.core.management.base import BaseCommand

from kaohe.audit.tasks import start_daily_anchors


class Command(BaseCommand):
    help = "Run the background task worker (django-tasks database backend)."

    def add_arguments(self, parser):
        parser.add_argument("--batch", action="store_true",
                            help="Process the queued tasks, then stop.")

    def handle(self, *args, **options):
        # The audit log's daily anchor: now if the newest is a day old, then a queued task.
        start_daily_anchors()
        arguments = ["--batch"] if options["batch"] else []
        call_command("db_worker", *arguments)
