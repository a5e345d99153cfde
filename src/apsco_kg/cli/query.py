"""`apsco-kg query list|show|run`: the saved-query catalogue from the command line.

Exit codes: 0 success; 2 the input is wrong (malformed query, unknown name, bad parameter or
format); 1 the endpoint failed (unreachable, HTTP error, not a SPARQL result, timeout).
Every error is one line on stderr, never a traceback.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import NoReturn

import click

from .. import graph, queries, results
from ..settings import Settings


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"Error: {' '.join(str(message).split())}", err=True)
    sys.exit(code)


def _write(data: bytes) -> None:
    # Bytes, not str: click writes bytes to the binary stream as they are, so the output is UTF-8
    # whatever the terminal's locale says and Chinese labels print intact.
    try:
        click.echo(data, nl=False)
    except BrokenPipeError:
        # `… | head` closed the pipe early: not an error. Point stdout at /dev/null so the
        # interpreter's final flush does not raise again (the recipe in the `signal` docs).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)


def _settings() -> Settings:
    return Settings.from_env()


@click.group()
def query() -> None:
    """Run saved SPARQL queries against the graph or any SPARQL 1.1 endpoint."""


@query.command("list")
@click.option("--format", "-f", "fmt", type=click.Choice(["table", "json", "md"]), default="table", show_default=True)
def list_queries(fmt: str) -> None:
    """List the saved queries: name, title and parameters (with their defaults)."""
    try:
        items = queries.catalogue(_settings())
    except queries.QueryError as exc:
        _fail(str(exc), exc.exit_code)
    if fmt == "json":
        doc = [
            {
                "name": q.name,
                "title": q.title,
                "description": q.description,
                "row": q.row,
                "kind": q.kind,
                "questions": list(q.questions),
                "params": [
                    {"name": p.name, "type": p.type, "class": p.rdf_class, "default": p.default, "description": p.description}
                    for p in q.params
                ],
            }
            for q in items
        ]
        _write((json.dumps(doc, ensure_ascii=False, indent=1) + "\n").encode("utf-8"))
        return
    rows = [[q.name, q.title, " ".join(p.describe() for p in q.params)] for q in items]
    if fmt == "md":
        lines = ["| name | title | parameters |", "|---|---|---|"]
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows]
        _write(("\n".join(lines) + "\n").encode("utf-8"))
        return
    _write(results.catalogue_table(rows, ["name", "title", "parameters"]).encode("utf-8"))
    _write(f"({len(items)} saved queries; `apsco-kg query show NAME` prints one)\n".encode("utf-8"))


@query.command()
@click.argument("name")
def show(name: str) -> None:
    """Print a saved query: its header (title, description, parameters, rows) and its SPARQL."""
    try:
        saved = queries.get(name, _settings())
    except queries.QueryError as exc:
        _fail(str(exc), exc.exit_code)
    _write(saved.text.encode("utf-8"))


def _params(pairs: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            _fail(f"--param takes NAME=VALUE, got {pair!r}", 2)
        if key.strip() in out:
            _fail(f"parameter {key.strip()!r} is given twice", 2)
        out[key.strip()] = value
    return out


@query.command()
@click.argument("name", required=False)
@click.option("--file", "file_", type=click.Path(path_type=Path), help="Run the query in this .rq file instead of a saved one.")
@click.option("--param", "-p", "param_pairs", multiple=True, metavar="NAME=VALUE", help="Set a parameter (repeatable).")
@click.option(
    "--format", "-f", "fmt", type=click.Choice(results.ALL_FORMATS, case_sensitive=False), default=None,
    help="SELECT/ASK: table (default), csv, tsv, json, xml, md. CONSTRUCT/DESCRIBE: ttl (default), nt, jsonld.",
)
@click.option("--endpoint", metavar="URL", help="Run against this SPARQL 1.1 endpoint instead of the local graph.")
@click.option("--timeout", type=float, default=30.0, show_default=True, help="Seconds to wait for the answer.")
@click.option(
    "--method", type=click.Choice(["GET", "POST"], case_sensitive=False), default="GET", show_default=True,
    help="HTTP method for --endpoint (POST sends a form-encoded query=; never an update).",
)
def run(
    name: str | None,
    file_: Path | None,
    param_pairs: tuple[str, ...],
    fmt: str | None,
    endpoint: str | None,
    timeout: float,
    method: str,
) -> None:
    """Run saved query NAME (or --file my.rq) on the local graph or on --endpoint URL."""
    if (name is None) == (file_ is None):
        _fail("give either a saved query NAME or --file PATH", 2)
    settings = _settings()
    try:
        if file_ is not None:
            try:
                text = file_.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                _fail(f"{file_}: cannot read the query ({exc.__class__.__name__}: {exc})", 2)
            saved = queries.parse_saved_query(text, file_.stem, file_)
        else:
            saved = queries.get(name or "", settings)
        answer = queries.run(
            saved, _params(param_pairs), endpoint=endpoint, settings=settings, timeout=timeout, method=method.upper()
        )
        _write(results.render(answer, fmt))
    except queries.QueryError as exc:
        _fail(str(exc), exc.exit_code)
    except graph.InputError as exc:
        _fail(f"cannot load the graph: {exc}", 2)
