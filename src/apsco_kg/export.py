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
graph.PREFIXES, no timestamps anywhere, JSON with sorted keys. Cost: one N-Triples dump of each
graph inside pyoxigraph, sorting bytes, and each format serialised once in Rust; the JSON-LD writer
reads the sorted lines as text, one split per statement (bench/, docs/performance.md). Atomicity:
every file is first written to a temporary
file in the output folder; only when all of them are written are they moved over the old ones with
os.replace. A failure before that leaves the previous dumps untouched and removes the temporaries.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any, cast

import pyoxigraph as ox

from . import graph
from .graph import INFERRED_GRAPH, ONTOLOGY_GRAPH, RDF_TYPE, InputError, KnowledgeGraph
from .settings import ID, Settings
from .validate import MAX_STATEMENT_BYTES, Report, distinct_triples, short, union_ntriples, validate

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
        with self.open(name) as out:
            produce(out)
        return self.infos[name]

    @contextmanager
    def open(self, name: str) -> Iterator[_HashingFile]:
        """A fresh temporary file for `name`; its size and hash are recorded when the block ends."""
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=self.out_dir)
        self.staged[name] = Path(tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; published dumps are world-readable
        with os.fdopen(fd, "wb", buffering=1 << 20) as raw:
            out = _HashingFile(raw)
            yield out
            raw.flush()
            os.fsync(raw.fileno())
        self.infos[name] = FileInfo(name, out.size, out.sha.hexdigest())

    def path(self, name: str) -> Path:
        """Where `name` is being staged (to read back what was written)."""
        return self.staged[name]

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
# One pass over the store (the one source of byte-stability)
# ---------------------------------------------------------------------------------------------
# Each graph is dumped as N-Triples inside pyoxigraph and its lines are sorted as bytes: pyoxigraph
# writes each term in one canonical form, so equal statements give equal lines, and sorting bytes
# costs no Python object per statement. An IRI token ends with '>', which no IRI contains, so lines of
# one subject stay together (Turtle then groups them with ';'). A graph's N-Quads lines are its
# N-Triples lines with the graph name put before the final " ." (one bytes.replace: a line break
# inside a literal is always escaped). The curated triples are the sorted, de-duplicated union of
# the curated graphs' lines; the other formats are written by pyoxigraph's streaming parser reading
# these lines back, which keeps their order.
@dataclass
class DatasetPass:
    """Walks the graphs once; what it collects on the way feeds the other dumps and void.ttl."""

    kg: KnowledgeGraph
    graph_sizes: dict[str, int] = field(default_factory=dict)  # named graph IRI -> statements
    curated_lines: list[bytes] = field(default_factory=list)  # unsorted, with duplicates
    ontology_lines: list[bytes] = field(default_factory=list)
    default_lines: list[bytes] = field(default_factory=list)
    longest_line: int = 0
    union_triples: int = 0  # set by curated()

    def graphs(self) -> list[ox.NamedNode | ox.BlankNode | ox.DefaultGraph]:
        named: list[ox.NamedNode | ox.BlankNode] = [
            g for g in self.kg.store.named_graphs() if isinstance(g, (ox.NamedNode, ox.BlankNode))]
        named.sort(key=lambda g: (isinstance(g, ox.BlankNode), g.value))
        return [ox.DefaultGraph(), *named]

    def quads(self, nquads: IO[bytes] | _HashingFile) -> Iterator[ox.Quad]:
        """Write every graph's sorted N-Quads to `nquads` and yield the same quads, graph by graph."""
        # chain.from_iterable walks each parser in C: a Python `yield from` per quad cost 2 s at 1M.
        return itertools.chain.from_iterable(
            _reread(chunk, ox.RdfFormat.N_QUADS) for chunk in self._chunks(nquads))

    def _chunks(self, nquads: IO[bytes] | _HashingFile, slice_lines: int = 1 << 16) -> Iterator[bytes]:
        """Each graph's sorted N-Quads, in slices (graph:inferred alone is 40% of the statements:
        holding it whole as N-Triples, lines and N-Quads at once cost 300 MB at 1M triples)."""
        for g in self.graphs():
            data = self.kg.store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=g) or b""
            lines = data.splitlines(keepends=True)
            del data
            if not lines:
                continue
            lines.sort()
            self.longest_line = max(self.longest_line, max(map(len, lines)))
            suffix = b" .\n"
            if isinstance(g, ox.DefaultGraph):  # empty unless a provenance rule is broken
                self.default_lines = lines
            else:
                if isinstance(g, ox.NamedNode):
                    self.graph_sizes[g.value] = len(lines)
                if g == ONTOLOGY_GRAPH:
                    self.ontology_lines = lines
                elif g != INFERRED_GRAPH:
                    self.curated_lines += lines
                suffix = b" " + str(g).encode("utf-8") + b" .\n"
            for i in range(0, len(lines), slice_lines):
                chunk = b"".join(lines[i:i + slice_lines])
                if suffix != b" .\n":
                    chunk = chunk.replace(b" .\n", suffix)
                nquads.write(chunk)
                yield chunk
            del lines

    def curated(self) -> list[bytes]:
        """The curated triples as sorted, distinct N-Triples lines (taken out of the pass: call once).

        Also counts the distinct triples of the union of every graph (validate.Report.triples):
        graph:inferred never repeats a stated triple (graph.add_rdfs_closure), so only the ontology's
        and the default graph's lines are looked up among the curated ones."""
        distinct = dict.fromkeys(self.curated_lines)  # distinct, by hash, before one sort
        self.curated_lines = []
        others = {line for line in (*self.ontology_lines, *self.default_lines) if line not in distinct}
        self.union_triples = len(distinct) + len(others) + self.graph_sizes.get(INFERRED_GRAPH.value, 0)
        lines = list(distinct)
        del distinct
        lines.sort()
        return lines


