"""`kaohe worker`: run the background task queue (documents, bulk exports, the audit log's
daily anchor, the daily deadline reminders and notification e-mails)."""

import os

from django.core.management import call_command
from django.core.management.base import BaseCommand

from kaohe.audit.tasks import start_daily_anchors
from kaohe.documents.services import recover_stale_exports
from kaohe.maintenance.once import purge_spent_tokens
from kaohe.notifications.tasks import start_daily_reminders


class Command(BaseCommand):
    help = "Run the background task worker (django-tasks database backend)."

    def add_arguments(self, parser):
        parser.add_argument("--batch", action="store_true",
                            help="Process the queued tasks, then stop.")

    def handle(self, *args, **options):
        # The audit log's daily anchor: now if the newest is a day old, then a queued task.
        start_daily_anchors()
        # Deadline reminders (`kaohe remind`): now, then daily; each is sent once.
        start_daily_reminders()
        # Exports left running by a worker that was killed: failed, with a message.
        interrupted = recover_stale_exports()
        if interrupted:
            self.stdout.write(f"{interrupted} interrupted export(s) marked failed.")
        purge_spent_tokens()
        # Never under the autoreloader (db_worker's default in debug): the printed PID is the
        # worker's, and a code change does not kill an export half-way.
        arguments = ["--no-reload"] + (["--batch"] if options["batch"] else [])
        self.stdout.write(f"kaohe worker pid {os.getpid()}")
        call_command("db_worker", *arguments)
