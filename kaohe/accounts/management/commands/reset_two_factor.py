"""`kaohe reset_two_factor USERNAME`: remove a user's authenticator from the console and
print the enrolment code for a new one.

For the operator of the server when no security administrator can sign in (for instance
the only one lost their phone, or the first one has none yet). The reset and the code are
logged in the audit log with the operator's name (the code itself is not); the user's
sessions end and the password stays as it was. The code is printed once: give it to the
user in person.
"""

import getpass

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from kaohe.accounts.models import User
from kaohe.accounts.services import (
    enrolment_code_issue_from_console,
    reset_two_factor_from_console,
)


class Command(BaseCommand):
    help = ("Remove a user's two-factor device (logged) and print a one-time enrolment code "
            "for the new one.")

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--operator", default="",
                            help="who runs this (recorded in the audit log); default: the OS user")
        parser.add_argument("--no-code", action="store_true",
                            help="only remove the device; a security administrator issues "
                                 "the code")

    def handle(self, *args, username, operator, no_code, **options):
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(f"no user named {username!r} (用户不存在)") from None
        operator = operator or getpass.getuser()
        removed = reset_two_factor_from_console(user=user, operator=operator)
        self.stdout.write(f"{removed} device(s) removed for {username}.")
        if no_code:
            self.stdout.write("The next sign-in needs an enrolment code from a security "
                              "administrator.")
            return
        code = enrolment_code_issue_from_console(user=user, operator=operator)
        hours = settings.KAOHE_ENROLMENT_CODE_HOURS
        self.stdout.write(f"Enrolment code (shown once, valid {hours} h, single use): {code}")
        self.stdout.write(f"绑定码（只显示这一次，{hours} 小时内有效，只能使用一次）：{code}")
