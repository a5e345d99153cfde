"""Binding parameters: a `--param name=value` string (or a notebook's Python value) becomes a typed
RDF term, a plain label is resolved to the one entity that carries it, and the bound terms are
written into a query for an endpoint as a VALUES block.

A query's text is never edited with user input. Locally the terms go to pyoxigraph as SEP-0007
`substitutions`; for an endpoint they are written by pyoxigraph's own N-Triples serialisation of
already-validated `NamedNode`/`Literal` objects, so no value can close a string or an IRI.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation

import pyoxigraph as ox

from .. import graph
from .errors import ParameterError
from .lexer import _declared_prefix_map, scan
from .saved import Param, SavedQuery
from .terms import KNOWN_PREFIXES, RDFS_LABEL, XSD, _compact, _expand, plain

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
_TYPE_CHECKS: dict[str, tuple[re.Pattern[str], str]] = {
    "gYear": (re.compile(r"^-?\d{4,}$"), "a year such as 2003"),
    "gYearMonth": (re.compile(r"^-?\d{4,}-(0[1-9]|1[0-2])$"), "a year and month such as 2003-11"),
}


def _named_node(value: str, param: str) -> ox.NamedNode:
    try:
        return ox.NamedNode(value)
    except ValueError as exc:
        raise ParameterError(f"parameter {param!r}: {value!r} is not a valid IRI ({exc})") from None


def to_term(
    param: Param,
    value: str,
    query: SavedQuery,
    resolve: "LabelResolver | None" = None,
) -> ox.NamedNode | ox.Literal:
    """Turn one `--param name=value` string into the RDF term it denotes, or raise ParameterError."""
    name, value = param.name, value.strip()
    if param.type == "iri":
        if value.startswith("<") and value.endswith(">"):
            return _named_node(value[1:-1], name)
        expanded = _expand(value, {**KNOWN_PREFIXES, **_declared_prefix_map(query.text)})
        if expanded is not None:
            return _named_node(expanded, name)
        if _SCHEME.match(value) and " " not in value:
            return _named_node(value, name)
        if resolve is None:
            raise ParameterError(f"parameter {name!r}: {value!r} is not an IRI or prefixed name")
        return resolve(param, value)
    if param.type == "string":
        return ox.Literal(value)
    if param.type == "integer":
        if not re.fullmatch(r"[+-]?\d+", value):
            raise ParameterError(f"parameter {name!r} expects an integer, got {value!r}")
        return ox.Literal(str(int(value)), datatype=ox.NamedNode(XSD + "integer"))
    if param.type == "decimal":
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise ParameterError(f"parameter {name!r} expects a decimal number, got {value!r}") from None
        if not number.is_finite():
            raise ParameterError(f"parameter {name!r} expects a finite decimal number, got {value!r}")
        return ox.Literal(format(number, "f"), datatype=ox.NamedNode(XSD + "decimal"))
    if param.type == "boolean":
        if value.lower() not in ("true", "false"):
            raise ParameterError(f"parameter {name!r} expects true or false, got {value!r}")
        return ox.Literal(value.lower(), datatype=ox.NamedNode(XSD + "boolean"))
    if param.type == "date":
        try:
            date.fromisoformat(value)
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                raise ValueError
        except ValueError:
            raise ParameterError(f"parameter {name!r} expects a date as YYYY-MM-DD, got {value!r}") from None
        return ox.Literal(value, datatype=ox.NamedNode(XSD + "date"))
    pattern, example = _TYPE_CHECKS[param.type]
    if not pattern.match(value):
        raise ParameterError(f"parameter {name!r} expects {example}, got {value!r}")
    return ox.Literal(value, datatype=ox.NamedNode(XSD + param.type))


class LabelResolver:
    """Resolves a plain label ("Thailand", "泰国", "APSCO") to the one entity that carries it."""

    def __init__(self, lookup: Callable[[str, str | None], list[tuple[str, bool]]]):
        # lookup(label, class IRI or None) -> [(entity IRI, whether the label is its prefLabel)]
        self._lookup = lookup

    def __call__(self, param: Param, label: str) -> ox.NamedNode:
        found = self._lookup(label, param.rdf_class)
        preferred = sorted({iri for iri, pref in found if pref})
        candidates = preferred or sorted({iri for iri, _ in found})
        of_class = f" of class {_compact(param.rdf_class)}" if param.rdf_class else ""
        if not candidates:
            raise ParameterError(
                f"parameter {param.name!r}: nothing{of_class} is labelled {label!r}; "
                "give an IRI, a prefixed name such as id:state/thailand, or an exact label"
            )
        if len(candidates) > 1:
            shown = ", ".join(_compact(c) for c in candidates[:6])
            raise ParameterError(f"parameter {param.name!r}: the label {label!r} names {len(candidates)} things ({shown}); give an IRI")
        return ox.NamedNode(candidates[0])


_LABEL_PROPERTIES = (
    "<http://www.w3.org/2004/02/skos/core#prefLabel>|<http://www.w3.org/2004/02/skos/core#altLabel>|"
    f"<{RDFS_LABEL}>|<https://w3id.org/apsco/ontology#abbreviation>"
)
_PREF = "<http://www.w3.org/2004/02/skos/core#prefLabel>"


def _local_label_lookup(kg: graph.KnowledgeGraph) -> LabelResolver:
    def lookup(label: str, rdf_class: str | None) -> list[tuple[str, bool]]:
        # Exact match on the label's text in any language; the label and the class are bound by
        # substitution, never written into the query.
        class_clause = "?entity a ?class ." if rdf_class else ""
        sparql = (
            f"SELECT DISTINCT ?entity ?name ?pref {'?class' if rdf_class else ''} WHERE {{ "
            f"?entity {_LABEL_PROPERTIES} ?l . FILTER(isIRI(?entity) && STR(?l) = ?name) {class_clause} "
            f"BIND(EXISTS {{ ?entity {_PREF} ?p FILTER(STR(?p) = ?name) }} AS ?pref) }}"
        )
        subs: dict[str, ox.NamedNode | ox.Literal] = {"name": ox.Literal(label)}
        if rdf_class:
            subs["class"] = ox.NamedNode(rdf_class)
        answer = kg.query(sparql, subs)
        assert isinstance(answer, ox.QuerySolutions)
        return [(str(plain(row["entity"])), plain(row["pref"]) is True) for row in answer]

    return LabelResolver(lookup)


def label_resolver(kg: graph.KnowledgeGraph) -> LabelResolver:
    """Resolves labels against `kg`: pass it to `bind` to bind a saved query's label defaults."""
    return _local_label_lookup(kg)


