"""Serializing SPARQL answers with a row cap. Runs inside a query worker (worker.py).

pyoxigraph's own result writers serialize everything; to cap rows we read at most `cap + 1`
solutions (evaluation is lazy, so the rest is never computed) and write the formats ourselves:
SPARQL 1.1 Query Results JSON, XML, CSV and TSV. Graphs (CONSTRUCT/DESCRIBE) are capped the same
way in triples and written with pyoxigraph's serializers.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from xml.sax.saxutils import quoteattr

import pyoxigraph as ox

from ..results import json_term, xml_term

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
RDF_FORMATS = {
    "turtle": ox.RdfFormat.TURTLE,
    "ntriples": ox.RdfFormat.N_TRIPLES,
    "jsonld": ox.RdfFormat.JSON_LD,
    "rdfxml": ox.RdfFormat.RDF_XML,
}


@dataclass(frozen=True)
class Answer:
    body: bytes
    truncated: bool
    count: int  # rows (SELECT), triples (CONSTRUCT/DESCRIBE), 1 (ASK)


# --- JSON -----------------------------------------------------------------------------------------


def select_json(variables: list[str], rows: list[ox.QuerySolution]) -> bytes:
    bindings = []
    for row in rows:
        b: dict[str, object] = {}
        for v in variables:
            t = row[v]
            if t is not None:
                b[v] = json_term(t)
        bindings.append(b)
    doc = {"head": {"vars": variables}, "results": {"bindings": bindings}}
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# --- XML ------------------------------------------------------------------------------------------

_XML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">\n'





def select_xml(variables: list[str], rows: list[ox.QuerySolution]) -> bytes:
    parts = [_XML_HEAD, "<head>"]
    parts += [f"<variable name={quoteattr(v)}/>" for v in variables]
    parts.append("</head>\n<results>\n")
    for row in rows:
        parts.append("<result>")
        for v in variables:
            t = row[v]
            if t is not None:
                parts.append(f"<binding name={quoteattr(v)}>{xml_term(t)}</binding>")
        parts.append("</result>\n")
    parts.append("</results>\n</sparql>\n")
    return "".join(parts).encode("utf-8")


def boolean_xml(value: bool) -> bytes:
    return (_XML_HEAD + f"<head/>\n<boolean>{'true' if value else 'false'}</boolean>\n</sparql>\n").encode("utf-8")


# --- CSV / TSV --------------------------------------------------------------------------------------

def _csv_field(value: str) -> str:
    if any(c in value for c in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def _csv_term(term: object) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        return "_:" + term.value
    if isinstance(term, ox.Triple):
        return _csv_field(str(term))
    return _csv_field(term.value)  # type: ignore[attr-defined]


def select_csv(variables: list[str], rows: list[ox.QuerySolution]) -> bytes:
    lines = [",".join(_csv_field(v) for v in variables)]
    for row in rows:
        lines.append(",".join(_csv_term(row[v]) for v in variables))
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def _tsv_term(term: object) -> str:
    if term is None:
        return ""
    # The N-Triples form, which already escapes newlines; a tab would split the cell, so escape it.
    return str(term).replace("\t", "\\t")


def select_tsv(variables: list[str], rows: list[ox.QuerySolution]) -> bytes:
    lines = ["\t".join("?" + v for v in variables)]
    for row in rows:
        lines.append("\t".join(_tsv_term(row[v]) for v in variables))
    return ("\n".join(lines) + "\n").encode("utf-8")


SELECT_WRITERS = {"json": select_json, "xml": select_xml, "csv": select_csv, "tsv": select_tsv}


def write_select(solutions: ox.QuerySolutions, fmt: str, cap: int) -> Answer:
    variables = [v.value for v in solutions.variables]
    rows = list(islice(solutions, cap + 1))
    truncated = len(rows) > cap
    del rows[cap:]
    return Answer(SELECT_WRITERS[fmt](variables, rows), truncated, len(rows))


def write_boolean(value: bool, fmt: str) -> Answer:
    word = "true" if value else "false"
    if fmt == "json":
        body = json.dumps({"head": {}, "boolean": value}).encode("utf-8")
    elif fmt == "csv":
        body = f"_askResult\r\n{word}\r\n".encode()
    elif fmt == "tsv":
        body = f"?_askResult\n{word}\n".encode()
    else:
        body = boolean_xml(value)
    return Answer(body, False, 1)


def write_graph(triples: Iterable[ox.Triple], fmt: str, cap: int, prefixes: dict[str, str]) -> Answer:
    taken = list(islice(iter(triples), cap + 1))
    truncated = len(taken) > cap
    del taken[cap:]
    rdf_format = RDF_FORMATS[fmt]
    # Only Turtle benefits from prefixes; keep only those used so the header stays short.
    used: dict[str, str] = {}
    if fmt == "turtle":
        iris = {t.value for tr in taken for t in _iris(tr)}
        used = {p: ns for p, ns in prefixes.items() if any(i.startswith(ns) for i in iris)}
    body = ox.serialize(taken, format=rdf_format, prefixes=used or None)
    return Answer(body or b"", truncated, len(taken))


def _iris(triple: ox.Triple) -> Iterator[ox.NamedNode]:
    for term in (triple.subject, triple.predicate, triple.object):
        if isinstance(term, ox.NamedNode):
            yield term
        elif isinstance(term, ox.Literal) and not term.language:
            yield term.datatype
