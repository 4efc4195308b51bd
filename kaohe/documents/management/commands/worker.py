"""`kaohe worker`: run the background task queue (documents, bulk exports)."""

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the background task worker (django-tasks database backend)."

    def add_arguments(self, parser):
        parser.add_argument("--batch", action="store_true",
                            help="Process the queued tasks, then stop.")

    def handle(self, *args, **options):
        arguments = ["--batch"] if options["batch"] else []
        call_command("db_worker", *arguments)
