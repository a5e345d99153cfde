"""Query workers: processes that each hold a copy of the store, so a query can be killed.

Why processes: a pyoxigraph query cannot be interrupted from Python (it ignores signals), and a deep
query can overflow its stack and take the process down (security-risks.md §0.1, §0.7). So the web
server never evaluates SPARQL itself. It sends each query to an idle worker over a socket pair; when
a query passes the wall-clock limit the server SIGKILLs that worker and starts a fresh one, while the
other workers keep answering. A worker that crashes is replaced the same way.

Each worker is `python -m apsco_kg.serve.worker FD`: it receives the dataset once as N-Quads bytes,
loads it into its own in-memory Store, then answers jobs (pickled dicts) with pickled tuples. The
query runs on a thread with a 1 GiB stack (virtual; pages are touched only if used): long operator
chains such as `1+1+…+1` recurse in the engine even at lexical depth 1, and the big stack moves the
crash point far beyond what the 100 000-character limit allows.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import resource
import signal
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

QUERY_STACK_BYTES = 1 << 30
# Address-space cap per worker: a runaway ORDER BY over a cartesian product must not take the host.
WORKER_MEMORY_BYTES = 6 << 30
READY = b"ready"


# --- inside the worker ------------------------------------------------------------------------------

def _execute(store: Any, job: dict[str, Any]) -> tuple[Any, ...]:
    import pyoxigraph as ox

    from . import results

    # Relative IRIs resolve against the endpoint's own IRI (SPARQL 1.1 Protocol: the service defines BASE).
    kwargs: dict[str, Any] = {"prefixes": job.get("prefixes") or None, "base_iri": job.get("base_iri")}
    if job.get("default_graphs") is not None or job.get("named_graphs") is not None:
        # The protocol's dataset replaces the query's FROM / FROM NAMED (SPARQL 1.1 Protocol §2.1.4).
        kwargs["default_graph"] = [ox.NamedNode(g) for g in job.get("default_graphs") or []]
        kwargs["named_graphs"] = [ox.NamedNode(g) for g in job.get("named_graphs") or []]
    # Otherwise the store's default graph, which _load filled with the merge of all named graphs; FROM /
    # FROM NAMED in the query select graphs of this store instead (pyoxigraph never fetches them).
    try:
        answer = store.query(job["query"], **kwargs)
    except SyntaxError as exc:
        return ("error", 400, "syntax_error", *_syntax_message(exc))
    cap: int = job["row_cap"]
    try:
        if isinstance(answer, ox.QuerySolutions):
            if job["results"] is None:
                return ("error", 406, "not_acceptable", "SELECT results", None, None)
            out = results.write_select(answer, job["results"], cap)
            return ("ok", "results", job["results"], out.body, out.truncated, out.count)
        if isinstance(answer, ox.QueryTriples):
            if job["graph"] is None:
                return ("error", 406, "not_acceptable", "an RDF graph", None, None)
            out = results.write_graph(answer, job["graph"], cap, job.get("prefixes") or {})
            return ("ok", "graph", job["graph"], out.body, out.truncated, out.count)
        if job["boolean"] is None:
            return ("error", 406, "not_acceptable", "a boolean (ASK) result", None, None)
        out = results.write_boolean(bool(answer), job["boolean"])
        return ("ok", "boolean", job["boolean"], out.body, False, 1)
    except (OSError, ValueError, TypeError) as exc:
        # Evaluation errors pyoxigraph raises lazily (e.g. a malformed IRI() result).
        return ("error", 400, "evaluation_error", str(exc), None, None)


def _syntax_message(exc: SyntaxError) -> tuple[str, int | None, int | None]:
    """pyoxigraph says 'error at 1:25: expected …'; split out the position."""
    import re

    msg = str(exc.msg or exc)
    m = re.match(r"error at (\d+):(\d+)(?:-\d+:\d+)?: (.*)", msg, re.S)
    if m:
        return m.group(3), int(m.group(1)), int(m.group(2))
    return msg, exc.lineno, exc.offset


def _load(nquads: bytes) -> Any:
    """The dataset, with its default graph set to the RDF merge of all its graphs (see graph.py)."""
    import pyoxigraph as ox

    from ..graph import add_union_default_graph

    store = ox.Store()
    store.bulk_load(nquads, format=ox.RdfFormat.N_QUADS)
    return add_union_default_graph(store)


def _serve(conn: Connection) -> None:
    import pyoxigraph as ox

    store = _load(conn.recv_bytes())
    conn.send_bytes(READY)
    while True:
        try:
            job = pickle.loads(conn.recv_bytes())
        except EOFError:
            return
        try:
            reply = _execute(store, job)
        except Exception as exc:  # a real fault: report its class, never a traceback
            reply = ("error", 500, "internal_error", f"query evaluation failed ({type(exc).__name__})", None, None)
        conn.send_bytes(pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL))


def main(argv: list[str]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C goes to the server, which stops us
    try:
        resource.setrlimit(resource.RLIMIT_AS, (WORKER_MEMORY_BYTES, WORKER_MEMORY_BYTES))
    except (ValueError, OSError):
        pass
    conn = Connection(int(argv[1]))
    threading.stack_size(QUERY_STACK_BYTES)
    t = threading.Thread(target=_serve, args=(conn,), name="query")
    t.start()
    t.join()


# --- in the server ----------------------------------------------------------------------------------

class WorkerTimeout(Exception):
    pass


class WorkerCrashed(Exception):
    pass


class WorkerGone(Exception):
    """The worker had died while idle (e.g. killed by the OS): nothing ran, the job can go elsewhere."""


class Worker:
    """One worker process and the server's end of its socket pair."""

    def __init__(self, nquads: bytes) -> None:
        parent, child = socket.socketpair()
        child_fd = child.fileno()
        env = dict(os.environ)
        # The worker must import this package from the same place as the server.
        env["PYTHONPATH"] = os.pathsep.join(p for p in [os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.abspath(__file__)))), env.get("PYTHONPATH", "")] if p)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "apsco_kg.serve.worker", str(child_fd)],
            pass_fds=[child_fd], stdin=subprocess.DEVNULL, env=env, close_fds=True,
        )
        child.close()
        self.conn = Connection(parent.detach())
        self.conn.send_bytes(nquads)
        self.pid = self.proc.pid

    def wait_ready(self, timeout: float) -> bool:
        try:
            return self.conn.poll(timeout) and self.conn.recv_bytes() == READY
        except (EOFError, OSError):
            return False

    def run(self, job: dict[str, Any], timeout: float) -> tuple[Any, ...]:
        """Blocking round trip (called on a thread). Raises WorkerTimeout / WorkerCrashed / WorkerGone."""
        if self.proc.poll() is not None:
            raise WorkerGone()
        try:
            self.conn.send_bytes(pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL))
            if not self.conn.poll(timeout):
                raise WorkerTimeout()
            reply: tuple[Any, ...] = pickle.loads(self.conn.recv_bytes())
            return reply
        except (EOFError, OSError, pickle.UnpicklingError) as exc:
            raise WorkerCrashed(str(exc)) from None

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        self.conn.close()


