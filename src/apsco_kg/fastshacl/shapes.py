"""ontology/shapes.ttl read into Shape objects, refusing every SHACL feature the engine lacks.

Refusing is the point: a shapes graph that uses anything outside SUPPORTED raises Unsupported when
it is read, before any data is touched, and the caller validates with pyshacl instead. The fast
engine never silently skips a constraint.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

SH = "http://www.w3.org/ns/shacl#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"

# An RDF term as pyoxigraph gives it (pyoxigraph has no common base class; its stubs include Triple).
Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple

RDF_TYPE = ox.NamedNode(RDF + "type")
_FIRST, _REST, _NIL = ox.NamedNode(RDF + "first"), ox.NamedNode(RDF + "rest"), ox.NamedNode(RDF + "nil")
_RDFS_CLASS = ox.NamedNode(RDFS + "Class")

TARGETS = ("targetClass", "targetNode", "targetSubjectsOf", "targetObjectsOf")
# Constraints on each value node (or on the focus node of a node shape).
VALUE_PARAMS = ("class", "datatype", "nodeKind", "in", "pattern", "languageIn", "minLength", "maxLength",
                "minInclusive", "maxInclusive", "minExclusive", "maxExclusive", "node", "or", "and", "not", "xone")
# Constraints on the set of value nodes of a property shape.
SET_PARAMS = ("minCount", "maxCount", "hasValue", "uniqueLang", "qualifiedValueShape",
              "equals", "disjoint", "lessThan", "lessThanOrEquals")
_OTHER = ("path", "property", "closed", "ignoredProperties", "deactivated", "severity", "message", "name",
          "description", "order", "group", "defaultValue", "flags", "qualifiedMinCount", "qualifiedMaxCount",
          "qualifiedValueShapesDisjoint", "sparql", "select", "inversePath", "alternativePath",
          "zeroOrMorePath", "oneOrMorePath", "zeroOrOnePath")
SUPPORTED = frozenset(TARGETS + VALUE_PARAMS + SET_PARAMS + _OTHER)

# The component IRI each parameter reports (SHACL §4, §5).
COMPONENT = {local: SH + local[0].upper() + local[1:] + "ConstraintComponent" for local in VALUE_PARAMS + SET_PARAMS}
COMPONENT.update({
    "class": SH + "ClassConstraintComponent", "in": SH + "InConstraintComponent",
    "or": SH + "OrConstraintComponent", "and": SH + "AndConstraintComponent", "not": SH + "NotConstraintComponent",
    "xone": SH + "XoneConstraintComponent", "node": SH + "NodeConstraintComponent",
    "qualifiedMinCount": SH + "QualifiedMinCountConstraintComponent",
    "qualifiedMaxCount": SH + "QualifiedMaxCountConstraintComponent",
    "closed": SH + "ClosedConstraintComponent", "sparql": SH + "SPARQLConstraintComponent",
})
del COMPONENT["qualifiedValueShape"]

# A SPARQL-based constraint is run once over all nodes and its rows kept for the focus nodes, instead
# of once per pre-bound focus node. That is the same result only when $this is bound by the query's
# first triple pattern and no part of the query can see it unbound, so these forms are refused.
_SPARQL_REFUSED = re.compile(
    r"\b(OPTIONAL|MINUS|EXISTS|SERVICE|VALUES|GRAPH|FROM|PREFIX|BASE|LIMIT|OFFSET|GROUP|HAVING|\$PATH)\b"
    r"|\bSELECT\b.*\bSELECT\b", re.IGNORECASE | re.DOTALL)
_SPARQL_FORM = re.compile(r"^\s*SELECT\s+(DISTINCT\s+)?\$this\s+\?value\s+WHERE\s*\{\s*\$this\s", re.IGNORECASE)


class Unsupported(Exception):
    """The shapes use a SHACL feature the fast engine does not implement: validate with pyshacl."""


@dataclass(frozen=True)
class SparqlConstraint:
    node: ox.NamedNode | ox.BlankNode
    select: str
    messages: tuple[str, ...]


@dataclass(eq=False)
class Shape:
    node: ox.NamedNode | ox.BlankNode
    path: Term | None = None           # the sh:path node; None for a node shape
    path_text: str | None = None          # the same path in SPARQL syntax
    targets: list[tuple[str, Term]] = field(default_factory=list)
    params: list[tuple[str, object]] = field(default_factory=list)
    properties: list["Shape"] = field(default_factory=list)
    severity: str = SH + "Violation"
    messages: tuple[str, ...] = ()
    deactivated: bool = False
    closed: bool = False
    ignored: frozenset[Term] = frozenset()

    @property
    def is_property(self) -> bool:
        return self.path is not None


class ShapesGraph:
    """The shapes file parsed with pyoxigraph (no rdflib) and turned into Shape objects."""

    def __init__(self, triples: Iterable[ox.Quad | ox.Triple]) -> None:
        self.store = ox.Store()
        self.store.bulk_extend([ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in triples])
        self._shapes: dict[Term, Shape] = {}
        self._building: set[Term] = set()
        # Owner of each property shape: validate.py reports the named node shape that holds it.
        self.owner: dict[Term, Term] = {
            q.object: q.subject for q in self.store.quads_for_pattern(None, _sh("property"), None, None)}
        self.top = self._top_shapes()

    @classmethod
    def from_file(cls, path: Path) -> "ShapesGraph":
        return cls(ox.parse(path.read_bytes(), format=ox.RdfFormat.TURTLE))

    # -- reading the graph -------------------------------------------------------------------
    def objects(self, s: Term, local: str) -> list[Term]:
        return [q.object for q in self.store.quads_for_pattern(s, _sh(local), None, None)]  # type: ignore[arg-type]

    def one(self, s: Term, local: str) -> Term | None:
        objs = self.objects(s, local)
        if len(objs) > 1:
            raise Unsupported(f"{s} has {len(objs)} values for sh:{local}")
        return objs[0] if objs else None

    def rdf_list(self, head: Term) -> list[Term]:
        items: list[Term] = []
        while head != _NIL:
            first = [q.object for q in self.store.quads_for_pattern(head, _FIRST, None, None)]  # type: ignore[arg-type]
            rest = [q.object for q in self.store.quads_for_pattern(head, _REST, None, None)]  # type: ignore[arg-type]
            if len(first) != 1 or len(rest) != 1:
                raise Unsupported(f"malformed RDF list at {head}")
            items.append(first[0])
            head = rest[0]
        return items

    def path_text(self, node: Term) -> str:
        """A SHACL path node as a SPARQL property path."""
        if isinstance(node, ox.NamedNode):
            return str(node)
        inv = self.one(node, "inversePath")
        if inv is not None:
            return f"^({self.path_text(inv)})"
        alt = self.one(node, "alternativePath")
        if alt is not None:
            return "(" + "|".join(self.path_text(x) for x in self.rdf_list(alt)) + ")"
        for local, op in (("zeroOrMorePath", "*"), ("oneOrMorePath", "+"), ("zeroOrOnePath", "?")):
            v = self.one(node, local)
            if v is not None:
                return f"({self.path_text(v)}){op}"
        if any(True for _ in self.store.quads_for_pattern(node, _FIRST, None, None)):  # type: ignore[arg-type]
            return "/".join(f"({self.path_text(x)})" for x in self.rdf_list(node))
        raise Unsupported(f"unknown path form at {node}")

    # -- shapes ------------------------------------------------------------------------------
    def _top_shapes(self) -> list[Shape]:
        # Any unknown sh: term anywhere (a typo, a newer feature) refuses the whole graph.
        for q in self.store.quads_for_pattern(None, None, None, None):
            p = q.predicate.value
            if p.startswith(SH) and p[len(SH):] not in SUPPORTED:
                raise Unsupported(f"sh:{p[len(SH):]} is not implemented by the fast validator")
        starts: set[Term] = set()
        for local in TARGETS:
            starts.update(q.subject for q in self.store.quads_for_pattern(None, _sh(local), None, None))
        for kind in ("NodeShape", "PropertyShape"):
            for q in self.store.quads_for_pattern(None, RDF_TYPE, _sh(kind), None):
                starts.add(q.subject)
                if next(self.store.quads_for_pattern(q.subject, RDF_TYPE, _RDFS_CLASS, None), None):
                    starts.add(q.subject)
        # Every declared shape is compiled (so an error anywhere surfaces now); those with targets run.
        shapes = [self.shape(n) for n in sorted(starts, key=str)]
        return [s for s in shapes if s.targets]

    def shape(self, node: Term) -> Shape:
        if node in self._shapes:
            return self._shapes[node]
        if not isinstance(node, (ox.NamedNode, ox.BlankNode)):
            raise Unsupported(f"a shape must be an IRI or a blank node: {node}")
        if node in self._building:
            raise Unsupported(f"recursive shape {node}")
        self._building.add(node)
        try:
            sh = self._read(node)
        finally:
            self._building.discard(node)
        self._shapes[node] = sh
        return sh

    def _read(self, node: ox.NamedNode | ox.BlankNode) -> Shape:
        sh = Shape(node)
        path = self.one(node, "path")
        if path is not None:
            sh.path, sh.path_text = path, self.path_text(path)
        for local in TARGETS:
            sh.targets.extend((local, o) for o in self.objects(node, local))
        # Implicit class target (SHACL §2.1.3.3): a shape that is also an rdfs:Class.
        if next(self.store.quads_for_pattern(node, RDF_TYPE, _RDFS_CLASS, None), None):
            sh.targets.append(("targetClass", node))
        sev = self.one(node, "severity")
        if sev is not None:
            sh.severity = sev.value  # type: ignore[union-attr]
        sh.messages = tuple(m.value for m in self.objects(node, "message") if isinstance(m, ox.Literal))
        deact = self.one(node, "deactivated")
        sh.deactivated = isinstance(deact, ox.Literal) and deact.value == "true"
        closed = self.one(node, "closed")
        sh.closed = isinstance(closed, ox.Literal) and closed.value == "true"
        ign = self.one(node, "ignoredProperties")
        sh.ignored = frozenset(self.rdf_list(ign)) if ign is not None else frozenset()
        for local in VALUE_PARAMS + SET_PARAMS:
            for o in self.objects(node, local):
                sh.params.append((local, self._param(node, local, o, path)))
        for c in self.objects(node, "sparql"):
            if path is not None:
                raise Unsupported("a SPARQL constraint on a property shape ($PATH)")
            sc = self._sparql(c)
            if sc is not None:
                sh.params.append(("sparql", sc))
        for p in self.objects(node, "property"):
            ps = self.shape(p)
            if not ps.is_property:
                raise Unsupported(f"sh:property {p} has no sh:path")
            sh.properties.append(ps)
        if sh.is_property and sh.properties:
            raise Unsupported(f"sh:property inside property shape {node}")
        return sh

    def _param(self, node: Term, local: str, o: Term, path: Term | None) -> object:
        if local in SET_PARAMS and path is None:
            raise Unsupported(f"sh:{local} on node shape {node}")
        if local in ("in", "languageIn"):
            return tuple(self.rdf_list(o))
        if local in ("or", "and", "xone"):
            return tuple(self.shape(x) for x in self.rdf_list(o))
        if local in ("node", "not"):
            return self.shape(o)
        if local == "pattern":
            return (o, self.one(node, "flags"))
        if local == "qualifiedValueShape":
            disjoint = self.one(node, "qualifiedValueShapesDisjoint")
            if isinstance(disjoint, ox.Literal) and disjoint.value == "true":
                raise Unsupported("sh:qualifiedValueShapesDisjoint true")
            qmin, qmax = self.one(node, "qualifiedMinCount"), self.one(node, "qualifiedMaxCount")
            return (self.shape(o), int(qmin.value) if qmin is not None else None,  # type: ignore[union-attr]
                    int(qmax.value) if qmax is not None else None)  # type: ignore[union-attr]
        if local in ("minCount", "maxCount", "minLength", "maxLength"):
            if not isinstance(o, ox.Literal):
                raise Unsupported(f"sh:{local} {o} is not a number")
            return int(o.value)
        return o

    def _sparql(self, c: Term) -> SparqlConstraint | None:
        deact = self.one(c, "deactivated")
        if isinstance(deact, ox.Literal) and deact.value == "true":
            return None
        if self.objects(c, "prefixes"):
            raise Unsupported("sh:prefixes in a SPARQL constraint")
        select = self.one(c, "select")
        if not isinstance(select, ox.Literal):
            raise Unsupported(f"SPARQL constraint {c} without sh:select")
        messages = tuple(m.value for m in self.objects(c, "message") if isinstance(m, ox.Literal))
        if _SPARQL_REFUSED.search(select.value) or not _SPARQL_FORM.search(select.value) or any("{" in m for m in messages):
            raise Unsupported(f"SPARQL constraint {c}: only 'SELECT $this ?value WHERE {{ $this … }}' without "
                              "OPTIONAL, EXISTS, MINUS, sub-selects or message templates runs set-at-a-time")
        assert isinstance(c, (ox.NamedNode, ox.BlankNode))
        return SparqlConstraint(c, select.value, messages)


def _sh(local: str) -> ox.NamedNode:
    return ox.NamedNode(SH + local)
