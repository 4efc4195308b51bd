"""`kaohe purge_exports`: delete the files of bulk exports past their time."""

from django.core.management.base import BaseCommand

from kaohe.documents.services import purge_expired
from kaohe.maintenance.once import purge_spent_tokens


class Command(BaseCommand):
    help = "Delete generated bulk export files that have expired (the records stay)."

    def handle(self, *args, **options):
        count = purge_expired()
        self.stdout.write(f"{count} expired export(s) removed.")
        # Spent form tokens older than a day (kaohe.maintenance.once).
        self.stdout.write(f"{purge_spent_tokens()} spent form token(s) forgotten.")
