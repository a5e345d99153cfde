"""Choosing the serialization of a SPARQL answer from `Accept` (q-values) or `?format=`.

Kept apart from the pages' content negotiation (conneg.py, another module) because the choice here
depends on the query form: SELECT/ASK produce results, CONSTRUCT/DESCRIBE produce a graph.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ProtocolError


@dataclass(frozen=True)
class Format:
    key: str
    media_type: str  # the type we answer with (charset added where the type is textual)
    accepts: tuple[str, ...]  # media types in Accept that select this format
    aliases: tuple[str, ...]  # ?format= values


RESULT_FORMATS: tuple[Format, ...] = (
    Format("json", "application/sparql-results+json",
           ("application/sparql-results+json", "application/json"), ("json", "srj")),
    Format("xml", "application/sparql-results+xml",
           ("application/sparql-results+xml", "application/xml", "text/xml"), ("xml", "srx")),
    Format("csv", "text/csv; charset=utf-8", ("text/csv",), ("csv",)),
    Format("tsv", "text/tab-separated-values; charset=utf-8", ("text/tab-separated-values",), ("tsv",)),
)
GRAPH_FORMATS: tuple[Format, ...] = (
    Format("turtle", "text/turtle; charset=utf-8", ("text/turtle", "application/x-turtle"), ("turtle", "ttl")),
    Format("ntriples", "application/n-triples", ("application/n-triples", "text/plain"), ("ntriples", "nt", "n-triples")),
    Format("jsonld", "application/ld+json", ("application/ld+json", "application/json"), ("jsonld", "json-ld", "json")),
    Format("rdfxml", "application/rdf+xml", ("application/rdf+xml", "application/xml", "text/xml"), ("rdfxml", "rdf", "xml")),
)
# SPARQL 1.1 CSV/TSV define no boolean form; like Jena we write an ASK answer there as a one-cell
# table `_askResult` (docs/sparql-endpoint.md), so a client that always asks for CSV still gets one.
BOOLEAN_KEYS = ("json", "xml", "csv", "tsv")
BY_KEY: dict[str, Format] = {f.key: f for f in RESULT_FORMATS + GRAPH_FORMATS}


def parse_accept(header: str | None) -> list[tuple[str, float]]:
    """Media ranges with their q-values, best first (stable for equal q: header order)."""
    if not header:
        return [("*/*", 1.0)]
    ranges: list[tuple[str, float, int]] = []
    for index, part in enumerate(header.split(",")):
        fields = [f.strip() for f in part.split(";")]
        media = fields[0].lower()
        if not media:
            continue
        q = 1.0
        for param in fields[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = max(0.0, min(1.0, float(value)))
                except ValueError:
                    q = 0.0
        ranges.append((media, q, index))
    ranges.sort(key=lambda r: (-r[1], r[2]))
    return [(m, q) for m, q, _ in ranges]


def _matches(pattern: str, media: str, primary: bool) -> bool:
    # Wildcards select a format by its own media type only, not by an alias: `text/*` must not be
    # answered with application/sparql-results+xml just because text/xml is an alias of it.
    if pattern == "*/*":
        return primary
    if pattern.endswith("/*"):
        return primary and media.startswith(pattern[:-1])
    return pattern == media


def negotiate(accept: str | None, candidates: tuple[Format, ...], allowed: tuple[str, ...] | None = None) -> Format | None:
    """The first candidate (in server preference order) the client accepts with the best q; None: 406."""
    pool = [f for f in candidates if allowed is None or f.key in allowed]
    best: tuple[float, int, int] | None = None
    chosen: Format | None = None
    ranges = parse_accept(accept)
    for fmt_index, fmt in enumerate(pool):
        # The q of a format is that of the most specific range that matches it (RFC 9110 §12.5.1).
        q_for: float | None = None
        specificity = -1
        for media, q in ranges:
            for position, offered in enumerate(fmt.accepts):
                if _matches(media, offered, position == 0):
                    spec = 2 if media == offered else (1 if media.endswith("/*") and media != "*/*" else 0)
                    if spec > specificity:
                        specificity, q_for = spec, q
        if q_for is None or q_for <= 0:
            continue
        # Exact mentions beat wildcards at the same q; then server order.
        rank = (q_for, specificity, -fmt_index)
        if best is None or rank > best:
            best, chosen = rank, fmt
    return chosen


def by_format_param(value: str, candidates: tuple[Format, ...], allowed: tuple[str, ...] | None = None) -> Format | None:
    v = value.strip().lower()
    for fmt in candidates:
        if allowed is not None and fmt.key not in allowed:
            continue
        if v in fmt.aliases or v == fmt.key or v in fmt.accepts or v == fmt.media_type.split(";")[0]:
            return fmt
    return None


@dataclass(frozen=True)
class Choice:
    """The serialization for each kind of answer; None where the client accepts none (→ 406)."""

    results: str | None
    boolean: str | None
    graph: str | None

    def require_any(self) -> None:
        if self.results is None and self.boolean is None and self.graph is None:
            raise ProtocolError(406, "not_acceptable", _NOT_ACCEPTABLE)


_NOT_ACCEPTABLE = (
    "none of the media types in Accept (or ?format=) can carry a SPARQL answer; use "
    "application/sparql-results+json, application/sparql-results+xml, text/csv, text/tab-separated-values "
    "for SELECT/ASK and text/turtle, application/n-triples, application/ld+json, application/rdf+xml "
    "for CONSTRUCT/DESCRIBE")


def choose(accept: str | None, format_param: str | None) -> Choice:
    """`?format=` wins over Accept (so a browser link can ask for CSV); unknown ?format= is a 406."""
    if format_param:
        r = by_format_param(format_param, RESULT_FORMATS)
        b = by_format_param(format_param, RESULT_FORMATS, BOOLEAN_KEYS)
        g = by_format_param(format_param, GRAPH_FORMATS)
        choice = Choice(r.key if r else None, b.key if b else None, g.key if g else None)
    else:
        r = negotiate(accept, RESULT_FORMATS)
        b = negotiate(accept, RESULT_FORMATS, BOOLEAN_KEYS)
        g = negotiate(accept, GRAPH_FORMATS)
        choice = Choice(r.key if r else None, b.key if b else None, g.key if g else None)
    choice.require_any()
    return choice


def not_acceptable(kind: str) -> ProtocolError:
    return ProtocolError(406, "not_acceptable", f"the query produces {kind}; " + _NOT_ACCEPTABLE)
