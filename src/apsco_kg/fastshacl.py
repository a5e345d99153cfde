"""A fast SHACL Core validator: our shapes compiled to SPARQL and run natively on pyoxigraph.

pyshacl is the reference semantics (validate.py), but it walks the graph node by node in Python:
about a minute for 100k triples. This module compiles each constraint of ontology/shapes.ttl into
one SPARQL query that returns only the violations, set-at-a-time, and runs it on the same
pyoxigraph Store the build already holds (no second parse, no rdflib graph). Two threads run the
queries because pyoxigraph releases the GIL while it evaluates.

Why it can be trusted:
* It implements a closed list of SHACL Core features (SUPPORTED below). A shapes graph using
  anything else raises Unsupported when compiled, and callers fall back to pyshacl: it never
  silently skips a constraint.
* Each compiled query follows the textual definition in the SHACL spec and pyshacl's reading of
  it (sameTerm for sh:in, langMatches for sh:languageIn, ill-typed literals fail sh:datatype,
  a uniqueLang result per duplicated language without a value, …).
* tests/test_fast_validation.py checks that the set of (focus, path, constraint component, value)
  results equals pyshacl's on the real data and on every invalid fixture.

Nested shapes (sh:node, sh:or, sh:and, sh:not, sh:xone, sh:qualifiedValueShape is not supported)
are compiled to one boolean SPARQL expression "x conforms to S" with EXISTS / NOT EXISTS, so a
nested shape costs one query too.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

SH = "http://www.w3.org/ns/shacl#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"

_RDF_TYPE = ox.NamedNode(RDF + "type")
_FIRST, _REST, _NIL = ox.NamedNode(RDF + "first"), ox.NamedNode(RDF + "rest"), ox.NamedNode(RDF + "nil")


def _sh(local: str) -> ox.NamedNode:
    return ox.NamedNode(SH + local)


# Shape-describing predicates we understand; anything else in the sh: namespace is Unsupported.
_TARGETS = {"targetClass", "targetNode", "targetSubjectsOf", "targetObjectsOf"}
_VALUE_PARAMS = {"class", "datatype", "nodeKind", "in", "pattern", "flags", "languageIn", "minLength", "maxLength",
                 "minInclusive", "maxInclusive", "minExclusive", "maxExclusive", "node", "or", "and", "not", "xone"}
_COUNT_PARAMS = {"minCount", "maxCount", "hasValue", "uniqueLang"}
_PAIR_PARAMS = {"equals", "disjoint"}
_SHAPE_PARAMS = {"path", "property", "closed", "ignoredProperties", "deactivated", "severity", "message", "name",
                 "description", "order", "group", "defaultValue"}
SUPPORTED = frozenset(_TARGETS | _VALUE_PARAMS | _COUNT_PARAMS | _PAIR_PARAMS | _SHAPE_PARAMS)

# The component IRI each parameter reports (SHACL §4).
COMPONENT = {
    "class": "ClassConstraintComponent", "datatype": "DatatypeConstraintComponent",
    "nodeKind": "NodeKindConstraintComponent", "in": "InConstraintComponent",
    "pattern": "PatternConstraintComponent", "languageIn": "LanguageInConstraintComponent",
    "minLength": "MinLengthConstraintComponent", "maxLength": "MaxLengthConstraintComponent",
    "minInclusive": "MinInclusiveConstraintComponent", "maxInclusive": "MaxInclusiveConstraintComponent",
    "minExclusive": "MinExclusiveConstraintComponent", "maxExclusive": "MaxExclusiveConstraintComponent",
    "node": "NodeConstraintComponent", "or": "OrConstraintComponent", "and": "AndConstraintComponent",
    "not": "NotConstraintComponent", "xone": "XoneConstraintComponent",
    "minCount": "MinCountConstraintComponent", "maxCount": "MaxCountConstraintComponent",
    "hasValue": "HasValueConstraintComponent", "uniqueLang": "UniqueLangConstraintComponent",
    "equals": "EqualsConstraintComponent", "disjoint": "DisjointConstraintComponent",
    "closed": "ClosedConstraintComponent",
}

# Datatypes whose lexical forms pyshacl (through rdflib) checks: an ill-typed literal fails sh:datatype.
# The check here is the SPARQL cast, which accepts exactly the valid lexical forms.
_CASTABLE = {XSD + t for t in ("integer", "decimal", "double", "float", "boolean", "date", "dateTime", "time",
                               "gYear", "gYearMonth", "duration")}
_INTEGER_SUBTYPES = {
    XSD + "positiveInteger": "> 0", XSD + "nonNegativeInteger": ">= 0", XSD + "negativeInteger": "< 0",
    XSD + "nonPositiveInteger": "<= 0", XSD + "long": None, XSD + "int": None, XSD + "short": None, XSD + "byte": None,
    XSD + "unsignedLong": ">= 0", XSD + "unsignedInt": ">= 0", XSD + "unsignedShort": ">= 0", XSD + "unsignedByte": ">= 0",
}


class Unsupported(Exception):
    """The shapes use a SHACL feature this engine does not implement; validate with pyshacl instead."""


@dataclass(frozen=True, order=True)
class Result:
    """One validation result, every term in N-Triples / SPARQL syntax (blank nodes as '_:…')."""

    focus: str
    path: str | None
    component: str
    value: str | None
    source_shape: str
    severity: str
    message: str | None = None

    @property
    def key(self) -> tuple[str, str | None, str]:
        """What the agreement tests compare with pyshacl: (focus, path, constraint component)."""
        return (self.focus, self.path, self.component)


@dataclass
class Shape:
    node: ox.NamedNode | ox.BlankNode
    path: str | None = None            # SPARQL property path text; None for a node shape
    path_key: str | None = None        # the path as reported in results
    targets: list[tuple[str, ox.Term]] = field(default_factory=list)
    params: list[tuple[str, object]] = field(default_factory=list)
    properties: list["Shape"] = field(default_factory=list)
    severity: str = SH + "Violation"
    messages: list[ox.Literal] = field(default_factory=list)
    deactivated: bool = False
    closed: bool = False
    ignored: list[ox.Term] = field(default_factory=list)


class ShapesGraph:
    """ontology/shapes.ttl parsed once and turned into Shape objects (no rdflib)."""

    def __init__(self, quads: Iterable[ox.Quad | ox.Triple]) -> None:
        self.store = ox.Store()
        self.store.bulk_extend([ox.Quad(q.subject, q.predicate, q.object, ox.DefaultGraph()) for q in quads])
        self._shapes: dict[ox.Term, Shape] = {}
        self._building: set[ox.Term] = set()

    @classmethod
    def from_file(cls, path: Path) -> "ShapesGraph":
        return cls(ox.parse(path.read_bytes(), format=ox.RdfFormat.TURTLE))

    def objects(self, s: ox.Term, local: str) -> list[ox.Term]:
        return [q.object for q in self.store.quads_for_pattern(s, _sh(local), None, None)]

    def one(self, s: ox.Term, local: str) -> ox.Term | None:
        objs = self.objects(s, local)
        if len(objs) > 1:
            raise Unsupported(f"{s} has {len(objs)} values for sh:{local}")
        return objs[0] if objs else None

    def rdf_list(self, head: ox.Term) -> list[ox.Term]:
        items: list[ox.Term] = []
        while head != _NIL:
            first = [q.object for q in self.store.quads_for_pattern(head, _FIRST, None, None)]
            rest = [q.object for q in self.store.quads_for_pattern(head, _REST, None, None)]
            if len(first) != 1 or len(rest) != 1:
                raise Unsupported(f"malformed RDF list at {head}")
            items.append(first[0])
            head = rest[0]
        return items

    def path_text(self, node: ox.Term) -> tuple[str, str]:
        """(SPARQL path text, result key) for a SHACL path node."""
        if isinstance(node, ox.NamedNode):
            return str(node), str(node)
        inv = self.one(node, "inversePath")
        if inv is not None:
            text, _ = self.path_text(inv)
            return f"^({text})", f"^{text}"
        for local, op in (("alternativePath", "|"), ("zeroOrMorePath", "*"), ("oneOrMorePath", "+"), ("zeroOrOnePath", "?")):
            v = self.one(node, local)
            if v is not None:
                if op == "|":
                    parts = [self.path_text(x)[0] for x in self.rdf_list(v)]
                    text = "(" + "|".join(parts) + ")"
                else:
                    text = f"({self.path_text(v)[0]}){op}"
                return text, text
        if any(True for _ in self.store.quads_for_pattern(node, _FIRST, None, None)):
            parts = [self.path_text(x)[0] for x in self.rdf_list(node)]
            text = "/".join(f"({p})" for p in parts)
            return text, text
        raise Unsupported(f"unknown path form at {node}")

    def shape(self, node: ox.Term) -> Shape:
        if node in self._shapes:
            return self._shapes[node]
        if node in self._building:
            raise Unsupported(f"recursive shape {node}")
        self._building.add(node)
        if not isinstance(node, (ox.NamedNode, ox.BlankNode)):
            raise Unsupported(f"a shape must be an IRI or blank node: {node}")
        sh = Shape(node)
        for q in self.store.quads_for_pattern(node, None, None, None):
            p = q.predicate.value
            if not p.startswith(SH):
                continue
            local = p[len(SH):]
            if local not in SUPPORTED:
                raise Unsupported(f"sh:{local} (on {node}) is not implemented by the fast validator")
        path = self.one(node, "path")
        if path is not None:
            sh.path, sh.path_key = self.path_text(path)
        for local in sorted(_TARGETS):
            for o in self.objects(node, local):
                sh.targets.append((local, o))
        # Implicit class target (SHACL §2.1.3.3): a shape that is also an rdfs:Class targets its instances.
        for q in self.store.quads_for_pattern(node, _RDF_TYPE, ox.NamedNode(RDFS + "Class"), None):
            sh.targets.append(("targetClass", node))
        sev = self.one(node, "severity")
        if sev is not None:
            sh.severity = sev.value
        sh.messages = [m for m in self.objects(node, "message") if isinstance(m, ox.Literal)]
        deact = self.one(node, "deactivated")
        sh.deactivated = isinstance(deact, ox.Literal) and deact.value == "true"
        closed = self.one(node, "closed")
        sh.closed = isinstance(closed, ox.Literal) and closed.value == "true"
        ign = self.one(node, "ignoredProperties")
        sh.ignored = self.rdf_list(ign) if ign is not None else []
        if self.one(node, "flags") is not None and self.one(node, "pattern") is None:
            raise Unsupported("sh:flags without sh:pattern")
        for local in sorted(_VALUE_PARAMS | _COUNT_PARAMS | _PAIR_PARAMS):
            if local == "flags":
                continue
            for o in self.objects(node, local):
                if local in ("in", "languageIn"):
                    sh.params.append((local, self.rdf_list(o)))
                elif local in ("or", "and", "xone"):
                    sh.params.append((local, [self.shape(x) for x in self.rdf_list(o)]))
                elif local in ("node", "not"):
                    sh.params.append((local, self.shape(o)))
                elif local == "pattern":
                    flags = self.one(node, "flags")
                    sh.params.append((local, (o, flags)))
                elif local in _COUNT_PARAMS and path is None:
                    raise Unsupported(f"sh:{local} on node shape {node}")
                else:
                    sh.params.append((local, o))
        for p in self.objects(node, "property"):
            ps = self.shape(p)
            if ps.path is None:
                raise Unsupported(f"sh:property {p} has no sh:path")
            sh.properties.append(ps)
        self._building.discard(node)
        self._shapes[node] = sh
        return sh

    def top_shapes(self) -> list[Shape]:
        """Every shape with a target (the ones validation starts from), in a stable order."""
        candidates: set[ox.Term] = set()
        for local in _TARGETS:
            for q in self.store.quads_for_pattern(None, _sh(local), None, None):
                candidates.add(q.subject)
        for cls in (_sh("NodeShape"), _sh("PropertyShape")):
            for q in self.store.quads_for_pattern(None, _RDF_TYPE, cls, None):
                if any(True for _ in self.store.quads_for_pattern(q.subject, _RDF_TYPE, ox.NamedNode(RDFS + "Class"), None)):
                    candidates.add(q.subject)
        # Every shape-like node must compile, even untargeted ones: a typo must not pass silently.
        for q in self.store.quads_for_pattern(None, None, None, None):
            if q.predicate.value.startswith(SH) and q.predicate.value[len(SH):] not in SUPPORTED | {
                "inversePath", "alternativePath", "zeroOrMorePath", "oneOrMorePath", "zeroOrOnePath",
                "declare", "prefix", "namespace", "prefixes"}:
                raise Unsupported(f"sh:{q.predicate.value[len(SH):]} is not implemented by the fast validator")
        return [self.shape(n) for n in sorted(candidates, key=str)]


class _Vars:
    def __init__(self) -> None:
        self._n = itertools.count()

    def new(self, stem: str = "v") -> str:
        return f"?_{stem}{next(self._n)}"


def _lit(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


class Compiler:
    """SHACL shapes → SPARQL. `value_ok(param, x)` is a boolean expression true when x satisfies it."""

    def __init__(self) -> None:
        self.vars = _Vars()

    # -- per value node ----------------------------------------------------------------------------
    def value_ok(self, local: str, arg: object, x: str) -> str:
        if local == "class":
            return f"EXISTS {{ {x} <{RDF}type>/<{RDFS}subClassOf>* {arg} }}"
        if local == "datatype":
            assert isinstance(arg, ox.NamedNode)
            dt = arg.value
            if dt == RDFS + "Literal":
                return f"isLiteral({x})"
            if dt == XSD + "string":
                return f"(isLiteral({x}) && datatype({x}) = <{dt}> && lang({x}) = \"\")"
            base = f"(isLiteral({x}) && datatype({x}) = <{dt}>"
            if dt in _CASTABLE:
                # An ill-typed literal (e.g. "2005-13"^^xsd:gYearMonth) fails, as in pyshacl; the cast errs on it.
                return base + f" && COALESCE(isLiteral(<{dt}>(STR({x}))), false))"
            if dt in _INTEGER_SUBTYPES:
                cond = _INTEGER_SUBTYPES[dt]
                check = f"COALESCE(isLiteral(<{XSD}integer>(STR({x}))), false)"
                if cond:
                    check = f"COALESCE(<{XSD}integer>(STR({x})) {cond}, false)"
                return base + f" && {check})"
            return base + ")"
        if local == "nodeKind":
            kinds = {"IRI": f"isIRI({x})", "BlankNode": f"isBlank({x})", "Literal": f"isLiteral({x})",
                     "BlankNodeOrIRI": f"(isIRI({x}) || isBlank({x}))", "BlankNodeOrLiteral": f"(isBlank({x}) || isLiteral({x}))",
                     "IRIOrLiteral": f"(isIRI({x}) || isLiteral({x}))"}
            return kinds[arg.value[len(SH):]]  # type: ignore[union-attr]
        if local == "in":
            items = list(arg)  # type: ignore[call-overload]
            return "(" + " || ".join(f"sameTerm({x}, {t})" for t in items) + ")" if items else "false"
        if local == "pattern":
            pat, flags = arg  # type: ignore[misc]
            fl = f", {_lit(flags.value)}" if flags is not None else ""
            return f"(!isBlank({x}) && REGEX(STR({x}), {_lit(pat.value)}{fl}))"
        if local == "languageIn":
            ranges = [t.value for t in arg]  # type: ignore[union-attr]
            tests = " || ".join(f"langMatches(lang({x}), {_lit(r)})" for r in ranges)
            return f"(isLiteral({x}) && lang({x}) != \"\" && ({tests or 'false'}))"
        if local in ("minLength", "maxLength"):
            op = ">=" if local == "minLength" else "<="
            return f"(!isBlank({x}) && STRLEN(STR({x})) {op} {int(arg.value)})"  # type: ignore[union-attr]
        if local in ("minInclusive", "maxInclusive", "minExclusive", "maxExclusive"):
            op = {"minInclusive": ">=", "maxInclusive": "<=", "minExclusive": ">", "maxExclusive": "<"}[local]
            return f"COALESCE({x} {op} {arg}, false)"
        if local == "node":
            return self.conforms(arg, x)  # type: ignore[arg-type]
        if local == "not":
            return f"!({self.conforms(arg, x)})"  # type: ignore[arg-type]
        if local == "and":
            return "(" + " && ".join(self.conforms(s, x) for s in arg) + ")" if arg else "true"  # type: ignore[union-attr]
        if local == "or":
            return "(" + " || ".join(self.conforms(s, x) for s in arg) + ")" if arg else "false"  # type: ignore[union-attr]
        if local == "xone":
            parts = [f"IF({self.conforms(s, x)}, 1, 0)" for s in arg]  # type: ignore[union-attr]
            return f"({' + '.join(parts) or '0'} = 1)"
        raise Unsupported(f"sh:{local} as a value constraint")

    # -- whole shapes as expressions (for nested shapes) ----------------------------------------
    def conforms(self, shape: Shape, x: str) -> str:
        if shape.deactivated:
            return "true"
        parts: list[str] = []
        if shape.path is not None:
            parts.extend(self._property_ok(shape, x))
        else:
            for local, arg in shape.params:
                if local in _VALUE_PARAMS:
                    parts.append(self.value_ok(local, arg, x))
                else:
                    raise Unsupported(f"sh:{local} on nested node shape {shape.node}")
            for ps in shape.properties:
                if not ps.deactivated:
                    parts.extend(self._property_ok(ps, x))
            if shape.closed:
                p, o = self.vars.new("p"), self.vars.new("o")
                allowed = [ps.path for ps in shape.properties if ps.path and ps.path.startswith("<")]
                allowed += [str(t) for t in shape.ignored]
                parts.append(f"NOT EXISTS {{ {x} {p} {o} FILTER({p} NOT IN ({', '.join(allowed)})) }}")
        return "(" + " && ".join(parts) + ")" if parts else "true"

    def _distinct_values(self, x: str, path: str, n: int) -> tuple[str, list[str]]:
        vs = [self.vars.new() for _ in range(n)]
        pats = " . ".join(f"{x} {path} {v}" for v in vs)
        neq = " && ".join(f"!sameTerm({a}, {b})" for a, b in itertools.combinations(vs, 2))
        return pats + (f" FILTER({neq})" if neq else ""), vs

    def _property_ok(self, ps: Shape, x: str) -> list[str]:
        parts: list[str] = []
        path = ps.path
        assert path is not None
        for local, arg in ps.params:
            n = int(arg.value) if local in ("minCount", "maxCount") else 0  # type: ignore[union-attr]
            if local == "minCount":
                if n > 4:
                    raise Unsupported("nested sh:minCount above 4")
                if n > 0:
                    pats, _ = self._distinct_values(x, path, n)
                    parts.append(f"EXISTS {{ {pats} }}")
            elif local == "maxCount":
                if n > 3:
                    raise Unsupported("nested sh:maxCount above 3")
                pats, _ = self._distinct_values(x, path, n + 1)
                parts.append(f"NOT EXISTS {{ {pats} }}")
            elif local == "hasValue":
                parts.append(f"EXISTS {{ {x} {path} {arg} }}")
            elif local == "uniqueLang":
                if isinstance(arg, ox.Literal) and arg.value == "true":
                    a, b = self.vars.new(), self.vars.new()
                    parts.append(f"NOT EXISTS {{ {x} {path} {a} . {x} {path} {b} FILTER(!sameTerm({a}, {b}) && "
                                 f"lang({a}) != \"\" && LCASE(lang({a})) = LCASE(lang({b}))) }}")
            elif local in _PAIR_PARAMS:
                raise Unsupported(f"sh:{local} in a nested shape")
            else:
                w = self.vars.new()
                parts.append(f"NOT EXISTS {{ {x} {path} {w} FILTER(!({self.value_ok(local, arg, w)})) }}")
        for sub in ps.properties:
            raise Unsupported(f"sh:property inside property shape {ps.node}")
        return parts


@dataclass(frozen=True)
class Check:
    """One compiled query: its rows are violations of one constraint of one shape."""

    shape: Shape
    component: str
    query: str
    has_value: bool
    path_key: str | None


def _focus_pattern(shape: Shape, subclasses: dict[str, list[str]]) -> str:
    """A SPARQL group binding ?this to the focus nodes of a shape's targets."""
    groups: list[str] = []
    for local, t in shape.targets:
        if local == "targetNode":
            groups.append(f"{{ VALUES ?this {{ {t} }} }}")
        elif local == "targetClass":
            classes = subclasses.get(str(t), [str(t)])
            groups.append(f"{{ VALUES ?_cls {{ {' '.join(classes)} }} ?this <{RDF}type> ?_cls }}")
        elif local == "targetSubjectsOf":
            groups.append(f"{{ ?this {t} [] }}")
        elif local == "targetObjectsOf":
            groups.append(f"{{ [] {t} ?this }}")
    if not groups:
        return ""
    # A sub-SELECT DISTINCT: a node typed twice (or stated in two graphs) is one focus node.
    return "{ SELECT DISTINCT ?this WHERE { " + " UNION ".join(groups) + " } }"


