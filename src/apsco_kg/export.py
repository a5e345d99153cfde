"""`apsco-kg build`: load once, validate once, then write every dump once — byte-stable and atomic.

Files written to the output folder (docs/validate-and-build.md):

* apsco.ttl, apsco.nt, apsco.jsonld — the curated graph: the union of every named graph except
  graph:ontology and graph:inferred, as triples (a fact both articles state appears once);
* apsco.trig, apsco.nq — the full dataset, every named graph (the provenance) included;
* ontology.ttl — graph:ontology (apsco.ttl + roles.ttl as loaded);
* void.ttl — a VoID + DCAT description: counts, each distribution with size, media type and sha256;
* SHA256SUMS — `sha256sum -c` compatible.

Byte-stability: statements are sorted by their N-Triples/N-Quads text (which keeps a subject's
triples together, since an IRI token cannot contain '>'), serialised with pyoxigraph and
graph.PREFIXES, no timestamps anywhere, JSON with sorted keys. Cost: one CONSTRUCT or pattern scan
per output, sorting bytes, and each format serialised once in Rust; only the JSON-LD writer touches
each statement in Python. Atomicity: every file is first written to a temporary
file in the output folder; only when all of them are written are they moved over the old ones with
os.replace. A failure before that leaves the previous dumps untouched and removes the temporaries.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, cast

import pyoxigraph as ox

from . import graph
from .graph import INFERRED_GRAPH, ONTOLOGY_GRAPH, RDF_TYPE, KnowledgeGraph
from .settings import ID, Settings
from .validate import Report, short, validate

Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple
XSD = "http://www.w3.org/2001/XMLSchema#"
XSD_STRING = XSD + "string"
RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"

MEDIA_TYPES: dict[str, str] = {
    "apsco.ttl": "text/turtle",
    "apsco.nt": "application/n-triples",
    "apsco.jsonld": "application/ld+json",
    "apsco.trig": "application/trig",
    "apsco.nq": "application/n-quads",
    "ontology.ttl": "text/turtle",
}


@dataclass(frozen=True)
class FileInfo:
    name: str
    size: int
    sha256: str


@dataclass
class BuildResult:
    report: Report
    published: bool
    out_dir: Path
    files: dict[str, FileInfo] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# Atomic, hashed writes
# ---------------------------------------------------------------------------------------------
class _HashingFile:
    """A binary file that hashes and counts what is written, so nothing is read back."""

    def __init__(self, raw: IO[bytes]):
        self.raw = raw
        self.sha = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        data = bytes(data)
        self.sha.update(data)
        self.size += len(data)
        return self.raw.write(data)

    def flush(self) -> None:
        self.raw.flush()


def _as_io(out: _HashingFile) -> IO[bytes]:
    """pyoxigraph's serializers only call write() and flush(), which _HashingFile has."""
    return cast(IO[bytes], out)


