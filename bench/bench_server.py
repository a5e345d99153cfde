"""Benchmark of the linked-data server (issue 4) — not a test; run by hand:

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python bench/bench_server.py [--duration 8] [--connections 4 32] [--query queries/cq08-full-members.rq]

Measures throughput and latency (p50, p99) on loopback with 4 and 32 concurrent keep-alive
connections for
  (a) a saved SELECT query (queries/cq08-full-members.rq by default) on our /sparql,
  (b) an entity page as HTML and (c) the same entity as Turtle (skipped if the pages answer 404),
and, side by side in the same run, (a) on rdflib-endpoint serving the same graph (the N-Quads dump
of the loaded graph, in an rdflib Dataset whose default graph is the union, like ours).

Both servers run as their own processes (ours through `apsco-kg serve`, defaults unchanged); the
load generator is a small asyncio HTTP/1.1 client so that it costs less CPU than the servers.
Results go to bench/results/bench_server.{md,json}. Targets (issue 4): ours ≥ 5× rdflib-endpoint's
requests/s on (a), p99 < 50 ms at 4 connections, no errors at 32.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
ENTITY = "/id/state/thailand"


@dataclass
class Run:
    target: str
    scenario: str
    connections: int
    requests: int
    errors: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    mean_ms: float
    status_codes: dict[str, int]


# --- a small keep-alive HTTP/1.1 client --------------------------------------------------------------

async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                break
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)
        body = b"".join(parts)
    else:
        body = await reader.read()
    return status, body


async def _connection(host: str, port: int, request: bytes, until: float, warm_until: float,
                      latencies: list[float], codes: dict[str, int]) -> int:
    errors = 0
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while True:
            start = time.perf_counter()
            if start >= until:
                break
            try:
                writer.write(request)
                status, _ = await asyncio.wait_for(_read_response(reader), timeout=60)
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
                errors += 1
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
                continue
            elapsed = time.perf_counter() - start
            if start >= warm_until:
                latencies.append(elapsed)
                codes[str(status)] = codes.get(str(status), 0) + 1
                if status >= 400:
                    errors += 1
    finally:
        writer.close()
    return errors


async def _load(url: str, accept: str, connections: int, duration: float, warmup: float) -> tuple[list[float], int, dict[str, int], float]:
    parsed = urllib.parse.urlsplit(url)
    path = parsed.path + ("?" + parsed.query if parsed.query else "")
    request = (f"GET {path} HTTP/1.1\r\nHost: {parsed.netloc}\r\nAccept: {accept}\r\n"
               f"User-Agent: apsco-kg-bench\r\n\r\n").encode()
    latencies: list[float] = []
    codes: dict[str, int] = {}
    now = time.perf_counter()
    warm_until = now + warmup
    until = warm_until + duration
    errors = await asyncio.gather(*[
        _connection(parsed.hostname or "127.0.0.1", parsed.port or 80, request, until, warm_until, latencies, codes)
        for _ in range(connections)])
    return latencies, sum(errors), codes, time.perf_counter() - warm_until


def measure(target: str, scenario: str, url: str, accept: str, connections: int, duration: float) -> Run:
    latencies, errors, codes, seconds = asyncio.run(_load(url, accept, connections, duration, warmup=1.0))
    latencies.sort()
    n = len(latencies)

    def pct(p: float) -> float:
        return latencies[min(n - 1, int(p * n))] * 1000 if n else float("nan")

    run = Run(target, scenario, connections, n, errors, round(seconds, 2), round(n / seconds, 1),
              round(pct(0.50), 2), round(pct(0.99), 2), round(statistics.fmean(latencies) * 1000, 2) if n else float("nan"),
              codes)
    print(f"  {target:16} {scenario:22} c={connections:<3} {run.rps:9.1f} req/s  p50 {run.p50_ms:8.2f} ms  "
          f"p99 {run.p99_ms:8.2f} ms  errors {errors}", flush=True)
    return run


# --- the servers ------------------------------------------------------------------------------------------

def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(url: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not come up")


def _wait_ours(base: str) -> None:
    _wait(base + "/health")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with urllib.request.urlopen(base + "/health") as r:
            h = json.load(r)
        if h["workers"]["idle"] == h["workers"]["configured"]:
            return
        time.sleep(0.2)


def rdflib_endpoint_main(port: int, nquads: str) -> None:
    """Child process: rdflib-endpoint serving the same dataset (default graph = union)."""
    import uvicorn
    from rdflib import Dataset
    from rdflib_endpoint import SparqlEndpoint

    ds = Dataset(default_union=True)
    ds.parse(data=Path(nquads).read_bytes(), format="nquads")
    app = SparqlEndpoint(graph=ds, path="/sparql", public_url=f"http://127.0.0.1:{port}/sparql")
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def _get(url: str, accept: str) -> tuple[int, bytes]:
    req = urllib.request.Request(url, headers={"Accept": accept})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# --- main -----------------------------------------------------------------------------------------------------

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=float, default=8.0, help="seconds measured per scenario (after 1 s warm-up)")
    ap.add_argument("--connections", type=int, nargs="+", default=[4, 32])
    ap.add_argument("--query", type=Path, default=REPO / "queries" / "cq08-full-members.rq")
    ap.add_argument("--entity", default=ENTITY)
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--rdflib-endpoint-server", nargs=2, metavar=("PORT", "NQUADS"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.rdflib_endpoint_server:
        rdflib_endpoint_main(int(args.rdflib_endpoint_server[0]), args.rdflib_endpoint_server[1])
        return 0

    import pyoxigraph as ox

    from apsco_kg import graph
    from apsco_kg.settings import Settings

    try:
        import rdflib_endpoint  # noqa: F401  (only checked here; it runs in its own process)
        have_theirs = True
    except ImportError:
        have_theirs = False
    kg = graph.load(Settings())
    query = args.query.read_text(encoding="utf-8")
    qs = urllib.parse.urlencode({"query": query})
    srj = "application/sparql-results+json"
    runs: list[Run] = []
    notes: list[str] = []
    procs: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory() as tmp:
        nq = Path(tmp) / "graph.nq"
        nq.write_bytes(kg.store.dump(format=ox.RdfFormat.N_QUADS) or b"")
        ours_port, theirs_port = _free_port(), _free_port()
        cli = Path(sys.executable).parent / "apsco-kg"
        try:
            procs.append(subprocess.Popen([str(cli), "serve", "--port", str(ours_port)], cwd=REPO,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            if have_theirs:
                procs.append(subprocess.Popen([sys.executable, __file__, "--rdflib-endpoint-server", str(theirs_port),
                                               str(nq)], cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            else:
                notes.append("rdflib-endpoint is not installed (pip install -e '.[bench]'): no comparison")
            ours = f"http://127.0.0.1:{ours_port}"
            theirs = f"http://127.0.0.1:{theirs_port}"
            _wait_ours(ours)
            if have_theirs:
                _wait(theirs + "/sparql?" + urllib.parse.urlencode({"query": "ASK {}"}))

            # Same question, same answer: compare the row counts before timing anything.
            rows = {}
            for name, base in (("ours", ours), ("rdflib-endpoint", theirs))[:2 if have_theirs else 1]:
                status, body = _get(f"{base}/sparql?{qs}", srj)
                assert status == 200, (name, status, body[:300])
                rows[name] = len(json.loads(body)["results"]["bindings"])
            notes.append(f"query {args.query.name}: " + ", ".join(f"{n} rows from {k}" for k, n in rows.items()))
            print(notes[-1], flush=True)

            page_status, _ = _get(ours + args.entity, "text/html")
            ttl_status, _ = _get(ours + args.entity, "text/turtle")
            for c in args.connections:
                runs.append(measure("ours", "a: saved SELECT", f"{ours}/sparql?{qs}", srj, c, args.duration))
                if have_theirs:
                    runs.append(measure("rdflib-endpoint", "a: saved SELECT", f"{theirs}/sparql?{qs}", srj, c,
                                        args.duration))
                if page_status == 200:
                    runs.append(measure("ours", "b: entity HTML", ours + args.entity, "text/html", c, args.duration))
                if ttl_status == 200:
                    runs.append(measure("ours", "c: entity Turtle", ours + args.entity, "text/turtle", c, args.duration))
            if page_status != 200:
                notes.append(f"(b) skipped: GET {args.entity} as HTML answered {page_status}")
            if ttl_status != 200:
                notes.append(f"(c) skipped: GET {args.entity} as Turtle answered {ttl_status}")
        finally:
            for p in procs:
                _stop(p)

    verdicts = []
    for c in args.connections:
        a = {r.target: r for r in runs if r.scenario.startswith("a") and r.connections == c}
        if "ours" in a and "rdflib-endpoint" in a and a["rdflib-endpoint"].rps > 0:
            ratio = a["ours"].rps / a["rdflib-endpoint"].rps
            verdicts.append(f"(a) at {c} connections: ours {a['ours'].rps} req/s vs rdflib-endpoint "
                            f"{a['rdflib-endpoint'].rps} req/s = {ratio:.1f}× (target ≥ 5×: {'met' if ratio >= 5 else 'NOT met'})")
    for r in runs:
        if r.target == "ours" and r.connections == 4:
            verdicts.append(f"{r.scenario} p99 at 4 connections: {r.p99_ms} ms (target < 50 ms: "
                            f"{'met' if r.p99_ms < 50 else 'NOT met'})")
        if r.target == "ours" and r.connections == 32:
            verdicts.append(f"{r.scenario} errors at 32 connections: {r.errors} (target 0: {'met' if r.errors == 0 else 'NOT met'})")
    write(args.out, runs, notes, verdicts, args)
    return 0


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version(), "cpus": str(os.cpu_count()), "platform": platform.platform()}
    for pkg in ("pyoxigraph", "starlette", "uvicorn", "rdflib", "rdflib-endpoint", "fastapi"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "-"
    return out


def write(out: Path, runs: list[Run], notes: list[str], verdicts: list[str], args: argparse.Namespace) -> None:
    out.mkdir(parents=True, exist_ok=True)
    env = _versions()
    when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    doc = {"when": when, "environment": env, "duration_s": args.duration, "query": args.query.name,
           "entity": args.entity, "notes": notes, "verdicts": verdicts, "runs": [asdict(r) for r in runs]}
    (out / "bench_server.json").write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    lines = [f"# Server benchmark ({when})", "",
             "Loopback, keep-alive connections, GET requests; " + f"{args.duration:g} s measured per row after 1 s warm-up.",
             "Environment: " + ", ".join(f"{k} {v}" for k, v in env.items()), "",
             "| target | scenario | connections | requests | req/s | p50 ms | p99 ms | mean ms | errors |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {r.target} | {r.scenario} | {r.connections} | {r.requests} | {r.rps} | {r.p50_ms} | {r.p99_ms} | "
              f"{r.mean_ms} | {r.errors} |" for r in runs]
    lines += ["", "## Against the targets", ""] + [f"- {v}" for v in verdicts]
    lines += ["", "## Notes", ""] + [f"- {n}" for n in notes] + [""]
    (out / "bench_server.md").write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