def compile_checks(shapes: ShapesGraph, subclasses: dict[str, list[str]]) -> list[Check]:
    comp = Compiler()
    checks: list[Check] = []
    for top in shapes.top_shapes():
        if top.deactivated:
            continue
        focus = _focus_pattern(top, subclasses)
        if not focus:
            continue
        if top.path is None:
            for local, arg in top.params:
                expr = comp.value_ok(local, arg, "?this")
                checks.append(Check(top, COMPONENT[local], f"SELECT DISTINCT ?this WHERE {{ {focus} FILTER(!({expr})) }}",
                                    False if local not in _VALUE_PARAMS else True, None))
            if top.closed:
                allowed = [ps.path for ps in top.properties if ps.path and ps.path.startswith("<")]
                allowed += [str(t) for t in top.ignored]
                q = (f"SELECT DISTINCT ?this ?value ?rpath WHERE {{ {focus} ?this ?rpath ?value "
                     f"FILTER(?rpath NOT IN ({', '.join(allowed) or '<urn:x-none:>'})) }}")
                checks.append(Check(top, COMPONENT["closed"], q, True, "?rpath"))
            props = [ps for ps in top.properties if not ps.deactivated]
        else:
            props = [top]
        for ps in props:
            checks.extend(_property_checks(comp, ps, focus))
    return checks