class Staging:
    """Temporary files in the output folder, committed together with os.replace, or discarded."""

    def __init__(self, out_dir: Path):
        self.out_dir = out_dir
        self.staged: dict[str, Path] = {}
        self.infos: dict[str, FileInfo] = {}

    def write(self, name: str, produce: Callable[[_HashingFile], object]) -> FileInfo:
        """Call produce(file) to write `name`'s bytes into a fresh temporary file."""
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=self.out_dir)
        self.staged[name] = Path(tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; published dumps are world-readable
        with os.fdopen(fd, "wb") as raw:
            out = _HashingFile(raw)
            produce(out)
            raw.flush()
            os.fsync(raw.fileno())
        info = FileInfo(name, out.size, out.sha.hexdigest())
        self.infos[name] = info
        return info

    def remove_leftovers(self, names: Iterable[str]) -> None:
        """Temporaries of a build that was killed (kill -9, power loss) before it could clean up."""
        for name in names:
            for stale in self.out_dir.glob(f".{name}.*.tmp"):
                stale.unlink(missing_ok=True)

    def commit(self) -> None:
        for name, tmp in self.staged.items():
            os.replace(tmp, self.out_dir / name)
        self.staged.clear()

    def discard(self) -> None:
        for tmp in self.staged.values():
            tmp.unlink(missing_ok=True)
        self.staged.clear()


# ---------------------------------------------------------------------------------------------
# Sorting (the one source of byte-stability)
# ---------------------------------------------------------------------------------------------
# Sorting is done on N-Triples / N-Quads lines as bytes: pyoxigraph writes each term in one canonical
# form, so equal statements give equal lines, and sorting bytes costs no Python object per
# statement. An IRI token ends with '>', which no IRI contains, so lines of one subject stay together
# (Turtle can then group them with ';'). The other formats are written by parsing these sorted lines
# back with pyoxigraph's streaming parser, which keeps their order.
def _sorted_lines(data: bytes) -> list[bytes]:
    lines = data.splitlines(keepends=True)
    lines.sort()
    return lines


def dataset_nquads(kg: KnowledgeGraph, counts: dict[str, int] | None = None) -> bytes:
    """Every quad, graph by graph (graphs in IRI order), each graph's lines sorted.

    `counts`, if given, receives each named graph's number of statements (for void:subset)."""
    chunks: list[bytes] = []
    named: list[ox.NamedNode | ox.BlankNode] = [
        g for g in kg.store.named_graphs() if isinstance(g, (ox.NamedNode, ox.BlankNode))]
    named.sort(key=lambda g: (isinstance(g, ox.BlankNode), g.value))
    graphs: list[ox.NamedNode | ox.BlankNode | ox.DefaultGraph] = [ox.DefaultGraph(), *named]
    for g in graphs:
        data = ox.serialize(kg.store.quads_for_pattern(None, None, None, g), format=ox.RdfFormat.N_QUADS)
        lines = _sorted_lines(data or b"")
        if counts is not None and isinstance(g, ox.NamedNode):
            counts[g.value] = len(lines)
        chunks.append(b"".join(lines))  # one bytes object per graph, not one per line: less memory
    return b"".join(chunks)


def _construct_ntriples(kg: KnowledgeGraph, where: str) -> bytes:
    """Distinct triples matching `where`, as sorted N-Triples (one CONSTRUCT, serialised in Rust)."""
    result = kg.store.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ {where} }}")
    assert isinstance(result, ox.QueryTriples)
    data = result.serialize(format=ox.RdfFormat.N_TRIPLES) or b""
    return b"".join(sorted(set(data.splitlines(keepends=True))))


def curated_ntriples(kg: KnowledgeGraph) -> bytes:
    """The union of the curated graphs (all but ontology and inferred), distinct and sorted."""
    return _construct_ntriples(
        kg, f"GRAPH ?g {{ ?s ?p ?o }} FILTER(?g != <{ONTOLOGY_GRAPH.value}> && ?g != <{INFERRED_GRAPH.value}>)")


def ontology_ntriples(kg: KnowledgeGraph) -> bytes:
    return _construct_ntriples(kg, f"GRAPH <{ONTOLOGY_GRAPH.value}> {{ ?s ?p ?o }}")


def _parse(data: bytes, fmt: ox.RdfFormat) -> Iterator[ox.Quad]:
    """Our own sorted lines, back as terms in the same order (N-Triples gives default-graph quads,
    which pyoxigraph's triple serializers and the JSON-LD writer take as they are)."""
    return iter(ox.parse(data, format=fmt))


# ---------------------------------------------------------------------------------------------
# JSON-LD with our shipped context
# ---------------------------------------------------------------------------------------------
def load_context(settings: Settings) -> dict[str, Any]:
    """ontology/context.jsonld's context object. Read from the package, never fetched."""
    doc = json.loads(settings.context_file.read_bytes())
    ctx = doc["@context"]
    if not isinstance(ctx, dict):
        raise ValueError("ontology/context.jsonld must hold one inline @context object")
    return ctx


