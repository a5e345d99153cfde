"""The graph as Wikidata's own RDF, so one SPARQL query runs on it and on a Wikidata extract alike.

The shape is the Wikibase RDF dump's (shared/reference/wikidata.md §2, "RDF side"):

    wd:Q148 wdt:P463 wd:Q…  ;                       # truthy (best rank: all ours are normal)
            p:P463 <…/wikidata/statement/…> .
    <…/statement/…> a wikibase:Statement, wikibase:BestRank ; wikibase:rank wikibase:NormalRank ;
        ps:P463 wd:Q… ; pq:P585 "2024-10-01T00:00:00Z"^^xsd:dateTime ;
        psv:P…/pqv:P… [time value node with wikibase:timePrecision] ;
        prov:wasDerivedFrom <…/wikidata/reference/…> .
    <…/reference/…> a wikibase:Reference ; pr:P143 wd:Q328 ; pr:P4656 <https://…oldid=…> .

Statement, reference and value nodes get stable IRIs under our id/ space (hashes of their
content) — never blank nodes (docs/model.md) and never wds:/wdref: IRIs, which are Wikidata's to
mint. Items without a QID yet keep our own IRI as their subject. Times are written as WDQS writes
them: the missing month/day of a year/month-precision time become 01.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from decimal import Decimal, InvalidOperation

import pyoxigraph as ox

from ..settings import ID
from .mapping import Mapping
from .model import (
    EntityRef, ExternalIdValue, Item, ItemValue, MonolingualValue, QuantityValue, Reference, Snak,
    Statement, StringValue, TimeValue, UrlValue, Value,
)
from .vocab import GREGORIAN, WD, Term, value_of

WDT = "http://www.wikidata.org/prop/direct/"
P = "http://www.wikidata.org/prop/"
PS = "http://www.wikidata.org/prop/statement/"
PSV = "http://www.wikidata.org/prop/statement/value/"
PQ = "http://www.wikidata.org/prop/qualifier/"
PQV = "http://www.wikidata.org/prop/qualifier/value/"
PR = "http://www.wikidata.org/prop/reference/"
PRV = "http://www.wikidata.org/prop/reference/value/"
WIKIBASE = "http://wikiba.se/ontology#"
PROV_DERIVED = ox.NamedNode("http://www.w3.org/ns/prov#wasDerivedFrom")
XSD = "http://www.w3.org/2001/XMLSchema#"
RDFS_LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
SCHEMA_DESCRIPTION = ox.NamedNode("http://schema.org/description")
SKOS_ALT = ox.NamedNode("http://www.w3.org/2004/02/skos/core#altLabel")
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
NODES = ID + "wikidata/"

PREFIXES = {
    "wd": WD, "wdt": WDT, "p": P, "ps": PS, "psv": PSV, "pq": PQ, "pqv": PQV, "pr": PR, "prv": PRV,
    "wikibase": WIKIBASE, "prov": "http://www.w3.org/ns/prov#", "xsd": XSD, "schema": "http://schema.org/",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#", "skos": "http://www.w3.org/2004/02/skos/core#",
    "id": ID, "wdstatement": NODES + "statement/", "wdreference": NODES + "reference/", "wdvalue": NODES + "value/",
}


def _wb(local: str) -> ox.NamedNode:
    return ox.NamedNode(WIKIBASE + local)


def _hash(*parts: object) -> str:
    return hashlib.sha1("\x1f".join(map(str, parts)).encode("utf-8")).hexdigest()[:20]


def entity_node(ref: EntityRef) -> ox.NamedNode:
    return ox.NamedNode(WD + ref.qid if ref.qid else ref.iri)


def wdqs_datetime(time: str) -> str:
    """'+2005-00-00T00:00:00Z' → '2005-01-01T00:00:00Z', as the query service stores it."""
    date = time.lstrip("+")
    y, m, d = date[:-10].rsplit("-", 2)
    return f"{y}-{m if m != '00' else '01'}-{d[:2] if d[:2] != '00' else '01'}T00:00:00Z"


def rdf_value(value: Value) -> Term:
    if isinstance(value, ItemValue):
        return entity_node(value.ref)
    if isinstance(value, TimeValue):
        return ox.Literal(wdqs_datetime(value.time), datatype=ox.NamedNode(XSD + "dateTime"))
    if isinstance(value, (StringValue, ExternalIdValue)):
        return ox.Literal(value.text)
    if isinstance(value, MonolingualValue):
        return ox.Literal(value.text, language=value.language)
    if isinstance(value, UrlValue):
        return ox.NamedNode(value.url)
    if isinstance(value, QuantityValue):
        amount = format(value.amount.normalize(), "f")
        return ox.Literal(("+" if not amount.startswith("-") else "") + amount, datatype=ox.NamedNode(XSD + "decimal"))
    raise ValueError(f"unknown value {value!r}")


def _time_node(value: TimeValue) -> tuple[ox.NamedNode, list[ox.Triple]]:
    node = ox.NamedNode(NODES + "value/" + _hash(value.time, value.precision))
    return node, [
        ox.Triple(node, RDF_TYPE, _wb("TimeValue")),
        ox.Triple(node, _wb("timeValue"), rdf_value(value)),
        ox.Triple(node, _wb("timePrecision"), ox.Literal(str(value.precision), datatype=ox.NamedNode(XSD + "integer"))),
        ox.Triple(node, _wb("timeTimezone"), ox.Literal("0", datatype=ox.NamedNode(XSD + "integer"))),
        ox.Triple(node, _wb("timeCalendarModel"), ox.NamedNode(GREGORIAN)),
    ]


def _snak_triples(node: ox.NamedNode, ns: str, vns: str, snak: Snak) -> list[ox.Triple]:
    pid, value = snak
    out = [ox.Triple(node, ox.NamedNode(ns + pid), rdf_value(value))]
    if isinstance(value, TimeValue):
        vnode, more = _time_node(value)
        out += [ox.Triple(node, ox.NamedNode(vns + pid), vnode), *more]
    return out


def reference_node(ref: Reference) -> ox.NamedNode:
    return ox.NamedNode(NODES + "reference/" + _hash(*(f"{p}={v}" for p, v in ref.snaks)))


def statement_triples(st: Statement) -> list[ox.Triple]:
    subject = entity_node(st.subject)
    node = ox.NamedNode(NODES + "statement/" + _hash(st.subject, st.property, st.value, st.qualifiers, st.references))
    out = [
        ox.Triple(subject, ox.NamedNode(WDT + st.property), rdf_value(st.value)),
        ox.Triple(subject, ox.NamedNode(P + st.property), node),
        ox.Triple(node, RDF_TYPE, _wb("Statement")),
        ox.Triple(node, RDF_TYPE, _wb("BestRank")),
        ox.Triple(node, _wb("rank"), _wb("NormalRank")),
    ]
    out += _snak_triples(node, PS, PSV, (st.property, st.value))
    for snak in st.qualifiers:
        out += _snak_triples(node, PQ, PQV, snak)
    for ref in st.references:
        rnode = reference_node(ref)
        out += [ox.Triple(node, PROV_DERIVED, rnode), ox.Triple(rnode, RDF_TYPE, _wb("Reference"))]
        for snak in ref.snaks:
            out += _snak_triples(rnode, PR, PRV, snak)
    return out


def item_triples(item: Item) -> list[ox.Triple]:
    s = entity_node(item.ref)
    out = [ox.Triple(s, RDFS_LABEL, ox.Literal(t, language=lang)) for lang, t in item.labels.items()]
    out += [ox.Triple(s, SCHEMA_DESCRIPTION, ox.Literal(t, language=lang)) for lang, t in item.descriptions.items()]
    out += [ox.Triple(s, SKOS_ALT, ox.Literal(t, language=lang)) for lang, ts in item.aliases.items() for t in ts]
    return out


def triples(statements: Iterable[Statement], items: Iterable[Item] = ()) -> list[ox.Triple]:
    seen: set[ox.Triple] = set()
    out: list[ox.Triple] = []
    for t in [*(t for i in items for t in item_triples(i)), *(t for st in statements for t in statement_triples(st))]:
        if t not in seen:
            seen.add(t)
            out.append(t)
    return out


def turtle(m: Mapping) -> str:
    ts = sorted(triples(m.statements, m.items.values()), key=str)
    data = ox.serialize(ts, format=ox.RdfFormat.TURTLE, prefixes=PREFIXES)
    assert data is not None  # no output given: serialize returns the bytes
    return data.decode("utf-8")


# ------------------------------------------------------------------------------------------
# Reading statements back from any Wikidata-shaped store (our view, or a Wikidata extract)
# ------------------------------------------------------------------------------------------


def value_key(term: Term | None, datatype: str, precision: int | None = None) -> object:
    """A comparable key for an RDF value, given the property's datatype (see same_value)."""
    if term is None:
        return None
    if datatype == "time" and isinstance(term, ox.Literal):
        return ("time", term.value[:19].lstrip("+"), precision)
    if datatype == "quantity" and isinstance(term, ox.Literal):
        try:
            return ("quantity", Decimal(term.value))
        except InvalidOperation:
            return ("quantity", term.value)
    if isinstance(term, ox.Literal):
        return ("literal", term.value, term.language or "")
    return ("iri", value_of(term))


