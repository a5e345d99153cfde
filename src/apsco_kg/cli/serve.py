"""`apsco-kg serve` (issue 4). Placeholder until the server lands."""

import click


@click.command()
def serve() -> None:
    """Serve the graph: SPARQL endpoint, dereferenceable IRIs, HTML pages."""
    raise click.ClickException("not implemented yet")
