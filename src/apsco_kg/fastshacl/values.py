"""Checks on one value node, written to give exactly pyshacl's answer.

Each function ports the corresponding pyshacl 0.40 constraint (pyshacl/constraints/core/*.py) to
pyoxigraph terms. Where pyshacl's answer depends on how rdflib reads a literal (is it ill-typed? is
its Python value an int, a date?), the literal is converted to rdflib once and rdflib decides, so
the two engines cannot drift apart on lexical forms. rdflib is imported only when such a check runs.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any

import pyoxigraph as ox

from .shapes import Term

XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
RDFS_LITERAL = "http://www.w3.org/2000/01/rdf-schema#Literal"
RDFS_DATATYPE = "http://www.w3.org/2000/01/rdf-schema#Datatype"
XSD_STRING = XSD + "string"
SH = "http://www.w3.org/ns/shacl#"

_RDFLIB: dict[Term, Any] = {}


def to_rdflib(term: Term) -> Any:
    """The rdflib term pyshacl would see for this node (literals cached: the same date recurs)."""
    cached = _RDFLIB.get(term)  # type: ignore[call-overload]
    if cached is not None:
        return cached
    from rdflib import BNode, Literal, URIRef

    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if True:
        lit: ox.Literal = term  # type: ignore[assignment]
        # rdflib logs a traceback for every ill-typed literal it converts; the result is what matters.
        log = logging.getLogger("rdflib.term")
        level = log.level
        log.setLevel(logging.CRITICAL)
        try:
            if lit.language:
                cached = Literal(lit.value, lang=lit.language)
            elif lit.datatype.value == XSD_STRING:
                cached = Literal(lit.value)  # N-Triples "x" reaches rdflib with no datatype
            else:
                cached = Literal(lit.value, datatype=URIRef(lit.datatype.value))
        finally:
            log.setLevel(level)
        _RDFLIB[lit] = cached
    return cached


def datatype_ok(v: Term, dt: str) -> bool:
    """DatatypeConstraintComponent.evaluate."""
    if not isinstance(v, ox.Literal):
        return False
    lang = v.language
    own = None if lang or v.datatype.value == XSD_STRING else v.datatype.value
    if own is not None and own == dt:
        simple = _SIMPLE.get(dt)
        if simple is not None and simple.fullmatch(v.value) and _simple_ok(dt, v.value):
            return True  # a canonical form rdflib certainly reads as the right Python type (see _SIMPLE)
        if dt in _UNPARSED:
            return True  # rdflib has no parser for these: never ill-typed, "assume pass" in pyshacl
        rl = to_rdflib(v)
        if getattr(rl, "ill_typed", None) is True:
            return False
        return _actual_datatype(rl.value, dt)
    if dt == XSD_STRING and v.datatype.value == XSD_STRING and not lang:
        return True  # explicit ^^xsd:string and plain "x" both pass in pyshacl
    if dt == RDFS_LITERAL:
        return True
    if dt == RDFS_DATATYPE and own is not None:
        return True  # validate.py hands pyshacl N-Triples, where every xsd:string literal is plain
    return dt == RDF_LANGSTRING and bool(lang)


# Lexical forms for which rdflib's reading is certain, so most literals skip the rdflib conversion:
# a plain YYYY-MM-DD that is a real date is an xsd:date rdflib parses to datetime.date; an optional
# sign and digits is an int; true/false a bool; digits with an optional fraction a Decimal. Anything
# else (time zones, leading spaces, exponents, '1' for true…) still goes through rdflib.
_SIMPLE: dict[str, re.Pattern[str]] = {
    XSD + "date": re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}"),
    XSD + "integer": re.compile(r"[+-]?[0-9]{1,18}"),
    XSD + "boolean": re.compile(r"true|false"),
    XSD + "decimal": re.compile(r"[+-]?[0-9]{1,15}(\.[0-9]{1,15})?"),
}


def _simple_ok(dt: str, lexical: str) -> bool:
    if dt == XSD + "date":
        import datetime

        try:
            datetime.date.fromisoformat(lexical)
        except ValueError:
            return False
    return True


def _unparsed_datatypes() -> frozenset[str]:
    """XSD datatypes rdflib keeps as bare lexical forms (no converter), checked against rdflib itself."""
    from rdflib.term import XSDToPython

    candidates = ("gYear", "gYearMonth", "gMonth", "gDay", "gMonthDay", "anyURI", "string", "normalizedString",
                  "token", "language", "Name", "NCName", "NMTOKEN")
    return frozenset(XSD + c for c in candidates if XSDToPython.get(__import__("rdflib").URIRef(XSD + c)) is None)


class _Lazy:
    """_UNPARSED, computed on first use so importing this module does not import rdflib."""

    _value: frozenset[str] | None = None

    def __contains__(self, dt: object) -> bool:
        if _Lazy._value is None:
            _Lazy._value = _unparsed_datatypes()
        return dt in _Lazy._value


_UNPARSED = _Lazy()


def _actual_datatype(value: object, dt: str) -> bool:
    """DatatypeConstraintComponent._assert_actual_datatype."""
    import datetime
    from decimal import Decimal

    checks: dict[str, type | tuple[type, ...]] = {
        XSD_STRING: (str, bytes), RDF_LANGSTRING: (str, bytes), XSD + "integer": int, XSD + "float": float,
        XSD + "decimal": Decimal, XSD + "boolean": bool, XSD + "date": datetime.date, XSD + "time": datetime.time,
        XSD + "dateTime": datetime.datetime,
    }
    kind = checks.get(dt)
    return True if kind is None else isinstance(value, kind)


def nodekind_ok(v: Term, kind: str) -> bool:
    iri, blank, literal = isinstance(v, ox.NamedNode), isinstance(v, ox.BlankNode), isinstance(v, ox.Literal)
    return {
        "IRI": iri, "BlankNode": blank, "Literal": literal, "BlankNodeOrIRI": blank or iri,
        "BlankNodeOrLiteral": blank or literal, "IRIOrLiteral": iri or literal,
    }[kind[len(SH):]]


def lexical(v: Term) -> str:
    """StringBasedConstraintBase.value_node_to_string: the lexical form, or the IRI."""
    return v.value  # type: ignore[union-attr]


def compile_pattern(pattern: Term, flags: Term | None) -> re.Pattern[str]:
    """PatternConstraintComponent.__init__: only the i and m flags are honoured, as in pyshacl."""
    re_flags = 0
    if flags is not None:
        f = flags.value.lower()  # type: ignore[union-attr]
        re_flags |= re.I if "i" in f else 0
        re_flags |= re.M if "m" in f else 0
    return re.compile(pattern.value, re_flags)  # type: ignore[union-attr]


def pattern_ok(v: Term, matcher: re.Pattern[str]) -> bool:
    if isinstance(v, ox.BlankNode):
        return False
    s = lexical(v)
    return bool(matcher.match(s) or matcher.search(s))


def language_in_ok(v: Term, wanted: frozenset[str]) -> bool:
    """LanguageInConstraintComponent: a tag, or its first subtag, in the list (lower-cased); * = any."""
    if not isinstance(v, ox.Literal) or not v.language:
        return False
    lang = v.language.lower()
    return "*" in wanted or lang in wanted or lang.split("-")[0] in wanted


def length_ok(v: Term, bound: int, is_min: bool) -> bool:
    if is_min and bound == 0:
        return True
    if isinstance(v, ox.BlankNode):
        return False
    n = len(lexical(v))
    return n >= bound if is_min else n <= bound


def range_ok(v: Term, bound: Term, op: str) -> bool:
    """Min/MaxInclusive/Exclusive: pyshacl compares rdflib values, and never a string with a non-string."""
    if not isinstance(v, ox.Literal):
        return False
    iv, ib = _simple_int(v), _simple_int(bound)
    if iv is not None and ib is not None:  # two plain xsd:integer: rdflib compares the ints
        cmp = (iv > ib) - (iv < ib)
        return {"minInclusive": cmp >= 0, "minExclusive": cmp > 0, "maxInclusive": cmp <= 0, "maxExclusive": cmp < 0}[op]
    rv, rb = to_rdflib(v), to_rdflib(bound)
    if isinstance(rv.value, str) != isinstance(rb.value, str):
        return False
    try:
        cmp = _compare_literal(rv, rb)
    except (TypeError, NotImplementedError):
        return False
    return {"minInclusive": cmp >= 0, "minExclusive": cmp > 0, "maxInclusive": cmp <= 0, "maxExclusive": cmp < 0}[op]


def _simple_int(t: Term) -> int | None:
    if isinstance(t, ox.Literal) and t.datatype.value == XSD + "integer" and _SIMPLE[XSD + "integer"].fullmatch(t.value):
        return int(t.value)
    return None


def _compare_literal(l1: Any, l2: Any) -> int:
    """pyshacl.rdfutil.compare.compare_literal (its sign convention: l1 versus l2)."""
    import datetime

    if l1.eq(l2):
        return 0
    if l1.value.__class__ in (datetime.datetime, datetime.time):
        if l1.value == l2.value:
            return 0
        if l1.value > l2.value:
            return 1
    elif l1 > l2:
        return 1
    return -1


def pair_violations(values: Iterable[Term], others: Iterable[Term], strict: bool) -> list[Term]:
    """LessThan / LessThanOrEquals: each value against each value of the other property."""
    bad: list[Term] = []
    others = list(others)
    for v in values:
        v_str, vv = _pair_view(v)
        for o in others:
            o_str, ov = _pair_view(o)
            if v_str != o_str or not (vv < ov if strict else vv <= ov):
                bad.append(v)  # one result per failing pair, as pyshacl reports them
    return bad


def _pair_view(t: Term) -> tuple[bool, Any]:
    if isinstance(t, ox.BlankNode):
        raise ValueError("sh:lessThan cannot compare a blank node")  # pyshacl raises too
    if isinstance(t, ox.NamedNode):
        return True, t.value
    r = to_rdflib(t)
    return (True, r.value) if isinstance(r.value, str) else (False, r)


def unique_lang_duplicates(values: Iterable[Term]) -> int:
    """UniqueLangConstraintComponent: the number of languages used by two or more values."""
    seen: set[str] = set()
    dup: set[str] = set()
    for v in values:
        if isinstance(v, ox.Literal) and v.language:
            low = v.language.lower()
            (dup if low in seen else seen).add(low)
    return len(dup)