def our_key(value: Value) -> object:
    if isinstance(value, TimeValue):
        return ("time", wdqs_datetime(value.time)[:19], value.precision)
    if isinstance(value, QuantityValue):
        return ("quantity", value.amount)
    return value_key(rdf_value(value), "")


def same_value(ours: Value, term: Term, datatype: str, precision: int | None = None) -> bool:
    """Does an RDF value state our value? Times compare on the parts our precision fixes, and on
    the precision itself when the store gives it (psv:/pqv:/prv: wikibase:timePrecision)."""
    if isinstance(ours, TimeValue):
        if not isinstance(term, ox.Literal):
            return False
        if precision is not None and precision != ours.precision:
            return False
        width = {9: 4, 10: 7, 11: 10}[ours.precision]
        return term.value.lstrip("+")[:width] == wdqs_datetime(ours.time)[:width]
    if isinstance(ours, QuantityValue):
        try:
            return isinstance(term, ox.Literal) and Decimal(term.value) == ours.amount
        except InvalidOperation:
            return False
    if isinstance(ours, UrlValue):
        return value_of(term) == ours.url
    return value_key(term, datatype) == our_key(ours)


StatementKey = tuple[str, str, object, frozenset[tuple[str, object]], frozenset[frozenset[tuple[str, object]]]]


