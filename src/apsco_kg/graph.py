"""Loading the knowledge graph: strict parsing, the provenance rules, and the RDFS closure.

Everything the graph says lives in data/ (facts, as TriG named graphs per source) and ontology/
(terms). This module turns those files into one in-memory pyoxigraph Store:

* every data quad sits in a named graph that the sources graph describes (prov:wasDerivedFrom);
* the ontology is loaded into GRAPH <…/graph/ontology> so queries can read labels of terms;
* the RDFS closure (subClassOf / subPropertyOf of our ontology, including the alignments to ORG,
  schema.org, SKOS, Dublin Core and PROV) goes into GRAPH <…/graph/inferred>, so a query in any
  of those vocabularies works without a reasoner.

Files are parsed as bytes with an explicit format (never as a path or URL string handed to a
library that might fetch it), with pyoxigraph, whose parsers are strict and linear-time.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import pyoxigraph as ox

from .settings import GRAPH, ID, ONTOLOGY, Settings

Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple
H = TypeVar("H", bound=Hashable)
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
SUBCLASS = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#subClassOf")
SUBPROP = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#subPropertyOf")
WAS_DERIVED_FROM = ox.NamedNode("http://www.w3.org/ns/prov#wasDerivedFrom")

ONTOLOGY_GRAPH = ox.NamedNode(GRAPH + "ontology")
INFERRED_GRAPH = ox.NamedNode(GRAPH + "inferred")
SOURCES_GRAPH = ox.NamedNode(GRAPH + "sources")
CURATION_GRAPH = ox.NamedNode(GRAPH + "curation")
# Graphs whose triples are not statements of an article: the machinery around the facts.
NON_ARTICLE_GRAPHS = frozenset({ONTOLOGY_GRAPH, INFERRED_GRAPH, SOURCES_GRAPH, CURATION_GRAPH})

FORMATS: dict[str, ox.RdfFormat] = {
    ".ttl": ox.RdfFormat.TURTLE,
    ".trig": ox.RdfFormat.TRIG,
    ".nt": ox.RdfFormat.N_TRIPLES,
    ".nq": ox.RdfFormat.N_QUADS,
    ".jsonld": ox.RdfFormat.JSON_LD,
    ".json": ox.RdfFormat.JSON_LD,
    ".rdf": ox.RdfFormat.RDF_XML,
    ".owl": ox.RdfFormat.RDF_XML,
    ".xml": ox.RdfFormat.RDF_XML,
}

PREFIXES: dict[str, str] = {
    "apsco": ONTOLOGY,
    "id": ID,
    "graph": GRAPH,
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "org": "http://www.w3.org/ns/org#",
    "schema": "http://schema.org/",
    "dcterms": "http://purl.org/dc/terms/",
    "prov": "http://www.w3.org/ns/prov#",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "time": "http://www.w3.org/2006/time#",
    "vann": "http://purl.org/vocab/vann/",
    "wd": "http://www.wikidata.org/entity/",
}

_DTD = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)


class InputError(Exception):
    """Bad input: a file that cannot be read as the RDF it claims to be. CLI exit code 2."""

    def __init__(self, path: Path | str, message: str, line: int | None = None, column: int | None = None):
        self.path = str(path)
        self.message = message
        self.line = line
        self.column = column
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.path
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {self.message}"


def format_for(path: Path, explicit: str | None = None) -> ox.RdfFormat:
    if explicit:
        key = explicit if explicit.startswith(".") else "." + explicit
        key = {".turtle": ".ttl", ".ntriples": ".nt", ".nquads": ".nq", ".json-ld": ".jsonld", ".xml": ".rdf"}.get(key, key)
        if key in FORMATS:
            return FORMATS[key]
        raise InputError(path, f"unknown format {explicit!r}; use one of ttl, trig, nt, nq, jsonld, rdf")
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(
            path,
            f"cannot tell the RDF format from the extension {path.suffix or '(none)'!r}; "
            "name the file .ttl, .trig, .nt, .nq, .jsonld or .rdf, or pass --format",
        )
    return fmt


def _line_col(data: bytes, offset: int) -> tuple[int, int]:
    line = data.count(b"\n", 0, offset) + 1
    column = offset - (data.rfind(b"\n", 0, offset) + 1) + 1
    return line, column


def _checked_bytes(data: bytes, path: Path | str, fmt: ox.RdfFormat, max_bytes: int) -> bytes:
    """The refusals that come before any parser sees untrusted bytes; returns them without a BOM."""
    if not data.strip():
        raise InputError(path, "the file is empty: an RDF file needs at least one statement")
    if len(data) > max_bytes:
        raise InputError(path, f"the file is {len(data):,} bytes, above the limit of {max_bytes:,}; split it")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, col = _line_col(data, exc.start)
        raise InputError(
            path, f"not UTF-8: byte 0x{data[exc.start]:02x} cannot be decoded; save the file as UTF-8", line, col
        ) from None
    if fmt == ox.RdfFormat.RDF_XML:
        m = _DTD.search(data)
        if m:
            line, col = _line_col(data, m.start())
            # pyoxigraph 0.5 expands entity bombs (security-risks.md B3): refuse any DTD outright.
            raise InputError(path, "DOCTYPE and ENTITY declarations are refused in RDF/XML; remove the DTD", line, col)
    return data


def _parse_error(exc: Exception, path: Path | str, fmt: ox.RdfFormat) -> InputError:
    if isinstance(exc, SyntaxError):
        line = exc.lineno if isinstance(exc.lineno, int) else None
        col = exc.offset if isinstance(exc.offset, int) else None
        msg = str(exc.msg or exc)
        msg = re.sub(r"^Parser error at line \d+ between columns \d+ and \d+: ", "", msg)
        msg = re.sub(r"^Parser error at line \d+ column \d+: ", "", msg)
        return InputError(path, f"syntax error: {msg}", line, col)
    return InputError(path, f"cannot parse as {fmt.name}: {exc}")


def parse_bytes(data: bytes, path: Path | str, fmt: ox.RdfFormat, max_bytes: int) -> list[ox.Quad]:
    """Parse untrusted bytes. Raises InputError naming file, line and column, never a traceback."""
    data = _checked_bytes(data, path, fmt, max_bytes)
    try:
        return list(ox.parse(data, format=fmt))
    except (SyntaxError, ValueError, OSError, MemoryError) as exc:
        raise _parse_error(exc, path, fmt) from None


def load_bytes(store: ox.Store, data: bytes, path: Path | str, fmt: ox.RdfFormat, max_bytes: int) -> None:
    """parse_bytes straight into a store: the same refusals and errors, no Python object per quad.

    Store.load parses and inserts inside pyoxigraph, 2x faster than parse_bytes + bulk_extend at 1M
    triples (bench/, issue 6). On a syntax error the build stops, so a partly loaded store is dropped.
    """
    data = _checked_bytes(data, path, fmt, max_bytes)
    try:
        store.load(data, format=fmt)
    except (SyntaxError, ValueError, OSError, MemoryError) as exc:
        raise _parse_error(exc, path, fmt) from None


def _read_checked(path: Path, settings: Settings) -> bytes:
    try:
        size = path.stat().st_size
        if size > settings.max_input_bytes:
            raise InputError(path, f"the file is {size:,} bytes, above the limit of {settings.max_input_bytes:,}; split it")
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(path, "no such file") from None
    except IsADirectoryError:
        raise InputError(path, "is a folder; name RDF files, or use --data for a data folder") from None
    except PermissionError:
        raise InputError(path, "permission denied") from None


def read_rdf(path: Path, settings: Settings, fmt: str | None = None) -> list[ox.Quad]:
    rdf_format = format_for(path, fmt)
    return parse_bytes(_read_checked(path, settings), path, rdf_format, settings.max_input_bytes)


def load_rdf(store: ox.Store, path: Path, settings: Settings, fmt: str | None = None) -> None:
    """read_rdf into a store (see load_bytes)."""
    rdf_format = format_for(path, fmt)
    load_bytes(store, _read_checked(path, settings), path, rdf_format, settings.max_input_bytes)


def rdf_files(folder: Path) -> list[Path]:
    """The RDF files of a folder, in a stable order (so builds are reproducible)."""
    if not folder.is_dir():
        raise InputError(folder, "no such data folder")
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in FORMATS)


def add_union_default_graph(store: ox.Store) -> ox.Store:
    """Set the store's default graph to the RDF merge of all its graphs; returns the store.

    SPARQL's union default graph is a set. pyoxigraph's use_default_graph_as_union yields a triple
    once per graph holding it, and our model writes a fact both articles state into both graphs, so
    `SELECT * { ?s ?p ?o }` would answer it twice. The store de-duplicates the merge; the update runs
    inside pyoxigraph (a Python loop over the quads costs seconds at a million triples).
    """
    store.update("INSERT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }")
    return store


@dataclass
class KnowledgeGraph:
    """The loaded dataset plus where each subject came from (for validation reports).

    Treat it as read-only once loaded: the query store is derived from it on first use.
    """

    store: ox.Store
    # The files loaded, in order, with their explicit format (None: by extension).
    files: list[tuple[Path, str | None]] = field(default_factory=list)
    settings: Settings | None = field(default=None, repr=False, compare=False)
    _query_store: ox.Store | None = field(default=None, repr=False, compare=False)
    _origins: dict[str, set[str]] | None = field(default=None, repr=False, compare=False)
    _problems: list[StructuralProblem] | None = field(default=None, repr=False, compare=False)

    @property
    def problems(self) -> list[StructuralProblem]:
        """Breaches of the provenance rules in the loaded files (store_provenance_problems).

        Worked out on first use: `apsco-kg build` asks in its validation child, beside the dumps."""
        if self._problems is None:
            self._problems = store_provenance_problems(self.store, self.files, self.settings or Settings())
        return self._problems

    @property
    def origins(self) -> dict[str, set[str]]:
        """subject IRI -> the files stating something about it, for reports (which file to fix).

        Only a report with findings needs it, so it is worked out on first use by parsing the files
        again, not while loading: at 1M triples that Python pass over every quad cost a second of
        every build, conforming or not.
        """
        if self._origins is None:
            origins: dict[str, set[str]] = defaultdict(set)
            settings = self.settings or Settings()
            for path, fmt in self.files:
                where = str(path)
                try:
                    quads = read_rdf(path, settings, fmt)
                except InputError:  # changed or gone since it was loaded: it cannot be attributed
                    continue
                for subject in {str(q.subject.value) for q in quads if not isinstance(q.subject, ox.Triple)}:
                    origins[subject].add(where)
            self._origins = origins
        return self._origins

    @property
    def query_store(self) -> ox.Store:
        """The named graphs plus their merge as the default graph: what SPARQL queries run on."""
        if self._query_store is None:
            merged = ox.Store()
            merged.bulk_load(self.store.dump(format=ox.RdfFormat.N_QUADS), format=ox.RdfFormat.N_QUADS)
            self._query_store = add_union_default_graph(merged)
        return self._query_store

    def quads(self, graph: ox.NamedNode | None = None) -> Iterator[ox.Quad]:
        return self.store.quads_for_pattern(None, None, None, graph)

    def data_quads(self) -> Iterator[ox.Quad]:
        """The curated quads: everything but the ontology and the inferred closure."""
        for q in self.store:
            if q.graph_name not in (ONTOLOGY_GRAPH, INFERRED_GRAPH):
                yield q

    def query(self, sparql: str, substitutions: dict[str, Term] | None = None) -> object:
        subs = {ox.Variable(k): v for k, v in (substitutions or {}).items()}
        return self.query_store.query(sparql, substitutions=subs or None, prefixes=PREFIXES)

    def __len__(self) -> int:
        return len(self.store)


@dataclass(frozen=True)
class StructuralProblem:
    """A breach of the provenance rules, reported like a SHACL violation (exit 1), not an input error."""

    path: str
    focus: str
    message: str


def provenance_problems(quads: list[ox.Quad], path: Path) -> list[StructuralProblem]:
    problems: list[StructuralProblem] = []
    blank = ox.BlankNode
    for q in quads:
        g = q.graph_name
        if isinstance(g, ox.DefaultGraph):
            problems.append(StructuralProblem(
                str(path), str(q.subject),
                f"the statement {q.subject} {q.predicate} {q.object} is outside any GRAPH block; "
                "put it in the named graph of the source that states it (docs/model.md, 'Provenance')"))
        # Inline tests, not any(<generator>): this loop runs once per quad of every file.
        elif isinstance(q.subject, blank) or isinstance(q.object, blank) or isinstance(g, blank):
            problems.append(StructuralProblem(
                str(path), str(q.subject),
                f"blank node in {q.subject} {q.predicate} {q.object}: give the node an IRI under {ID} "
                "so dumps stay byte-stable and the node dereferences"))
    return problems


def load_ontology(settings: Settings) -> list[ox.Quad]:
    quads: list[ox.Quad] = []
    for path in sorted(settings.ontology_dir.glob("*.ttl")):
        if path.name == "shapes.ttl":
            continue
        for q in read_rdf(path, settings):
            quads.append(ox.Quad(q.subject, q.predicate, q.object, ONTOLOGY_GRAPH))
    return quads


def transitive_closure(direct: Mapping[H, Iterable[H]]) -> dict[H, set[H]]:
    """node -> every node reachable from it by one or more steps (itself left out), for each node
    with direct links: the subclass and subproperty hierarchies (also used by bench/plain.py)."""
    result: dict[H, set[H]] = {}
    for start in direct:
        seen: set[H] = set()
        todo = list(direct[start])
        while todo:
            t = todo.pop()
            if t not in seen and t != start:
                seen.add(t)
                todo.extend(direct.get(t, ()))
        result[start] = seen
    return result


def _hierarchy(store: ox.Store) -> tuple[dict[Term, set[Term]], dict[Term, set[Term]]]:
    """(class -> all its superclasses, property -> all its superproperties), from every graph."""
    sub_class: dict[Term, set[Term]] = defaultdict(set)
    sub_prop: dict[Term, set[Term]] = defaultdict(set)
    for q in store.quads_for_pattern(None, SUBCLASS, None, None):
        sub_class[q.subject].add(q.object)
    for q in store.quads_for_pattern(None, SUBPROP, None, None):
        sub_prop[q.subject].add(q.object)
    return transitive_closure(sub_class), transitive_closure(sub_prop)


def add_rdfs_closure(store: ox.Store) -> None:
    """Put rdfs_closure(store) into graph:inferred, computed inside pyoxigraph (no Python per quad).

    The same entailments as rdfs_closure, as two SPARQL updates over the hierarchy computed in
    Python: property entailments from every graph but ontology/inferred (the default graph
    included); then rdf:type entailments from asserted and property-inferred types; each leaving
    out what a graph already states. ~3x faster than building the quads in Python at 1M triples.
    """
    supers, super_props = _hierarchy(store)
    o, i = str(ONTOLOGY_GRAPH), str(INFERRED_GRAPH)
    prop_pairs = " ".join(f"({p} {u})" for p, ups in super_props.items() if isinstance(p, ox.NamedNode)
                          for u in ups if isinstance(u, ox.NamedNode))
    class_pairs = " ".join(f"({c} {u})" for c, ups in supers.items() if not isinstance(c, ox.BlankNode)
                           for u in ups if not isinstance(u, ox.BlankNode))
    if any(isinstance(t, ox.BlankNode) for ups in (*supers.values(), *super_props.values()) for t in ups) or any(
            isinstance(t, ox.BlankNode) for t in (*supers, *super_props)):
        store.bulk_extend(rdfs_closure(store))  # a blank node in a SPARQL VALUES would be a variable
        return
    # A triple some graph already states is not inferred again: FILTER NOT EXISTS in the inserts
    # costs 0.9 s at 1M triples where a DELETE pass afterwards cost 1.5 s.
    if prop_pairs:
        store.update(f"INSERT {{ GRAPH {i} {{ ?s ?sup ?o }} }} WHERE {{ VALUES (?p ?sup) {{ {prop_pairs} }} "
                     f"{{ GRAPH ?g {{ ?s ?p ?o }} FILTER(?g != {o} && ?g != {i}) }} UNION {{ ?s ?p ?o }} "
                     f"FILTER NOT EXISTS {{ {{ GRAPH ?h {{ ?s ?sup ?o }} }} UNION {{ ?s ?sup ?o }} }} }}")
    if class_pairs:
        store.update(f"INSERT {{ GRAPH {i} {{ ?s a ?sup }} }} WHERE {{ VALUES (?c ?sup) {{ {class_pairs} }} "
                     f"{{ GRAPH ?g {{ ?s a ?c }} FILTER(?g != {o}) }} UNION {{ ?s a ?c }} "
                     f"FILTER NOT EXISTS {{ {{ GRAPH ?h {{ ?s a ?sup }} }} UNION {{ ?s a ?sup }} }} }}")


def rdfs_closure(store: ox.Store) -> list[ox.Quad]:
    """rdf:type and property entailments of rdfs:subClassOf / rdfs:subPropertyOf (RDFS rules 7, 9, 11, 5).

    Computed in Python over the (small) ontology hierarchy. On the data side only the quads that can
    entail something are read, by index: those of a sub-property, and the rdf:type quads of a subclass;
    and only the inferred predicates are read to drop what is already stated.
    """
    supers, super_props = _hierarchy(store)
    skip = (ONTOLOGY_GRAPH, INFERRED_GRAPH)
    inferred: set[ox.Triple] = set()
    for prop, ups in super_props.items():
        if not ups or not isinstance(prop, ox.NamedNode):  # a blank node is never a predicate
            continue
        for q in store.quads_for_pattern(None, prop, None, None):
            if q.graph_name in skip:
                continue
            s, o = q.subject, q.object
            for p in ups:
                if isinstance(p, ox.NamedNode):  # only an IRI can be a predicate
                    inferred.add(ox.Triple(s, p, o))
    # Types come from asserted and from property-inferred rdf:type triples alike.
    typed = [(q.subject, cls) for cls, ups in supers.items() if ups
             for q in store.quads_for_pattern(None, RDF_TYPE, cls, None) if q.graph_name not in skip]
    if any(RDF_TYPE in ups for ups in super_props.values()):
        typed += [(t.subject, t.object) for t in inferred if t.predicate == RDF_TYPE]
    for subject, cls in typed:
        for sup in supers.get(cls, ()):
            inferred.add(ox.Triple(subject, RDF_TYPE, sup))
    # Drop what a graph other than graph:inferred already states (only inferred predicates can match).
    for p in {t.predicate for t in inferred}:
        for q in store.quads_for_pattern(None, p, None, None):
            if q.graph_name != INFERRED_GRAPH:
                inferred.discard(ox.Triple(q.subject, q.predicate, q.object))
    return [ox.Quad(t.subject, t.predicate, t.object, INFERRED_GRAPH) for t in inferred]


def load(
    settings: Settings | None = None, extra_files: Iterable[Path] = (), *, data: bool = True,
    extra_format: str | None = None,
) -> KnowledgeGraph:
    """Load ontology + data folder (+ extra files) into one store and add the inferred graph.

    extra_format names the RDF format of the extra files (`validate --format`); None = by extension.
    """
    settings = settings or Settings()
    kg = KnowledgeGraph(ox.Store(), settings=settings)
    kg.store.bulk_extend(load_ontology(settings))
    files: list[tuple[Path, str | None]] = [(p, None) for p in rdf_files(settings.data)] if data else []
    files += [(Path(p), extra_format) for p in extra_files]
    for path, fmt in files:
        load_rdf(kg.store, path, settings, fmt)
    kg.files = files
    add_rdfs_closure(kg.store)
    return kg


def store_provenance_problems(store: ox.Store, files: list[tuple[Path, str | None]],
                              settings: Settings) -> list[StructuralProblem]:
    """provenance_problems of every loaded file, asked of the whole store first.

    Two scans inside pyoxigraph answer "is anything wrong?" (a quad in the default graph, a blank
    node). Only if something is are the files parsed again to say which file holds which problem.
    """
    outside = next(store.quads_for_pattern(None, None, None, ox.DefaultGraph()), None) is not None
    blank = bool(store.query(
        f"ASK {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(?g != {ONTOLOGY_GRAPH} && ?g != {INFERRED_GRAPH} && "
        "(isBlank(?s) || isBlank(?o) || isBlank(?g))) }"))
    if not (outside or blank):
        return []
    problems: list[StructuralProblem] = []
    for path, fmt in files:
        problems.extend(provenance_problems(read_rdf(path, settings, fmt), path))
    return problems


def undescribed_graphs(kg: KnowledgeGraph) -> list[str]:
    """Named graphs holding facts whose source is not declared (no prov:wasDerivedFrom)."""
    described = {q.subject for q in kg.store.quads_for_pattern(None, WAS_DERIVED_FROM, None, SOURCES_GRAPH)}
    used = set(kg.store.named_graphs())
    return sorted(g.value for g in used - described - {ONTOLOGY_GRAPH, INFERRED_GRAPH, SOURCES_GRAPH})
