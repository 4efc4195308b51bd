from django.conf import settings
from django.core.management.base import BaseCommand

from kaohe.notifications.reminders import send_deadline_reminders


class Command(BaseCommand):
    help = ("Remind units, provinces and lead departments of deadlines 7 days and 1 day ahead "
            "and once overdue: in the application and by e-mail; each reminder is sent once, "
            "so it may run any number of times a day (the worker runs it daily).")

    def handle(self, *args, **options):
        sent = send_deadline_reminders()
        self.stdout.write(f"{sent} reminders sent")
        if settings.EMAIL_BACKEND.endswith("dummy.EmailBackend"):
            self.stdout.write("no e-mail backend configured (EMAIL_BACKEND): reminders are "
                              "shown in the application only")
