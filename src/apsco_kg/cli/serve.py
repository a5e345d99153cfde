"""`apsco-kg serve` (issue 4): a thin wrapper over `apsco_kg.serve.run`."""

from __future__ import annotations

import click


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (loopback by default).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--base-url", default=None, help="URL where the server is reached, e.g. http://127.0.0.1:8000/; the IRI base maps onto it.")
@click.option("--timeout", "timeout_s", type=click.FloatRange(min=0.1), default=None,
              help="Wall-clock limit per SPARQL query in seconds [default: 30].")
@click.option("--row-cap", type=click.IntRange(min=1), default=None, help="Most rows/triples per answer [default: 10000].")
@click.option("--workers", type=click.IntRange(min=1), default=None, help="SPARQL worker processes [default: 4].")
def serve(host: str, port: int, base_url: str | None, timeout_s: float | None, row_cap: int | None,
          workers: int | None) -> None:
    """Serve the graph: SPARQL endpoint, dereferenceable IRIs, HTML pages."""
    from ..serve import run

    run(host, port, base_url=base_url, query_timeout_s=timeout_s, row_cap=row_cap, sparql_workers=workers)
