"""`kaohe reset_two_factor USERNAME`: remove a user's authenticator from the console.

For the operator of the server when no security administrator can sign in (for instance
the only one lost their phone). The reset is logged in the audit log with the operator's
name, and the user's sessions end.
"""

import getpass

from django.core.management.base import BaseCommand, CommandError

from kaohe.accounts.models import User
from kaohe.accounts.services import reset_two_factor_from_console


class Command(BaseCommand):
    help = "Remove a user's two-factor device (logged); the next sign-in enrols a new one."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--operator", default="",
                            help="who runs this (recorded in the audit log); default: the OS user")

    def handle(self, *args, username, operator, **options):
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(f"no user named {username!r} (用户不存在)") from None
        operator = operator or getpass.getuser()
        removed = reset_two_factor_from_console(user, operator)
        self.stdout.write(f"{removed} device(s) removed for {username}; "
                          "the next sign-in enrols a new one.")