def _property_checks(comp: Compiler, ps: Shape, focus: str) -> list[Check]:
    checks: list[Check] = []
    path = ps.path
    for local, arg in ps.params:
        if local == "minCount":
            n = int(arg.value)  # type: ignore[union-attr]
            if n <= 0:
                continue
            q = (f"SELECT ?this WHERE {{ {focus} OPTIONAL {{ ?this {path} ?value }} }} "
                 f"GROUP BY ?this HAVING (COUNT(DISTINCT ?value) < {n})")
            checks.append(Check(ps, COMPONENT[local], q, False, ps.path_key))
        elif local == "maxCount":
            n = int(arg.value)  # type: ignore[union-attr]
            q = (f"SELECT ?this WHERE {{ {focus} ?this {path} ?value }} "
                 f"GROUP BY ?this HAVING (COUNT(DISTINCT ?value) > {n})")
            checks.append(Check(ps, COMPONENT[local], q, False, ps.path_key))
        elif local == "hasValue":
            q = f"SELECT ?this WHERE {{ {focus} FILTER NOT EXISTS {{ ?this {path} {arg} }} }}"
            checks.append(Check(ps, COMPONENT[local], q, False, ps.path_key))
        elif local == "uniqueLang":
            if not (isinstance(arg, ox.Literal) and arg.value == "true"):
                continue
            # One result per focus node and duplicated language, with no sh:value (as pyshacl reports it).
            q = (f"SELECT ?this ?lang WHERE {{ {focus} ?this {path} ?value "
                 f"FILTER(lang(?value) != \"\") }} GROUP BY ?this (LCASE(lang(?value)) AS ?lang) HAVING (COUNT(DISTINCT ?value) > 1)")
            checks.append(Check(ps, COMPONENT[local], q, False, ps.path_key))
        elif local in ("equals", "disjoint"):
            if local == "equals":
                q = (f"SELECT DISTINCT ?this ?value WHERE {{ {focus} {{ ?this {path} ?value FILTER NOT EXISTS {{ ?this {arg} ?value }} }} "
                     f"UNION {{ ?this {arg} ?value FILTER NOT EXISTS {{ ?this {path} ?value }} }} }}")
            else:
                q = f"SELECT DISTINCT ?this ?value WHERE {{ {focus} ?this {path} ?value . ?this {arg} ?value }}"
            checks.append(Check(ps, COMPONENT[local], q, True, ps.path_key))
        else:
            expr = comp.value_ok(local, arg, "?value")
            q = f"SELECT DISTINCT ?this ?value WHERE {{ {focus} ?this {path} ?value FILTER(!({expr})) }}"
            checks.append(Check(ps, COMPONENT[local], q, True, ps.path_key))
    if ps.properties:
        raise Unsupported(f"sh:property inside property shape {ps.node}")
    return checks


