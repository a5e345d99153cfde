"""The benchmark suite, one command:  .venv/bin/python -m bench.run

Writes bench/results/RESULTS.md (the table), results.json (every measurement), scale.png (time and
peak memory against size) and profile-1m.txt (where the 1M build's time goes). Rows:

(a) real   `apsco-kg build` of data/ versus the plain pipeline (bench/plain.py: rdflib parse ->
           pyshacl -> rdflib serialize of the same dumps), alternating in one run, median of N.
(b) scale  `apsco-kg build` of synthetic data folders (bench/synth.py, plus the real data so that
           the saved queries' default parameters resolve) at 10k / 100k / 1M (10M with --sizes).
(c) query  every saved query (queries/*.rq) on the 1M graph, median and worst of 5.
(d) server bench/bench_server.py (throughput of the endpoint), if present.

Every build runs in its own subprocess; peak memory is the larger of its own ru_maxrss (os.wait4) and the
sum of PSS over it and its children, sampled (bench/proc.py).
Timed targets are checked here and reported, never asserted in tests.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .proc import PYTHON, REPO, Measured, apsco_kg, measure
from .synth import _size

RESULTS = REPO / "bench" / "results"
TARGETS = {"real_ratio": 0.5, "build_1m_s": 20.0, "build_1m_rss_mb": 2048.0, "growth_100k_1m": 11.0, "query_1m_s": 0.5}


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def label(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 and n % 1_000_000 == 0 else f"{n // 1000}k" if n >= 1000 else str(n)


# -- data folders -------------------------------------------------------------------------------
def data_folder(n: int, seed: int, cache: Path) -> Path:
    """Synthetic triples + the real data/, generated once per (size, seed, generator version)."""
    version = hashlib.sha256((REPO / "bench" / "synth.py").read_bytes()).hexdigest()[:12]
    folder = cache / f"synth-{label(n)}-s{seed}"
    stamp = folder / ".stamp"
    want = f"{n} {seed} {version}"
    if not (stamp.is_file() and stamp.read_text() == want):
        log(f"generating {label(n)} synthetic triples in {folder}")
        m = measure([PYTHON, "-m", "bench.synth", "--triples", str(n), "--out", str(folder), "--seed", str(seed)])
        if m.returncode != 0:
            raise SystemExit(f"synth failed: {m.stderr}")
        stamp.write_text(want)
    for old in folder.glob("real-*.trig"):
        old.unlink()
    for p in sorted((REPO / "data").glob("*.trig")):
        shutil.copyfile(p, folder / f"real-{p.name}")
    return folder


# -- (a) the real graph versus the plain pipeline ------------------------------------------------
def bench_real(repeats: int) -> dict[str, Any]:
    fast: list[Measured] = []
    plain: list[Measured] = []
    with tempfile.TemporaryDirectory() as tmp:
        # One untimed round of each warms the page cache and the .pyc files for both equally.
        measure(apsco_kg("build", "--out", f"{tmp}/warm-fast"))
        measure([PYTHON, "-m", "bench.plain", "--out", f"{tmp}/warm-plain"])
        for i in range(repeats):
            order = ["fast", "plain"] if i % 2 == 0 else ["plain", "fast"]
            for which in order:
                if which == "fast":
                    fast.append(measure(apsco_kg("build", "--out", f"{tmp}/fast")))
                else:
                    plain.append(measure([PYTHON, "-m", "bench.plain", "--out", f"{tmp}/plain"]))
    bad = [m for m in fast + plain if m.returncode != 0]
    fast_s = statistics.median(m.wall_s for m in fast)
    plain_s = statistics.median(m.wall_s for m in plain)
    return {
        "repeats": repeats, "fast_s": fast_s, "plain_s": plain_s, "ratio": fast_s / plain_s,
        "fast_all": [m.wall_s for m in fast], "plain_all": [m.wall_s for m in plain],
        "fast_rss_mb": statistics.median(m.peak_rss_mb for m in fast),
        "plain_rss_mb": statistics.median(m.peak_rss_mb for m in plain),
        "errors": [m.stderr[-500:] for m in bad],
    }


# -- (b) build at each size ---------------------------------------------------------------------
def bench_scale(sizes: list[int], repeats: int, seed: int, cache: Path) -> list[dict[str, Any]]:
    rows = []
    for n in sizes:
        folder = data_folder(n, seed, cache)
        reps = repeats if n <= 1_000_000 else 1
        runs: list[Measured] = []
        with tempfile.TemporaryDirectory() as tmp:
            for i in range(reps):
                log(f"build {label(n)} ({i + 1}/{reps})")
                runs.append(measure(apsco_kg("build", "--data", str(folder), "--out", tmp, "--json"), timeout_s=3600))
        ok = [m for m in runs if m.returncode == 0]
        info = json.loads(ok[0].stdout) if ok else {}
        rows.append({
            "size": label(n), "target_triples": n, "triples": info.get("triples"),
            "input_bytes": sum(p.stat().st_size for p in folder.glob("*.trig")),
            "repeats": reps, "wall_s": statistics.median(m.wall_s for m in runs),
            "wall_all": [m.wall_s for m in runs], "peak_rss_mb": max(m.peak_rss_mb for m in runs),
            "ok": len(ok) == len(runs), "errors": [m.stderr[-800:] for m in runs if m.returncode != 0],
        })
        log(f"  {label(n)}: median {rows[-1]['wall_s']:.2f} s, peak {rows[-1]['peak_rss_mb']:.0f} MB")
    return rows


def bench_phases(folder: Path, out: Path) -> dict[str, Any]:
    m = measure([PYTHON, "-m", "bench.phases", "--data", str(folder), "--profile", str(out)], timeout_s=3600)
    if m.returncode != 0:
        return {"error": m.stderr[-800:]}
    return json.loads(m.stdout)


# -- (c) saved queries ----------------------------------------------------------------------------
def bench_queries(folder: Path, repeats: int, timeout: float) -> dict[str, Any]:
    """All saved queries; a process per run of queries, restarted after a query that timed out."""
    rows: list[dict[str, Any]] = []
    loads: list[float] = []
    firsts: list[float] = []
    start = 0
    while True:
        m = measure([PYTHON, "-m", "bench.query_bench", "--data", str(folder), "--repeats", str(repeats),
                     "--start", str(start), "--timeout", str(timeout)], timeout_s=3600)
        lines = [json.loads(x) for x in m.stdout.splitlines() if x.strip()]
        loads += [x["load_s"] for x in lines if "load_s" in x]
        firsts += [x["first_query_s"] for x in lines if "first_query_s" in x]
        rows += [x for x in lines if "query" in x]
        if m.returncode == 3 and rows:  # a timeout: go on after it in a fresh process
            start = rows[-1]["index"] + 1
            continue
        if m.returncode != 0:
            return {"error": m.stderr[-800:], "queries": rows}
        return {"load_s": statistics.median(loads) if loads else None, "timeout_s": timeout, "queries": rows,
                "first_query_s": statistics.median(firsts) if firsts else None}


# -- (d) the server ------------------------------------------------------------------------------
def bench_server(duration: float) -> dict[str, Any]:
    script = REPO / "bench" / "bench_server.py"
    if not script.is_file():
        return {"skipped": "bench/bench_server.py is not there"}
    m = measure([PYTHON, str(script), "--duration", str(duration)], timeout_s=1800)
    md = RESULTS / "bench_server.md"
    return {"returncode": m.returncode, "table": md.read_text(encoding="utf-8") if md.is_file() else None,
            "stderr": m.stderr[-800:] if m.returncode else ""}


# -- output -------------------------------------------------------------------------------------
def verdicts(doc: dict[str, Any]) -> list[str]:
    out = []
    real = doc.get("real")
    if real:
        ok = real["ratio"] <= TARGETS["real_ratio"]
        out.append(f"{'MET' if ok else 'MISSED'}: real graph build {real['fast_s']:.2f} s = {real['ratio']:.2f}x the plain "
                   f"pipeline's {real['plain_s']:.2f} s (target <= {TARGETS['real_ratio']}x)")
    by_size = {r["size"]: r for r in doc.get("scale", [])}
    one_m = by_size.get("1M")
    if one_m:
        ok_t = one_m["wall_s"] <= TARGETS["build_1m_s"]
        ok_m = one_m["peak_rss_mb"] <= TARGETS["build_1m_rss_mb"]
        over = "" if ok_t else f", over by {one_m['wall_s'] - TARGETS['build_1m_s']:.1f} s"
        out.append(f"{'MET' if ok_t else 'MISSED'}: 1M build {one_m['wall_s']:.1f} s "
                   f"(target <= {TARGETS['build_1m_s']:.0f} s{over})")
        out.append(f"{'MET' if ok_m else 'MISSED'}: 1M build peak memory {one_m['peak_rss_mb']:.0f} MB (target <= 2048 MB)")
        hundred_k = by_size.get("100k")
        if hundred_k:
            g = one_m["wall_s"] / hundred_k["wall_s"]
            out.append(f"{'MET' if g <= TARGETS['growth_100k_1m'] else 'MISSED'}: 100k -> 1M grows {g:.1f}x (target <= 11x)")
    q = doc.get("queries", {}).get("queries")
    if q:
        timed = [r for r in q if r["median_s"] is not None]
        slow = [r for r in timed if r["median_s"] > TARGETS["query_1m_s"]]
        timeouts = [r["query"] for r in q if r["error"] and r["error"].startswith("timeout")]
        failed = [r["query"] for r in q if r["error"] and not r["error"].startswith("timeout")]
        within = len(timed) - len(slow)
        out.append(f"{'MET' if not slow and not timeouts and not failed else 'MISSED'}: saved queries on "
                   f"{doc['args']['query_size']}: {within} of {len(q)} within 0.5 s; slower: "
                   + (", ".join(f"{r['query']} {r['median_s']:.2f} s" for r in slow) or "none")
                   + (f"; over the {doc['queries'].get('timeout_s')} s timeout: {', '.join(timeouts)}" if timeouts else "")
                   + (f"; failed: {', '.join(failed)}" if failed else ""))
    return out


def markdown(doc: dict[str, Any]) -> str:
    env = doc["environment"]
    lines = ["# Benchmark results", "",
             f"Run {env['date']} on {env['machine']} ({env['cpus']} CPUs, load average before the run "
             f"{env['loadavg']}), Python {env['python']}, pyoxigraph {env['pyoxigraph']}, pyshacl {env['pyshacl']}. "
             "Command: `.venv/bin/python -m bench.run " + " ".join(doc["argv"]) + "`.", "", "## Targets", ""]
    lines += [f"- {v}" for v in doc["verdicts"]]
    real = doc.get("real")
    if real:
        lines += ["", "## (a) Real graph: full build versus the plain pipeline (same run, alternating)", "",
                  "| pipeline | median wall (s) | all runs (s) | peak memory (MB) |", "|---|---:|---|---:|",
                  f"| `apsco-kg build` (pyoxigraph + fast SHACL) | {real['fast_s']:.3f} | "
                  f"{', '.join(f'{x:.2f}' for x in real['fast_all'])} | {real['fast_rss_mb']:.0f} |",
                  f"| plain: rdflib parse -> pyshacl -> rdflib serialize | {real['plain_s']:.3f} | "
                  f"{', '.join(f'{x:.2f}' for x in real['plain_all'])} | {real['plain_rss_mb']:.0f} |",
                  f"| **ratio** | **{real['ratio']:.2f}x** | | |"]
    if doc.get("scale"):
        lines += ["", "## (b) Full build (parse, validate with our shapes, write every dump) by size", "",
                  "| size | triples (curated) | input (MB) | median wall (s) | runs (s) | peak memory (MB) | ok |",
                  "|---|---:|---:|---:|---|---:|---|"]
        for r in doc["scale"]:
            triples = f"{r['triples']:,}" if r["triples"] else "?"
            lines.append(f"| {r['size']} | {triples} | {r['input_bytes'] / 1e6:.0f} | {r['wall_s']:.2f} | "
                         f"{', '.join(f'{x:.1f}' for x in r['wall_all'])} | {r['peak_rss_mb']:.0f} | {'yes' if r['ok'] else 'NO'} |")
    ph = doc.get("phases", {}).get("phases")
    if ph:
        total = doc["phases"]["total_s"]
        lines += ["", "## Where the 1M build's time goes (in-process, one run; cProfile in profile-1m.txt)", "",
                  "| step | seconds | share |", "|---|---:|---:|"]
        lines += [f"| {k} | {v:.2f} | {v / total:.0%} |" for k, v in ph.items()]
        lines.append(f"| total | {total:.2f} | |")
    q = doc.get("queries", {}).get("queries")
    if q:
        lines += ["", f"## (c) Saved queries on the {doc['args']['query_size']} graph (median and worst of "
                  f"{doc['args']['query_repeats']}; graph loaded in {doc['queries'].get('load_s') or 0:.1f} s; the "
                  f"first query of a process, untimed below, took {doc['queries'].get('first_query_s') or 0:.1f} s: "
                  "queries.py's one-time set-up on the graph)", "",
                  "| query | median (s) | worst (s) | rows |", "|---|---:|---:|---:|"]
        for r in sorted(q, key=lambda r: -(r["median_s"] or 0)):
            if r["error"]:
                lines.append(f"| {r['query']} | error | | {r['error'][:80]} |")
            else:
                lines.append(f"| {r['query']} | {r['median_s']:.3f} | {r['max_s']:.3f} | {r['rows']} |")
    srv = doc.get("server")
    if srv:
        lines += ["", "## (d) Endpoint throughput (bench/bench_server.py)", ""]
        lines.append(srv.get("table") or f"skipped: {srv.get('skipped') or srv.get('stderr')}")
    return "\n".join(lines) + "\n"


def plot(doc: dict[str, Any], path: Path) -> None:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("matplotlib is missing (pip install -e '.[bench]'): no plot")
        return
    rows = [r for r in doc.get("scale", []) if r["ok"]]
    if not rows:
        return
    x = [r["target_triples"] for r in rows]
    fig, ax1 = plt.subplots(figsize=(7, 4.2))
    ax1.plot(x, [r["wall_s"] for r in rows], "o-", color="tab:blue", label="build wall time (s)")
    ax1.set_xscale("log")
    ax1.set_yscale("log")
    ax1.set_xlabel("synthetic triples")
    ax1.set_ylabel("wall time (s)", color="tab:blue")
    ax1.axhline(TARGETS["build_1m_s"], color="tab:blue", ls=":", lw=1)
    ax2 = ax1.twinx()
    ax2.plot(x, [r["peak_rss_mb"] for r in rows], "s--", color="tab:red", label="peak memory (MB)")
    ax2.set_yscale("log")
    ax2.set_ylabel("peak memory (MB)", color="tab:red")
    ax2.axhline(TARGETS["build_1m_rss_mb"], color="tab:red", ls=":", lw=1)
    ax1.set_title("apsco-kg build: time and memory against size (dotted: 1M targets)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def environment() -> dict[str, Any]:
    import pyoxigraph

    try:
        from importlib.metadata import version
        shacl = version("pyshacl")
    except Exception:
        shacl = "?"
    return {"date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "machine": platform.machine() + " " + platform.system(),
            "cpus": os.cpu_count(), "loadavg": " ".join(f"{x:.2f}" for x in os.getloadavg()),
            "python": platform.python_version(), "pyoxigraph": pyoxigraph.__version__, "pyshacl": shacl}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10k,100k,1M", help="comma-separated sizes for (b), e.g. 10k,100k,1M,10M")
    ap.add_argument("--repeats", type=int, default=3, help="builds per size up to 1M (medians)")
    ap.add_argument("--real-repeats", type=int, default=5, help="alternating pairs for (a), >= 5")
    ap.add_argument("--query-repeats", type=int, default=5)
    ap.add_argument("--query-size", default="1M")
    ap.add_argument("--query-timeout", type=float, default=10.0, help="seconds; a slower query is reported as over it")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--server-duration", type=float, default=5.0)
    ap.add_argument("--skip", default="", help="comma-separated parts to skip: real,scale,phases,queries,server")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    skip = set(filter(None, args.skip.split(",")))
    args.out.mkdir(parents=True, exist_ok=True)
    cache = args.out / "data"
    cache.mkdir(exist_ok=True)
    sizes = [_size(s) for s in args.sizes.split(",") if s]
    doc: dict[str, Any] = {"environment": environment(), "argv": argv if argv is not None else sys.argv[1:],
                           "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
                           "targets": TARGETS}
    if "real" not in skip:
        log(f"(a) real graph versus the plain pipeline, {args.real_repeats} alternating pairs")
        doc["real"] = bench_real(args.real_repeats)
    if "scale" not in skip:
        log(f"(b) builds at {', '.join(label(n) for n in sizes)}")
        doc["scale"] = bench_scale(sizes, args.repeats, args.seed, cache)
    if "phases" not in skip:
        log("profile of the 1M build")
        doc["phases"] = bench_phases(data_folder(1_000_000, args.seed, cache), args.out / "profile-1m.txt")
    if "queries" not in skip:
        log(f"(c) saved queries on {args.query_size}")
        doc["queries"] = bench_queries(data_folder(_size(args.query_size), args.seed, cache), args.query_repeats,
                                       args.query_timeout)
    if "server" not in skip:
        log("(d) endpoint throughput")
        doc["server"] = bench_server(args.server_duration)
    doc["verdicts"] = verdicts(doc)
    (args.out / "results.json").write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (args.out / "RESULTS.md").write_text(markdown(doc), encoding="utf-8")
    plot(doc, args.out / "scale.png")
    log(f"wrote {args.out / 'RESULTS.md'}, results.json, scale.png")
    print(markdown(doc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
