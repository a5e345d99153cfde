"""Writing a QueryResult: the SPARQL 1.1 result formats (JSON, XML, CSV, TSV), a readable table,
Markdown, and — for CONSTRUCT/DESCRIBE — Turtle, N-Triples or JSON-LD.

The writers work on RDF terms (QueryResult.terms), so a local run and a run against any endpoint
print the same bytes for the same answer.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections.abc import Sequence
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox

from .queries import KNOWN_PREFIXES, XSD, QueryError, QueryResult, Term, compact

SELECT_FORMATS = ("table", "csv", "tsv", "json", "xml", "md")
GRAPH_FORMATS = ("ttl", "nt", "jsonld")
ALL_FORMATS = SELECT_FORMATS + GRAPH_FORMATS
_RDF_FORMATS = {"ttl": ox.RdfFormat.TURTLE, "nt": ox.RdfFormat.N_TRIPLES, "jsonld": ox.RdfFormat.JSON_LD}
MEDIA_TYPES = {
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
    "table": "text/plain",
    "md": "text/markdown",
    "ttl": "text/turtle",
    "nt": "application/n-triples",
    "jsonld": "application/ld+json",
}
# A cell starting with one of these is run as a formula by spreadsheet programs (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MAX_CELL_WIDTH = 60


def default_format(result: QueryResult) -> str:
    return "ttl" if result.kind == "graph" else "table"


def render(result: QueryResult, fmt: str | None = None) -> bytes:
    fmt = (fmt or default_format(result)).lower()
    if result.kind == "graph":
        if fmt not in GRAPH_FORMATS:
            raise QueryError(f"a CONSTRUCT/DESCRIBE result is written as {', '.join(GRAPH_FORMATS)}, not {fmt!r}")
        return ox.serialize(result.graph_terms, format=_RDF_FORMATS[fmt], prefixes=graph_prefixes(result)) or b""
    if fmt not in SELECT_FORMATS:
        raise QueryError(f"a SELECT/ASK result is written as {', '.join(SELECT_FORMATS)}, not {fmt!r}")
    writer = {"json": to_json, "xml": to_xml, "csv": to_csv, "tsv": to_tsv, "table": to_table, "md": to_markdown}[fmt]
    return writer(result).encode("utf-8")


def graph_prefixes(result: QueryResult) -> dict[str, str]:
    """The project prefixes the triples use. Not `id:`: entity IRIs have slashes in their path, which
    Turtle would have to write as `id:state\\/thailand`; the full IRI reads better."""
    iris = {t.value for tr in result.graph_terms for t in (tr.subject, tr.predicate, tr.object) if isinstance(t, ox.NamedNode)}
    iris |= {tr.object.datatype.value for tr in result.graph_terms if isinstance(tr.object, ox.Literal)}
    return {p: ns for p, ns in KNOWN_PREFIXES.items() if p != "id" and any(i.startswith(ns) for i in iris)}


# ---- SPARQL 1.1 Query Results JSON ------------------------------------------------------------
def json_term(term: object) -> dict[str, object]:
    """A term as SPARQL 1.1 Query Results JSON; shared by the CLI and the endpoint."""
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        out: dict[str, object] = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value != XSD + "string":
            out["datatype"] = term.datatype.value
        return out
    if isinstance(term, ox.Triple):  # SPARQL 1.2 / RDF-star triple terms
        return {"type": "triple", "value": {"subject": json_term(term.subject),
                                            "predicate": json_term(term.predicate),
                                            "object": json_term(term.object)}}
    raise TypeError(f"unexpected term {term!r}")


def to_json(result: QueryResult) -> str:
    if result.kind == "ask":
        doc: dict[str, object] = {"head": {}, "boolean": bool(result.boolean)}
    else:
        bindings = [
            {v: json_term(t) for v, t in zip(result.variables, row) if t is not None} for row in result.terms
        ]
        doc = {"head": {"vars": result.variables}, "results": {"bindings": bindings}}
    # ensure_ascii=False: Chinese labels stay readable; the output is UTF-8.
    return json.dumps(doc, ensure_ascii=False, indent=1) + "\n"


# ---- SPARQL Query Results XML -----------------------------------------------------------------
def _xml_text(value: str) -> str:
    # XML 1.0 cannot carry most C0 controls even escaped; they are rare in data, so drop them.
    return escape("".join(c for c in value if c >= " " or c in "\t\n\r"))


def xml_term(term: object) -> str:
    """A term as SPARQL Query Results XML; shared by the CLI and the endpoint."""
    if isinstance(term, ox.NamedNode):
        return f"<uri>{_xml_text(term.value)}</uri>"
    if isinstance(term, ox.BlankNode):
        return f"<bnode>{_xml_text(term.value)}</bnode>"
    if isinstance(term, ox.Literal):
        if term.language:
            return f"<literal xml:lang={quoteattr(term.language)}>{_xml_text(term.value)}</literal>"
        if term.datatype.value != XSD + "string":
            return f"<literal datatype={quoteattr(term.datatype.value)}>{_xml_text(term.value)}</literal>"
        return f"<literal>{_xml_text(term.value)}</literal>"
    if isinstance(term, ox.Triple):
        return (f"<triple><subject>{xml_term(term.subject)}</subject><predicate>{xml_term(term.predicate)}"
                f"</predicate><object>{xml_term(term.object)}</object></triple>")
    return f"<literal>{_xml_text(str(term))}</literal>"


def to_xml(result: QueryResult) -> str:
    out = ['<?xml version="1.0" encoding="UTF-8"?>', '<sparql xmlns="http://www.w3.org/2005/sparql-results#">', "  <head>"]
    out += [f"    <variable name={quoteattr(v)}/>" for v in result.variables]
    out.append("  </head>")
    if result.kind == "ask":
        out.append(f"  <boolean>{'true' if result.boolean else 'false'}</boolean>")
    else:
        out.append("  <results>")
        for row in result.terms:
            out.append("    <result>")
            for v, t in zip(result.variables, row):
                if t is not None:
                    out.append(f"      <binding name={quoteattr(v)}>{xml_term(t)}</binding>")
            out.append("    </result>")
        out.append("  </results>")
    out.append("</sparql>")
    return "\n".join(out) + "\n"


# ---- CSV and TSV (SPARQL 1.1 Query Results CSV and TSV Formats) -------------------------------
def _csv_value(term: Term | None) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        return "_:" + term.value
    value = term.value if isinstance(term, (ox.NamedNode, ox.Literal)) else str(term)
    return neutralise(value)


def neutralise(value: str) -> str:
    """Prefix a cell that a spreadsheet would run as a formula with an apostrophe (OWASP)."""
    return "'" + value if value.startswith(FORMULA_START) else value


def to_csv(result: QueryResult) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")  # the CSV results format uses CRLF
    if result.kind == "ask":
        writer.writerow(["boolean"])
        writer.writerow(["true" if result.boolean else "false"])
        return buf.getvalue()
    writer.writerow(result.variables)
    for row in result.terms:
        writer.writerow([_csv_value(t) for t in row])
    return buf.getvalue()


def to_tsv(result: QueryResult) -> str:
    if result.kind == "ask":
        return "?boolean\n" + ("true" if result.boolean else "false") + "\n"
    lines = ["\t".join("?" + v for v in result.variables)]
    # Terms in their N-Triples form (pyoxigraph escapes tabs and newlines inside literals).
    lines += ["\t".join("" if t is None else str(t) for t in row) for row in result.terms]
    return "\n".join(lines) + "\n"


# ---- Readable table and Markdown --------------------------------------------------------------
def display(term: Term | None) -> str:
    """A term for people: IRIs with the project prefixes, literals as their text."""
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        return compact(term.value)
    if isinstance(term, ox.BlankNode):
        return "_:" + term.value
    if isinstance(term, ox.Literal):
        return term.value
    return str(term)


def width(text: str) -> int:
    """Columns a terminal uses for `text`: wide and full-width characters (Chinese) take two,
    combining marks none."""
    total = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        total += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return total


def _fit(text: str, limit: int) -> str:
    text = " ".join(text.split())  # one line per row
    if width(text) <= limit:
        return text
    out, used = [], 0
    for ch in text:
        w = width(ch)
        if used + w > limit - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + "…"


def _pad(text: str, size: int) -> str:
    return text + " " * (size - width(text))


def _cells(result: QueryResult) -> tuple[list[str], list[list[str]]]:
    if result.kind == "ask":
        return ["boolean"], [["true" if result.boolean else "false"]]
    return list(result.variables), [[display(t) for t in row] for row in result.terms]


def to_table(result: QueryResult, max_width: int = MAX_CELL_WIDTH) -> str:
    head, body = _cells(result)
    body = [[_fit(c, max_width) for c in row] for row in body]
    sizes = [max([width(h)] + [width(row[i]) for row in body]) for i, h in enumerate(head)]
    line = "  ".join("─" * s for s in sizes)
    out = ["  ".join(_pad(h, s) for h, s in zip(head, sizes)).rstrip(), line]
    out += ["  ".join(_pad(c, s) for c, s in zip(row, sizes)).rstrip() for row in body]
    if result.kind == "select":
        out.append(f"({len(body)} row{'s' if len(body) != 1 else ''})")
    return "\n".join(out) + "\n"


def _md_cell(text: str) -> str:
    return " ".join(text.split()).replace("\\", "\\\\").replace("|", "\\|")


def to_markdown(result: QueryResult) -> str:
    head, body = _cells(result)
    out = ["| " + " | ".join(_md_cell(h) for h in head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in body]
    return "\n".join(out) + "\n"


def catalogue_table(rows: Sequence[Sequence[str]], head: Sequence[str]) -> str:
    """The same width-aware table, for `query list`."""
    sizes = [max([width(h)] + [width(r[i]) for r in rows]) for i, h in enumerate(head)]
    out = ["  ".join(_pad(h, s) for h, s in zip(head, sizes)).rstrip(), "  ".join("─" * s for s in sizes)]
    out += ["  ".join(_pad(c, s) for c, s in zip(r, sizes)).rstrip() for r in rows]
    return "\n".join(out) + "\n"
