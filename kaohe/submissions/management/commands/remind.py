from django.conf import settings
from django.core.management.base import BaseCommand

from kaohe.rounds.selectors import current_round
from kaohe.submissions.reminders import send_reminders


class Command(BaseCommand):
    help = "E-mail reminders to units and provinces whose reports are due within 14 days."

    def handle(self, *args, **options):
        if settings.EMAIL_BACKEND.endswith("dummy.EmailBackend"):
            self.stdout.write("no e-mail backend configured (EMAIL_BACKEND): nothing sent; "
                              "reminders are shown on the home pages")
            return
        sent = send_reminders(current_round())
        self.stdout.write(f"{sent} reminders sent")
