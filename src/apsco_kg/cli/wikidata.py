"""`apsco-kg export …` and `apsco-kg wikidata …` (issue 5). Placeholder until the exports land."""

import click


@click.group()
def export() -> None:
    """Export the graph for Wikidata-style tools."""


@click.group()
def wikidata() -> None:
    """Compare the graph with a Wikidata-style endpoint."""
