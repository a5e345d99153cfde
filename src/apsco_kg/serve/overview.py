"""Dataset-level views: counts for the landing page, the ontology's terms for /ontology, and the
VoID + DCAT description served at /.well-known/void.

The VoID description is the build's own `void.ttl` (export.py writes it beside the dumps) when it
exists, so the server and the dump folder never disagree; otherwise it is made here from the store.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property

import pyoxigraph as ox

from .. import graph
from ..settings import ONTOLOGY
from .describe import RDF_TYPE, RDFS_COMMENT, RDFS_LABEL, SKOS_DEFINITION, SKOS_PREF, text
from .dumps import DumpCatalogue
from .render import Linker, local_name

OWL = "http://www.w3.org/2002/07/owl#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
VOID = "http://rdfs.org/ns/void#"
DCAT = "http://www.w3.org/ns/dcat#"
DCT = "http://purl.org/dc/terms/"
SPDX = "http://spdx.org/rdf/terms#"
XSD = "http://www.w3.org/2001/XMLSchema#"
ARTICLE = ox.NamedNode(ONTOLOGY + "WikipediaArticle")
URL = ox.NamedNode(ONTOLOGY + "url")

# The classes the landing page counts, in the order shown.
COUNTED_CLASSES = ("State", "Organization", "Person", "City", "Treaty", "Meeting", "MeetingSeries", "Involvement",
                   "Citation", "SourceDocument")


@dataclass
class Term:
    iri: str
    name: str
    kind: str
    labels: dict[str, str] = field(default_factory=dict)
    comments: dict[str, str] = field(default_factory=dict)
    parents: list[str] = field(default_factory=list)
    domain: list[str] = field(default_factory=list)
    range: list[str] = field(default_factory=list)
    extra: list[tuple[str, str]] = field(default_factory=list)  # (property IRI, value) e.g. Wikidata mapping


def _by_lang(store: ox.Store, s: ox.NamedNode, p: ox.NamedNode) -> dict[str, str]:
    out: dict[str, str] = {}
    for q in sorted(store.quads_for_pattern(s, p, None, graph.ONTOLOGY_GRAPH), key=lambda q: str(q.object)):
        if isinstance(q.object, ox.Literal):
            out.setdefault(q.object.language or "", q.object.value)
    return out


class Overview:
    def __init__(self, store: ox.Store, base_iri: str):
        self.store = store
        self.base_iri = base_iri

    @cached_property
    def counts(self) -> dict[str, int]:
        triples: set[ox.Triple] = set()
        asserted: set[ox.Triple] = set()
        graphs: set[ox.NamedNode] = set()
        entities: set[str] = set()
        for q in self.store:
            t = ox.Triple(q.subject, q.predicate, q.object)
            triples.add(t)
            if isinstance(q.graph_name, ox.NamedNode):
                graphs.add(q.graph_name)
                if q.graph_name not in (graph.INFERRED_GRAPH, graph.ONTOLOGY_GRAPH):
                    asserted.add(t)
            if text(q.subject).startswith(self.base_iri + "id/"):
                entities.add(text(q.subject))
        return {"quads": len(self.store), "triples": len(triples), "asserted": len(asserted),
                "graphs": len(graphs), "entities": len(entities)}

    @cached_property
    def class_counts(self) -> list[tuple[str, int]]:
        out: list[tuple[str, int]] = []
        for name in COUNTED_CLASSES:
            cls = ox.NamedNode(ONTOLOGY + name)
            members = {q.subject for q in self.store.quads_for_pattern(None, RDF_TYPE, cls, None)}
            out.append((cls.value, len(members)))
        return out

    @cached_property
    def articles(self) -> list[tuple[str, str | None]]:
        """The Wikipedia articles every fact comes from: (IRI, URL)."""
        out: dict[str, str | None] = {}
        for q in self.store.quads_for_pattern(None, RDF_TYPE, ARTICLE, None):
            urls = sorted(text(u.object) for u in self.store.quads_for_pattern(q.subject, URL, None, None))
            out[text(q.subject)] = urls[0] if urls else None
        return sorted(out.items())

    def ontology_terms(self) -> dict[str, list[Term]]:
        kinds = {
            "class": [OWL + "Class"],
            "properties": [OWL + "ObjectProperty", OWL + "DatatypeProperty", OWL + "AnnotationProperty"],
            "individuals": [OWL + "NamedIndividual"],
        }
        out: dict[str, list[Term]] = defaultdict(list)
        seen: set[str] = set()
        for kind, types in kinds.items():
            for t in types:
                for q in self.store.quads_for_pattern(None, RDF_TYPE, ox.NamedNode(t), graph.ONTOLOGY_GRAPH):
                    s = q.subject
                    if not isinstance(s, ox.NamedNode) or not s.value.startswith(ONTOLOGY) or s.value in seen:
                        continue
                    seen.add(s.value)
                    term = Term(s.value, local_name(s.value), kind, _by_lang(self.store, s, RDFS_LABEL) or
                                _by_lang(self.store, s, SKOS_PREF),
                                _by_lang(self.store, s, RDFS_COMMENT) or _by_lang(self.store, s, SKOS_DEFINITION))
                    for p, target in ((RDFS + "subClassOf", term.parents), (RDFS + "subPropertyOf", term.parents),
                                      (RDFS + "domain", term.domain), (RDFS + "range", term.range)):
                        target.extend(sorted(text(x.object) for x in self.store.quads_for_pattern(
                            s, ox.NamedNode(p), None, graph.ONTOLOGY_GRAPH)))
                    for x in self.store.quads_for_pattern(s, None, None, graph.ONTOLOGY_GRAPH):
                        if x.predicate.value.startswith(ONTOLOGY + "wikidata"):
                            term.extra.append((x.predicate.value, text(x.object)))
                    out[kind].append(term)
        for terms in out.values():
            terms.sort(key=lambda t: t.name.lower())
        return dict(out)


def void_triples(dumps: DumpCatalogue, overview: Overview, linker: Linker) -> list[ox.Triple]:
    path = dumps.folder / "void.ttl"
    dumps.ensure_built()
    if path.is_file():
        try:
            return sorted({ox.Triple(q.subject, q.predicate, q.object)
                           for q in ox.parse(path.read_bytes(), format=ox.RdfFormat.TURTLE)}, key=str)
        except (SyntaxError, ValueError):
            pass  # a broken build output must not break the endpoint: describe from the store instead
    return _own_void(dumps, overview)


def _own_void(dumps: DumpCatalogue, overview: Overview) -> list[ox.Triple]:
    base = overview.base_iri
    ds = ox.NamedNode(base + "dataset")
    n = ox.NamedNode

    def lit(v: object, dt: str | None = None, lang: str | None = None) -> ox.Literal:
        if lang:
            return ox.Literal(str(v), language=lang)
        return ox.Literal(str(v), datatype=n(dt)) if dt else ox.Literal(str(v))

    rdf_type = RDF_TYPE
    out = [
        ox.Triple(ds, rdf_type, n(VOID + "Dataset")),
        ox.Triple(ds, rdf_type, n(DCAT + "Dataset")),
        ox.Triple(ds, n(DCT + "title"), lit("APSCO knowledge graph", lang="en")),
        ox.Triple(ds, n(DCT + "title"), lit("亚太空间合作组织知识图谱", lang="zh")),
        ox.Triple(ds, n(DCT + "license"), n("https://creativecommons.org/licenses/by-sa/4.0/")),
        ox.Triple(ds, n(VOID + "uriSpace"), lit(base + "id/")),
        ox.Triple(ds, n(VOID + "sparqlEndpoint"), n(base + "sparql")),
        ox.Triple(ds, n(VOID + "vocabulary"), n(ONTOLOGY)),
        ox.Triple(ds, n(VOID + "triples"), lit(overview.counts["triples"], XSD + "integer")),
        ox.Triple(ds, n(VOID + "entities"), lit(overview.counts["entities"], XSD + "integer")),
    ]
    for article, _ in overview.articles:
        out.append(ox.Triple(ds, n(DCT + "source"), n(article)))
    for d in dumps.list():
        url = n(base + "dumps/" + d.name)
        dist = n(base + "dumps/" + d.name + "#distribution")
        out += [
            ox.Triple(ds, n(VOID + "dataDump"), url),
            ox.Triple(ds, n(DCAT + "distribution"), dist),
            ox.Triple(dist, rdf_type, n(DCAT + "Distribution")),
            ox.Triple(dist, n(DCAT + "downloadURL"), url),
            ox.Triple(dist, n(DCAT + "mediaType"), lit(d.media_type.split(";")[0])),
            ox.Triple(dist, n(DCAT + "byteSize"), lit(d.size, XSD + "nonNegativeInteger")),
            ox.Triple(dist, n(SPDX + "checksum"), n(base + "dumps/" + d.name + "#sha256")),
            ox.Triple(n(base + "dumps/" + d.name + "#sha256"), n(SPDX + "algorithm"), n(SPDX + "checksumAlgorithm_sha256")),
            ox.Triple(n(base + "dumps/" + d.name + "#sha256"), n(SPDX + "checksumValue"), lit(d.sha256, XSD + "hexBinary")),
        ]
    return out