@dataclass
class PoolStats:
    started: int = 0
    killed_on_timeout: int = 0
    crashed: int = 0


@dataclass
class WorkerPool:
    """`size` workers; a job waits for an idle one. Killed or crashed workers are replaced."""

    nquads: bytes
    size: int
    stats: PoolStats = field(default_factory=PoolStats)
    _idle: asyncio.Queue[Worker] | None = None
    _all: set[Worker] = field(default_factory=set)
    _closed: bool = False
    _loop: asyncio.AbstractEventLoop | None = None
    _spawning: set[asyncio.Task[None]] = field(default_factory=set)

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        if self._idle is not None and self._loop is loop:
            return
        if self._idle is not None:
            # A different event loop than the one we started on (a test client used without its
            # context runs each request on a fresh loop): the old queue and tasks are unusable.
            self.close_sync()
            self._closed = False
        self._loop = loop
        self._idle = asyncio.Queue()
        for _ in range(self.size):
            self._spawn()

    def _spawn(self) -> None:
        task = asyncio.get_running_loop().create_task(self._spawn_one())
        self._spawning.add(task)
        task.add_done_callback(self._spawning.discard)

    async def _spawn_one(self) -> None:
        if self._closed:
            return
        worker = await asyncio.to_thread(Worker, self.nquads)
        self._all.add(worker)
        self.stats.started += 1
        ready = await asyncio.to_thread(worker.wait_ready, 120.0)
        if self._closed or not ready:
            self._all.discard(worker)
            await asyncio.to_thread(worker.kill)
            if not self._closed:
                await asyncio.sleep(1.0)  # do not spin if workers cannot start at all
                self._spawn()
            return
        assert self._idle is not None
        self._idle.put_nowait(worker)

    @property
    def idle_count(self) -> int:
        return self._idle.qsize() if self._idle is not None else 0

    @property
    def pids(self) -> set[int]:
        return {w.pid for w in self._all}

    async def execute(self, job: dict[str, Any], timeout: float, acquire_timeout: float) -> tuple[Any, ...]:
        """Run a job on an idle worker. Raises WorkerTimeout, WorkerCrashed, or TimeoutError when no
        worker becomes idle within acquire_timeout."""
        await self.start()
        assert self._idle is not None
        deadline = asyncio.get_running_loop().time() + acquire_timeout
        while True:
            remaining = max(0.0, deadline - asyncio.get_running_loop().time())
            worker = await asyncio.wait_for(self._idle.get(), timeout=remaining)
            try:
                return await self._run_on(worker, job, timeout)
            except WorkerGone:
                self.stats.crashed += 1
                await self._replace(worker)  # and try the next idle one

    async def _run_on(self, worker: Worker, job: dict[str, Any], timeout: float) -> tuple[Any, ...]:
        assert self._idle is not None
        try:
            reply = await asyncio.to_thread(worker.run, job, timeout)
        except WorkerGone:
            raise
        except WorkerTimeout:
            self.stats.killed_on_timeout += 1
            await self._replace(worker)
            raise
        except WorkerCrashed:
            self.stats.crashed += 1
            await self._replace(worker)
            raise
        except BaseException:
            # Cancelled mid-query (client gone, shutdown): the worker's state is unknown; replace it.
            await asyncio.shield(self._replace(worker))
            raise
        self._idle.put_nowait(worker)
        return reply

    async def _replace(self, worker: Worker) -> None:
        self._all.discard(worker)
        await asyncio.to_thread(worker.kill)
        if not self._closed:
            self._spawn()

    async def close(self) -> None:
        self._closed = True
        for task in list(self._spawning):
            task.cancel()
        workers = list(self._all)
        self._all.clear()
        for w in workers:
            await asyncio.to_thread(w.kill)

    def close_sync(self) -> None:
        """For interpreter exit when no lifespan ran (e.g. a test client without a context)."""
        self._closed = True
        for w in list(self._all):
            w.kill()
        self._all.clear()


if __name__ == "__main__":
    main(sys.argv)
