"""Run one command in a child process and measure its wall time and peak resident memory.

Peak memory comes from os.wait4 on that very child (its own ru_maxrss, in KiB on Linux), so each
measurement is exact for one build and never the running maximum over every child the benchmark
has started, which is what getrusage(RUSAGE_CHILDREN) would give.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


@dataclass(frozen=True)
class Measured:
    wall_s: float
    peak_rss_mb: float
    returncode: int
    stdout: str
    stderr: str


def measure(cmd: list[str], *, timeout_s: float = 3600.0, cwd: Path = REPO, env: dict[str, str] | None = None) -> Measured:
    """Run cmd to completion; return wall seconds, peak RSS (MB), exit code and output."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        full_env = {**os.environ, **(env or {})}
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err, env=full_env)
        deadline = t0 + timeout_s
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.005)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Measured(wall, usage.ru_maxrss / 1024.0, proc.returncode,
                        out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace"))


def apsco_kg(*args: str) -> list[str]:
    """The CLI, run through the interpreter of this venv (no reliance on PATH)."""
    return [PYTHON, "-c", "import sys; from apsco_kg.cli import main; sys.exit(main())", *args]