def subclass_map(store: ox.Store, graphs: str = "") -> dict[str, list[str]]:
    """C -> every class D with D rdfs:subClassOf* C in the data graph (the SHACL instance relation)."""
    q = f"SELECT DISTINCT ?sub ?sup {graphs} WHERE {{ ?sub <{RDFS}subClassOf> ?sup }}"
    direct: dict[str, set[str]] = {}
    for row in store.query(q, use_default_graph_as_union=not graphs):  # type: ignore[union-attr]
        direct.setdefault(str(row["sup"]), set()).add(str(row["sub"]))
    out: dict[str, list[str]] = {}
    for cls in direct:
        seen, todo = {cls}, [cls]
        while todo:
            for sub in direct.get(todo.pop(), ()):
                if sub not in seen:
                    seen.add(sub)
                    todo.append(sub)
        out[cls] = sorted(seen)
    return out


@dataclass
class Report:
    conforms: bool
    results: list[Result]

    def keys(self) -> set[tuple[str, str | None, str]]:
        return {r.key for r in self.results}


class FastValidator:
    """Compile once, validate any pyoxigraph store (whose default graph is the data graph)."""

    def __init__(self, shapes: ShapesGraph) -> None:
        self.shapes = shapes
        # Compiling here makes Unsupported surface before any data is touched.
        shapes.top_shapes()

    @classmethod
    def from_file(cls, path: Path) -> "FastValidator":
        return cls(ShapesGraph.from_file(path))

    def validate(self, store: ox.Store, *, union: bool = True, threads: int = 2) -> Report:
        """Run every check. union=True: the data graph is the union of all named graphs."""
        checks = compile_checks(self.shapes, subclass_map(store))

        def run(check: Check) -> list[Result]:
            try:
                rows = store.query(check.query, use_default_graph_as_union=union)
            except SyntaxError as exc:  # a compiler bug, never bad data: say which query
                raise RuntimeError(f"fastshacl compiled an invalid query for {check.shape.node}: {exc}\n{check.query}") from exc
            return list(_results(check, rows))  # type: ignore[arg-type]

        results: list[Result] = []
        if threads > 1 and len(checks) > 1:
            with ThreadPoolExecutor(max_workers=threads) as pool:
                for rs in pool.map(run, checks):
                    results.extend(rs)
        else:
            for c in checks:
                results.extend(run(c))
        results.sort()
        violations = [r for r in results if r.severity == SH + "Violation"]
        return Report(conforms=not violations and not results, results=results)


