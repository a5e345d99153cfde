"""Validation: the loader's provenance rules plus our SHACL shapes, as one report a curator can read.

`validate(kg, settings)` merges three kinds of finding into one `Report`:

* the loader's structural problems (a triple outside any GRAPH block, a blank node) — kg.problems;
* named graphs whose source is not declared — graph.undescribed_graphs(kg);
* SHACL results of ontology/shapes.ttl over the union of every graph (data + ontology + inferred).

SHACL is behind one small function, `run_shacl`, which uses the fast engine (apsco_kg.fastshacl)
where it provably gives pyshacl's results and pyshacl (`run_pyshacl`) otherwise. pyshacl is the
reference: it runs with OUR shapes only (never shapes a contributed file carries, security-risks.md C2), inference="none" (graph:inferred already holds the
RDFS closure), do_owl_imports=False (C1) and advanced=False (C3). Its data graph is built from
pyoxigraph N-Triples bytes with an explicit format, never from a path or URL string (B7).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import pyoxigraph as ox

from . import graph
from .graph import InputError, KnowledgeGraph
from .settings import Settings

SH = "http://www.w3.org/ns/shacl#"
SKOS_PREFLABEL = ox.NamedNode("http://www.w3.org/2004/02/skos/core#prefLabel")
RDFS_LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")

# rdflib's N-Triples parser is super-linear in the length of one line (a 2 MB literal takes ~12 s;
# measured with rdflib 7.6). No curated fact needs a statement this long, so refuse it before the
# conversion instead of letting a contribution run away. 32 KiB parses in about a millisecond.
MAX_STATEMENT_BYTES = 32 * 1024

SEVERITIES = {SH + "Violation": "Violation", SH + "Warning": "Warning", SH + "Info": "Info"}


@dataclass(frozen=True)
class ShaclResult:
    """One SHACL validation result, engine-neutral (what a replacement for pyshacl must produce)."""

    focus: str  # the focus node: an IRI, or _:id for a blank node
    path: str | None  # the property, as a full IRI (None for node-level constraints)
    message: str
    severity: str  # Violation | Warning | Info
    value: str | None  # the offending value in N-Triples form, if the constraint names one
    shape: str | None  # the named node shape the constraint belongs to


@dataclass(frozen=True)
class Entry:
    """One line of the report: which entity, which property, what is wrong, and which file(s)."""

    focus: str
    label: str | None
    path: str | None
    message: str
    severity: str
    value: str | None
    shape: str | None
    files: tuple[str, ...]

    def sort_key(self) -> tuple[str, ...]:
        return (self.files[0] if self.files else "", self.focus, self.path or "", self.message, self.value or "")


@dataclass(frozen=True)
class Report:
    entries: tuple[Entry, ...]
    triples: int  # distinct triples validated (the union of all graphs)

    @property
    def violations(self) -> int:
        return sum(1 for e in self.entries if e.severity == "Violation")

    @property
    def warnings(self) -> int:
        return sum(1 for e in self.entries if e.severity == "Warning")

    @property
    def conforms(self) -> bool:
        return self.violations == 0

    def to_json(self) -> dict[str, object]:
        return {
            "conforms": self.conforms,
            "triples": self.triples,
            "violations": self.violations,
            "warnings": self.warnings,
            "results": [dict(asdict(e), files=list(e.files)) for e in self.entries],
        }

    def to_text(self, limit: int = 200) -> str:
        """The readable report. At most `limit` entries; the JSON form always has all of them."""
        lines: list[str] = []
        for e in self.entries[:limit]:
            name = short(e.focus) + (f" ({e.label})" if e.label else "")
            where = f"  {short(e.path)}" if e.path else ""
            lines.append(f"{e.severity.upper()}: {name}{where}")
            lines.append(f"    {e.message}")
            if e.value is not None:
                lines.append(f"    value: {shorten_value(e.value)}")
            lines.append(f"    from: {', '.join(e.files) if e.files else '(not from a file)'}")
        if len(self.entries) > limit:
            lines.append(f"… and {len(self.entries) - limit:,} more (use --json to see all)")
        if self.conforms:
            summary = f"conforms: {self.triples:,} triples checked, no violations"
        else:
            summary = f"does not conform: {self.violations:,} violation(s) in {self.triples:,} triples"
        if self.warnings:
            summary += f", {self.warnings:,} warning(s)"
        lines.append(summary)
        return "\n".join(lines) + "\n"

    def dumps(self) -> str:
        return json.dumps(self.to_json(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def short(iri: str) -> str:
    """An IRI as a prefixed name where one of graph.PREFIXES fits (longest namespace wins)."""
    best = ""
    for prefix, ns in graph.PREFIXES.items():
        if iri.startswith(ns) and len(ns) > len(graph.PREFIXES.get(best, "")):
            best = prefix
    if best:
        return f"{best}:{iri[len(graph.PREFIXES[best]):]}"
    return iri if iri.startswith("_:") else f"<{iri}>"


def shorten_value(value: str, width: int = 120) -> str:
    return value if len(value) <= width else value[: width - 1] + "…"


# ---------------------------------------------------------------------------------------------
# The data graph for SHACL
# ---------------------------------------------------------------------------------------------
def union_ntriples(kg: KnowledgeGraph) -> bytes:
    """Every distinct triple of every graph (data + ontology + inferred), as N-Triples bytes."""
    result = kg.store.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", use_default_graph_as_union=True)
    assert isinstance(result, ox.QueryTriples)
    data = result.serialize(format=ox.RdfFormat.N_TRIPLES)
    assert data is not None
    if len(data) > MAX_STATEMENT_BYTES:
        _refuse_long_statements(kg, data)
    return data


def _refuse_long_statements(kg: KnowledgeGraph, data: bytes) -> None:
    # split and len run in C: one pass, no Python per line unless a line is too long (refused anyway).
    lines = data.split(b"\n")
    if max(map(len, lines)) <= MAX_STATEMENT_BYTES:
        return
    line = next(x for x in lines if len(x) > MAX_STATEMENT_BYTES)
    subject = line.split(b" ", 1)[0].decode("utf-8", "replace").strip("<>")
    files = sorted(kg.origins.get(subject, ())) or ["(input)"]
    raise InputError(
        files[0],
        f"a statement about {subject} is {len(line):,} bytes long, above the limit of "
        f"{MAX_STATEMENT_BYTES:,}: no curated fact needs text that long; shorten the literal",
    )


def _node_shapes_of_property_shapes(shapes: object) -> dict[object, object]:
    """Map each property shape (usually a blank node) to the named node shape that holds it."""
    from rdflib import URIRef

    owner: dict[object, object] = {}
    for node_shape, _, prop_shape in shapes.triples((None, URIRef(SH + "property"), None)):  # type: ignore[attr-defined]
        owner[prop_shape] = node_shape
    return owner


def _nt(term: object) -> str:
    from rdflib import BNode, Literal, URIRef

    if isinstance(term, URIRef):
        return str(term)
    if isinstance(term, BNode):
        return f"_:{term}"
    if isinstance(term, Literal):
        return str(term.n3())
    return str(term)


def run_shacl(kg: KnowledgeGraph, settings: Settings, *, refuse_long: bool = True) -> list[ShaclResult]:
    """Validate the union graph against ontology/shapes.ttl: the fast engine, else pyshacl.

    The fast engine (apsco_kg.fastshacl) gives pyshacl's exact results for the SHACL features it
    implements (tests/test_fast_validation.py compares both reports); for anything else, or a result
    that needs a message pyshacl would generate, the reference engine runs. refuse_long=False skips
    the MAX_STATEMENT_BYTES check where the caller makes it (the build checks the lines it writes).
    """
    from . import fastshacl

    if refuse_long:
        _refuse_long_statements_fast(kg)
    try:
        return fastshacl.shacl_results(kg, settings)
    except (fastshacl.Unsupported, fastshacl.NeedsReference):
        return run_pyshacl(kg, settings)


def _refuse_long_statements_fast(kg: KnowledgeGraph) -> None:
    """The MAX_STATEMENT_BYTES refusal of union_ntriples without serialising the graph.

    A statement line can only pass 32 KiB if one of its terms is over 1,000 characters (3 terms x
    1,000 characters x at most 6 bytes per escaped character < 32 KiB); only then is the exact check run.
    """
    long_term = kg.store.query(
        "ASK { ?s ?p ?o FILTER(STRLEN(STR(?o)) > 1000 || STRLEN(STR(?s)) > 1000 || STRLEN(STR(?p)) > 1000) }",
        use_default_graph_as_union=True)
    if long_term:
        union_ntriples(kg)


def run_pyshacl(kg: KnowledgeGraph, settings: Settings) -> list[ShaclResult]:
    """Validate the union graph against ontology/shapes.ttl with pyshacl (the reference engine)."""
    import pyshacl
    from rdflib import RDF, BNode, Graph, URIRef

    data = Graph()
    data.parse(data=union_ntriples(kg), format="nt")
    shapes = Graph()
    shapes.parse(data=settings.shapes_file.read_bytes(), format="turtle")
    _conforms, results, _text = pyshacl.validate(
        data,
        shacl_graph=shapes,
        ont_graph=None,
        inference="none",
        abort_on_first=False,
        allow_infos=True,
        allow_warnings=True,
        meta_shacl=False,
        advanced=False,
        do_owl_imports=False,
        js=False,
    )
    owner = _node_shapes_of_property_shapes(shapes)
    sh = lambda name: URIRef(SH + name)  # noqa: E731 - a tiny local shorthand
    out: list[ShaclResult] = []
    for result in results.subjects(RDF.type, sh("ValidationResult")):
        focus = results.value(result, sh("focusNode"))
        path = results.value(result, sh("resultPath"))
        severity = results.value(result, sh("resultSeverity"))
        value = results.value(result, sh("value"))
        source = results.value(result, sh("sourceShape"))
        messages = sorted(str(m) for m in results.objects(result, sh("resultMessage")))
        shape = source
        while isinstance(shape, BNode) and shape in owner:
            shape = owner[shape]
        out.append(ShaclResult(
            focus=_nt(focus),
            path=str(path) if isinstance(path, URIRef) else (None if path is None else _nt(path)),
            message="; ".join(messages) or "does not conform to the shape",
            severity=SEVERITIES.get(str(severity), "Violation"),
            value=None if value is None else _nt(value),
            shape=str(shape) if isinstance(shape, URIRef) else None,
        ))
    return out


# ---------------------------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------------------------
def english_label(kg: KnowledgeGraph, iri: str) -> str | None:
    """The entity's English name (else Chinese, else any rdfs:label), for the report."""
    if iri.startswith("_:"):
        return None
    node = ox.NamedNode(iri)
    found: dict[str, str] = {}
    for predicate in (SKOS_PREFLABEL, RDFS_LABEL):
        for q in kg.store.quads_for_pattern(node, predicate, None, None):
            lit = q.object
            if isinstance(lit, ox.Literal):
                lang = (lit.language or "").split("-")[0]
                # The smallest of several names in a language, so the report is the same every run.
                found[lang] = min(found.get(lang, lit.value), lit.value)
        if found:
            break
    return found.get("en") or found.get("zh") or next(iter(sorted(found.values())), None)


