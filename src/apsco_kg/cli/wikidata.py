"""`apsco-kg export …` and `apsco-kg wikidata …` (issue 5): thin wrappers over apsco_kg.wikidata."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import click

from .. import graph
from ..settings import Settings
from ..wikidata import batches, mapping, quickstatements, view, wikibase_json
from ..wikidata.diff import DEFAULT_ENDPOINT, DiffError, diff as run_diff
from ..wikidata.model import Status

_data = click.option("--data", "data_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
                     help="Data folder to load instead of data/.")
_out = click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
                    help="Write here instead of standard output.")
_created = click.option("--created", "created", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
                        help="TSV 'entity IRI<TAB>QID' of the items batch 1 created: writes batch 2.")
_reconciled = click.option("--reconciled", "reconciled", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                           default=None, help="TSV 'entity IRI<TAB>QID' of existing items found by reconciliation.")


def _load(data_dir: Path | None) -> graph.KnowledgeGraph:
    settings = Settings.from_env()
    if data_dir is not None:
        settings = settings.with_(data_dir=data_dir)
    try:
        return graph.load(settings)
    except graph.InputError as exc:
        raise click.ClickException(str(exc)) from None


def _qids(path: Path | None) -> dict[str, str]:
    if path is None:
        return {}
    try:
        return mapping.read_qid_file(path)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None


def _build(data_dir: Path | None, reconciled: Path | None, created: Path | None) -> mapping.Mapping:
    return mapping.build(_load(data_dir), _qids(reconciled), _qids(created))


def _emit(text: str, out: Path | None) -> None:
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")


def _report(batch: batches.Batch) -> None:
    """Say on stderr what was not written and why: nothing is dropped silently."""
    for note in batch.notes:
        click.echo(f"note: {note}", err=True)
    reasons = Counter(why for _, why in batch.held_back)
    for why, n in sorted(reasons.items()):
        click.echo(f"held back: {n} statement(s): {why}", err=True)
    creates = sum(e.create for e in batch.entries)
    click.echo(f"batch {2 if batch.second else 1}: {creates} CREATE, {len(batch.statements)} statements, "
               f"{len(batch.held_back)} held back", err=True)


@click.group()
def export() -> None:
    """Export the graph for Wikidata-style tools."""


@export.command("quickstatements")
@click.option("--format", "fmt", type=click.Choice(["v1", "csv"]), default="v1", show_default=True)
@_out
@_created
@_reconciled
@click.option("--created-template", "template", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the entity IRIs of the batch's CREATE blocks, in order, as a TSV to fill with the new QIDs.")
@_data
def export_quickstatements(fmt: str, out: Path | None, created: Path | None, reconciled: Path | None,
                           template: Path | None, data_dir: Path | None) -> None:
    """Every mapped statement as QuickStatements, with qualifiers and references."""
    m = _build(data_dir, reconciled, created)
    batch = batches.select(m)
    text = quickstatements.render_csv(batch) if fmt == "csv" else quickstatements.render_v1(batch)
    _emit(text, out)
    if template is not None:
        rows = [f"{e.item.ref.iri}\t" for e in batch.entries if e.create]
        template.write_text("# The n-th line is the n-th CREATE of the batch: put the QID it got after the TAB,\n"
                            "# then pass this file to --created for batch 2.\n" + "".join(r + "\n" for r in rows),
                            encoding="utf-8")
    _report(batch)


@export.command("wikibase-json")
@_out
@_created
@_reconciled
@_data
def export_wikibase_json(out: Path | None, created: Path | None, reconciled: Path | None, data_dir: Path | None) -> None:
    """A JSON array of Wikibase entities in the form wbeditentity takes (built offline with WikibaseIntegrator)."""
    m = _build(data_dir, reconciled, created)
    batch = batches.select(m)
    entities = wikibase_json.entities(batch)
    _emit(json.dumps(entities, ensure_ascii=False, indent=1) + "\n", out)
    _report(batch)


@export.command("wikidata-rdf")
@_out
@_created
@_reconciled
@_data
def export_wikidata_rdf(out: Path | None, created: Path | None, reconciled: Path | None, data_dir: Path | None) -> None:
    """The graph as Wikidata's RDF (wdt: truthy, p:/ps:/pq:/prov:wasDerivedFrom/pr: full statements), Turtle."""
    m = _build(data_dir, reconciled, created)
    _emit(view.turtle(m), out)


@click.group()
def wikidata() -> None:
    """Compare the graph with a Wikidata-style endpoint."""


@wikidata.command("unmapped")
@_data
def unmapped(data_dir: Path | None) -> None:
    """Entities without a confirmed QID (with their status) and ontology terms without a Wikidata counterpart."""
    m = _build(data_dir, None, None)
    click.echo("# entities without a confirmed Wikidata item")
    for iri, item in sorted(m.items.items()):
        if item.ref.status is not Status.CONFIRMED:
            label = item.labels.get("en") or item.labels.get("zh") or ""
            extra = f"\tsitelink {item.sitelink[0]}:{item.sitelink[1]}" if item.sitelink else ""
            click.echo(f"{item.ref.status.value}\t{iri}\t{label}{extra}")
    click.echo("# entities used by mapped statements but with no Wikidata status at all")
    seen: set[str] = set()
    for p in m.problems:
        if p.kind == "no-status" and p.node and p.node not in seen:
            seen.add(p.node)
            click.echo(f"no-status\t{p.node}\t(value of {p.message.split(' → ')[0].rsplit('#', 1)[-1]} on {p.subject})")
    click.echo("# ontology properties without apsco:wikidataProperty")
    for term in m.ontology.unmapped_properties:
        click.echo(f"property\t{term}")
    click.echo("# ontology classes without apsco:wikidataClass")
    for term in m.ontology.unmapped_classes:
        click.echo(f"class\t{term}")
    click.echo("# other problems")
    for p in m.problems:
        if p.kind != "no-status":
            click.echo(f"{p.kind}\t{p.subject}\t{p.message}")


@wikidata.command("diff")
@click.option("--endpoint", default=DEFAULT_ENDPOINT, show_default=True, help="A Wikidata-style SPARQL endpoint.")
@click.option("--timeout", type=float, default=60.0, show_default=True, help="Seconds before a query is abandoned.")
@_out
@_created
@_reconciled
@_data
def diff(endpoint: str, timeout: float, out: Path | None, created: Path | None, reconciled: Path | None,
         data_dir: Path | None) -> None:
    """Print, as QuickStatements, only the statements the endpoint lacks (or lacks qualifiers/references of)."""
    kg = _load(data_dir)
    try:
        result = run_diff(kg, endpoint, timeout, _qids(reconciled), _qids(created))
    except DiffError as exc:
        raise click.ClickException(str(exc)) from None
    _emit(result.quickstatements(), out)
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    counts = Counter(f.kind for f in result.findings)
    click.echo("diff: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) + f"; {result.present} present", err=True)
    sys.stdout.flush()