def _reread(source: bytes | Path, fmt: ox.RdfFormat) -> Iterator[ox.Quad]:
    """Statements this module wrote with pyoxigraph, read back in order. lenient=True skips the IRI
    and language tag checks, which pyoxigraph made when the data was loaded: 2.7x faster. Never
    used on input (graph.load parses strictly)."""
    if isinstance(source, Path):
        return iter(ox.parse(path=source, format=fmt, lenient=True))
    return iter(ox.parse(source, format=fmt, lenient=True))


def _write_lines(lines: list[bytes], out: _HashingFile, batch: int = 65536) -> None:
    for i in range(0, len(lines), batch):
        out.write(b"".join(lines[i:i + batch]))


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
        self._by_parent: dict[str, tuple[str, str] | None] = {}
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
            found = self._compacted[iri] = self._compact_by_parent(iri)
        return found

    def _compact_by_parent(self, iri: str) -> str:
        """_compact, with the namespace looked up once per IRI "folder" (everything up to the last
        '/' or '#'). Every namespace ends in '/' or '#', so one matches the IRI exactly when it is a
        prefix of the folder: the prefixes are scanned once per folder, not once per entity."""
        cut = max(iri.rfind("/"), iri.rfind("#")) + 1
        if cut == len(iri):
            return self._compact(iri)
        parent = iri[:cut]
        if parent not in self._by_parent:
            self._by_parent[parent] = next(((name, ns) for name, ns in self.prefixes if parent.startswith(ns)), None)
        found = self._by_parent[parent]
        if found is None:
            return iri
        local = iri[len(found[1]):]
        return self._compact(iri) if local.startswith("//") else f"{found[0]}:{local}"

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


# The N-Triples of a literal with no backslash and no control character is already the JSON string
# json.dumps would write (pyoxigraph escapes '"', '\\' and every character below U+0020).
_NEEDS_JSON_ESCAPE = re.compile(r'[\x00-\x1f\\]')


@dataclass
class JsonLdStats:
    subjects: int = 0
    entities: int = 0  # subjects under the entity namespace (void:entities)


def write_jsonld(lines: Iterable[bytes], context: dict[str, Any], out: Any) -> JsonLdStats:
    """Stream {"@context": …, "@graph": [node, …]}: one node per subject, canonical JSON.

    `lines` are sorted, distinct N-Triples lines. They are read as text, not parsed into terms: a
    line is subject, predicate and object split at the first two spaces (no IRI holds a space), and
    each node is written with json.dumps's exact bytes (sorted keys, no spaces, no ASCII escaping),
    so the output equals json.dumps of Compactor.node. A line this reading does not cover (a literal
    with an escape, a triple term) goes through pyoxigraph's parser and the Compactor.
    """
    compactor = Compactor(context)
    writer = _NodeWriter(compactor)
    stats = JsonLdStats()
    entity = "<" + ID
    out.write(b'{"@context":' + _json(context).encode("utf-8") + b',\n"@graph":[')
    subject: str | None = None
    node: dict[str, list[str]] = {}
    for raw in lines:
        line = raw.decode("utf-8")
        s, p, o = line[:-3].split(" ", 2)
        if s != subject:
            if subject is not None:
                out.write(writer.node(subject, node, first=stats.subjects == 1))
            subject, node = s, {}
            stats.subjects += 1
            stats.entities += s.startswith(entity)
        key, value = writer.pair(p, o, line)
        found = node.get(key)
        if found is None:
            node[key] = [value]
        else:
            found.append(value)
    if subject is not None:
        out.write(writer.node(subject, node, first=stats.subjects == 1))
    out.write(b"\n]}\n")
    return stats


