"""Presentation helpers for the HTML pages: labels with language fallback, dates at their precision,
the source of each statement, and safe links. No HTML is built here — templates autoescape — so
these functions return plain strings and data, and decide only *whether* something is a link.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox
from markupsafe import Markup

from .. import graph
from .describe import RDFS_LABEL, SKOS_PREF, Term, text

LANGS = ("en", "zh")
XSD = "http://www.w3.org/2001/XMLSchema#"
PROV_DERIVED = ox.NamedNode("http://www.w3.org/ns/prov#wasDerivedFrom")
CITES = ox.NamedNode("https://w3id.org/apsco/ontology#citesReference")
GENERAL_REF = ox.NamedNode("https://w3id.org/apsco/ontology#generalReference")
REF_NUMBER = ox.NamedNode("https://w3id.org/apsco/ontology#referenceNumber")

MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
             "October", "November", "December")

# Interface strings; every page is rendered in one of LANGS.
UI: dict[str, dict[str, str]] = {
    "en": {
        "home": "Home", "query": "Query", "ontology": "Ontology", "dumps": "Dumps", "other_lang": "中文",
        "statements": "Statements", "source": "Source", "property": "Property", "value": "Value",
        "involvements": "Roles and involvements", "incoming": "What points here", "inferred": "Inferred (RDFS closure)",
        "wikidata": "Wikidata item", "formats": "Also available as", "labels": "Labels", "types": "Types",
        "none": "none", "class": "Classes", "properties": "Properties", "individuals": "Individuals",
        "subclass_of": "subclass of", "subproperty_of": "subproperty of", "domain": "domain", "range": "range",
        "saved_queries": "Saved queries", "counts": "Counts", "sources": "Sources", "file": "File",
        "size": "Size", "sha256": "SHA-256", "not_found": "Not found", "run": "open in the query page",
        "curation": "curation", "ontology_graph": "ontology", "sources_graph": "sources",
    },
    "zh": {
        "home": "首页", "query": "查询", "ontology": "本体", "dumps": "数据下载", "other_lang": "English",
        "statements": "陈述", "source": "来源", "property": "属性", "value": "值",
        "involvements": "角色与参与关系", "incoming": "指向此处的链接", "inferred": "推理所得（RDFS 闭包）",
        "wikidata": "维基数据项", "formats": "其他格式", "labels": "名称", "types": "类型",
        "none": "无", "class": "类", "properties": "属性", "individuals": "个体",
        "subclass_of": "上位类", "subproperty_of": "上位属性", "domain": "定义域", "range": "值域",
        "saved_queries": "保存的查询", "counts": "统计", "sources": "来源", "file": "文件",
        "size": "大小", "sha256": "SHA-256", "not_found": "未找到", "run": "在查询页打开",
        "curation": "整理", "ontology_graph": "本体", "sources_graph": "来源",
    },
}


def pick_lang(value: str | None) -> str:
    return value if value in LANGS else "en"


def other_lang(lang: str) -> str:
    return "zh" if lang == "en" else "en"


def is_web_iri(value: str) -> bool:
    """Only http(s) IRIs become links: a stored `javascript:` or `data:` IRI is shown as text."""
    return re.match(r"^https?://", value, re.IGNORECASE) is not None


def local_name(iri: str) -> str:
    tail = re.split(r"[#/]", iri.rstrip("/#"))[-1]
    return tail or iri


class Linker:
    """Maps canonical IRIs (https://w3id.org/apsco/…) onto the serving site (settings.base_url)."""

    def __init__(self, base_iri: str, base_url: str):
        self.base_iri = base_iri
        self.base_url = (base_url.rstrip("/") + "/") if base_url else "/"

    def local(self, iri: str) -> str:
        if iri.startswith(self.base_iri):
            return self.base_url + iri[len(self.base_iri):]
        return iri

    def href(self, iri: str) -> str | None:
        """Where a link to this IRI should go, or None if it must not be a link."""
        target = self.local(iri)
        if target.startswith("/") and not target.startswith("//"):
            return target
        return target if is_web_iri(target) else None

    def page(self, path: str) -> str:
        return self.base_url + path.lstrip("/")


class Labels:
    """Label lookup with the documented fallback: requested language → the other language →
    any other label → the IRI's local name. skos:prefLabel is preferred over rdfs:label."""

    def __init__(self, store: ox.Store):
        self.store = store
        self._cache: dict[str, dict[str, str]] = {}

    def all(self, iri: str) -> dict[str, str]:
        if iri in self._cache:
            return self._cache[iri]
        node = ox.NamedNode(iri)
        found: dict[str, str] = {}
        for pred in (SKOS_PREF, RDFS_LABEL):
            values = sorted(
                (q.object for q in self.store.quads_for_pattern(node, pred, None, None) if isinstance(q.object, ox.Literal)),
                key=lambda lit: lit.value,
            )
            for lit in values:
                found.setdefault(lit.language or "", lit.value)
            if found:
                break
        self._cache[iri] = found
        return found

    def get(self, iri: str, lang: str) -> str:
        found = self.all(iri)
        for key in (lang, other_lang(lang), ""):
            if key in found:
                return found[key]
        if found:
            return next(iter(sorted(found.items())))[1]
        if iri in KNOWN_TERMS:
            return KNOWN_TERMS[iri][lang]
        return local_name(iri)

    def has_lang(self, iri: str, lang: str) -> bool:
        return lang in self.all(iri)


def format_date(lexical: str, datatype: str, lang: str) -> str | None:
    """A date shown at the precision it was stated with: 1994 / January 1994 / 28 October 2005."""
    if datatype == XSD + "gYear" and re.fullmatch(r"-?\d{4,}", lexical):
        return f"{int(lexical)}年" if lang == "zh" else str(int(lexical))
    if datatype == XSD + "gYearMonth" and (m := re.fullmatch(r"(-?\d{4,})-(\d\d)", lexical)):
        y, mo = int(m[1]), int(m[2])
        if 1 <= mo <= 12:
            return f"{y}年{mo}月" if lang == "zh" else f"{MONTHS_EN[mo - 1]} {y}"
    if datatype == XSD + "date" and (m := re.fullmatch(r"(-?\d{4,})-(\d\d)-(\d\d)", lexical)):
        y, mo, d = int(m[1]), int(m[2]), int(m[3])
        if 1 <= mo <= 12:
            return f"{y}年{mo}月{d}日" if lang == "zh" else f"{d} {MONTHS_EN[mo - 1]} {y}"
    return None


@dataclass
class Source:
    """What a named graph is, for the 'source' column: the article and its reference numbers."""

    graph: str
    label: str
    article: str | None = None
    citations: list[tuple[str, str]] = field(default_factory=list)  # (citation IRI, number)
    general: list[tuple[str, str]] = field(default_factory=list)


class Sources:
    """The descriptions in graph:sources, read once: graph IRI → Source."""

    def __init__(self, store: ox.Store):
        self.by_graph: dict[str, Source] = {}
        numbers: dict[str, str] = {}
        for q in store.quads_for_pattern(None, REF_NUMBER, None, graph.SOURCES_GRAPH):
            numbers[text(q.subject)] = text(q.object)
        cites: dict[str, list[tuple[str, str]]] = defaultdict(list)
        general: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for pred, target in ((CITES, cites), (GENERAL_REF, general)):
            for q in store.quads_for_pattern(None, pred, None, graph.SOURCES_GRAPH):
                target[text(q.subject)].append((text(q.object), numbers.get(text(q.object), local_name(text(q.object)))))
        for q in store.quads_for_pattern(None, PROV_DERIVED, None, graph.SOURCES_GRAPH):
            g = text(q.subject)
            self.by_graph[g] = Source(
                g, self._short(g), text(q.object),
                sorted(cites.get(g, []), key=lambda c: _num_key(c[1])),
                sorted(general.get(g, []), key=lambda c: _num_key(c[1])),
            )

    @staticmethod
    def _short(g: str) -> str:
        # graph:enwiki/cite-1-4 → "enwiki": the article; the numbers are shown as links beside it.
        return g.split("/graph/", 1)[-1].split("/", 1)[0]

    def get(self, g: str) -> Source:
        if g in self.by_graph:
            return self.by_graph[g]
        return Source(g, self._short(g))


def _num_key(n: str) -> tuple[int, str]:
    return (int(n), n) if n.isdigit() else (10**9, n)


def script_json(data: bytes | str) -> Markup:
    """JSON safe inside <script type="application/ld+json">: `<`, `>` and `&` become \\u003c etc.
    (valid JSON, same value), so no literal can contain `</script>` or `<!--`."""
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    json.loads(text)  # refuse to embed anything that is not JSON
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return Markup(text)


def human_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


@dataclass(frozen=True)
class TermView:
    """A term as a template shows it: text, an optional safe href, and what kind of value it is."""

    text: str
    href: str | None = None
    iri: str | None = None
    lang: str | None = None
    datatype: str | None = None
    raw: str | None = None  # the lexical form, when `text` is a formatted date


def term_view(term: Term, labels: Labels, linker: Linker, lang: str) -> TermView:
    if isinstance(term, ox.NamedNode):
        return TermView(labels.get(term.value, lang), linker.href(term.value), term.value)
    if isinstance(term, ox.Literal):
        dt = term.datatype.value if term.datatype else None
        pretty = format_date(term.value, dt or "", lang)
        if pretty is not None:
            return TermView(pretty, datatype=dt, raw=term.value)
        shown_dt = None if dt in (XSD + "string", "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString") else dt
        return TermView(term.value, lang=term.language, datatype=shown_dt)
    return TermView(str(term))


AGENT = "https://w3id.org/apsco/ontology#agent"
CONTEXT = "https://w3id.org/apsco/ontology#context"
ROLE = "https://w3id.org/apsco/ontology#role"
TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
# Terms of other vocabularies that the pages name often; the rest fall back to their local name.
KNOWN_TERMS: dict[str, dict[str, str]] = {
    TYPE: {"en": "type", "zh": "类型"},
    "http://www.w3.org/2004/02/skos/core#prefLabel": {"en": "preferred label", "zh": "首选名称"},
    "http://www.w3.org/2004/02/skos/core#altLabel": {"en": "alternative label", "zh": "别名"},
    "http://www.w3.org/2004/02/skos/core#inScheme": {"en": "in scheme", "zh": "所属方案"},
    "http://www.w3.org/2004/02/skos/core#definition": {"en": "definition", "zh": "定义"},
    "http://www.w3.org/2000/01/rdf-schema#label": {"en": "label", "zh": "名称"},
    "http://www.w3.org/2000/01/rdf-schema#comment": {"en": "comment", "zh": "说明"},
    "http://www.w3.org/ns/org#member": {"en": "member", "zh": "成员"},
    "http://www.w3.org/ns/org#organization": {"en": "organization", "zh": "组织"},
    "http://www.w3.org/ns/org#role": {"en": "role", "zh": "角色"},
    "http://www.w3.org/ns/prov#wasDerivedFrom": {"en": "derived from", "zh": "来源于"},
    "http://purl.org/dc/terms/license": {"en": "license", "zh": "许可协议"},
}


def involvement_heading(statements: list[Any], labels: Labels, lang: str) -> str:
    """A name for an n-ary node, which has no label of its own: "Membership: Thailand · full member · APSCO"."""
    by_pred: dict[str, list[str]] = defaultdict(list)
    for st in statements:
        if isinstance(st.object, ox.NamedNode) and not st.inferred:
            by_pred[st.predicate.value].append(st.object.value)
    for st in statements:  # org:member etc. reach apsco:agent only through the closure
        if isinstance(st.object, ox.NamedNode) and st.predicate.value in (AGENT, CONTEXT, ROLE):
            by_pred.setdefault(st.predicate.value, []).append(st.object.value)
    types = [t for t in by_pred.get(TYPE, []) if t.startswith("https://w3id.org/apsco/ontology#")]
    kind = labels.get(sorted(types)[0], lang) if types else ""
    parts = [labels.get(sorted(by_pred[p])[0], lang) for p in (AGENT, ROLE, CONTEXT) if by_pred.get(p)]
    return (kind + ": " if kind else "") + " · ".join(parts)
