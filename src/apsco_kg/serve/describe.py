"""What the server says about one IRI: the description, read from the store (docs/linked-data.md).

The RDF description of an entity is

1. every triple with the entity as subject, in the union of all named graphs (asserted, curated,
   ontology and inferred alike — the union is what the SPARQL endpoint's default graph shows);
2. every involvement node (apsco:Involvement: membership, signature, participation, post holding)
   that points at the entity, with all of its triples — so a state's document says which treaties
   it signed and when, although those facts have the signature node as subject;
3. the labels (skos:prefLabel, else rdfs:label) of every other IRI in 1 and 2, so a client can show
   names without a second request.

For the HTML page the same material is kept per named graph (the provenance), plus the incoming
links ("what points here"), which the RDF document leaves out.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import pyoxigraph as ox

from .. import graph
from ..settings import GRAPH, ID, ONTOLOGY

RDF_TYPE = graph.RDF_TYPE
RDFS_LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
RDFS_COMMENT = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#comment")
SKOS_PREF = ox.NamedNode("http://www.w3.org/2004/02/skos/core#prefLabel")
SKOS_DEFINITION = ox.NamedNode("http://www.w3.org/2004/02/skos/core#definition")
INVOLVEMENT = ox.NamedNode(ONTOLOGY + "Involvement")
ONTOLOGY_DOC = ox.NamedNode(ONTOLOGY.rstrip("#"))

# Any RDF term a triple can hold (pyoxigraph has no common base class at runtime).
Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple
Subject = ox.NamedNode | ox.BlankNode | ox.Triple


def text(term: Term) -> str:
    """The lexical value of a term (the data has no quoted triples; one would show as N-Triples)."""
    return str(term) if isinstance(term, ox.Triple) else term.value


@dataclass
class Statement:
    """One triple and the named graphs (sources) that hold it."""

    subject: Subject
    predicate: ox.NamedNode
    object: Term
    graphs: list[ox.NamedNode] = field(default_factory=list)

    @property
    def triple(self) -> ox.Triple:
        return ox.Triple(self.subject, self.predicate, self.object)

    @property
    def inferred(self) -> bool:
        """Only the RDFS closure states it: shown apart on the page, it has no article behind it."""
        return all(g == graph.INFERRED_GRAPH for g in self.graphs)


@dataclass
class Description:
    iri: ox.NamedNode
    statements: list[Statement]
    involvements: dict[ox.NamedNode, list[Statement]]
    incoming: list[Statement]
    label_triples: list[ox.Triple]

    @property
    def exists(self) -> bool:
        return bool(self.statements or self.incoming or self.involvements)

    def triples(self) -> list[ox.Triple]:
        """The RDF document: deduplicated, in a stable order (so responses are byte-stable)."""
        seen: dict[ox.Triple, None] = {}
        for st in self.statements:
            seen.setdefault(st.triple)
        for node in sorted(self.involvements, key=lambda n: n.value):
            for st in self.involvements[node]:
                seen.setdefault(st.triple)
        for t in self.label_triples:
            seen.setdefault(t)
        return list(seen)


def _statements(store: ox.Store, subject: ox.NamedNode | None, obj: Term | None) -> list[Statement]:
    grouped: dict[ox.Triple, list[ox.NamedNode]] = defaultdict(list)
    for q in store.quads_for_pattern(subject, None, obj, None):
        if isinstance(q.graph_name, ox.NamedNode):
            grouped[ox.Triple(q.subject, q.predicate, q.object)].append(q.graph_name)
    out = [Statement(t.subject, t.predicate, t.object, sorted(gs, key=lambda g: g.value)) for t, gs in grouped.items()]
    out.sort(key=lambda s: (s.predicate.value, text(s.subject), str(s.object)))
    return out


def is_involvement(store: ox.Store, node: Term) -> bool:
    return isinstance(node, ox.NamedNode) and any(True for _ in store.quads_for_pattern(node, RDF_TYPE, INVOLVEMENT, None))


def label_triples(store: ox.Store, iris: set[ox.NamedNode]) -> list[ox.Triple]:
    """skos:prefLabel of each IRI, or its rdfs:label where it has no prefLabel (ontology terms)."""
    out: list[ox.Triple] = []
    for iri in sorted(iris, key=lambda n: n.value):
        pref = {ox.Triple(q.subject, q.predicate, q.object) for q in store.quads_for_pattern(iri, SKOS_PREF, None, None)}
        if not pref:
            pref = {ox.Triple(q.subject, q.predicate, q.object) for q in store.quads_for_pattern(iri, RDFS_LABEL, None, None)}
        out.extend(sorted(pref, key=str))
    return out


def describe(store: ox.Store, iri: ox.NamedNode) -> Description:
    statements = _statements(store, iri, None)
    incoming_all = _statements(store, None, iri)
    involvements: dict[ox.NamedNode, list[Statement]] = {}
    incoming: list[Statement] = []
    for st in incoming_all:
        node = st.subject
        if isinstance(node, ox.NamedNode) and node != iri and (node in involvements or is_involvement(store, node)):
            if node not in involvements:
                involvements[node] = _statements(store, node, None)
        else:
            incoming.append(st)
    linked: set[ox.NamedNode] = set()
    for st in statements + [s for sts in involvements.values() for s in sts]:
        for term in (st.subject, st.predicate, st.object):
            if isinstance(term, ox.NamedNode) and term != iri:
                linked.add(term)
    return Description(iri, statements, involvements, incoming, label_triples(store, linked))


def ontology_triples(store: ox.Store) -> list[ox.Triple]:
    """The ontology document (/ontology): graph:ontology minus the role vocabulary, which lives
    under /id/role/ and /id/scheme/ and dereferences there."""
    out = {
        ox.Triple(q.subject, q.predicate, q.object)
        for q in store.quads_for_pattern(None, None, None, graph.ONTOLOGY_GRAPH)
        if not text(q.subject).startswith(ID)
    }
    return sorted(out, key=lambda t: (text(t.subject), t.predicate.value, str(t.object)))


def graph_iri(path: str) -> ox.NamedNode:
    return ox.NamedNode(GRAPH + path)


def graph_statements(store: ox.Store, graph_name: ox.NamedNode, limit: int = 2000) -> list[Statement]:
    """What a named graph holds (for its page); capped, the dumps have everything."""
    out: list[Statement] = []
    for q in store.quads_for_pattern(None, None, None, graph_name):
        out.append(Statement(q.subject, q.predicate, q.object, [graph_name]))
        if len(out) >= limit:
            break
    out.sort(key=lambda s: (text(s.subject), s.predicate.value, str(s.object)))
    return out
