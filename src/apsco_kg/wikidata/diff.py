"""What a Wikidata-style endpoint lacks of our statements, as QuickStatements.

Through SPARQLWrapper (a descriptive User-Agent, a timeout, POST so long VALUES lists fit):

1. items still to reconcile are looked up by sitelink: `<article IRI> schema:about ?item`;
2. for every item with a QID, its full statements for the properties we write
   (`p:`/`ps:`/`psv:` + wikibase:timePrecision), their qualifiers (`pq:`) and references
   (`prov:wasDerivedFrom`/`pr:`);
3. each of our statements is then *present* (same value, every qualifier and every reference
   block there), *missing*, or present with the same value but *lacking qualifiers* and/or
   *references*. Only the last three are printed: a missing statement in full, a partial one as
   the value plus only what is lacking — QuickStatements adds qualifiers and references to an
   existing statement with the same value instead of creating a second one.
"""

from __future__ import annotations

import json
import socket
import urllib.error
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox
from SPARQLWrapper import JSON, POST, SPARQLWrapper
from SPARQLWrapper import __version__ as sparqlwrapper_version
from SPARQLWrapper.SPARQLExceptions import EndPointNotFound, SPARQLWrapperException

from .. import __version__
from ..graph import KnowledgeGraph
from . import mapping as mapping_mod
from .mapping import Mapping
from .model import Reference, Snak, Statement, Status
from .quickstatements import statement_v1
from .vocab import Term

Bound = ox.NamedNode | ox.BlankNode | ox.Literal  # what a SPARQL JSON binding can be
from .view import P, PQ, PR, PS, PSV, WIKIBASE, same_value

DEFAULT_ENDPOINT = "https://query.wikidata.org/sparql"
USER_AGENT = (
    f"apsco-kg/{__version__} (https://w3id.org/apsco/; APSCO knowledge graph, Wikidata diff) "
    f"SPARQLWrapper/{sparqlwrapper_version}"
)
CHUNK = 50  # items per VALUES block: keeps each query small for the public service


class DiffError(Exception):
    """The endpoint could not be asked or did not answer with a SPARQL result."""


@dataclass
class Finding:
    kind: str  # "missing", "missing-qualifiers", "missing-references", "missing-qualifiers-and-references"
    statement: Statement
    qualifiers: tuple[Snak, ...] = ()
    references: tuple[Reference, ...] = ()

    def line(self) -> str:
        assert self.statement.subject.qid is not None
        if self.kind == "missing":
            return statement_v1(self.statement.subject.qid, self.statement, "apsco-kg diff: missing statement")
        partial = Statement(self.statement.subject, self.statement.property, self.statement.datatype,
                            self.statement.value, self.qualifiers, self.references)
        lacking = []
        if self.qualifiers:
            lacking.append("qualifiers " + " ".join(dict.fromkeys(p for p, _ in self.qualifiers)))
        if self.references:
            lacking.append(f"{len(self.references)} reference(s)")
        return statement_v1(self.statement.subject.qid, partial, "apsco-kg diff: same value, missing " + " and ".join(lacking))


@dataclass
class DiffResult:
    findings: list[Finding] = field(default_factory=list)
    present: int = 0
    notes: list[str] = field(default_factory=list)
    reconciled: dict[str, str] = field(default_factory=dict)

    def quickstatements(self) -> str:
        return "".join(f.line() + "\n" for f in self.findings)


class Endpoint:
    """A SPARQL endpoint asked with SPARQLWrapper; every failure becomes a DiffError that says what happened."""

    def __init__(self, url: str, timeout: float):
        self.url = url
        self.timeout = timeout

    def select(self, query: str) -> list[dict[str, Bound]]:
        w = SPARQLWrapper(self.url, agent=USER_AGENT)
        w.setMethod(POST)
        w.setReturnFormat(JSON)
        # setTimeout() truncates to int (0.5 s would become 0 = no timeout); urlopen takes a float.
        w.timeout = self.timeout  # type: ignore[assignment]
        w.setQuery(query)
        try:
            raw = w.query().response.read()
        except EndPointNotFound:
            # SPARQLWrapper's own text ("not possible to connect") hides that the server did answer.
            raise DiffError(f"{self.url} answered HTTP 404: no SPARQL endpoint at this URL") from None
        except SPARQLWrapperException as exc:
            raise DiffError(f"{self.url} answered with an HTTP error: {str(exc).strip().splitlines()[0]}") from None
        except urllib.error.HTTPError as exc:
            raise DiffError(f"{self.url} answered HTTP {exc.code} {exc.reason}") from None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, (socket.timeout, TimeoutError)):
                raise DiffError(f"{self.url} did not answer within {self.timeout:g} s") from None
            raise DiffError(f"cannot reach {self.url}: {exc.reason}") from None
        except (socket.timeout, TimeoutError):
            raise DiffError(f"{self.url} did not answer within {self.timeout:g} s") from None
        except OSError as exc:
            raise DiffError(f"cannot reach {self.url}: {exc}") from None
        try:
            doc = json.loads(raw)
            bindings = doc["results"]["bindings"]
            if not isinstance(bindings, list):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            raise DiffError(f"{self.url} did not answer with SPARQL JSON results (got {raw[:60]!r}…)") from None
        return [{k: _term(v) for k, v in b.items()} for b in bindings]


