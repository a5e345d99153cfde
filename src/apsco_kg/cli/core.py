"""`apsco-kg validate` and `apsco-kg build` (issue 2). Placeholder until validate/export land."""

import click


@click.command()
@click.argument("files", nargs=-1)
def validate(files: tuple[str, ...]) -> None:
    """Validate data/ (or FILES) against the shapes."""
    raise click.ClickException("not implemented yet")


@click.command()
def build() -> None:
    """Load, validate and write the dumps."""
    raise click.ClickException("not implemented yet")
