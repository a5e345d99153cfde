"""The fast SHACL engine: each property read once through pyoxigraph's indexes, checks as closures.

pyshacl asks rdflib, focus node by focus node, for each constraint's values. Here each property a
shape uses is read once for the whole graph (store.quads_for_pattern(None, p, None, None), an index
scan in Rust) into a dict subject -> values, rdf:type once into class -> instances, and every
constraint is compiled once into a Python closure, so checking costs a dict lookup and a call per
focus node. SPARQL-based constraints run once each, as one query over the whole graph.

The data graph is the union of every graph in the store, as in validate.py (data + ontology +
graph:inferred). A triple stated in two graphs is one triple: values are sets.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

import pyoxigraph as ox

from . import values as V
from .shapes import COMPONENT, RDF_TYPE, RDFS, SH, Shape, ShapesGraph, SparqlConstraint, Term, Unsupported

_SUBCLASS = ox.NamedNode(RDFS + "subClassOf")
_EMPTY: frozenset[Term] = frozenset()
# Constraints whose set_check looks at a focus node's values together (not one value at a time).
_SET_LEVEL = frozenset({"hasValue", "uniqueLang", "qualifiedValueShape", "equals", "disjoint", "lessThan",
                        "lessThanOrEquals"})
_TUPLE_MAX = 8  # value lists longer than this become sets (membership tests stay O(1))
if TYPE_CHECKING:
    Values = set[Term] | frozenset[Term] | tuple[Term, ...]
    Check = Callable[[Term], bool]
    # A set-level constraint: (focus node, its values) -> the (component, value) pairs it violates.
    SetCheck = Callable[[Term, Values], list[tuple[str, Term | None]]]
    # The same over all focus nodes: (focus nodes, focus -> values) -> (focus, component, value) triples.
    BatchCheck = Callable[[set[Term], dict[Term, Values]], list[tuple[Term, str, Term | None]]]


@dataclass(frozen=True)
class Result:
    """One validation result as pyoxigraph terms in N-Triples syntax (str of the term)."""

    focus: str
    path: str | None
    component: str
    value: str | None
    source_shape: str
    severity: str
    messages: tuple[str, ...]
    focus_term: Term | None = field(default=None, compare=False)
    value_term: Term | None = field(default=None, compare=False)

    @property
    def key(self) -> tuple[str, str | None, str]:
        return (self.focus, self.path, self.component)

    def sort_key(self) -> tuple[str, ...]:
        return (self.focus, self.path or "", self.component, self.value or "", self.source_shape, *self.messages)


class DataGraph:
    """Read access to the union graph; each property and the class index are read once and kept."""

    def __init__(self, store: ox.Store) -> None:
        self.store = store
        self._forward: dict[ox.NamedNode, dict[Term, Values]] = {}
        self._inverse: dict[ox.NamedNode, dict[Term, Values]] = {}
        self._paths: dict[str, dict[Term, Values]] = {}
        self._instances: dict[Term, frozenset[Term]] = {}
        self._by_class: dict[Term, set[Term]] = {}
        self._sub: dict[Term, set[Term]] = {}
        for q in store.quads_for_pattern(None, _SUBCLASS, None, None):
            self._sub.setdefault(q.object, set()).add(q.subject)

    def subclasses(self, cls: Term) -> set[Term]:
        """cls and every class below it by rdfs:subClassOf* (pyshacl: transitive_objects)."""
        seen, todo = {cls}, [cls]
        while todo:
            for sub in self._sub.get(todo.pop(), ()):
                if sub not in seen:
                    seen.add(sub)
                    todo.append(sub)
        return seen

    def instances(self, cls: Term) -> frozenset[Term]:
        """SHACL instances: nodes with rdf:type/rdfs:subClassOf* cls."""
        found = self._instances.get(cls)
        if found is None:
            nodes: set[Term] = set()
            for c in self.subclasses(cls):
                nodes |= self._typed(c)
            found = self._instances[cls] = frozenset(nodes)
        return found

    def _typed(self, c: Term) -> set[Term]:
        """Nodes with rdf:type c, read once per class by index (only the classes the shapes need)."""
        members = self._by_class.get(c)
        if members is None:
            members = self._by_class[c] = {q.subject for q in self.store.quads_for_pattern(None, RDF_TYPE, c, None)}  # type: ignore[arg-type]
        return members

    def forward(self, p: ox.NamedNode) -> dict[Term, Values]:
        """subject -> its distinct values of p. Few values are kept as a tuple, many as a set: a
        one-element set costs 216 bytes, a 1-tuple 48, and most subjects have one value (at 1M
        triples this saved ~250 MB of the validation's memory and a second)."""
        d = self._forward.get(p)
        if d is None:
            d = {}
            get = d.get
            for q in self.store.quads_for_pattern(None, p, None, None):
                s, o = q.subject, q.object
                vals = get(s)
                if vals is None:
                    d[s] = (o,)
                elif type(vals) is tuple:
                    if o not in vals:  # the same triple in two graphs is one value
                        d[s] = vals + (o,) if len(vals) < _TUPLE_MAX else {*vals, o}
                else:
                    vals.add(o)  # type: ignore[union-attr]
            self._forward[p] = d
        return d

    def inverse(self, p: ox.NamedNode) -> dict[Term, Values]:
        found = self._inverse.get(p)
        if found is None:
            d: dict[Term, set[Term]] = {}
            for q in self.store.quads_for_pattern(None, p, None, None):
                d.setdefault(q.object, set()).add(q.subject)
            found = self._inverse[p] = cast("dict[Term, Values]", d)  # dict is invariant; sets are Values
        return found

    def values(self, shape: Shape) -> dict[Term, Values]:
        """focus -> value nodes of a property shape's path."""
        path = shape.path
        if isinstance(path, ox.NamedNode):
            return self.forward(path)
        text = shape.path_text or ""
        if text.startswith("^(<") and text.endswith(">)") and " " not in text:
            return self.inverse(ox.NamedNode(text[3:-2]))
        found = self._paths.get(text)
        if found is None:
            d: dict[Term, set[Term]] = {}
            for row in self.store.query(f"SELECT DISTINCT ?s ?o WHERE {{ ?s {text} ?o }}", use_default_graph_as_union=True):  # type: ignore[union-attr]
                d.setdefault(row["s"], set()).add(row["o"])
            found = self._paths[text] = cast("dict[Term, Values]", d)
        return found

    def focus_nodes(self, shape: Shape) -> set[Term]:
        nodes: set[Term] = set()
        for local, t in shape.targets:
            if local == "targetClass":
                nodes |= self.instances(t)
            elif local == "targetNode":
                nodes.add(t)
            elif local == "targetSubjectsOf":
                nodes.update(self.forward(t))  # type: ignore[arg-type]
            elif local == "targetObjectsOf":
                nodes.update(self.inverse(t))  # type: ignore[arg-type]
        return nodes


class Engine:
    """Shapes compiled against one data graph. `run` gives every result of the targeted shapes."""

    def __init__(self, shapes: ShapesGraph, data: DataGraph) -> None:
        self.shapes, self.data = shapes, data
        self._shape_checks: dict[int, Check] = {}

    # -- compiling -----------------------------------------------------------------------------
    def value_check(self, local: str, arg: object) -> Check:
        """Does one value node satisfy one constraint? (pyshacl's per-value decision, values.py)"""
        if local == "class":
            return self.data.instances(arg).__contains__  # type: ignore[arg-type]
        if local == "datatype":
            dt = arg.value  # type: ignore[attr-defined]
            return lambda v: V.datatype_ok(v, dt)
        if local == "nodeKind":
            kind = arg.value  # type: ignore[attr-defined]
            return lambda v: V.nodekind_ok(v, kind)
        if local == "in":
            return frozenset(arg).__contains__  # type: ignore
        if local == "pattern":
            matcher = V.compile_pattern(*arg)  # type: ignore[misc]
            return lambda v: V.pattern_ok(v, matcher)
        if local == "languageIn":
            wanted = frozenset(t.value.lower() for t in arg)  # type: ignore
            return lambda v: V.language_in_ok(v, wanted)
        if local in ("minLength", "maxLength"):
            is_min = local == "minLength"
            return lambda v: V.length_ok(v, arg, is_min)  # type: ignore[arg-type]
        if local in ("minInclusive", "maxInclusive", "minExclusive", "maxExclusive"):
            return lambda v: V.range_ok(v, arg, local)  # type: ignore[arg-type]
        if local == "node":
            return self.shape_check(arg)  # type: ignore[arg-type]
        if local == "not":
            inner = self.shape_check(arg)  # type: ignore[arg-type]
            return lambda v: not inner(v)
        members = [self.shape_check(s) for s in arg]  # type: ignore
        if local == "and":
            return lambda v: all(c(v) for c in members)
        if local == "or":
            return lambda v: any(c(v) for c in members)
        if local == "xone":
            return lambda v: sum(1 for c in members if c(v)) == 1
        raise Unsupported(f"sh:{local} as a value constraint")

    def shape_check(self, shape: Shape) -> Check:
        """Does a node conform to a shape (targets ignored), as nested sh:node / sh:or … see it."""
        found = self._shape_checks.get(id(shape))
        if found is not None:
            return found
        if shape.deactivated:
            check: Check = lambda v: True  # noqa: E731
        elif shape.is_property:
            vm, sets = self.data.values(shape), self.set_checks(shape)
            check = lambda v: not any(c(v, vm.get(v, _EMPTY)) for c in sets)  # noqa: E731
        else:
            if any(local == "sparql" for local, _ in shape.params):
                raise Unsupported("a SPARQL constraint inside a nested shape")
            parts = [self.value_check(local, arg) for local, arg in shape.params]
            for ps in shape.properties:
                parts.append(self.shape_check(ps))
            if shape.closed:
                parts.append(lambda v: next(self._closed(shape, [v]), None) is None)
            check = parts[0] if len(parts) == 1 else (lambda v: all(c(v) for c in parts))
            if shape.properties:
                check = _memo(check)  # nested property shapes: worth remembering per node
        self._shape_checks[id(shape)] = check
        return check

    def set_checks(self, ps: Shape) -> list[SetCheck]:
        return [self.set_check(ps, local, arg) for local, arg in ps.params]

    def set_check(self, ps: Shape, local: str, arg: object) -> SetCheck:
        """One constraint of a property shape over a focus node's value set."""
        comp = COMPONENT.get(local, "")
        if local == "minCount":
            return lambda f, vals: [(comp, None)] if len(vals) < arg else []  # type: ignore[operator]
        if local == "maxCount":
            return lambda f, vals: [(comp, None)] if len(vals) > arg else []  # type: ignore[operator]
        if local == "hasValue":
            return lambda f, vals: [] if arg in vals else [(comp, None)]
        if local == "uniqueLang":
            if not (isinstance(arg, ox.Literal) and arg.value == "true"):
                return lambda f, vals: []
            return lambda f, vals: [(comp, None)] * V.unique_lang_duplicates(vals)
        if local == "qualifiedValueShape":
            qshape, qmin, qmax = cast("tuple[Shape, int | None, int | None]", arg)
            conf = self.shape_check(qshape)

            def qualified(f: Term, vals: Values) -> list[tuple[str, Term | None]]:
                if not vals and not qmin:
                    return []
                n = sum(1 for v in vals if conf(v))
                out: list[tuple[str, Term | None]] = []
                if qmax is not None and n > qmax:
                    out.append((COMPONENT["qualifiedMaxCount"], None))
                if qmin is not None and n < qmin:
                    out.append((COMPONENT["qualifiedMinCount"], None))
                return out
            return qualified
        if local in ("equals", "disjoint", "lessThan", "lessThanOrEquals"):
            other_map = self.data.forward(arg)  # type: ignore[arg-type]

            def pair(f: Term, vals: Values) -> list[tuple[str, Term | None]]:
                others = other_map.get(f, _EMPTY)
                if local == "equals":
                    bad = sorted(set(vals) ^ set(others), key=str)
                elif local == "disjoint":
                    bad = sorted(set(vals) & set(others), key=str)
                else:
                    bad = V.pair_violations(sorted(vals, key=str), sorted(others, key=str), local == "lessThan")
                return [(comp, v) for v in bad]
            return pair
        ok = self.value_check(local, arg)
        return lambda f, vals: [(comp, v) for v in vals if not ok(v)] if vals else []

    def batch_check(self, ps: Shape, local: str, arg: object) -> BatchCheck:
        """set_check over every focus node at once: one comprehension per constraint, not a Python
        call per focus node, for the constraints most shapes have (counts and value constraints)."""
        comp = COMPONENT.get(local, "")
        if local == "minCount":
            return lambda focus, vm: [(f, comp, None) for f in focus if len(vm.get(f, _EMPTY)) < arg]  # type: ignore[operator]
        if local == "maxCount":
            return lambda focus, vm: [(f, comp, None) for f in focus if len(vm.get(f, _EMPTY)) > arg]  # type: ignore[operator]
        if local in _SET_LEVEL:
            check = self.set_check(ps, local, arg)
            return lambda focus, vm: [(f, c, v) for f in focus for c, v in check(f, vm.get(f, _EMPTY))]
        ok = self.value_check(local, arg)
        return lambda focus, vm: [(f, comp, v) for f in focus for v in vm.get(f, _EMPTY) if not ok(v)]

    # -- running -------------------------------------------------------------------------------
    def run(self) -> list[Result]:
        """Every result, in no particular order (the module's run() sorts them)."""
        out: list[Result] = []
        for top in self.shapes.top:
            if top.deactivated:
                continue
            focus = self.data.focus_nodes(top)
            shapes = [top] if top.is_property else [ps for ps in top.properties if not ps.deactivated]
            if not top.is_property:
                for local, arg in top.params:
                    if local == "sparql":
                        out.extend(self._sparql(top, arg, focus))  # type: ignore[arg-type]
                        continue
                    ok = self.value_check(local, arg)
                    out.extend(self._result(top, COMPONENT[local], f, f) for f in focus if not ok(f))
                if top.closed:
                    out.extend(self._closed(top, focus))
            for ps in shapes:
                vm = self.data.values(ps)
                for local, arg in ps.params:
                    for f, component, value in self.batch_check(ps, local, arg)(focus, vm):
                        out.append(self._result(ps, component, f, value))
        return out

    def _result(self, shape: Shape, component: str, focus: Term, value: Term | None,
                path: Term | None = None, extra: tuple[str, ...] = ()) -> Result:
        path = path if path is not None else shape.path
        messages = shape.messages + tuple(m for m in extra if m not in shape.messages)
        return Result(str(focus), str(path) if path is not None else None, component,
                      str(value) if value is not None else None, str(shape.node), shape.severity,
                      messages, focus, value)

    def _closed(self, shape: Shape, focus: Iterable[Term]) -> Iterator[Result]:
        allowed = {ps.path for ps in shape.properties if isinstance(ps.path, ox.NamedNode)} | set(shape.ignored)
        for f in focus:
            if isinstance(f, ox.Literal):
                continue
            for q in self.data.store.quads_for_pattern(f, None, None, None):  # type: ignore[arg-type]
                if q.predicate not in allowed:
                    yield self._result(shape, COMPONENT["closed"], f, q.object, q.predicate)

    def _sparql(self, shape: Shape, c: SparqlConstraint, focus: set[Term]) -> Iterator[Result]:
        # Run once for every node; keep the rows of focus nodes (the query's form was checked on reading).
        seen: set[tuple[Term, Term]] = set()
        for row in self.data.store.query(c.select, use_default_graph_as_union=True):  # type: ignore[union-attr]
            this, value = row["this"], row["value"]
            if this in focus and (this, value) not in seen:
                seen.add((this, value))
                yield self._result(shape, COMPONENT["sparql"], this, value if value is not None else this,
                                   extra=c.messages)


def _memo(check: Check) -> Check:
    seen: dict[Term, bool] = {}

    def memoised(v: Term) -> bool:
        r = seen.get(v)
        if r is None:
            r = seen[v] = check(v)
        return r
    return memoised


def run(shapes: ShapesGraph, store: ox.Store) -> list[Result]:
    """Validate the union graph of a store; results sorted, so reports are the same every run."""
    return sorted(Engine(shapes, DataGraph(store)).run(), key=Result.sort_key)


__all__ = ["DataGraph", "Engine", "Result", "run", "SH"]
