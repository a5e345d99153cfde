"""`apsco-kg validate` and `apsco-kg build` (issue 2 §6). Thin wrappers over validate.py / export.py.

Exit codes, for both commands: 0 = conforms (and, for build, the dumps are written); 1 = the data
has violations (build writes nothing); 2 = an error: bad input (syntax error as file:line:column,
empty file, not RDF, wrong encoding, too large, unknown extension), or bad usage. Errors are one
line on stderr, never a traceback.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .. import export
from .. import validate as validation
from ..graph import InputError
from ..settings import Settings

EXIT_OK, EXIT_VIOLATIONS, EXIT_ERROR = 0, 1, 2
FORMATS = ["ttl", "trig", "nt", "nq", "jsonld", "rdf"]

EXIT_HELP = (
    "\b\nExit codes:\n"
    "  0  the data conforms\n"
    "  1  violations (printed as a report: entity, property, what is wrong, file)\n"
    "  2  error: unreadable input (file:line:column: message) or bad usage"
)


def _settings(data_dir: Path | None) -> Settings:
    settings = Settings.from_env()
    return settings.with_(data_dir=data_dir) if data_dir is not None else settings


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_ERROR)


@click.command(epilog=EXIT_HELP)
@click.argument("files", nargs=-1, type=click.Path(path_type=Path, dir_okay=True))
@click.option("--data", "data_dir", type=click.Path(path_type=Path), default=None,
              help="Data folder to validate instead of data/ (not with FILEs).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="RDF format of the FILEs (default: from each file's extension).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def validate(files: tuple[Path, ...], data_dir: Path | None, fmt: str | None, as_json: bool) -> None:
    """Validate data/ (or FILEs, merged with the ontology) against ontology/shapes.ttl.

    FILEs are untrusted contributions: they are parsed as bytes with an explicit format, checked
    only against our shapes (never shapes they carry) and cannot make the validator fetch anything.
    """
    if files and data_dir is not None:
        _fail("give either FILEs or --data, not both")
    if fmt and not files:
        _fail("--format applies to FILEs; data/ files are read by their extension")
    try:
        report = validation.validate_files(_settings(data_dir), files, fmt)
    except InputError as err:
        _fail(str(err))
        return
    click.echo(report.dumps() if as_json else report.to_text(), nl=False)
    sys.exit(EXIT_OK if report.conforms else EXIT_VIOLATIONS)


@click.command(epilog=EXIT_HELP.replace("the data conforms", "the data conforms and the dumps are written")
               .replace("violations (", "violations, nothing written (")
               .replace("or bad usage", "bad usage, or the dumps cannot be written"))
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), default=Path("dist"),
              show_default=True, help="Folder for the dumps.")
@click.option("--data", "data_dir", type=click.Path(path_type=Path), default=None,
              help="Data folder to build instead of data/.")
@click.option("--json", "as_json", is_flag=True, help="Print the result (files, sizes, sha256) as JSON.")
def build(out_dir: Path, data_dir: Path | None, as_json: bool) -> None:
    """Load, validate and write the dumps (Turtle, N-Triples, JSON-LD, TriG, N-Quads, VoID).

    Invalid data is never published: the report is printed, exit 1, and the existing dumps stay.
    Every file is written to a temporary file first and renamed into place.
    """
    try:
        result = export.build(_settings(data_dir), out_dir)
    except InputError as err:
        _fail(str(err))
        return
    except OSError as err:
        _fail(f"cannot write the dumps to {out_dir}: {err.strerror or err}")
        return
    if not result.published:
        click.echo(result.report.to_text(), nl=False, err=True)
        click.echo(f"refused to publish: the data does not conform; {out_dir} is unchanged", err=True)
        sys.exit(EXIT_VIOLATIONS)
    if as_json:
        payload = {"out": str(out_dir), "triples": result.report.triples,
                   "files": {n: {"bytes": f.size, "sha256": f.sha256} for n, f in sorted(result.files.items())}}
        click.echo(json.dumps(payload, indent=2, sort_keys=True))
    else:
        for name, info in sorted(result.files.items()):
            click.echo(f"{out_dir / name}  {info.size:,} bytes  sha256 {info.sha256[:16]}…")
        click.echo(f"built: {len(result.files)} files in {out_dir}")
    sys.exit(EXIT_OK)
