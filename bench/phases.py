"""Where a build's time goes: the build's own steps timed one by one, and a cProfile of the whole.

    .venv/bin/python -m bench.phases --data DIR [--profile OUT.txt]

Prints JSON {"phases": {step: seconds}, "total_s": …}. The steps are the functions export.build
calls (graph.load, validate.validate, export.write_dumps), with graph.load split into parsing and
the RDFS closure by timing graph.add_rdfs_closure where load calls it.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import sys
import tempfile
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--profile", type=Path, default=None, help="write the top of a cProfile here")
    args = ap.parse_args(argv)

    from apsco_kg import export, graph, validate
    from apsco_kg.settings import Settings

    settings = Settings().with_(data_dir=args.data)
    phases: dict[str, float] = {}
    closure_time = [0.0]
    name = "add_rdfs_closure" if hasattr(graph, "add_rdfs_closure") else "rdfs_closure"
    original_closure = getattr(graph, name)

    def timed_closure(store: object) -> object:
        t = time.perf_counter()
        try:
            return original_closure(store)
        finally:
            closure_time[0] += time.perf_counter() - t

    setattr(graph, name, timed_closure)
    profiler = cProfile.Profile() if args.profile else None
    with tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        if profiler:
            profiler.enable()
        t = time.perf_counter()
        kg = graph.load(settings)
        phases["load: parse + store + provenance checks"] = time.perf_counter() - t - closure_time[0]
        phases["load: RDFS closure"] = closure_time[0]
        t = time.perf_counter()
        report = validate.validate(kg, settings)
        phases["validate (SHACL + report)"] = time.perf_counter() - t
        t = time.perf_counter()
        export.write_dumps(kg, settings, Path(out))
        phases["write every dump"] = time.perf_counter() - t
        if profiler:
            profiler.disable()
        total = time.perf_counter() - t0
    if profiler and args.profile:
        buf = io.StringIO()
        stats = pstats.Stats(profiler, stream=buf)
        stats.sort_stats("cumulative").print_stats(35)
        buf.write("\n\n=== by own time ===\n")
        stats.sort_stats("tottime").print_stats(25)
        args.profile.write_text(buf.getvalue(), encoding="utf-8")
    print(json.dumps({"phases": phases, "total_s": total, "conforms": report.conforms, "quads": len(kg)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
