"""Run validation in a forked child while the parent writes the dumps (export.build uses this).

Validation and serialisation both only read the loaded store and do not depend on each other, and
neither can run in a thread beside the other (pyoxigraph keeps the GIL while it iterates). A forked
child sees the whole store without reloading it, and the machine's second core validates while the
first writes the dumps. (The store's pages do not stay shared: reading a pyoxigraph store writes to
its nodes, so each process ends up with its own copy of what it reads; docs/performance.md.) The
child sends back its result (or its exception) through a pipe, pickled, and leaves with os._exit so
it never runs the parent's cleanup.

Where fork is not available (not Linux) the function simply runs inline.
"""

from __future__ import annotations

import os
import pickle
import signal
import sys
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


def can_fork() -> bool:
    return sys.platform.startswith("linux") and hasattr(os, "fork")


class Pending(Generic[T]):
    """A result being computed in a child process (or already computed inline)."""

    def __init__(self, pid: int | None = None, fd: int | None = None, outcome: tuple[str, object] | None = None):
        self._pid, self._fd, self._outcome = pid, fd, outcome

    def result(self) -> T:
        """Wait for the child; return its value or raise its exception (the same type and message)."""
        if self._outcome is None:
            assert self._fd is not None and self._pid is not None
            chunks = []
            with os.fdopen(self._fd, "rb") as pipe:
                while chunk := pipe.read(1 << 20):
                    chunks.append(chunk)
            self._fd = None
            _, status = os.waitpid(self._pid, 0)
            self._pid = None
            data = b"".join(chunks)
            if not data:
                raise RuntimeError(f"the validation process died (wait status {status}) without a result")
            self._outcome = pickle.loads(data)
        kind, payload = self._outcome
        if kind == "ok":
            return payload  # type: ignore[return-value]
        if kind == "input_error":
            from ..graph import InputError

            raise InputError(*payload)  # type: ignore[misc]
        raise payload  # type: ignore[misc]

    def cancel(self) -> None:
        """Stop the child if it is still running (the parent failed or was interrupted)."""
        if self._pid is not None:
            try:
                os.kill(self._pid, signal.SIGKILL)
                os.waitpid(self._pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
            self._pid = None
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _outcome(fn: Callable[[], T]) -> tuple[str, object]:
    from ..graph import InputError

    try:
        return ("ok", fn())
    except InputError as exc:  # its __init__ takes four arguments: send them, not the exception
        return ("input_error", (exc.path, exc.message, exc.line, exc.column))
    except Exception as exc:
        try:
            pickle.dumps(exc)
            return ("error", exc)
        except Exception:
            return ("error", RuntimeError(f"{type(exc).__name__}: {exc}"))


def start(fn: Callable[[], T]) -> Pending[T]:
    """Start fn() in a forked child (inline where fork is unavailable)."""
    if not can_fork():
        return Pending(outcome=_outcome(fn))
    sys.stdout.flush()
    sys.stderr.flush()
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: compute, send, leave without running the parent's cleanup
        code = 0
        try:
            os.close(read_fd)
            data = pickle.dumps(_outcome(fn), protocol=pickle.HIGHEST_PROTOCOL)
            with os.fdopen(write_fd, "wb") as pipe:
                pipe.write(data)
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    os.close(write_fd)
    return Pending(pid=pid, fd=read_fd)