def _term(b: dict[str, Any]) -> Bound:
    """A SPARQL JSON binding as a pyoxigraph term."""
    kind, value = b.get("type"), b.get("value", "")
    if kind == "uri":
        return ox.NamedNode(value)
    if kind in ("literal", "typed-literal"):
        if "xml:lang" in b:
            return ox.Literal(value, language=b["xml:lang"])
        if "datatype" in b:
            return ox.Literal(value, datatype=ox.NamedNode(b["datatype"]))
        return ox.Literal(value)
    if kind == "bnode":
        return ox.BlankNode(value)
    raise DiffError(f"unexpected SPARQL JSON binding {b!r}")


def _encoded(iri: str) -> str:
    """WDQS writes sitelink IRIs percent-encoded; our data may write them as IRIs with Unicode."""
    from urllib.parse import quote

    return quote(iri, safe=":/?#[]@!$&'()*+,;=%")


def reconcile_by_sitelink(m: Mapping, ep: Endpoint, result: DiffResult) -> dict[str, str]:
    pending = {iri: item for iri, item in m.items.items()
               if item.ref.status is Status.NEEDS_RECONCILIATION and item.ref.qid is None and item.articles}
    if not pending:
        return {}
    article_of: dict[str, str] = {}
    for iri, item in pending.items():
        for a in item.articles:
            article_of[a] = iri
            article_of[_encoded(a)] = iri
    values = " ".join(f"<{a}>" for a in sorted(article_of))
    rows = ep.select(f"SELECT ?article ?item WHERE {{ VALUES ?article {{ {values} }} ?article <http://schema.org/about> ?item }}")
    found: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        qid = row["item"].value.rsplit("/", 1)[-1]
        found[article_of[row["article"].value]].add(qid)
    out: dict[str, str] = {}
    for iri, qids in sorted(found.items()):
        if len(qids) == 1:
            out[iri] = next(iter(qids))
            result.notes.append(f"{iri}: reconciled to {out[iri]} by its sitelink")
        else:
            result.notes.append(f"{iri}: its sitelinks name different items {sorted(qids)}; left unreconciled")
    for iri in sorted(set(pending) - set(found)):
        result.notes.append(f"{iri}: no item has its sitelink on this endpoint")
    return out


@dataclass
class _Remote:
    value: Bound
    precision: int | None = None
    qualifiers: list[tuple[str, Bound]] = field(default_factory=list)
    references: dict[str, list[tuple[str, Bound]]] = field(default_factory=lambda: defaultdict(list))


