"""The `apsco-kg` command. Each command is a thin wrapper over a plain function the tests call."""

from __future__ import annotations

import click

from .. import __version__
from . import core, query, serve, wikidata


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="apsco-kg")
def main() -> None:
    """The APSCO knowledge graph: validate, build, query, serve and export it."""


main.add_command(core.validate)
main.add_command(core.build)
main.add_command(query.query)
main.add_command(serve.serve)
main.add_command(wikidata.export)
main.add_command(wikidata.wikidata)