class Compactor:
    """Writes triples as JSON-LD node objects using the context's terms, prefixes and coercions.

    A value is written in the short form (a bare string) only when the term's @type coercion
    says exactly what it is; otherwise as an explicit value object, which JSON-LD never coerces,
    so the expansion always gives back the same triple.
    """

    def __init__(self, context: dict[str, Any]):
        self.prefixes: list[tuple[str, str]] = []
        self._compacted: dict[str, str] = {}  # IRIs repeat (predicates, classes, objects): compact each once
        self.terms: dict[str, tuple[str, str | None]] = {}  # predicate IRI -> (term, coercion)
        for term, definition in context.items():
            if isinstance(definition, str) and definition.endswith(("/", "#")):
                self.prefixes.append((term, definition))
        self.prefixes.sort(key=lambda p: -len(p[1]))
        for term, definition in sorted(context.items()):
            if isinstance(definition, str) and not definition.endswith(("/", "#")):
                self.terms.setdefault(self.expand(definition), (term, None))
            elif isinstance(definition, dict) and "@id" in definition:
                coerce = definition.get("@type")
                self.terms.setdefault(self.expand(definition["@id"]),
                                      (term, None if coerce is None else self.expand_type(coerce)))

    def expand(self, value: str) -> str:
        prefix, _, rest = value.partition(":")
        for name, ns in self.prefixes:
            if name == prefix:
                return ns + rest
        return value

    def expand_type(self, value: str) -> str:
        return value if value.startswith("@") else self.expand(value)

    def compact(self, iri: str) -> str:
        found = self._compacted.get(iri)
        if found is None:
            found = self._compacted[iri] = self._compact(iri)
        return found

    def _compact(self, iri: str) -> str:
        for name, ns in self.prefixes:
            if iri.startswith(ns):
                rest = iri[len(ns):]
                # "prefix://…" would read as an absolute IRI; an empty suffix is not a compact IRI.
                if rest and not rest.startswith("//"):
                    return f"{name}:{rest}"
        return iri

    def node_id(self, term: Term) -> str:
        if isinstance(term, ox.BlankNode):
            return f"_:{term.value}"
        return self.compact(term.value) if isinstance(term, ox.NamedNode) else str(term)

    def value(self, obj: Term, coerce: str | None) -> Any:
        if isinstance(obj, (ox.NamedNode, ox.BlankNode)):
            ref = self.node_id(obj)
            return ref if coerce == "@id" and isinstance(obj, ox.NamedNode) else {"@id": ref}
        assert isinstance(obj, ox.Literal)
        if obj.language:
            return {"@language": obj.language, "@value": obj.value}
        datatype = obj.datatype.value
        if coerce == datatype or (coerce is None and datatype == XSD_STRING):
            return obj.value
        if datatype == XSD_STRING:
            return {"@value": obj.value}
        return {"@type": self.compact(datatype), "@value": obj.value}

    def node(self, subject: Term, triples: list[ox.Triple | ox.Quad]) -> dict[str, Any]:
        node: dict[str, Any] = {"@id": self.node_id(subject)}
        for t in triples:
            if t.predicate == RDF_TYPE and isinstance(t.object, ox.NamedNode):
                node.setdefault("@type", []).append(self.compact(t.object.value))
                continue
            term, coerce = self.terms.get(t.predicate.value, (self.compact(t.predicate.value), None))
            node.setdefault(term, []).append(self.value(t.object, coerce))
        return node


def write_jsonld(triples: Iterable[ox.Triple | ox.Quad], context: dict[str, Any], out: Any) -> None:
    """Stream {"@context": …, "@graph": [node, …]}: one node per subject, canonical JSON."""
    compactor = Compactor(context)

    def dumps(obj: Any) -> bytes:
        return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")

    out.write(b'{"@context":' + dumps(context) + b',\n"@graph":[')
    first = True
    for subject, group in _by_subject(triples):
        out.write((b"\n" if first else b",\n") + dumps(compactor.node(subject, group)))
        first = False
    out.write(b"\n]}\n")


def _by_subject(triples: Iterable[ox.Triple | ox.Quad]) -> Iterator[tuple[Term, list[ox.Triple | ox.Quad]]]:
    group: list[ox.Triple | ox.Quad] = []
    for t in triples:
        if group and t.subject != group[0].subject:
            yield group[0].subject, group
            group = []
        group.append(t)
    if group:
        yield group[0].subject, group


# ---------------------------------------------------------------------------------------------
# VoID + DCAT
# ---------------------------------------------------------------------------------------------
VOID = "http://rdfs.org/ns/void#"
DCAT = "http://www.w3.org/ns/dcat#"
DCTERMS = "http://purl.org/dc/terms/"
SPDX = "http://spdx.org/rdf/terms#"
# Entity and graph IRIs have slashes after the namespace, which Turtle can only write as escaped
# prefixed names (id:source\/enwiki); written relative to this base they read <id/source/enwiki>.
DUMP_BASE = "https://w3id.org/apsco/"
DUMP_PREFIXES = {k: v for k, v in graph.PREFIXES.items() if k not in ("id", "graph")}
# void.ttl keeps absolute IRIs: its partition IRIs (dataset#class-schema:Article) contain a colon,
# and rdflib takes a relative reference with a colon for an absolute IRI.
VOID_PREFIXES = {**graph.PREFIXES, "void": VOID, "dcat": DCAT, "spdx": SPDX}


def _count_rows(kg: KnowledgeGraph, query: str) -> list[tuple[ox.NamedNode, int]]:
    """Rows of (IRI, count); the first variable of a plain count is bound to a dummy IRI."""
    rows = kg.store.query(query)
    assert isinstance(rows, ox.QuerySolutions)
    return [(row[0] if isinstance(row[0], ox.NamedNode) else ox.NamedNode("urn:x"), int(row[1].value))  # type: ignore[union-attr]
            for row in rows]


