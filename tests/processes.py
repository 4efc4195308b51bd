"""Stopping the servers the reliability tests and the benchmarks start, each in a process
group of its own (gunicorn's master and workers, nginx, moto): no Django import here."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess


def stop_group(process: subprocess.Popen, timeout: float = 20) -> None:
    """SIGTERM the process's group and wait; SIGKILL it if it has not gone within timeout."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=timeout)
