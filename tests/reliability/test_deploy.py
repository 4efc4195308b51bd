"""The files of deploy/ say what the code does (issue 19, item 3).

The running stack is tested by test_proxy.py and test_two_servers.py; here: the environment
file lists every setting Kaohe reads and nothing it does not, every unit starts a command
that exists (the timers' are run), every placeholder is explained in the guide, and the
renderer refuses a half-filled file.
"""

import re
import subprocess
from pathlib import Path

import pytest
from django.core.management import get_commands

from tests.reliability.harness import DEPLOY, ENV_EXAMPLE, ROOT, render, unit_command

UNITS = sorted((DEPLOY / "systemd").glob("*.service"))
TEMPLATES = [DEPLOY / "nginx" / "kaohe.conf", *UNITS]
_READ = re.compile(r"\benv(?:str|bool|int|list|secret)\(\s*\"([A-Z][A-Z0-9_]*)\"")
_SECRET = re.compile(r"\benvsecret\(\s*\"([A-Z][A-Z0-9_]*)\"")
_GUNICORN_READ = re.compile(r"os\.environ\.get\(\s*\"([A-Z][A-Z0-9_]*)\"")


def _read_by_kaohe() -> tuple[set[str], set[str]]:
    """(settings read from the environment, those that also take NAME_FILE)."""
    names, secrets = set(), set()
    for path in (ROOT / "kaohe").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        names |= set(_READ.findall(text))
        secrets |= set(_SECRET.findall(text))
    names |= set(_GUNICORN_READ.findall((DEPLOY / "gunicorn.conf.py").read_text()))
    return names, secrets


def _listed() -> set[str]:
    """Every NAME=... of the example, active or shown commented out."""
    return set(re.findall(r"^#? ?([A-Z][A-Z0-9_]*)=", ENV_EXAMPLE.read_text(), re.MULTILINE))


def test_the_environment_file_lists_every_setting_kaohe_reads():
    names, secrets = _read_by_kaohe()
    listed = {name.removesuffix("_FILE") if name.removesuffix("_FILE") in secrets else name
              for name in _listed()}
    assert sorted(names - listed) == []
    assert sorted(listed - names) == []


def test_every_unit_starts_a_command_that_exists():
    commands = get_commands()
    for unit in UNITS:
        command = unit_command(unit, BACKUP_DIR="/var/backups/kaohe")
        if command[:2] == ["/bin/sh", "-c"]:
            command = command[2].replace("exec ", "", 1).split()
        program = Path(command[0])
        assert program.parent == ROOT / ".venv" / "bin", unit.name
        assert program.exists(), unit.name
        if program.name == "kaohe":
            assert command[1] in commands, unit.name
        else:
            assert command[1:] == ["--config", str(DEPLOY / "gunicorn.conf.py")], unit.name
    for timer in (DEPLOY / "systemd").glob("*.timer"):
        assert timer.with_suffix(".service").exists(), timer.name


def test_every_placeholder_is_explained_in_the_guide():
    guide = (DEPLOY / "README.md").read_text(encoding="utf-8")
    for template in TEMPLATES:
        for name in render.placeholders(template.read_text()):
            assert f"`{name}`" in guide, (template.name, name)


def test_the_renderer_refuses_a_half_filled_file():
    text = "server {{APP_SERVER}};\nlisten {{PORT}};\n"
    assert render.render(text, {"APP_SERVER": ["a:1", "b:2"], "PORT": "443"}) == (
        "server a:1;\nserver b:2;\nlisten 443;\n")
    with pytest.raises(render.RenderError, match="no value for PORT"):
        render.render(text, {"APP_SERVER": "a:1"})
    with pytest.raises(render.RenderError, match="no placeholder for HOST"):
        render.render(text, {"APP_SERVER": "a:1", "PORT": "443", "HOST": "x"})


@pytest.mark.reliability
def test_the_timers_commands_run(new_installation, tmp_path):
    installation = new_installation()
    remind = subprocess.run(  # noqa: S603 - the unit's own command
        unit_command(DEPLOY / "systemd" / "kaohe-remind.service"), cwd=ROOT,
        env=installation.env(), capture_output=True, text=True, timeout=300, check=False)
    assert remind.returncode == 0, remind.stderr
    assert "reminders sent" in remind.stdout

    # systemd turns %% into %; the shell does the rest, as under systemd.
    shell, flag, script = unit_command(DEPLOY / "systemd" / "kaohe-backup.service",
                                       BACKUP_DIR=str(tmp_path))
    backup = subprocess.run(  # noqa: S603 - the unit's own command
        [shell, flag, script.replace("%%", "%")], cwd=ROOT, env=installation.env(),
        capture_output=True, text=True, timeout=300, check=False)
    assert backup.returncode == 0, backup.stderr
    [made] = tmp_path.iterdir()
    assert re.fullmatch(r"kaohe-\d{8}-\d{6}", made.name)
    assert (made / "manifest.json").exists()
