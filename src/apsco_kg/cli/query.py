"""`apsco-kg query …` (issue 3). Placeholder until the query catalogue lands."""

import click


@click.group()
def query() -> None:
    """Run saved SPARQL queries against the graph or any SPARQL 1.1 endpoint."""