def _results(check: Check, rows: Iterable[ox.QuerySolution]) -> Iterator[Result]:
    shape = check.shape
    msg = shape.messages[0].value if shape.messages else None
    for row in rows:
        this = row["this"]
        value = row["value"] if check.has_value and check.path_key is not None else (this if check.has_value else None)
        path = check.path_key
        if path == "?rpath":
            path = str(row["rpath"])
        yield Result(focus=str(this), path=path, component=SH + check.component,
                     value=str(value) if value is not None else None, source_shape=str(shape.node),
                     severity=shape.severity, message=msg)


_BNODE = re.compile(r"^_:")


def pyshacl_keys(results_graph: object) -> set[tuple[str, str | None, str]]:
    """The (focus, path, component) set of a pyshacl results graph, in this module's term syntax."""
    from rdflib import RDF as R, SH as S, Graph, URIRef  # imported lazily: only tests and benchmarks need rdflib

    g: Graph = results_graph  # type: ignore[assignment]
    keys: set[tuple[str, str | None, str]] = set()
    # Only the report's own results: pyshacl nests the results behind sh:node under sh:detail.
    for r in g.objects(None, S.result):
        focus = g.value(r, S.focusNode)
        path = g.value(r, S.resultPath)
        comp = g.value(r, S.sourceConstraintComponent)
        keys.add((_n3(focus), _n3(path) if isinstance(path, URIRef) else (None if path is None else "complex"), str(comp)))
    return keys


def _n3(term: object) -> str:
    from rdflib import BNode, Literal, URIRef

    if isinstance(term, URIRef):
        return f"<{term}>"
    if isinstance(term, BNode):
        return f"_:{term}"
    if isinstance(term, Literal):
        return str(ox.Literal(str(term), language=term.language, datatype=ox.NamedNode(str(term.datatype)) if term.datatype else None))
    return str(term)
