"""The static checks of `make scan` (security.md 23): bandit's configuration keeps every
check it does not justify skipping, the code passes it, and every pip-audit waiver says why."""

import re
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BANDIT = ROOT / ".venv" / "bin" / "bandit"


def _bandit(*targets):
    command = [str(BANDIT), "-q", "-c", "pyproject.toml", "-f", "custom",
               "--msg-template", "{relpath}:{line} {test_id} {msg}", "-r", *targets]
    return subprocess.run(  # noqa: S603 - the venv's bandit on paths chosen here
        command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)


def test_the_code_passes_bandit():
    result = _bandit("kaohe")
    assert result.returncode == 0, result.stdout + result.stderr


def test_bandit_still_finds_what_it_does_not_skip(tmp_path):
    sample = tmp_path / "scanned" / "sample.py"
    sample.parent.mkdir()
    sample.write_text(
        "import hashlib, pickle, subprocess\n"
        "def run(cmd, blob):\n"
        "    subprocess.call(cmd, shell=True)\n"
        "    pickle.loads(blob)\n"
        "    return hashlib.md5(blob).hexdigest()\n",
        encoding="utf-8")
    result = _bandit(str(sample.parent))
    assert result.returncode == 1
    for test_id in ("B602", "B301", "B324"):
        assert test_id in result.stdout, result.stdout


def test_every_skipped_bandit_check_is_justified_in_a_comment():
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    config = tomllib.loads(text)["tool"]["bandit"]
    block = text[text.index("[tool.bandit]"):]
    for test_id in config["skips"]:
        line = next(line for line in block.splitlines() if f'"{test_id}"' in line)
        assert re.search(r'#\s*\S.{10,}', line), line


def test_make_scan_runs_in_ci_after_lint():
    run = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert run.index("make lint") < run.index("make scan")
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "bandit -q -c pyproject.toml -r kaohe" in makefile
    assert "pip-audit --strict --disable-pip -r requirements.lock $(PIP_AUDIT_WAIVERS)" in makefile
    assert ".ci/pip-audit-waivers.txt" in makefile


_WAIVER = re.compile(r"--ignore-vuln\s+(?:GHSA|PYSEC|CVE|OSV)-[\w-]+\s+#\s*\S.{10,}")


@pytest.mark.parametrize("line", [
    line for line in (ROOT / ".ci" / "pip-audit-waivers.txt").read_text(encoding="utf-8")
    .splitlines() if line.strip() and not line.lstrip().startswith("#")
] or ["(no waivers)"])
def test_every_pip_audit_waiver_names_a_vulnerability_and_a_reason(line):
    assert line == "(no waivers)" or _WAIVER.fullmatch(line.strip()), line
