"""Sending a query to a SPARQL 1.1 endpoint through SPARQLWrapper, and reading its answer back into
a `QueryResult` with pyoxigraph's parsers.

It keeps what an endpoint can do to the runner bounded: content negotiation only, a size cap on the
answer, a timeout, RDF/XML with a DTD refused, and nothing ever sent as an update (security-risks.md
A3). Labels given as parameter values are resolved on the endpoint itself.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from functools import lru_cache
from http.client import HTTPResponse

import pyoxigraph as ox

from ..settings import Settings
from .answer import QueryResult, _from_oxigraph
from .binding import _LABEL_PROPERTIES, _PREF, LabelResolver, with_prefixes, with_values
from .errors import EndpointError, QueryError, QueryRejected, QueryTimeout
from .lexer import strip_comments
from .saved import SavedQuery, from_text
from .terms import Kind, plain


_RESULT_TYPES = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "application/xml": ox.QueryResultsFormat.XML,
    "text/xml": ox.QueryResultsFormat.XML,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
}
_GRAPH_TYPES = {
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "text/plain": ox.RdfFormat.N_TRIPLES,
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/x-turtle": ox.RdfFormat.TURTLE,
    "application/turtle": ox.RdfFormat.TURTLE,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
}
_ACCEPT_RESULTS = "application/sparql-results+json, application/sparql-results+xml;q=0.9, text/tab-separated-values;q=0.8"
_ACCEPT_GRAPH = "application/n-triples, text/turtle;q=0.9, application/rdf+xml;q=0.5"
USER_AGENT = "apsco-kg/0.1 (+https://w3id.org/apsco/; saved-query runner) SPARQLWrapper"


class _Remote:
    def __init__(self, endpoint: str, *, timeout: float, method: str, settings: Settings):
        if not re.match(r"^https?://", endpoint):
            raise QueryError(f"--endpoint must be an http(s) URL, got {endpoint!r}")
        method = method.upper()
        if method not in ("GET", "POST"):
            raise QueryError(f"--method must be GET or POST, got {method!r}")
        self.endpoint, self.timeout, self.method, self.settings = endpoint, timeout, method, settings

    def run(self, query: SavedQuery, bound: dict[str, ox.NamedNode | ox.Literal]) -> QueryResult:
        text = with_prefixes(with_values(strip_comments(query.text), bound))
        kind = query.kind
        body, content_type = self._send(text, kind)
        if kind == "graph":
            rdf_format = _GRAPH_TYPES.get(content_type)
            if rdf_format is None:
                raise self._not_a_result(content_type, body, "RDF (N-Triples, Turtle or RDF/XML)")
            if rdf_format == ox.RdfFormat.RDF_XML and re.search(rb"<!(DOCTYPE|ENTITY)", body, re.I):
                raise EndpointError(f"{self.endpoint}: the RDF/XML answer declares a DTD; refused")
            try:
                triples = [ox.Triple(q.subject, q.predicate, q.object) for q in ox.parse(body, format=rdf_format)]
            except (SyntaxError, ValueError) as exc:
                raise EndpointError(f"{self.endpoint}: the {content_type} answer cannot be parsed: {exc}") from None
            return QueryResult("graph", graph_terms=triples, query=query, bindings=bound)
        results_format = _RESULT_TYPES.get(content_type)
        if results_format is None:
            raise self._not_a_result(content_type, body, "a SPARQL result (JSON, XML or TSV)")
        try:
            answer = ox.parse_query_results(body, format=results_format)
            result = _from_oxigraph(answer, query, bound)
        except (SyntaxError, ValueError) as exc:
            raise EndpointError(f"{self.endpoint}: the {content_type} answer is not a valid SPARQL result: {exc}") from None
        if result.kind != kind:
            raise EndpointError(f"{self.endpoint}: asked a {kind.upper()} query but got a {result.kind} result")
        return result

    def select(self, sparql: str) -> QueryResult:
        return self.run(from_text(sparql, "label-lookup"), {})

    def _not_a_result(self, content_type: str, body: bytes, wanted: str) -> EndpointError:
        return EndpointError(
            f"{self.endpoint}: expected {wanted} but the endpoint sent {content_type or 'no content type'}: {_snippet(body)}"
        )

    def _send(self, text: str, kind: Kind) -> tuple[bytes, str]:
        from SPARQLWrapper import GET, JSON, N3, POST, URLENCODED

        wrapper = _wrapper_class()(self.endpoint, agent=USER_AGENT)
        wrapper.setQuery(text)
        # SPARQLWrapper routes update-looking text to a POST `update=` request on its own
        # (security-risks.md A3). The form was checked above; check SPARQLWrapper's view too.
        if wrapper.isSparqlUpdateRequest():
            raise QueryError("refusing to send an update through the query runner")
        wrapper.setMethod(POST if self.method == "POST" else GET)
        wrapper.setRequestMethod(URLENCODED)
        wrapper.setOnlyConneg(True)  # no `format=`/`output=` parameters: plain content negotiation
        wrapper.setReturnFormat(N3 if kind == "graph" else JSON)
        wrapper.addCustomHttpHeader("Accept", _ACCEPT_GRAPH if kind == "graph" else _ACCEPT_RESULTS)
        # setTimeout() truncates to int and 0 means "wait forever"; keep the float.
        wrapper.timeout = self.timeout
        response = wrapper.query().response
        content_type = (response.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        try:
            body = _read_capped(response, self.settings.max_input_bytes, self.endpoint)
        except TimeoutError:
            raise QueryTimeout(f"{self.endpoint}: no complete answer within {self.timeout:g} s") from None
        finally:
            response.close()
        return body, content_type


def _read_capped(response: HTTPResponse, cap: int, endpoint: str) -> bytes:
    body = response.read(cap + 1)
    if len(body) > cap:
        raise EndpointError(f"{endpoint}: the answer is larger than {cap:,} bytes; add a LIMIT")
    return body


def _snippet(body: bytes, size: int = 200) -> str:
    text = body[:size].decode("utf-8", "replace")
    text = " ".join(text.split())
    return repr(text + ("…" if len(body) > size else ""))


def _make_wrapper_class() -> type:
    from SPARQLWrapper import SPARQLWrapper

    class Wrapper(SPARQLWrapper):
        """SPARQLWrapper with one change: its `_query` maps HTTP failures to exceptions that keep
        the status and the body (the stock ones keep only a repr of the body, and not the status
        of codes it does not know), and refuses to send anything to the update endpoint."""

        def _query(self) -> tuple[HTTPResponse, str]:
            request = self._createRequest()
            data = request.data
            if self.isSparqlUpdateRequest() or (isinstance(data, bytes) and data.startswith(b"update=")):
                raise QueryError("refusing to send an update through the query runner")
            try:
                return urllib.request.urlopen(request, timeout=self.timeout), self.returnFormat
            except urllib.error.HTTPError as exc:
                body = exc.read(2048) if exc.fp is not None else b""
                if exc.code == 400:
                    raise QueryRejected(f"{self.endpoint} refused the query (HTTP 400): {_snippet(body, 400)}") from None
                raise EndpointError(f"{self.endpoint}: HTTP {exc.code} {exc.reason}: {_snippet(body)}") from None
            except urllib.error.URLError as exc:
                reason = exc.reason
                if isinstance(reason, TimeoutError):
                    raise QueryTimeout(f"{self.endpoint}: no answer within {self.timeout:g} s") from None
                raise EndpointError(f"{self.endpoint}: cannot reach the endpoint ({reason})") from None
            except TimeoutError:
                raise QueryTimeout(f"{self.endpoint}: no answer within {self.timeout:g} s") from None
            except (OSError, ValueError) as exc:
                raise EndpointError(f"{self.endpoint}: cannot reach the endpoint ({exc})") from None

    return Wrapper


@lru_cache(maxsize=1)
def _wrapper_class() -> type:
    """SPARQLWrapper is imported only when a remote query runs (it pulls in rdflib)."""
    return _make_wrapper_class()


def _remote_label_lookup(client: _Remote) -> LabelResolver:
    def lookup(label: str, rdf_class: str | None) -> list[tuple[str, bool]]:
        # An endpoint may hold millions of labels: match the exact literals (untagged, @en, @zh)
        # through VALUES rather than a FILTER over every label.
        names = " ".join(str(t) for t in (ox.Literal(label), ox.Literal(label, language="en"), ox.Literal(label, language="zh")))
        class_clause = f"?entity a {ox.NamedNode(rdf_class)} ." if rdf_class else ""
        sparql = (
            f"SELECT DISTINCT ?entity ?pref WHERE {{ VALUES ?l {{ {names} }} ?entity {_LABEL_PROPERTIES} ?l . "
            f"FILTER(isIRI(?entity)) {class_clause} BIND(EXISTS {{ ?entity {_PREF} ?l }} AS ?pref) }}"
        )
        result = client.select(sparql)
        return [(plain(entity), plain(pref) is True) for entity, pref in result.terms if isinstance(entity, ox.NamedNode)]  # type: ignore[misc]

    return LabelResolver(lookup)

