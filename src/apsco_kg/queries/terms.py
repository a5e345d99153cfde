"""The vocabulary every part of the query runner shares: the prefixes it knows, the RDF term types
a result holds, and the two ways a term is shown to a person — as a plain Python value (`plain`)
and as a prefixed name (`compact`).

It depends on nothing else in this package, so the header parser, the parameter binder, the result
type and the output formats (apsco_kg.results) can all use it without importing one another.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Literal as TypingLiteral

import pyoxigraph as ox

from .. import graph
from ..settings import ID

XSD = "http://www.w3.org/2001/XMLSchema#"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
# Prefixes the catalogue and the output formats know: the project's, plus the role vocabulary.
KNOWN_PREFIXES: dict[str, str] = {**graph.PREFIXES, "role": ID + "role/"}

Kind = TypingLiteral["select", "ask", "graph"]
Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple

_INTEGER_TYPES = {
    XSD + t
    for t in (
        "integer", "int", "long", "short", "byte", "nonNegativeInteger", "positiveInteger",
        "nonPositiveInteger", "negativeInteger", "unsignedLong", "unsignedInt", "unsignedShort", "unsignedByte",
    )
}


def plain(term: Term | None) -> object:
    """An RDF term as a plain Python value: IRI -> str; blank node -> '_:id'; xsd:integer (and the
    integer types derived from it) -> int; xsd:decimal -> Decimal; xsd:boolean -> bool; any other
    literal -> its lexical form (language tag and datatype dropped); unbound -> None."""
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return term.value
    if isinstance(term, ox.BlankNode):
        return "_:" + term.value
    if isinstance(term, ox.Literal):
        dt = term.datatype.value
        try:
            if dt in _INTEGER_TYPES:
                return int(term.value)
            if dt == XSD + "decimal":
                return Decimal(term.value)
        except (ValueError, InvalidOperation):
            return term.value  # an ill-typed literal keeps its lexical form
        if dt == XSD + "boolean":
            return term.value in ("true", "1")
        return term.value
    return str(term)


def _expand(value: str, prefixes: Mapping[str, str]) -> str | None:
    """A prefixed name with a known prefix -> its IRI; anything else -> None."""
    m = re.fullmatch(r"([A-Za-z][\w\-.]*)?:(\S*)", value)
    if m and (m.group(1) or "") in prefixes:
        return prefixes[m.group(1) or ""] + m.group(2)
    return None


def _compact(iri: str | None) -> str:
    if iri is None:
        return ""
    best = ""
    for prefix, ns in KNOWN_PREFIXES.items():
        if iri.startswith(ns) and len(ns) > len(KNOWN_PREFIXES.get(best, "")):
            best = prefix
    if best:
        return f"{best}:{iri[len(KNOWN_PREFIXES[best]):]}"
    return f"<{iri}>"


def compact(iri: str) -> str:
    """An IRI written with the project prefixes where one fits (id:state/thailand)."""
    return _compact(iri)
