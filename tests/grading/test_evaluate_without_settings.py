"""Issue 22 item 8: `kaohe evaluate FILE.csv` works on a fresh checkout, without SECRET_KEY
(grading a table needs no secret key); a command that does need a missing setting says so
in one line, without a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from .test_evaluate_cli import EXPECTED, ROWS, grades_of, write_csv

KAOHE = Path(sys.executable).parent / "kaohe"


def _clean_env(tmp_path: Path) -> dict[str, str]:
    """What a fresh shell has: no DJANGO_SETTINGS_MODULE, SECRET_KEY, AUDIT_KEY, KAOHE_*."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path),
            "LANG": "C.UTF-8"}


def _kaohe(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own console script, no shell
        [str(KAOHE), *args], capture_output=True, text=True, env=_clean_env(tmp_path),
        cwd=tmp_path, timeout=120, check=False)


def test_evaluate_runs_without_a_secret_key(tmp_path):
    table = write_csv(tmp_path / "round.csv", ROWS)
    completed = _kaohe(tmp_path, "evaluate", str(table))
    assert completed.returncode == 0, completed.stderr
    assert grades_of(json.loads(completed.stdout)) == EXPECTED


def test_evaluate_without_settings_still_reports_bad_input_in_one_message(tmp_path):
    rows = [list(row) for row in ROWS]
    rows[1][3] = "很好"
    completed = _kaohe(tmp_path, "evaluate", str(write_csv(tmp_path / "round.csv", rows)))
    assert completed.returncode == 1
    assert "Traceback" not in completed.stderr and "第3行「组织领导」列" in completed.stderr


def test_evaluate_writes_xlsx_without_settings(tmp_path):
    table = write_csv(tmp_path / "round.csv", ROWS)
    completed = _kaohe(tmp_path, "evaluate", str(table), "--output", str(tmp_path / "o.xlsx"))
    assert completed.returncode == 0, completed.stderr
    assert (tmp_path / "o.xlsx").stat().st_size > 0


def test_a_command_that_needs_the_secret_key_says_so_in_one_line(tmp_path):
    for command in (["migrate"], ["demo"], ["check"]):
        completed = _kaohe(tmp_path, *command)
        assert completed.returncode == 1, (command, completed.stdout, completed.stderr)
        assert "Traceback" not in completed.stderr
        lines = completed.stderr.strip().splitlines()
        assert len(lines) == 1, (command, completed.stderr)
        assert "SECRET_KEY (or SECRET_KEY_FILE) must be set" in lines[0]
        assert lines[0].startswith(f"kaohe {command[0]}:")
    assert not (tmp_path / "var").exists()


def test_help_still_works_without_settings(tmp_path):
    completed = _kaohe(tmp_path, "help")
    assert completed.returncode == 0 and "Traceback" not in completed.stderr
    assert "Available subcommands" in completed.stdout
