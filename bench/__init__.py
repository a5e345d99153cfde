"""Benchmarks and the synthetic graph generator (issue 6). Run: `.venv/bin/python -m bench.run`."""