def files_of(kg: KnowledgeGraph, iri: str) -> tuple[str, ...]:
    files = kg.origins.get(iri)
    if files:
        return tuple(sorted(files))
    if not iri.startswith("_:") and next(kg.store.quads_for_pattern(ox.NamedNode(iri), None, None, graph.ONTOLOGY_GRAPH), None):
        return ("ontology/",)
    return ()


def _strip(term: str) -> str:
    """StructuralProblem.focus is str(term): <iri> or _:id. The report uses the bare IRI."""
    return term[1:-1] if term.startswith("<") and term.endswith(">") else term


def structural_entries(kg: KnowledgeGraph) -> list[Entry]:
    entries = [
        Entry(focus=_strip(p.focus), label=None, path=None, message=p.message, severity="Violation",
              value=None, shape="loader:provenance", files=(p.path,))
        for p in kg.problems
    ]
    for g in graph.undescribed_graphs(kg):
        # The files the graph's statements came from: look at the subjects inside the graph.
        files: set[str] = set()
        for q in kg.store.quads_for_pattern(None, None, None, ox.NamedNode(g)):
            if isinstance(q.subject, (ox.NamedNode, ox.BlankNode)):
                files |= kg.origins.get(q.subject.value, set())
            if len(files) > 0:
                break
        entries.append(Entry(
            focus=g, label=None, path=None, severity="Violation", value=None, shape="loader:provenance",
            message="this named graph holds facts but its source is not declared: describe it in graph:sources "
                    "with prov:wasDerivedFrom (docs/model.md, 'Provenance')",
            files=tuple(sorted(files)),
        ))
    return entries


