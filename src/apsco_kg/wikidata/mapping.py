"""Wikidata statements derived from the graph through the ontology's annotations — nothing else.

* a triple `s p o` in an article's provenance graph, with `p apsco:wikidataProperty P;
  apsco:wikidataDatatype T` and `s` an entity with a Wikidata status, is the statement `s P o`;
* `s rdf:type C` with `C apsco:wikidataClass Q` is `s P31 Q`;
* an n-ary role node (agent, role, context) whose role carries `apsco:wikidataProperty` and
  `apsco:wikidataDirection` is one statement; the node's own annotated properties (date, location,
  ordinal, as-of, start) are its qualifiers;
* a property with `apsco:wikidataQualifierOf P` said of an item (the ordinal of a session) is a
  qualifier on that item's P statements;
* the references of a statement come from the named graphs that hold it: the article (P143 its
  Wikimedia project, P4656 the revision), and per cited reference a block of the annotated
  `apsco:wikidataReferenceSnak` properties of the citation and of the cited work.

Entities are items when they carry `apsco:wikidataItem` (CONFIRMED) or `apsco:reconciliation`.
An item's QID is never guessed: only the graph, a reconciliation file or a created-QIDs file
supplies it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pyoxigraph as ox

from ..graph import INFERRED_GRAPH, ONTOLOGY_GRAPH, SOURCES_GRAPH, KnowledgeGraph
from . import vocab as v
from .vocab import Term, value_of
from .model import (
    DATATYPES, EXTERNAL_ID, ITEM, MONOLINGUAL, PID_RE, QID_RE, QUANTITY, STRING, TIME, URL,
    EntityRef, ExternalIdValue, Item, ItemValue, MonolingualValue, QuantityValue, Reference, Snak,
    Statement, Status, StringValue, TimeError, TimeValue, UrlValue, Value, pid_number,
)


@dataclass(frozen=True)
class Problem:
    """Something the mapping could not export, said so rather than guessed."""

    kind: str
    subject: str
    message: str
    node: str | None = None  # for "no-status": the entity that has no Wikidata status


@dataclass(frozen=True)
class PropertyMapping:
    term: str
    pid: str
    datatype: str
    reference_snak: bool = False
    qualifier_of: str | None = None


@dataclass(frozen=True)
class RoleMapping:
    role: str
    pid: str
    agent_is_subject: bool


@dataclass
class OntologyMapping:
    properties: dict[str, PropertyMapping] = field(default_factory=dict)
    roles: dict[str, RoleMapping] = field(default_factory=dict)
    classes: dict[str, str] = field(default_factory=dict)
    counts: dict[str, str] = field(default_factory=dict)  # role IRI → PID of a tally of its holders
    unmapped_properties: list[str] = field(default_factory=list)
    unmapped_classes: list[str] = field(default_factory=list)

    def datatypes(self) -> dict[str, str]:
        """PID → datatype for every PID the export can write (what the strict parser checks)."""
        out = {m.pid: m.datatype for m in self.properties.values()}
        out.update({r.pid: ITEM for r in self.roles.values()})
        out.update({pid: QUANTITY for pid in self.counts.values()})
        out[v.P_INSTANCE_OF] = ITEM
        out[v.P_IMPORTED_FROM] = ITEM
        out[v.P_WIKIMEDIA_IMPORT_URL] = URL
        return out


@dataclass
class Mapping:
    ontology: OntologyMapping
    items: dict[str, Item]
    statements: list[Statement]
    problems: list[Problem]
    created: frozenset[str] = frozenset()  # IRIs whose QID came from a --created file

    def item(self, iri: str) -> Item:
        return self.items[iri]


def _pid(node: Term) -> str | None:
    value = value_of(node) if isinstance(node, (ox.NamedNode, ox.Literal)) else ""
    pid = value.rsplit("/", 1)[-1]
    return pid if PID_RE.match(pid) and value.startswith(v.WD) else None


def _qid(node: Term) -> str | None:
    value = value_of(node) if isinstance(node, (ox.NamedNode, ox.Literal)) else ""
    qid = value.rsplit("/", 1)[-1]
    return qid if QID_RE.match(qid) and value.startswith(v.WD) else None


def _objects(kg: KnowledgeGraph, s: Term, p: ox.NamedNode, graph: ox.NamedNode | None = None) -> list[Term]:
    if isinstance(s, ox.Literal):
        return []  # a literal has no properties
    return sorted({q.object for q in kg.store.quads_for_pattern(s, p, None, graph)}, key=str)


def read_ontology(kg: KnowledgeGraph) -> tuple[OntologyMapping, list[Problem]]:
    """The annotations in GRAPH graph:ontology, checked: a PID, a known datatype, a direction."""
    om = OntologyMapping()
    problems: list[Problem] = []
    g = ONTOLOGY_GRAPH
    for q in kg.store.quads_for_pattern(None, v.WIKIDATA_PROPERTY, None, g):
        term = value_of(q.subject)
        pid = _pid(q.object)
        if pid is None:
            problems.append(Problem("ontology", term, f"apsco:wikidataProperty {q.object} is not a Wikidata property IRI"))
            continue
        directions = _objects(kg, q.subject, v.WIKIDATA_DIRECTION, g)
        if directions:
            if directions[0] not in (v.AGENT_TO_CONTEXT, v.CONTEXT_TO_AGENT) or len(directions) > 1:
                problems.append(Problem("ontology", term, "a role needs exactly one apsco:wikidataDirection"))
                continue
            om.roles[term] = RoleMapping(term, pid, directions[0] == v.AGENT_TO_CONTEXT)
            continue
        dts = [value_of(d) for d in _objects(kg, q.subject, v.WIKIDATA_DATATYPE, g)]
        if len(dts) != 1 or dts[0] not in DATATYPES:
            problems.append(Problem("ontology", term, f"{pid} needs one apsco:wikidataDatatype among {sorted(DATATYPES)}; has {dts}"))
            continue
        ref = any(value_of(o) == "true" for o in _objects(kg, q.subject, v.WIKIDATA_REFERENCE_SNAK, g))
        qual = [_pid(o) for o in _objects(kg, q.subject, v.WIKIDATA_QUALIFIER_OF, g)]
        om.properties[term] = PropertyMapping(term, pid, dts[0], ref, qual[0] if qual else None)
    for q in kg.store.quads_for_pattern(None, v.WIKIDATA_COUNT_PROPERTY, None, g):
        count_pid = _pid(q.object)
        if count_pid is None:
            problems.append(Problem("ontology", value_of(q.subject), f"apsco:wikidataCountProperty {q.object} is not a Wikidata property IRI"))
        else:
            om.counts[value_of(q.subject)] = count_pid
    for q in kg.store.quads_for_pattern(None, v.WIKIDATA_CLASS, None, g):
        qid = _qid(q.object)
        if qid is None:
            problems.append(Problem("ontology", value_of(q.subject), f"apsco:wikidataClass {q.object} is not a Wikidata item IRI"))
        else:
            om.classes[value_of(q.subject)] = qid
    for kind in (v.OBJECT_PROPERTY, v.DATATYPE_PROPERTY):
        for q in kg.store.quads_for_pattern(None, v.RDF_TYPE, kind, g):
            if value_of(q.subject).startswith(v.APSCO) and value_of(q.subject) not in om.properties:
                om.unmapped_properties.append(value_of(q.subject))
    for q in kg.store.quads_for_pattern(None, v.RDF_TYPE, v.OWL_CLASS, g):
        if value_of(q.subject).startswith(v.APSCO) and value_of(q.subject) not in om.classes:
            om.unmapped_classes.append(value_of(q.subject))
    om.unmapped_properties.sort()
    om.unmapped_classes.sort()
    return om, problems


def read_qid_file(path: Path) -> dict[str, str]:
    """A TSV of `entity IRI <TAB> QID` lines (# comments and blank lines allowed), strictly checked."""
    out: dict[str, str] = {}
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 2 or not parts[0].startswith(("http://", "https://")) or not QID_RE.match(parts[1].strip()):
            raise ValueError(f"{path}:{n}: expected '<entity IRI><TAB>Q…', got {raw!r}")
        iri, qid = parts[0].strip(), parts[1].strip()
        if iri in out and out[iri] != qid:
            raise ValueError(f"{path}:{n}: {iri} is given two QIDs, {out[iri]} and {qid}")
        out[iri] = qid
    return out


def _entity_refs(kg: KnowledgeGraph, reconciled: dict[str, str], created: dict[str, str]) -> tuple[dict[str, EntityRef], list[Problem]]:
    refs: dict[str, EntityRef] = {}
    problems: list[Problem] = []
    confirmed: dict[str, set[str]] = defaultdict(set)
    for q in kg.store.quads_for_pattern(None, v.WIKIDATA_ITEM, None, None):
        if q.graph_name in (INFERRED_GRAPH, ONTOLOGY_GRAPH):
            continue
        qid = _qid(q.object)
        if qid is None:
            problems.append(Problem("entity", value_of(q.subject), f"apsco:wikidataItem {q.object} is not a Wikidata item IRI"))
        else:
            confirmed[value_of(q.subject)].add(qid)
    statuses: dict[str, set[str]] = defaultdict(set)
    for q in kg.store.quads_for_pattern(None, v.RECONCILIATION, None, None):
        if q.graph_name not in (INFERRED_GRAPH, ONTOLOGY_GRAPH):
            statuses[value_of(q.subject)].add(value_of(q.object))
    for iri in sorted(set(confirmed) | set(statuses)):
        qids, sts = confirmed.get(iri, set()), statuses.get(iri, set())
        if len(qids) > 1:
            problems.append(Problem("entity", iri, f"two Wikidata items {sorted(qids)}: left unmapped until one is chosen"))
            refs[iri] = EntityRef(iri, None, Status.NEEDS_RECONCILIATION)
        elif qids and sts:
            problems.append(Problem("entity", iri, "has both apsco:wikidataItem and apsco:reconciliation; the item wins"))
            refs[iri] = EntityRef(iri, next(iter(qids)), Status.CONFIRMED)
        elif qids:
            refs[iri] = EntityRef(iri, next(iter(qids)), Status.CONFIRMED)
        elif v.NEEDS_RECONCILIATION.value in sts:
            refs[iri] = EntityRef(iri, None, Status.NEEDS_RECONCILIATION)
        elif v.NO_ITEM_KNOWN.value in sts:
            refs[iri] = EntityRef(iri, None, Status.NO_ITEM_KNOWN)
        else:
            problems.append(Problem("entity", iri, f"unknown reconciliation status {sorted(sts)}"))
    for source, given in (("reconciliation file", reconciled), ("created-QIDs file", created)):
        for iri, qid in given.items():
            ref = refs.get(iri)
            if ref is None:
                problems.append(Problem("entity", iri, f"the {source} names an entity the graph has no Wikidata status for"))
            elif ref.status is Status.CONFIRMED:
                if ref.qid != qid:
                    problems.append(Problem("entity", iri, f"the {source} says {qid}, the graph's confirmed item is {ref.qid}; kept {ref.qid}"))
            elif ref.qid is not None and ref.qid != qid:
                problems.append(Problem("entity", iri, f"given two QIDs ({ref.qid}, {qid}) by the reconciliation and created files"))
            else:
                refs[iri] = EntityRef(iri, qid, ref.status)
    return refs, problems


def _time(lit: ox.Literal) -> TimeValue | None:
    dt = lit.datatype.value
    text = lit.value.strip()
    try:
        if dt == v.XSD + "gYear" and re.fullmatch(r"\d{4}", text):
            return TimeValue(f"+{text}-00-00T00:00:00Z", 9)
        if dt == v.XSD + "gYearMonth" and re.fullmatch(r"\d{4}-\d{2}", text):
            return TimeValue(f"+{text}-00T00:00:00Z", 10)
        if dt in (v.XSD + "date", v.XSD + "dateTime") and re.match(r"\d{4}-\d{2}-\d{2}", text):
            return TimeValue(f"+{text[:10]}T00:00:00Z", 11)
    except TimeError:
        return None
    return None


class _Converter:
    """Turns an RDF object into a Wikibase value of a datatype, or says why it cannot."""

    def __init__(self, refs: dict[str, EntityRef], classes: dict[str, str]):
        self.refs = refs
        self.classes = classes

    def value(self, node: Term, datatype: str) -> Value | str:
        """The value, or an explanation (a str) of why there is none."""
        if datatype == ITEM:
            if isinstance(node, ox.NamedNode) and value_of(node) in self.refs:
                return ItemValue(self.refs[value_of(node)])
            return f"{node} has no Wikidata status (no apsco:wikidataItem / apsco:reconciliation)"
        if datatype == URL:
            if isinstance(node, ox.NamedNode):
                return UrlValue(value_of(node))
            if isinstance(node, ox.Literal) and node.datatype.value == v.XSD + "anyURI":
                return UrlValue(value_of(node))
            return f"{node} is not an IRI for a url value"
        if not isinstance(node, ox.Literal):
            return f"{node} is not a literal for a {datatype} value"
        if datatype == TIME:
            t = _time(node)
            return t if t is not None else f"{node} is not an xsd:gYear, xsd:gYearMonth or xsd:date"
        if datatype == MONOLINGUAL:
            if not node.language:
                return f"{node} has no language tag for a monolingual text"
            return MonolingualValue(value_of(node), node.language)
        if datatype == STRING:
            return StringValue(value_of(node))
        if datatype == EXTERNAL_ID:
            return ExternalIdValue(value_of(node))
        if datatype == QUANTITY:
            try:
                return QuantityValue(Decimal(value_of(node)))
            except InvalidOperation:
                return f"{node} is not a number"
        return f"unknown datatype {datatype}"


def _provenance_graphs(kg: KnowledgeGraph) -> list[ox.NamedNode]:
    return sorted({q.subject for q in kg.store.quads_for_pattern(None, v.RDF_TYPE, v.PROVENANCE_GRAPH, SOURCES_GRAPH)
                   if isinstance(q.subject, ox.NamedNode)}, key=lambda n: value_of(n))


def _references(kg: KnowledgeGraph, om: OntologyMapping, conv: _Converter, problems: list[Problem]) -> dict[ox.NamedNode, list[Reference]]:
    """Reference blocks per provenance graph: the article's (P143 + P4656), then one per cited reference."""
    out: dict[ox.NamedNode, list[Reference]] = {}
    ref_props = {term: m for term, m in om.properties.items() if m.reference_snak}
    for g in _provenance_graphs(kg):
        blocks: list[Reference] = []
        for article in _objects(kg, g, v.WAS_DERIVED_FROM, SOURCES_GRAPH):
            projects = [conv.value(p, ITEM) for p in _objects(kg, article, v.PUBLISHED_IN)]
            project = next((p for p in projects if isinstance(p, ItemValue) and p.ref.resolved), None)
            if project is None:
                problems.append(Problem("reference", g.value, f"the article {value_of(article)} is published in no project with a QID: no P143"))
                continue
            snaks: list[Snak] = [(v.P_IMPORTED_FROM, project)]
            revisions = [value_of(r) for r in _objects(kg, article, v.REVISION)]
            for url in _objects(kg, article, v.URL_PROP):
                # P4656 wants a permalink: only the article URL that names the revision read.
                if isinstance(url, ox.NamedNode) and any(f"oldid={r}" in value_of(url) for r in revisions):
                    snaks.append((v.P_WIKIMEDIA_IMPORT_URL, UrlValue(value_of(url))))
            blocks.append(Reference(tuple(snaks)))
        for citation in _objects(kg, g, v.CITES_REFERENCE, SOURCES_GRAPH):
            nodes = [citation, *_objects(kg, citation, v.CITED_WORK)]
            snaks = []
            for node in nodes:
                for term, m in ref_props.items():
                    for o in _objects(kg, node, ox.NamedNode(term)):
                        val = conv.value(o, m.datatype)
                        if isinstance(val, str) or (isinstance(val, ItemValue) and not val.ref.resolved):
                            continue  # e.g. a publisher with no confirmed QID: left out, never guessed
                        snaks.append((m.pid, val))
            snaks = sorted(set(snaks), key=lambda s: (pid_number(s[0]), str(s[1])))
            # A block must say which work it is: a URL or a title (docs/wikidata.md, "References").
            if any(p in ("P854", "P1476", "P248") for p, _ in snaks):
                blocks.append(Reference(tuple(snaks)))
            else:
                problems.append(Problem("reference", value_of(citation), "the cited work has no URL or title to cite"))
        out[g] = blocks
    return out


def _literal_terms(kg: KnowledgeGraph, s: ox.NamedNode, p: ox.NamedNode) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for q in kg.store.quads_for_pattern(s, p, None, None):
        if q.graph_name in (INFERRED_GRAPH, ONTOLOGY_GRAPH) or not isinstance(q.object, ox.Literal):
            continue
        lang = (q.object.language or "").lower()
        if lang in v.LANGUAGES and value_of(q.object) not in out[lang]:
            out[lang].append(value_of(q.object))
    return {k: sorted(vals) for k, vals in out.items()}


def _item_terms(kg: KnowledgeGraph, item: Item) -> None:
    s = ox.NamedNode(item.ref.iri)
    for lang, vals in _literal_terms(kg, s, v.PREF_LABEL).items():
        item.labels[lang] = vals[0]
    for lang, vals in _literal_terms(kg, s, v.DESCRIPTION).items():
        fitting = [d for d in vals if len(d) <= v.MAX_DESCRIPTION and d != item.labels.get(lang)]
        if fitting:
            item.descriptions[lang] = min(fitting, key=lambda d: (len(d), d))
    for p in (v.ALT_LABEL, v.ABBREVIATION):
        for lang, vals in _literal_terms(kg, s, p).items():
            for a in vals:
                if a != item.labels.get(lang) and a not in item.aliases.setdefault(lang, []):
                    item.aliases[lang].append(a)
    item.aliases = {k: sorted(a) for k, a in item.aliases.items() if a}
    for o in _objects(kg, s, v.WIKIPEDIA_ARTICLE):
        m = re.match(r"^https?://([a-z-]+)\.wikipedia\.org/wiki/(.+)$", value_of(o))
        if m:
            item.articles.append(value_of(o))
            site = (m.group(1).replace("-", "_") + "wiki", m.group(2).replace("_", " "))
            # Prefer the English sitelink: it is the one wikidata.md says to reconcile by.
            if item.sitelink is None or site[0] == "enwiki":
                item.sitelink = site
        else:
            titles, langs = _objects(kg, o, v.TITLE), _objects(kg, o, v.IN_LANGUAGE)
            if titles and langs:
                item.sitelink = (value_of(langs[0]) + "wiki", value_of(titles[0]))


def build(kg: KnowledgeGraph, reconciled: dict[str, str] | None = None, created: dict[str, str] | None = None) -> Mapping:
    """Every statement the graph makes that the ontology maps to Wikidata, with its references."""
    om, problems = read_ontology(kg)
    refs, more = _entity_refs(kg, reconciled or {}, created or {})
    problems += more
    conv = _Converter(refs, om.classes)
    graph_refs = _references(kg, om, conv, problems)
    prov_graphs = set(graph_refs)
    items = {iri: Item(ref) for iri, ref in refs.items()}
    for item in items.values():
        _item_terms(kg, item)

    # (subject, pid, value, qualifiers) → references; insertion-ordered graphs give stable output.
    found: dict[tuple[EntityRef, str, str, Value, tuple[Snak, ...]], list[Reference]] = {}
    qualifier_props: dict[tuple[str, str], list[Snak]] = defaultdict(list)

    def add(subject: EntityRef, pid: str, datatype: str, value: Value, quals: tuple[Snak, ...], graphs: set[ox.NamedNode]) -> None:
        blocks = found.setdefault((subject, pid, datatype, value, quals), [])
        for g in sorted(graphs, key=lambda n: value_of(n)):
            for b in graph_refs[g]:
                if b not in blocks:
                    blocks.append(b)

    # 1. Direct statements and class memberships, from the article graphs only.
    triples: dict[tuple[Term, Term, Term], set[ox.NamedNode]] = defaultdict(set)
    for g in prov_graphs:
        for q in kg.store.quads_for_pattern(None, None, None, g):
            if isinstance(q.subject, ox.NamedNode) and value_of(q.subject) in refs:
                triples[(q.subject, q.predicate, q.object)].add(g)
    for (s, p, o), graphs in sorted(triples.items(), key=lambda t: tuple(map(str, t[0]))):
        subject = refs[value_of(s)]
        if p == v.RDF_TYPE:
            if value_of(o) in om.classes:
                add(subject, v.P_INSTANCE_OF, ITEM, ItemValue(EntityRef(v.WD + om.classes[value_of(o)], om.classes[value_of(o)])), (), graphs)
            continue
        m = om.properties.get(value_of(p))
        if m is None:
            continue
        val = conv.value(o, m.datatype)
        if isinstance(val, str) and m.datatype == ITEM and isinstance(o, ox.NamedNode):
            problems.append(Problem("no-status", value_of(s), f"{value_of(p)} → {m.pid}: {val}", value_of(o)))
        elif isinstance(val, str):
            problems.append(Problem("value", value_of(s), f"{value_of(p)} → {m.pid}: {val}"))
        elif m.qualifier_of:
            qualifier_props[(value_of(s), m.qualifier_of)].append((m.pid, val))
        else:
            add(subject, m.pid, m.datatype, val, (), graphs)

    # 2. Roles: one statement per involvement node, its annotated properties as qualifiers.
    rows = kg.query(
        "SELECT DISTINCT ?n ?a ?c ?r WHERE { ?n apsco:agent ?a ; apsco:context ?c ; apsco:role ?r } ORDER BY ?n ?a ?c ?r"
    )
    for row in rows:  # type: ignore[attr-defined]
        n, a, c, r = row["n"], row["a"], row["c"], row["r"]
        rm = om.roles.get(value_of(r))
        if rm is None:
            problems.append(Problem("role", value_of(n), f"the role {value_of(r)} has no apsco:wikidataProperty"))
            continue
        if value_of(a) not in refs or value_of(c) not in refs:
            missing = [value_of(x) for x in (a, c) if value_of(x) not in refs]
            problems.append(Problem("role", value_of(n), f"{rm.pid}: no Wikidata status for {', '.join(missing)}"))
            continue
        subject, value = (refs[value_of(a)], refs[value_of(c)]) if rm.agent_is_subject else (refs[value_of(c)], refs[value_of(a)])
        quals: list[Snak] = []
        held_in: set[ox.NamedNode] = set()
        for q in kg.store.quads_for_pattern(n, None, None, None):
            if isinstance(q.graph_name, ox.NamedNode) and q.graph_name in prov_graphs:
                held_in.add(q.graph_name)
            if q.graph_name in (INFERRED_GRAPH, ONTOLOGY_GRAPH):
                continue
            m = om.properties.get(value_of(q.predicate))
            if m is None:
                continue
            val = conv.value(q.object, m.datatype)
            if isinstance(val, str):
                problems.append(Problem("qualifier", value_of(n), f"{value_of(q.predicate)} → {m.pid}: {val}"))
            elif (m.pid, val) not in quals:
                quals.append((m.pid, val))
        if not held_in:
            problems.append(Problem("role", value_of(n), f"{rm.pid}: stated in no article graph, so no reference"))
            continue
        add(subject, rm.pid, ITEM, ItemValue(value), tuple(sorted(quals, key=lambda s: (pid_number(s[0]), str(s[1])))), held_in)

    # 3. Tallies of a role's holders whose role names a count property (full members → P2124).
    tallies = kg.query(
        "SELECT DISTINCT ?t ?ctx ?r ?n WHERE { ?t apsco:countOfRole ?r ; apsco:tallyContext ?ctx ; apsco:count ?n } ORDER BY ?t"
    )
    for row in tallies:  # type: ignore[attr-defined]
        t, ctx, r, n = row["t"], row["ctx"], row["r"], row["n"]
        count_pid = om.counts.get(value_of(r))
        if count_pid is None:
            continue
        if value_of(ctx) not in refs:
            problems.append(Problem("tally", value_of(t), f"{count_pid}: no Wikidata status for {value_of(ctx)}"))
            continue
        amount = conv.value(n, QUANTITY)
        if isinstance(amount, str):
            problems.append(Problem("tally", value_of(t), f"{count_pid}: {amount}"))
            continue
        tally_quals: list[Snak] = []
        tally_graphs: set[ox.NamedNode] = set()
        for q in kg.store.quads_for_pattern(t, None, None, None):
            if isinstance(q.graph_name, ox.NamedNode) and q.graph_name in prov_graphs:
                tally_graphs.add(q.graph_name)
            m = om.properties.get(q.predicate.value)
            if m is None or q.graph_name in (INFERRED_GRAPH, ONTOLOGY_GRAPH):
                continue
            val = conv.value(q.object, m.datatype)
            if not isinstance(val, str) and (m.pid, val) not in tally_quals:
                tally_quals.append((m.pid, val))
        if tally_graphs:
            add(refs[value_of(ctx)], count_pid, QUANTITY, amount,
                tuple(sorted(tally_quals, key=lambda s: (pid_number(s[0]), str(s[1])))), tally_graphs)

    statements: list[Statement] = []
    for (st_subject, pid, datatype, st_value, st_quals), blocks in found.items():
        extra = qualifier_props.get((st_subject.iri, pid), [])
        all_quals = tuple(sorted(set(st_quals) | set(extra), key=lambda s: (pid_number(s[0]), str(s[1]))))
        if not blocks:
            problems.append(Problem("reference", st_subject.iri, f"{pid} {st_value}: no reference could be built; left out"))
            continue
        statements.append(Statement(st_subject, pid, datatype, st_value, all_quals, tuple(blocks)))
    for (iri, pid), snaks in qualifier_props.items():
        if not any(st.subject.iri == iri and st.property == pid for st in statements):
            problems.append(Problem("qualifier", iri, f"{[s[0] for s in snaks]} qualify a {pid} statement the entity does not have"))
    statements.sort(key=statement_key)
    for st in statements:
        items[st.subject.iri].statements.append(st)
    return Mapping(om, items, statements, problems, frozenset(created or {}))


def statement_key(st: Statement) -> tuple[object, ...]:
    return (st.subject.iri, pid_number(st.property), str(st.value), st.qualifiers)
