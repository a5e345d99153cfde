"""The SPARQL 1.1 Service Description answered by GET /sparql without a query.

Built from the live store (graph names and sizes), content-negotiated like a CONSTRUCT answer;
Turtle is the default for RDF clients and for clients that send no preference.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

import pyoxigraph as ox
from starlette.requests import Request
from starlette.responses import Response

from . import media
from .errors import error_response

if TYPE_CHECKING:
    from . import ServerState

SD = "http://www.w3.org/ns/sparql-service-description#"
FORMATS = "http://www.w3.org/ns/formats/"
VOID = "http://rdfs.org/ns/void#"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
RESULT_FORMATS = ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV",
                  "Turtle", "N-Triples", "JSON-LD", "RDF_XML")
PREFIXES = {"sd": SD, "formats": FORMATS, "void": VOID}


def _sd(local: str) -> ox.NamedNode:
    return ox.NamedNode(SD + local)


def describe(endpoint_iri: str, store: ox.Store) -> list[ox.Triple]:
    service = ox.NamedNode(endpoint_iri)
    dataset = ox.NamedNode(endpoint_iri + "#dataset")
    default = ox.NamedNode(endpoint_iri + "#default-graph")
    triples = [
        ox.Triple(service, RDF_TYPE, _sd("Service")),
        ox.Triple(service, _sd("endpoint"), service),
        ox.Triple(service, _sd("supportedLanguage"), _sd("SPARQL11Query")),
        # The default graph is the union of all named graphs (docs/sparql-endpoint.md).
        ox.Triple(service, _sd("feature"), _sd("UnionDefaultGraph")),
        ox.Triple(service, _sd("defaultEntailmentRegime"), ox.NamedNode("http://www.w3.org/ns/entailment/Simple")),
        ox.Triple(service, _sd("defaultDataset"), dataset),
        ox.Triple(dataset, RDF_TYPE, _sd("Dataset")),
        ox.Triple(dataset, _sd("defaultGraph"), default),
        ox.Triple(default, RDF_TYPE, _sd("Graph")),
    ]
    triples += [ox.Triple(service, _sd("resultFormat"), ox.NamedNode(FORMATS + f)) for f in RESULT_FORMATS]
    sizes: Counter[ox.NamedNode | ox.BlankNode] = Counter(q.graph_name for q in store
                                                            if not isinstance(q.graph_name, ox.DefaultGraph))
    distinct = len({(q.subject, q.predicate, q.object) for q in store})
    triples.append(ox.Triple(default, ox.NamedNode(VOID + "triples"), ox.Literal(str(distinct), datatype=ox.NamedNode(
        "http://www.w3.org/2001/XMLSchema#integer"))))
    for index, (name, count) in enumerate(sorted(sizes.items(), key=lambda kv: str(kv[0]))):
        if not isinstance(name, ox.NamedNode):
            continue
        named = ox.NamedNode(f"{endpoint_iri}#named-graph-{index + 1}")
        g = ox.NamedNode(f"{endpoint_iri}#graph-{index + 1}")
        triples += [
            ox.Triple(dataset, _sd("namedGraph"), named),
            ox.Triple(named, RDF_TYPE, _sd("NamedGraph")),
            ox.Triple(named, _sd("name"), name),
            ox.Triple(named, _sd("graph"), g),
            ox.Triple(g, RDF_TYPE, _sd("Graph")),
            ox.Triple(g, ox.NamedNode(VOID + "triples"), ox.Literal(str(count), datatype=ox.NamedNode(
                "http://www.w3.org/2001/XMLSchema#integer"))),
        ]
    return triples


_cache: dict[tuple[int, str, str], bytes] = {}


def _prefers_html(accept: str | None, fmt: media.Format | None) -> bool:
    """True when the client ranks text/html above every RDF format we offer (a browser)."""
    ranges = media.parse_accept(accept)
    html_q = max((q for m, q in ranges if m in ("text/html", "application/xhtml+xml")), default=0.0)
    if html_q <= 0:
        return False
    if fmt is None:
        return True
    rdf_q = max((q for m, q in ranges for offered in fmt.accepts[:1]
                 if m == offered or m == "*/*" or (m.endswith("/*") and offered.startswith(m[:-1]))), default=0.0)
    return html_q > rdf_q


def response(request: Request, state: ServerState) -> Response:
    fmt_param = request.query_params.get("format")
    if fmt_param:
        fmt = media.by_format_param(fmt_param, media.GRAPH_FORMATS)
    else:
        fmt = media.negotiate(request.headers.get("accept"), media.GRAPH_FORMATS)
        if _prefers_html(request.headers.get("accept"), fmt):
            # People who open the endpoint in a browser get the query page (served by pages.py).
            base_url = state.settings.base_url
            target = (base_url.rstrip("/") + "/query") if base_url else "/query"
            return Response(status_code=303, headers={"Location": target, "Vary": "Accept"})
    if fmt is None:
        return error_response(media.not_acceptable("a service description (an RDF graph)"))
    endpoint_iri = str(request.url.replace(query="", fragment=""))
    key = (id(state.kg.store), endpoint_iri, fmt.key)
    body = _cache.get(key)
    if body is None:
        from .results import RDF_FORMATS

        body = ox.serialize(describe(endpoint_iri, state.kg.store), format=RDF_FORMATS[fmt.key],
                            prefixes=PREFIXES if fmt.key == "turtle" else None) or b""
        if len(_cache) > 64:
            _cache.clear()
        _cache[key] = body
    return Response(body, media_type=fmt.media_type, headers={"Vary": "Accept"})