def validate(kg: KnowledgeGraph, settings: Settings, *, for_build: bool = False) -> Report:
    """The full report: loader rules + SHACL, each finding with its entity's name and files.

    for_build: export.build runs this beside the dumps, which check MAX_STATEMENT_BYTES on the lines
    they write and count the distinct triples as they go; the report then says triples=-1 and the
    build puts its count in. Each of those scans costs 0.7 s at 1M triples.
    """
    entries = structural_entries(kg)
    for r in (run_shacl(kg, settings, refuse_long=False) if for_build else run_shacl(kg, settings)):
        entries.append(Entry(
            focus=r.focus, label=english_label(kg, r.focus), path=r.path, message=r.message,
            severity=r.severity, value=r.value, shape=r.shape, files=files_of(kg, r.focus),
        ))
    return Report(entries=tuple(sorted(set(entries), key=Entry.sort_key)),
                  triples=-1 if for_build else distinct_triples(kg))


def distinct_triples(kg: KnowledgeGraph) -> int:
    """Distinct triples of the union (a fact stated by both articles counts once), counted in Rust."""
    rows = kg.store.query(
        "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o } }",
        use_default_graph_as_union=True,
    )
    for row in rows:  # type: ignore[union-attr]
        return int(row["n"].value)
    return 0


def explain(err: InputError) -> InputError:
    """Reword the parser's messages a curator cannot act on."""
    msg = err.message
    if "LoadDocumentCallback" in msg or "remote context" in msg:
        return InputError(err.path, "the JSON-LD @context refers to a remote or local document; contexts are never "
                          "fetched: put the context object inline in the file", err.line, err.column)
    return err


def validate_files(settings: Settings, files: Iterable[Path] = (), fmt: str | None = None) -> Report:
    """Validate data/ (no files) or contributed files merged with the ontology. Raises InputError (exit 2)."""
    files = [Path(f) for f in files]
    try:
        kg = graph.load(settings, extra_files=files, data=not files, extra_format=fmt)
        return validate(kg, settings)
    except InputError as err:
        raise explain(err) from None
