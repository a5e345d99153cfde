"""Every saved query (queries/*.rq) on one loaded graph: median and worst of N runs each.

    .venv/bin/python -m bench.query_bench --data DIR [--repeats 5] [--start 0] [--timeout 10]

Loads the graph once (graph.load, as the server does) and runs each query through
apsco_kg.queries.run with its default parameters, so the timing includes parameter binding and
turning the answer into rows, as `apsco-kg query` and the endpoint do. Prints one JSON line per
query. pyoxigraph cannot cancel a query, so after a timeout this process exits with code 3 (the
abandoned query would otherwise keep a core busy under the next measurements) and the caller
starts a fresh one at the next query.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

TIMED_OUT = 3


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--start", type=int, default=0, help="index of the first query to run (after a timeout)")
    ap.add_argument("--timeout", type=float, default=10.0)
    args = ap.parse_args(argv)

    from apsco_kg import graph, queries
    from apsco_kg.settings import Settings

    settings = Settings().with_(data_dir=args.data)
    t = time.perf_counter()
    kg = graph.load(settings)
    load_s = time.perf_counter() - t
    catalogue = queries.catalogue(settings)
    # The first query in a process pays queries.py's one-time set-up on this graph (15 s at 1M, most
    # of it resolving labels); it is reported apart, as a server pays it once at start-up.
    t = time.perf_counter()
    queries.run(catalogue[0], kg=kg, settings=settings, timeout=600)
    print(json.dumps({"load_s": load_s, "first_query_s": time.perf_counter() - t, "quads": len(kg)}), flush=True)
    for index in range(args.start, len(catalogue)):
        q = catalogue[index]
        times: list[float] = []
        n_rows: int | None = None
        error = None
        for _ in range(args.repeats):
            t = time.perf_counter()
            try:
                result = queries.run(q, kg=kg, settings=settings, timeout=args.timeout)
            except queries.QueryTimeout:
                print(json.dumps({"index": index, "query": q.name, "median_s": None, "max_s": None, "rows": None,
                                  "error": f"timeout: over {args.timeout:g} s"}), flush=True)
                return TIMED_OUT
            except Exception as exc:  # a failing query is a result to report, not a crash
                error = f"{type(exc).__name__}: {exc}"
                break
            times.append(time.perf_counter() - t)
            n_rows = len(result)
        print(json.dumps({"index": index, "query": q.name, "median_s": statistics.median(times) if times else None,
                          "max_s": max(times) if times else None, "rows": n_rows, "error": error}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
