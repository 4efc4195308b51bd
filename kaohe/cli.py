"""The `kaohe` console script: Django's management commands under one name.

A command that only reads and writes files (`kaohe evaluate`) runs even when the
installation's settings are incomplete: grading a table needs no SECRET_KEY. Any other
command that meets a missing or bad setting says so in one line, without a traceback.
"""

import importlib
import os
import sys
from pathlib import Path

# Commands that need no configuration (no database, no keys): name -> module of the command.
STANDALONE = {"evaluate": "kaohe.grading.management.commands.evaluate"}
_HELP = {"help", "--help", "-h", "--version", "version"}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kaohe.settings")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    argv = [sys.argv[0], *sys.argv[1:]]
    command = argv[1] if len(argv) > 1 else "help"
    try:
        settings.INSTALLED_APPS  # noqa: B018 - loads the settings, which check the environment
    except ImproperlyConfigured as error:
        if command in STANDALONE:
            _run_standalone(command, argv)
            return
        if command not in _HELP:  # help lists Django's own commands and names the problem
            sys.exit(f"kaohe {command}: {error}")
    try:
        execute_from_command_line(argv)
    except ImproperlyConfigured as error:
        sys.exit(f"kaohe {command}: {error}")


def _run_standalone(command: str, argv: list[str]) -> None:
    """Run a file-only command on minimal settings (the project's language and time zone)."""
    import django
    from django.conf import settings

    settings.configure(
        INSTALLED_APPS=[], DATABASES={}, LANGUAGE_CODE="zh-hans", USE_I18N=True,
        LOCALE_PATHS=[Path(__file__).resolve().parent / "locale"],
        TIME_ZONE="Asia/Shanghai", USE_TZ=True)
    django.setup()
    importlib.import_module(STANDALONE[command]).Command().run_from_argv(argv)