def _node(term: Term) -> ox.NamedNode | ox.BlankNode | None:
    """A term that can be a subject; a literal cannot."""
    return term if isinstance(term, (ox.NamedNode, ox.BlankNode)) else None


def statements_in(store: ox.Store) -> Iterator[StatementKey]:
    """Every full statement of a Wikidata-shaped store as (subject, PID, value key, qualifier keys,
    reference blocks of snak keys), time precisions taken from the value nodes."""
    q = f"""
    SELECT ?s ?pp ?st WHERE {{ ?s ?pp ?st . ?st a <{WIKIBASE}Statement> . FILTER(STRSTARTS(STR(?pp), "{P}")) }}
    """
    for row in store.query(q):  # type: ignore[union-attr]
        s, pp, st = row["s"], row["pp"], _node(row["st"])
        if st is None:
            continue
        pid = value_of(pp)[len(P):]
        main: object = None
        qual_keys: set[tuple[str, object]] = set()
        for quad in store.quads_for_pattern(st, None, None, None):
            pred = quad.predicate.value
            if pred == PS + pid:
                main = _key_with_precision(store, st, PSV + pid, quad.object)
            elif pred.startswith(PQ) and not pred.startswith(PQV):
                qpid = pred[len(PQ):]
                qual_keys.add((qpid, _key_with_precision(store, st, PQV + qpid, quad.object)))
        refs: set[frozenset[tuple[str, object]]] = set()
        for quad in store.quads_for_pattern(st, PROV_DERIVED, None, None):
            ref = _node(quad.object)
            if ref is None:
                continue
            snaks: set[tuple[str, object]] = set()
            for rq in store.quads_for_pattern(ref, None, None, None):
                rp = rq.predicate.value
                if rp.startswith(PR) and not rp.startswith(PRV):
                    rpid = rp[len(PR):]
                    snaks.add((rpid, _key_with_precision(store, ref, PRV + rpid, rq.object)))
            refs.add(frozenset(snaks))
        yield value_of(s), pid, main, frozenset(qual_keys), frozenset(refs)


def _key_with_precision(store: ox.Store, node: ox.NamedNode | ox.BlankNode, value_pred: str, term: Term) -> object:
    """The key of a value; for a time, with the precision of the value node holding the same time."""
    for vq in store.quads_for_pattern(node, ox.NamedNode(value_pred), None, None):
        vnode = _node(vq.object)
        if vnode is not None and list(store.quads_for_pattern(vnode, _wb("timeValue"), term, None)):
            prec = next(iter(store.quads_for_pattern(vnode, _wb("timePrecision"), None, None)))
            return value_key(term, "time", int(value_of(prec.object)))
    return value_key(term, "")


def statement_keys(statements: Iterable[Statement]) -> set[StatementKey]:
    """Our statements keyed exactly as statements_in keys a store's, for round-trip comparisons."""
    out = set()
    for st in statements:
        out.add((
            entity_node(st.subject).value, st.property, our_key(st.value),
            frozenset((p, our_key(v)) for p, v in st.qualifiers),
            frozenset(frozenset((p, our_key(v)) for p, v in r.snaks) for r in st.references),
        ))
    return out
