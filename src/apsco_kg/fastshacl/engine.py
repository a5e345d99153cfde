"""The fast SHACL engine: one pass per property over pyoxigraph's indexes, checks in plain Python.

pyshacl asks rdflib, focus node by focus node, for each constraint's values. Here each property a
shape uses is read once for the whole graph (store.quads_for_pattern(None, p, None, None), an index
scan in Rust) into a dict subject -> values, the instances of each class once likewise, and every
constraint then costs a dict lookup per focus node. SPARQL-based constraints run once as one query.

The data graph is the union of every graph in the store, as in validate.py (data + ontology +
graph:inferred). A triple stated in two graphs is one triple: values are sets.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import pyoxigraph as ox

from . import values as V
from .shapes import COMPONENT, RDF_TYPE, RDFS, SH, Shape, ShapesGraph, SparqlConstraint, Unsupported

_SUBCLASS = ox.NamedNode(RDFS + "subClassOf")
_EMPTY: frozenset[ox.Term] = frozenset()


@dataclass(frozen=True, order=True)
class Result:
    """One validation result as pyoxigraph terms in N-Triples syntax (str of the term)."""

    focus: str
    path: str | None
    component: str
    value: str | None
    source_shape: str
    severity: str
    messages: tuple[str, ...]
    focus_term: ox.Term | None = field(default=None, compare=False)
    value_term: ox.Term | None = field(default=None, compare=False)

    @property
    def key(self) -> tuple[str, str | None, str]:
        return (self.focus, self.path, self.component)


class DataGraph:
    """Read access to the union graph, each property and class read once and kept."""

    def __init__(self, store: ox.Store) -> None:
        self.store = store
        self._forward: dict[ox.NamedNode, dict[ox.Term, set[ox.Term]]] = {}
        self._inverse: dict[ox.NamedNode, dict[ox.Term, set[ox.Term]]] = {}
        self._paths: dict[str, dict[ox.Term, set[ox.Term]]] = {}
        self._instances: dict[ox.Term, frozenset[ox.Term]] = {}
        self._sub = self._subclasses()

    def _subclasses(self) -> dict[ox.Term, set[ox.Term]]:
        direct: dict[ox.Term, set[ox.Term]] = {}
        for q in self.store.quads_for_pattern(None, _SUBCLASS, None, None):
            direct.setdefault(q.object, set()).add(q.subject)
        return direct

    def subclasses(self, cls: ox.Term) -> set[ox.Term]:
        """cls and every class below it by rdfs:subClassOf* (pyshacl: transitive_objects)."""
        seen, todo = {cls}, [cls]
        while todo:
            for sub in self._sub.get(todo.pop(), ()):
                if sub not in seen:
                    seen.add(sub)
                    todo.append(sub)
        return seen

    def instances(self, cls: ox.Term) -> frozenset[ox.Term]:
        found = self._instances.get(cls)
        if found is None:
            nodes: set[ox.Term] = set()
            for c in self.subclasses(cls):
                nodes.update(q.subject for q in self.store.quads_for_pattern(None, RDF_TYPE, c, None))  # type: ignore[arg-type]
            found = self._instances[cls] = frozenset(nodes)
        return found

    def forward(self, p: ox.NamedNode) -> dict[ox.Term, set[ox.Term]]:
        d = self._forward.get(p)
        if d is None:
            d = {}
            for q in self.store.quads_for_pattern(None, p, None, None):
                vals = d.get(q.subject)
                if vals is None:
                    d[q.subject] = {q.object}
                else:
                    vals.add(q.object)
            self._forward[p] = d
        return d

    def inverse(self, p: ox.NamedNode) -> dict[ox.Term, set[ox.Term]]:
        d = self._inverse.get(p)
        if d is None:
            d = {}
            for q in self.store.quads_for_pattern(None, p, None, None):
                d.setdefault(q.object, set()).add(q.subject)
            self._inverse[p] = d
        return d

    def values(self, shape: Shape) -> dict[ox.Term, set[ox.Term]]:
        """focus -> value nodes of a property shape's path."""
        path = shape.path
        if isinstance(path, ox.NamedNode):
            return self.forward(path)
        text = shape.path_text or ""
        if text.startswith("^(<") and text.endswith(">)") and " " not in text:
            return self.inverse(ox.NamedNode(text[3:-2]))
        d = self._paths.get(text)
        if d is None:
            d = {}
            for row in self.store.query(f"SELECT DISTINCT ?s ?o WHERE {{ ?s {text} ?o }}", use_default_graph_as_union=True):  # type: ignore[union-attr]
                d.setdefault(row["s"], set()).add(row["o"])
            self._paths[text] = d
        return d

    def focus_nodes(self, shape: Shape) -> set[ox.Term]:
        nodes: set[ox.Term] = set()
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
    def __init__(self, shapes: ShapesGraph, data: DataGraph) -> None:
        self.shapes, self.data = shapes, data
        self._memo: dict[tuple[int, ox.Term], bool] = {}
        self._patterns: dict[int, object] = {}

    # -- running ------------------------------------------------------------------------------
    def run(self) -> list[Result]:
        out: list[Result] = []
        for top in self.shapes.top:
            if top.deactivated:
                continue
            focus = sorted(self.data.focus_nodes(top), key=str)
            if top.is_property:
                out.extend(self._property_results(top, focus))
                continue
            for local, arg in top.params:
                if local == "sparql":
                    out.extend(self._sparql_results(top, arg, set(focus)))  # type: ignore[arg-type]
                    continue
                for f in focus:
                    if not self.value_ok(local, arg, f):
                        out.append(self._result(top, COMPONENT[local], f, f))
            if top.closed:
                out.extend(self._closed_results(top, focus))
            for ps in top.properties:
                if not ps.deactivated:
                    out.extend(self._property_results(ps, focus))
        return out

    def _result(self, shape: Shape, component: str, focus: ox.Term, value: ox.Term | None,
                path: ox.Term | None = None, extra: tuple[str, ...] = ()) -> Result:
        path = path if path is not None else shape.path
        messages = shape.messages + tuple(m for m in extra if m not in shape.messages)
        return Result(str(focus), str(path) if path is not None else None, component,
                      str(value) if value is not None else None, str(shape.node), shape.severity,
                      messages, focus, value)

    def _property_results(self, ps: Shape, focus: Iterable[ox.Term]) -> Iterator[Result]:
        vm = self.data.values(ps)
        for f in focus:
            for component, value in self.property_violations(ps, f, vm.get(f, _EMPTY)):
                yield self._result(ps, component, f, value)

    def _closed_results(self, shape: Shape, focus: Iterable[ox.Term]) -> Iterator[Result]:
        allowed = {ps.path for ps in shape.properties if isinstance(ps.path, ox.NamedNode)} | set(shape.ignored)
        for f in focus:
            if isinstance(f, ox.Literal):
                continue
            for q in self.data.store.quads_for_pattern(f, None, None, None):  # type: ignore[arg-type]
                if q.predicate not in allowed:
                    yield self._result(shape, COMPONENT["closed"], f, q.object, q.predicate)

    def _sparql_results(self, shape: Shape, c: SparqlConstraint, focus: set[ox.Term]) -> Iterator[Result]:
        # Run once for every node; keep the rows of focus nodes (the query's form was checked on reading).
        seen: set[tuple[ox.Term, ox.Term]] = set()
        for row in self.data.store.query(c.select, use_default_graph_as_union=True):  # type: ignore[union-attr]
            this, value = row["this"], row["value"]
            if this in focus and (this, value) not in seen:
                seen.add((this, value))
                yield self._result(shape, COMPONENT["sparql"], this, value if value is not None else this, extra=c.messages)

    # -- one property shape at one focus node ----------------------------------------------------
    def property_violations(self, ps: Shape, f: ox.Term, vals: set[ox.Term] | frozenset[ox.Term]) -> Iterator[tuple[str, ox.Term | None]]:
        for local, arg in ps.params:
            if local == "minCount":
                if len(vals) < arg:  # type: ignore[operator]
                    yield COMPONENT[local], None
            elif local == "maxCount":
                if len(vals) > arg:  # type: ignore[operator]
                    yield COMPONENT[local], None
            elif local == "hasValue":
                if arg not in vals:
                    yield COMPONENT[local], None
            elif local == "uniqueLang":
                if isinstance(arg, ox.Literal) and arg.value == "true":
                    for _ in range(V.unique_lang_duplicates(vals)):
                        yield COMPONENT[local], None
            elif local == "qualifiedValueShape":
                qshape, qmin, qmax = arg  # type: ignore[misc]
                if not vals and not qmin:
                    continue
                n = sum(1 for v in vals if self.conforms(qshape, v))
                if qmax is not None and n > qmax:
                    yield COMPONENT["qualifiedMaxCount"], None
                if qmin is not None and n < qmin:
                    yield COMPONENT["qualifiedMinCount"], None
            elif local in ("equals", "disjoint"):
                others = self.data.forward(arg).get(f, _EMPTY)  # type: ignore[arg-type]
                if local == "equals":
                    for v in sorted(set(vals) ^ set(others), key=str):
                        yield COMPONENT[local], v
                else:
                    for v in sorted(set(vals) & set(others), key=str):
                        yield COMPONENT[local], v
            elif local in ("lessThan", "lessThanOrEquals"):
                others = self.data.forward(arg).get(f, _EMPTY)  # type: ignore[arg-type]
                for v in V.pair_violations(sorted(vals, key=str), sorted(others, key=str), local == "lessThan"):
                    yield COMPONENT[local], v
            else:
                for v in vals:
                    if not self.value_ok(local, arg, v):
                        yield COMPONENT[local], v

    # -- one value node against one constraint or shape --------------------------------------
    def value_ok(self, local: str, arg: object, v: ox.Term) -> bool:
        if local == "class":
            return v in self.data.instances(arg)  # type: ignore[arg-type]
        if local == "datatype":
            return V.datatype_ok(v, arg.value)  # type: ignore[attr-defined]
        if local == "nodeKind":
            return V.nodekind_ok(v, arg.value)  # type: ignore[attr-defined]
        if local == "in":
            return v in arg  # type: ignore[operator]
        if local == "pattern":
            matcher = self._patterns.get(id(arg))
            if matcher is None:
                matcher = self._patterns[id(arg)] = V.compile_pattern(*arg)  # type: ignore[misc]
            return V.pattern_ok(v, matcher)  # type: ignore[arg-type]
        if local == "languageIn":
            return V.language_in_ok(v, frozenset(t.value.lower() for t in arg))  # type: ignore[union-attr]
        if local in ("minLength", "maxLength"):
            return V.length_ok(v, arg, local == "minLength")  # type: ignore[arg-type]
        if local in ("minInclusive", "maxInclusive", "minExclusive", "maxExclusive"):
            return V.range_ok(v, arg, local)  # type: ignore[arg-type]
        if local == "node":
            return self.conforms(arg, v)  # type: ignore[arg-type]
        if local == "not":
            return not self.conforms(arg, v)  # type: ignore[arg-type]
        if local == "and":
            return all(self.conforms(s, v) for s in arg)  # type: ignore[union-attr]
        if local == "or":
            return any(self.conforms(s, v) for s in arg)  # type: ignore[union-attr]
        if local == "xone":
            return sum(1 for s in arg if self.conforms(s, v)) == 1  # type: ignore[union-attr]
        raise Unsupported(f"sh:{local} as a value constraint")

    def conforms(self, shape: Shape, node: ox.Term) -> bool:
        """Does node conform to shape (targets ignored), as a nested sh:node / sh:or … sees it."""
        key = (id(shape), node)
        found = self._memo.get(key)
        if found is not None:
            return found
        ok = True
        if shape.deactivated:
            ok = True
        elif shape.is_property:
            vals = self.data.values(shape).get(node, _EMPTY)
            ok = next(self.property_violations(shape, node, vals), None) is None
        else:
            for local, arg in shape.params:
                if local == "sparql":
                    raise Unsupported("a SPARQL constraint inside a nested shape")
                if not self.value_ok(local, arg, node):
                    ok = False
                    break
            if ok:
                for ps in shape.properties:
                    if ps.deactivated:
                        continue
                    vals = self.data.values(ps).get(node, _EMPTY)
                    if next(self.property_violations(ps, node, vals), None) is not None:
                        ok = False
                        break
            if ok and shape.closed:
                ok = next(self._closed_results(shape, [node]), None) is None
        self._memo[key] = ok
        return ok


def run(shapes: ShapesGraph, store: ox.Store) -> list[Result]:
    """Validate the union graph of a store; results sorted, so reports are the same every run."""
    return sorted(Engine(shapes, DataGraph(store)).run())


__all__ = ["DataGraph", "Engine", "Result", "run", "SH"]
