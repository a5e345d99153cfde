"""Run one command in a child process and measure its wall time and peak resident memory.

Peak memory is the larger of two figures:
* os.wait4 on that very child: its own ru_maxrss (KiB on Linux), exact for that process and never
  the running maximum over every child the benchmark has started, which getrusage(RUSAGE_CHILDREN)
  would give; it covers a grandchild only as a maximum, not as a sum;
* the sum of the PSS (proportional set size: a page shared by two processes counts half in each)
  of the child and all its descendants, sampled every 50 ms with psutil, because `apsco-kg build`
  validates in a forked child that shares the loaded store copy-on-write while it writes the dumps.
  The sum of PSS is the physical memory the whole build holds; a sum of RSS would count the shared
  store twice.
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
        tree_peak = 0
        try:
            import psutil
            root = psutil.Process(proc.pid)
        except Exception:  # psutil missing (pip install -e '.[bench]'): wait4 alone
            root = None
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            if root is not None:
                tree_peak = max(tree_peak, _tree_rss(root))
            time.sleep(0.05)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Measured(wall, max(usage.ru_maxrss / 1024.0, tree_peak / 2**20), proc.returncode,
                        out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace"))


def _tree_rss(root: object) -> int:
    total = 0
    try:
        procs = [root, *root.children(recursive=True)]  # type: ignore[attr-defined]
    except Exception:
        return 0
    for p in procs:
        try:
            total += p.memory_full_info().pss
        except Exception:  # it ended between the listing and the reading
            pass
    return total


def apsco_kg(*args: str) -> list[str]:
    """The CLI, run through the interpreter of this venv (no reliance on PATH)."""
    return [PYTHON, "-c", "import sys; from apsco_kg.cli import main; sys.exit(main())", *args]