def _as_text(value: object) -> str:
    # From a notebook, run(q, {"year": 1992}) is natural; the CLI always gives strings.
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


def bind(
    query: SavedQuery, params: Mapping[str, object] | None, resolve: LabelResolver | None
) -> dict[str, ox.NamedNode | ox.Literal]:
    """Defaults merged with the given values, each turned into a typed RDF term. Without
    `resolve`, a plain label (rather than an IRI) is a ParameterError."""
    given = {k: _as_text(v) for k, v in (params or {}).items()}
    for key in given:
        query.param(key)  # unknown parameter -> ParameterError naming it
    bound: dict[str, ox.NamedNode | ox.Literal] = {}
    for p in query.params:
        value = given.get(p.name, p.default)
        if value is None or (p.name in given and value == "" and p.default is None):
            continue
        bound[p.name] = to_term(p, value, query, resolve)
    return bound


def values_block(bound: Mapping[str, ox.NamedNode | ox.Literal]) -> str:
    """`VALUES (?a ?b) { (<…> "…") }`, each term written by pyoxigraph's N-Triples serialiser (so a
    quote, `>` or newline in a value is escaped or was already refused), on one line."""
    if not bound:
        return ""
    names = " ".join(f"?{k}" for k in bound)
    terms = " ".join(str(v) for v in bound.values())
    if "\n" in terms or "\r" in terms:  # impossible with N-Triples escaping; belt and braces
        raise ParameterError("a parameter value could not be written safely")
    return f"VALUES ({names}) {{ ({terms}) }}"


def with_values(text: str, bound: Mapping[str, ox.NamedNode | ox.Literal]) -> str:
    """The query text with the VALUES block at the start of its outermost WHERE group (same line,
    so the endpoint's error positions still match the file), or after the query when it has none."""
    block = values_block(bound)
    if not block:
        return text
    where = scan(text).where_open
    if where is None:
        return text.rstrip() + "\n" + block + "\n"
    return text[:where] + " " + block + " " + text[where:]


def with_prefixes(text: str) -> str:
    """Declare the project prefixes a query uses but does not declare (our local engine knows them;
    another endpoint does not), on the first line so line numbers are unchanged."""
    shape = scan(text)
    missing = sorted(p for p in shape.used_prefixes - shape.declared_prefixes if p in KNOWN_PREFIXES)
    if not missing:
        return text
    return "".join(f"PREFIX {p}: <{KNOWN_PREFIXES[p]}> " for p in missing) + text