def _fetch(ep: Endpoint, qids: list[str], pids: list[str]) -> dict[tuple[str, str], dict[str, _Remote]]:
    """(QID, PID) → statement IRI → what the endpoint holds for it."""
    out: dict[tuple[str, str], dict[str, _Remote]] = defaultdict(dict)
    props = " ".join(f'("{p}" <{P}{p}> <{PS}{p}> <{PSV}{p}>)' for p in pids)
    for i in range(0, len(qids), CHUNK):
        items = " ".join(f"<http://www.wikidata.org/entity/{q}>" for q in qids[i:i + CHUNK])
        head = f"VALUES ?item {{ {items} }} VALUES (?pid ?pp ?ps ?psv) {{ {props} }} ?item ?pp ?st ."
        for row in ep.select(f"""SELECT ?item ?pid ?st ?v ?prec WHERE {{ {head} ?st ?ps ?v .
                OPTIONAL {{ ?st ?psv ?vn . ?vn <{WIKIBASE}timeValue> ?v ; <{WIKIBASE}timePrecision> ?prec }} }}"""):
            key = (row["item"].value.rsplit("/", 1)[-1], row["pid"].value)
            prec = row.get("prec")
            out[key][row["st"].value] = _Remote(row["v"], int(prec.value) if prec is not None else None)
        for row in ep.select(f"""SELECT ?item ?pid ?st ?q ?qv WHERE {{ {head} ?st ?q ?qv .
                FILTER(STRSTARTS(STR(?q), "{PQ}") && !STRSTARTS(STR(?q), "{PQ}value/")) }}"""):
            remote = out[(row["item"].value.rsplit("/", 1)[-1], row["pid"].value)].get(row["st"].value)
            if remote is not None:
                remote.qualifiers.append((row["q"].value[len(PQ):], row["qv"]))
        for row in ep.select(f"""SELECT ?item ?pid ?st ?ref ?r ?rv WHERE {{ {head}
                ?st <http://www.w3.org/ns/prov#wasDerivedFrom> ?ref . ?ref ?r ?rv .
                FILTER(STRSTARTS(STR(?r), "{PR}") && !STRSTARTS(STR(?r), "{PR}value/")) }}"""):
            remote = out[(row["item"].value.rsplit("/", 1)[-1], row["pid"].value)].get(row["st"].value)
            if remote is not None:
                remote.references[row["ref"].value].append((row["r"].value[len(PR):], row["rv"]))
    return out


def _has(snak: Snak, remote: list[tuple[str, Bound]], datatypes: dict[str, str]) -> bool:
    pid, val = snak
    return any(rp == pid and same_value(val, rv, datatypes.get(pid, "")) for rp, rv in remote)


def compare(st: Statement, remotes: dict[str, _Remote], datatypes: dict[str, str]) -> Finding | None:
    """None when the endpoint has the statement with all its qualifiers and references."""
    best: tuple[int, tuple[Snak, ...], tuple[Reference, ...]] | None = None
    for remote in remotes.values():
        if not same_value(st.value, remote.value, st.datatype, remote.precision):
            continue
        quals = tuple(q for q in st.qualifiers if not _has(q, remote.qualifiers, datatypes))
        refs = tuple(r for r in st.references
                     if not any(all(_has(s, snaks, datatypes) for s in r.snaks) for snaks in remote.references.values()))
        score = len(quals) + len(refs)
        if best is None or score < best[0]:
            best = (score, quals, refs)
    if best is None:
        return Finding("missing", st)
    _, quals, refs = best
    if not quals and not refs:
        return None
    kind = "missing-qualifiers-and-references" if quals and refs else "missing-qualifiers" if quals else "missing-references"
    return Finding(kind, st, quals, refs)


def diff(kg: KnowledgeGraph, endpoint: str, timeout: float, reconciled: dict[str, str] | None = None,
         created: dict[str, str] | None = None) -> DiffResult:
    """Reconcile by sitelink what still needs it, then compare every statement whose items all have QIDs."""
    result = DiffResult()
    ep = Endpoint(endpoint, timeout)
    reconciled = dict(reconciled or {})
    m = mapping_mod.build(kg, reconciled, created)
    found = reconcile_by_sitelink(m, ep, result)
    if found:
        reconciled.update(found)
        result.reconciled = found
        m = mapping_mod.build(kg, reconciled, created)
    return diff_mapping(m, ep, result)


def diff_mapping(m: Mapping, ep: Endpoint, result: DiffResult | None = None) -> DiffResult:
    result = result or DiffResult()
    datatypes = m.ontology.datatypes()
    comparable = [st for st in m.statements if all(r.qid is not None for r in st.refs())]
    skipped = len(m.statements) - len(comparable)
    if skipped:
        result.notes.append(f"{skipped} statement(s) name items without a QID yet (create or reconcile them first)")
    qids = sorted({st.subject.qid for st in comparable if st.subject.qid}, key=lambda q: int(q[1:]))
    pids = sorted({st.property for st in comparable}, key=lambda p: int(p[1:]))
    remote = _fetch(ep, qids, pids) if qids else {}
    for st in comparable:
        assert st.subject.qid is not None
        finding = compare(st, remote.get((st.subject.qid, st.property), {}), datatypes)
        if finding is None:
            result.present += 1
        else:
            result.findings.append(finding)
    return result