def subjects_of(curated: bytes) -> set[bytes]:
    """The distinct subject tokens of N-Triples lines (one C-level split per line, no term objects)."""
    return {line.split(b" ", 1)[0] for line in curated.splitlines()}


def void_triples(settings: Settings, kg: KnowledgeGraph, curated: bytes, graph_sizes: dict[str, int],
                 infos: dict[str, FileInfo]) -> list[ox.Triple]:
    """The dataset description: counts, class partitions, named graphs as subsets, distributions.

    Counts come from the sorted lines already in memory, or from SPARQL aggregates run in Rust.
    """
    base = settings.base_iri
    ds = ox.NamedNode(base + "dataset")
    out: list[ox.Triple] = []
    in_curated = f"FILTER(?g != <{ONTOLOGY_GRAPH.value}> && ?g != <{INFERRED_GRAPH.value}>)"

    def add(s: ox.NamedNode, p: str, o: Term) -> None:
        out.append(ox.Triple(s, ox.NamedNode(p), o))

    def count(n: int) -> ox.Literal:
        return ox.Literal(str(n), datatype=ox.NamedNode(XSD + "integer"))

    def one(query: str) -> int:
        return _count_rows(kg, "SELECT ?x ?n WHERE { " + query + " }")[0][1]

    rdf_type = graph.PREFIXES["rdf"] + "type"
    add(ds, rdf_type, ox.NamedNode(VOID + "Dataset"))
    add(ds, rdf_type, ox.NamedNode(DCAT + "Dataset"))
    add(ds, DCTERMS + "title", ox.Literal("APSCO knowledge graph", language="en"))
    add(ds, DCTERMS + "title", ox.Literal("亚太空间合作组织知识图谱", language="zh"))
    add(ds, DCTERMS + "license", ox.NamedNode("https://creativecommons.org/licenses/by-sa/4.0/"))
    add(ds, VOID + "uriSpace", ox.Literal(ID))
    add(ds, VOID + "vocabulary", ox.NamedNode(graph.PREFIXES["apsco"]))
    subjects = subjects_of(curated)
    entity_prefix = b"<" + ID.encode()
    add(ds, VOID + "triples", count(curated.count(b"\n")))
    add(ds, VOID + "entities", count(sum(1 for s in subjects if s.startswith(entity_prefix))))
    add(ds, VOID + "classes", count(one(
        f"{{ SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE {{ GRAPH ?g {{ ?s a ?c }} {in_curated} }} }}")))
    add(ds, VOID + "distinctSubjects", count(len(subjects)))
    # Per class, inferred types included, so apsco:Agent counts every state, organization and person.
    per_class = _count_rows(kg, f"SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE {{ GRAPH ?g {{ ?s a ?c }} "
                                f"FILTER(?g != <{ONTOLOGY_GRAPH.value}> && isIRI(?c)) }} GROUP BY ?c")
    for cls, n in sorted(per_class, key=lambda kv: kv[0].value):
        name = short(cls.value)
        part = ox.NamedNode(f"{base}dataset#class-{name if not name.startswith('<') else _quote(cls.value)}")
        add(ds, VOID + "classPartition", part)
        add(part, VOID + "class", cls)
        add(part, VOID + "entities", count(n))
    for iri, n in sorted(graph_sizes.items()):
        g = ox.NamedNode(iri)
        add(ds, VOID + "subset", g)
        add(g, rdf_type, ox.NamedNode(VOID + "Dataset"))
        add(g, VOID + "triples", count(n))
    for name in sorted(infos):
        info = infos[name]
        dist = ox.NamedNode(base + "dump/" + name)
        checksum = ox.NamedNode(base + "dump/" + name + "#sha256")
        add(ds, DCAT + "distribution", dist)
        add(ds, VOID + "dataDump", dist)
        add(dist, rdf_type, ox.NamedNode(DCAT + "Distribution"))
        add(dist, DCAT + "downloadURL", dist)
        add(dist, DCAT + "mediaType", ox.NamedNode("https://www.iana.org/assignments/media-types/" + MEDIA_TYPES[name]))
        add(dist, DCTERMS + "format", ox.Literal(MEDIA_TYPES[name]))
        add(dist, DCAT + "byteSize", ox.Literal(str(info.size), datatype=ox.NamedNode(XSD + "nonNegativeInteger")))
        add(dist, SPDX + "checksum", checksum)
        add(checksum, rdf_type, ox.NamedNode(SPDX + "Checksum"))
        add(checksum, SPDX + "algorithm", ox.NamedNode(SPDX + "checksumAlgorithm_sha256"))
        add(checksum, SPDX + "checksumValue", ox.Literal(info.sha256, datatype=ox.NamedNode(XSD + "hexBinary")))
    return sorted(set(out), key=str)