def _json(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _quoted(text: str) -> str:
    """_json of a string that needs no escape: an IRI, a compact IRI, a blank node label, a language tag
    (pyoxigraph has checked them; none may hold '"', a backslash or a control character)."""
    return '"' + text + '"'


class _NodeWriter:
    """The JSON text of node objects, from N-Triples tokens, remembering what repeats."""

    def __init__(self, compactor: Compactor):
        self.c = compactor
        self.predicates: dict[str, tuple[str, str | None]] = {}  # token -> (JSON key, coercion)
        self.iris: dict[tuple[str, bool], str] = {}  # (object token, coerced to @id) -> JSON value
        self.keys: dict[str, str] = {"@id": '"@id"', "@type": '"@type"'}
        self.rdf_type = "<" + RDF_TYPE.value + ">"

    def pair(self, p: str, o: str, line: str) -> tuple[str, str]:
        """(key, JSON value) of one statement of the current node."""
        if p == self.rdf_type and o.startswith("<") and not o.startswith("<<"):
            return "@type", self._iri_value(o, True)
        term = self.predicates.get(p)
        if term is None:
            iri = p[1:-1]
            term = self.predicates[p] = self.c.terms.get(iri, (self.c.compact(iri), None))
        key, coerce = term
        if o.startswith("<") and not o.startswith("<<"):
            return key, self._iri_value(o, coerce == "@id")
        if o.startswith("_:"):
            return key, '{"@id":' + _quoted(o) + "}"
        if o.startswith('"'):
            end = o.rindex('"')
            body = o[:end + 1]
            if not _NEEDS_JSON_ESCAPE.search(body, 1, end):
                return key, self._literal(body, o[end + 1:], coerce)
        # Escapes or a triple term: let pyoxigraph read the line.
        quad = next(iter(ox.parse(line.encode("utf-8"), format=ox.RdfFormat.N_TRIPLES)))
        return key, _json(self.c.value(quad.object, coerce))

    def _iri_value(self, token: str, as_string: bool) -> str:
        found = self.iris.get((token, as_string))
        if found is None:
            ref = self.c.compact(token[1:-1])
            found = self.iris[(token, as_string)] = _quoted(ref) if as_string else '{"@id":' + _quoted(ref) + "}"
        return found

    def _literal(self, body: str, suffix: str, coerce: str | None) -> str:
        if suffix.startswith("@"):
            return '{"@language":' + _quoted(suffix[1:]) + ',"@value":' + body + "}"
        datatype = suffix[3:-1] if suffix else XSD_STRING
        if coerce == datatype or (coerce is None and datatype == XSD_STRING):
            return body
        if datatype == XSD_STRING:
            return '{"@value":' + body + "}"
        return '{"@type":' + _quoted(self.c.compact(datatype)) + ',"@value":' + body + "}"

    def node(self, subject: str, props: dict[str, list[str]], *, first: bool) -> bytes:
        node_id = self.c.compact(subject[1:-1]) if subject.startswith("<") else subject
        parts: list[str] = []
        for key in sorted([*props, "@id"]):  # json.dumps(sort_keys=True) order; no term compacts to "@id"
            if key == "@id":
                parts.append('"@id":' + _quoted(node_id))
                continue
            k = self.keys.get(key)
            if k is None:
                k = self.keys[key] = _json(key)
            parts.append(k + ":[" + ",".join(props[key]) + "]")
        return (b"\n" if first else b",\n") + ("{" + ",".join(parts) + "}").encode("utf-8")


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


def void_triples(settings: Settings, kg: KnowledgeGraph, triples: int, subjects: JsonLdStats,
                 graph_sizes: dict[str, int], infos: dict[str, FileInfo]) -> list[ox.Triple]:
    """The dataset description: counts, class partitions, named graphs as subsets, distributions.

    Counts come from the pass that wrote the dumps (statements per graph, distinct curated triples,
    subjects counted by the JSON-LD writer), or from SPARQL aggregates run in Rust.
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
    add(ds, VOID + "triples", count(triples))
    add(ds, VOID + "entities", count(subjects.entities))
    add(ds, VOID + "classes", count(one(
        f"{{ SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE {{ GRAPH ?g {{ ?s a ?c }} {in_curated} }} }}")))
    add(ds, VOID + "distinctSubjects", count(subjects.subjects))
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
    staged = stage_dumps(kg, settings, out_dir)
    staged.staging.commit()
    return staged.infos


@dataclass(frozen=True)
class Staged:
    staging: Staging
    infos: dict[str, FileInfo]
    union_triples: int  # distinct triples of every graph together (validate.Report.triples)


def stage_dumps(kg: KnowledgeGraph, settings: Settings, out_dir: Path) -> Staged:
    """Every dump written to temporary files in out_dir, not yet moved into place (see Staging).

    Memory stays bounded by the store plus one copy of the curated lines: N-Quads and TriG are
    written together, graph by graph, as the pass goes; Turtle is written by reading apsco.nt back
    from its staged file.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    context = load_context(settings)
    staging = Staging(out_dir)
    staging.remove_leftovers([*MEDIA_TYPES, "void.ttl", "SHA256SUMS"])
    try:
        walk = DatasetPass(kg)
        with staging.open("apsco.nq") as nquads, staging.open("apsco.trig") as trig:
            ox.serialize(walk.quads(nquads), _as_io(trig), ox.RdfFormat.TRIG, prefixes=DUMP_PREFIXES, base_iri=DUMP_BASE)
        if walk.longest_line > MAX_STATEMENT_BYTES:
            union_ntriples(kg)  # raises InputError naming the statement and its file
        curated = walk.curated()
        staging.write("apsco.nt", lambda out: _write_lines(curated, out))
        staging.write("apsco.ttl", lambda out: ox.serialize(
            _reread(staging.path("apsco.nt"), ox.RdfFormat.N_TRIPLES), _as_io(out),
            ox.RdfFormat.TURTLE, prefixes=DUMP_PREFIXES, base_iri=DUMP_BASE))
        stats: list[JsonLdStats] = []
        staging.write("apsco.jsonld", lambda out: stats.append(write_jsonld(curated, context, out)))
        triples = len(curated)
        del curated
        ontology = b"".join(walk.ontology_lines)
        staging.write("ontology.ttl", lambda out: ox.serialize(
            _reread(ontology, ox.RdfFormat.N_TRIPLES), _as_io(out), ox.RdfFormat.TURTLE,
            prefixes=DUMP_PREFIXES, base_iri=DUMP_BASE))
        description = void_triples(settings, kg, triples, stats[0], walk.graph_sizes, dict(staging.infos))
        staging.write("void.ttl", lambda out: ox.serialize(description, _as_io(out), ox.RdfFormat.TURTLE, prefixes=VOID_PREFIXES))
        sums = "".join(f"{staging.infos[n].sha256}  {n}\n" for n in sorted(staging.infos)).encode("ascii")
        staging.write("SHA256SUMS", lambda out: out.write(sums))
        infos = dict(staging.infos)
    except BaseException:
        staging.discard()
        raise
    return Staged(staging, infos, walk.union_triples)


def build(settings: Settings, out_dir: Path | None = None) -> BuildResult:
    """Load, validate (refuse invalid data: nothing is written), then write every dump."""
    out = Path(out_dir) if out_dir is not None else settings.out_dir
    kg = graph.load(settings)
    # Validating and writing the dumps only read the store and do not depend on each other: a forked
    # child validates (it inherits the loaded store) while this process stages the dumps, and they
    # are moved into place only if the data conforms. Outcomes are those of validating first: a
    # validation error or non-conforming data wins over a failure of the dumps, and nothing is
    # published (nor an absent out folder created) unless the data conforms. The dumps make the two
    # whole-graph checks of validation (statement length, distinct triples) as they go.
    from .fastshacl import background

    created = not out.exists()
    pending = background.start(lambda: validate(kg, settings, for_build=True))
    try:
        staged = stage_dumps(kg, settings, out)
    except InputError:  # a statement over MAX_STATEMENT_BYTES: validating first raises it too
        pending.cancel()
        _remove_if_created(out, created)
        raise
    except Exception:
        try:
            report = pending.result()  # raises the validation error first, as validating first would
        finally:
            _remove_if_created(out, created)
        if not report.conforms:
            return BuildResult(report=_counted(report, kg), published=False, out_dir=out)
        raise
    except BaseException:  # interrupted: stop the child too
        pending.cancel()
        _remove_if_created(out, created)
        raise
    try:
        report = replace(pending.result(), triples=staged.union_triples)
    except BaseException:
        staged.staging.discard()
        _remove_if_created(out, created)
        raise
    if not report.conforms:
        staged.staging.discard()
        _remove_if_created(out, created)
        return BuildResult(report=report, published=False, out_dir=out)
    staged.staging.commit()
    return BuildResult(report=report, published=True, out_dir=out, files=staged.infos)


def _counted(report: Report, kg: KnowledgeGraph) -> Report:
    """A for_build report whose dumps failed: count its triples here."""
    return replace(report, triples=distinct_triples(kg))


def _remove_if_created(out: Path, created: bool) -> None:
    """Undo the out folder stage_dumps made, so a refused build leaves no trace."""
    if created:
        try:
            out.rmdir()
        except OSError:
            pass