def _quote(iri: str) -> str:
    from urllib.parse import quote

    return quote(iri, safe="")


# ---------------------------------------------------------------------------------------------
# The build
# ---------------------------------------------------------------------------------------------
def write_dumps(kg: KnowledgeGraph, settings: Settings, out_dir: Path) -> dict[str, FileInfo]:
    """Serialise each format once into staged files, describe them, then move them into place."""
    staging, infos = stage_dumps(kg, settings, out_dir)
    staging.commit()
    return infos


def stage_dumps(kg: KnowledgeGraph, settings: Settings, out_dir: Path) -> tuple[Staging, dict[str, FileInfo]]:
    """Every dump written to temporary files in out_dir, not yet moved into place (see Staging)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    graph_sizes: dict[str, int] = {}
    dataset = dataset_nquads(kg, graph_sizes)
    curated = curated_ntriples(kg)
    ontology = ontology_ntriples(kg)
    context = load_context(settings)

    def raw(data: bytes) -> Any:
        return lambda out: out.write(data)

    def rdf(data: bytes, source: ox.RdfFormat, target: ox.RdfFormat, prefixes: dict[str, str]) -> Any:
        return lambda out: ox.serialize(_parse(data, source), _as_io(out), target, prefixes=prefixes, base_iri=DUMP_BASE)

    staging = Staging(out_dir)
    staging.remove_leftovers([*MEDIA_TYPES, "void.ttl", "SHA256SUMS"])
    try:
        staging.write("apsco.ttl", rdf(curated, ox.RdfFormat.N_TRIPLES, ox.RdfFormat.TURTLE, DUMP_PREFIXES))
        staging.write("apsco.nt", raw(curated))
        staging.write("apsco.jsonld", lambda out: write_jsonld(_parse(curated, ox.RdfFormat.N_TRIPLES), context, out))
        staging.write("apsco.trig", rdf(dataset, ox.RdfFormat.N_QUADS, ox.RdfFormat.TRIG, DUMP_PREFIXES))
        staging.write("apsco.nq", raw(dataset))
        staging.write("ontology.ttl", rdf(ontology, ox.RdfFormat.N_TRIPLES, ox.RdfFormat.TURTLE, DUMP_PREFIXES))
        description = void_triples(settings, kg, curated, graph_sizes, dict(staging.infos))
        staging.write("void.ttl", lambda out: ox.serialize(description, _as_io(out), ox.RdfFormat.TURTLE, prefixes=VOID_PREFIXES))
        sums = "".join(f"{staging.infos[n].sha256}  {n}\n" for n in sorted(staging.infos)).encode("ascii")
        staging.write("SHA256SUMS", raw(sums))
        infos = dict(staging.infos)
    except BaseException:
        staging.discard()
        raise
    return staging, infos


def build(settings: Settings, out_dir: Path | None = None) -> BuildResult:
    """Load, validate (refuse invalid data: nothing is written), then write every dump."""
    out = Path(out_dir) if out_dir is not None else settings.out_dir
    kg = graph.load(settings)
    # Validating and writing the dumps only read the store and do not depend on each other: a forked
    # child validates (sharing the store copy-on-write) while this process stages the dumps, and they
    # are moved into place only if the data conforms. Outcomes are those of validating first: a
    # validation error or non-conforming data wins over a failure of the dumps, and nothing is
    # published (nor an absent out folder created) unless the data conforms.
    from .fastshacl import background

    created = not out.exists()
    pending = background.start(lambda: validate(kg, settings))
    try:
        staging, infos = stage_dumps(kg, settings, out)
    except Exception:
        try:
            report = pending.result()  # raises the validation error first, as validating first would
        finally:
            _remove_if_created(out, created)
        if not report.conforms:
            return BuildResult(report=report, published=False, out_dir=out)
        raise
    except BaseException:  # interrupted: stop the child too
        pending.cancel()
        _remove_if_created(out, created)
        raise
    try:
        report = pending.result()
    except BaseException:
        staging.discard()
        _remove_if_created(out, created)
        raise
    if not report.conforms:
        staging.discard()
        _remove_if_created(out, created)
        return BuildResult(report=report, published=False, out_dir=out)
    staging.commit()
    return BuildResult(report=report, published=True, out_dir=out, files=infos)


def _remove_if_created(out: Path, created: bool) -> None:
    """Undo the out folder stage_dumps made, so a refused build leaves no trace."""
    if created:
        try:
            out.rmdir()
        except OSError:
            pass
