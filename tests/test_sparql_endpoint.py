"""The SPARQL 1.1 Protocol endpoint: methods, formats, negotiation, dataset, errors, CORS, row cap,
service description — against a small fixture graph, and the saved queries against the real graph.

Results are parsed and compared as sets with what pyoxigraph answers locally on the same data.
"""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pyoxigraph as ox
import pytest

from apsco_kg import graph
from apsco_kg.serve import create_app
from apsco_kg.settings import Settings

EX = "http://example.org/"
G1, G2 = EX + "graph/one", EX + "graph/two"
SRX = "{http://www.w3.org/2005/sparql-results#}"
SELECT_SO = "SELECT ?s ?o WHERE { ?s <http://example.org/p> ?o }"
REPO = Path(__file__).resolve().parent.parent


def _fixture_kg() -> graph.KnowledgeGraph:
    kg = graph.KnowledgeGraph(ox.Store())
    p = ox.NamedNode(EX + "p")
    rows = [
        (EX + "a", ox.Literal("alpha", language="en"), G1),
        (EX + "b", ox.Literal("42", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")), G1),
        (EX + "c", ox.Literal('comma, "quote"\nnew\tline'), G2),
        (EX + "d", ox.NamedNode(EX + "e"), G2),
        (EX + "a", ox.Literal("alpha", language="en"), G2),  # same triple in two graphs (provenance)
    ]
    for s, o, g in rows:
        kg.store.add(ox.Quad(ox.NamedNode(s), p, o, ox.NamedNode(g)))
    return kg


# Expected (s, o) pairs of SELECT_SO over the union default graph, as N-Triples strings.
EXPECTED_SO = {
    (f"<{EX}a>", '"alpha"@en'),
    (f"<{EX}b>", '"42"^^<http://www.w3.org/2001/XMLSchema#integer>'),
    (f"<{EX}c>", '"comma, \\"quote\\"\\nnew\\tline"'),
    (f"<{EX}d>", f"<{EX}e>"),
}


@pytest.fixture(scope="module")
def small_kg() -> graph.KnowledgeGraph:
    return _fixture_kg()


@pytest.fixture(scope="module")
def base(small_kg: graph.KnowledgeGraph, app_server: Callable[[object], Any]) -> Iterator[str]:
    with app_server(create_app(Settings(query_timeout_s=10, sparql_workers=2, row_cap=100), small_kg)) as url:
        yield url


# --- parsing answers -------------------------------------------------------------------------------

def _nt_from_json(term: dict[str, Any]) -> str:
    if term["type"] == "uri":
        return str(ox.NamedNode(term["value"]))
    if term["type"] == "bnode":
        return "_:" + term["value"]
    if "xml:lang" in term:
        return str(ox.Literal(term["value"], language=term["xml:lang"]))
    if "datatype" in term:
        return str(ox.Literal(term["value"], datatype=ox.NamedNode(term["datatype"])))
    return str(ox.Literal(term["value"]))


def _nt_from_xml(el: ET.Element) -> str:
    if el.tag == SRX + "uri":
        return str(ox.NamedNode(el.text or ""))
    if el.tag == SRX + "bnode":
        return "_:" + (el.text or "")
    lang = el.get("{http://www.w3.org/XML/1998/namespace}lang")
    if lang:
        return str(ox.Literal(el.text or "", language=lang))
    if el.get("datatype"):
        return str(ox.Literal(el.text or "", datatype=ox.NamedNode(el.get("datatype") or "")))
    return str(ox.Literal(el.text or ""))


def rows_of(response: httpx.Response) -> tuple[list[str], set[tuple[str, ...]]]:
    """Variables and the set of rows (N-Triples strings; '' for unbound) of a SELECT answer."""
    ctype = response.headers["content-type"].split(";")[0]
    if ctype == "application/sparql-results+json":
        doc = response.json()
        variables = doc["head"]["vars"]
        return variables, {tuple(_nt_from_json(b[v]) if v in b else "" for v in variables)
                           for b in doc["results"]["bindings"]}
    if ctype == "application/sparql-results+xml":
        root = ET.fromstring(response.content)
        variables = [v.get("name") or "" for v in root.iter(SRX + "variable")]
        rows = set()
        for result in root.iter(SRX + "result"):
            bound = {b.get("name"): _nt_from_xml(b[0]) for b in result.findall(SRX + "binding")}
            rows.add(tuple(bound.get(v, "") for v in variables))
        return variables, rows
    if ctype == "text/tab-separated-values":
        lines = response.text.split("\n")
        assert lines[-1] == ""
        variables = [v.lstrip("?") for v in lines[0].split("\t")]
        return variables, {tuple(line.split("\t")) for line in lines[1:-1]}
    raise AssertionError(f"not a tabular result type: {ctype}")


def csv_rows(response: httpx.Response) -> tuple[list[str], set[tuple[str, ...]]]:
    reader = list(csv.reader(io.StringIO(response.content.decode("utf-8"), newline="")))
    return reader[0], {tuple(r) for r in reader[1:]}


def graph_of(response: httpx.Response) -> set[ox.Triple]:
    fmt = ox.RdfFormat.from_media_type(response.headers["content-type"].split(";")[0])
    assert fmt is not None
    return {q.triple for q in ox.parse(response.content, format=fmt)}


def boolean_of(response: httpx.Response) -> bool:
    ctype = response.headers["content-type"].split(";")[0]
    if ctype == "application/sparql-results+json":
        return bool(response.json()["boolean"])
    assert ctype == "application/sparql-results+xml"
    return ET.fromstring(response.content).find(SRX + "boolean").text == "true"  # type: ignore[union-attr]


def ask(base: str, query: str, **params: str) -> httpx.Response:
    return httpx.get(base + "/sparql", params={"query": query, **params}, timeout=30)


# --- methods × formats ---------------------------------------------------------------------------------

def _send(base: str, how: str, query: str, accept: str) -> httpx.Response:
    headers = {"Accept": accept}
    if how == "get":
        return httpx.get(base + "/sparql", params={"query": query}, headers=headers, timeout=30)
    if how == "form":
        return httpx.post(base + "/sparql", data={"query": query}, headers=headers, timeout=30)
    headers["Content-Type"] = "application/sparql-query"
    return httpx.post(base + "/sparql", content=query.encode("utf-8"), headers=headers, timeout=30)


HOWS = ["get", "form", "direct"]


@pytest.mark.parametrize("how", HOWS)
@pytest.mark.parametrize("accept", ["application/sparql-results+json", "application/sparql-results+xml",
                                    "text/tab-separated-values"])
def test_select_every_method_and_format(base: str, how: str, accept: str) -> None:
    r = _send(base, how, SELECT_SO, accept)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].split(";")[0] == accept
    variables, rows = rows_of(r)
    assert variables == ["s", "o"]
    assert rows == EXPECTED_SO
    assert r.headers["x-sparql-truncated"] == "false"


@pytest.mark.parametrize("how", HOWS)
def test_select_csv(base: str, how: str) -> None:
    r = _send(base, how, SELECT_SO, "text/csv")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    header, rows = csv_rows(r)
    assert header == ["s", "o"]
    # CSV carries lexical forms only (SPARQL 1.1 CSV): no language tags or datatypes.
    assert rows == {(EX + "a", "alpha"), (EX + "b", "42"), (EX + "c", 'comma, "quote"\nnew\tline'), (EX + "d", EX + "e")}


@pytest.mark.parametrize("how", HOWS)
@pytest.mark.parametrize("accept", ["application/sparql-results+json", "application/sparql-results+xml"])
@pytest.mark.parametrize(("query", "expected"), [
    ("ASK { <http://example.org/a> ?p ?o }", True), ("ASK { <http://example.org/zzz> ?p ?o }", False)])
def test_ask(base: str, how: str, accept: str, query: str, expected: bool) -> None:
    r = _send(base, how, query, accept)
    assert r.status_code == 200
    assert r.headers["content-type"].split(";")[0] == accept
    assert boolean_of(r) is expected


@pytest.mark.parametrize(("accept", "body"), [("text/csv", "_askResult\r\ntrue\r\n"),
                                              ("text/tab-separated-values", "?_askResult\ntrue\n")])
def test_ask_as_a_table(base: str, accept: str, body: str) -> None:
    """CSV/TSV have no boolean form in SPARQL 1.1; we answer a one-cell table (as Jena does)."""
    r = _send(base, "get", "ASK { <http://example.org/a> ?p ?o }", accept)
    assert r.status_code == 200 and r.headers["content-type"].split(";")[0] == accept
    assert r.text == body


CONSTRUCT = "CONSTRUCT { ?s <http://example.org/q> ?o } WHERE { ?s <http://example.org/p> ?o }"


@pytest.mark.parametrize("how", HOWS)
@pytest.mark.parametrize("accept", ["text/turtle", "application/n-triples", "application/ld+json", "application/rdf+xml"])
def test_construct_every_method_and_format(base: str, small_kg: graph.KnowledgeGraph, how: str, accept: str) -> None:
    r = _send(base, how, CONSTRUCT, accept)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].split(";")[0] == accept
    expected = set(small_kg.store.query(CONSTRUCT, use_default_graph_as_union=True))
    assert len(expected) == 4
    assert graph_of(r) == expected


def test_describe(base: str) -> None:
    r = _send(base, "get", "DESCRIBE <http://example.org/d>", "text/turtle")
    assert r.status_code == 200
    assert graph_of(r) == {ox.Triple(ox.NamedNode(EX + "d"), ox.NamedNode(EX + "p"), ox.NamedNode(EX + "e"))}


def test_defaults_without_accept(base: str) -> None:
    """No Accept: JSON for SELECT/ASK, Turtle for CONSTRUCT."""
    r = httpx.get(base + "/sparql", params={"query": SELECT_SO}, headers={"Accept": ""})
    assert r.headers["content-type"].split(";")[0] == "application/sparql-results+json"
    r = httpx.get(base + "/sparql", params={"query": CONSTRUCT}, headers={"Accept": "*/*"})
    assert r.headers["content-type"].split(";")[0] == "text/turtle"


@pytest.mark.parametrize(("accept", "expected"), [
    ("text/csv;q=0.5, application/sparql-results+xml", "application/sparql-results+xml"),
    ("application/sparql-results+json;q=0.2, text/tab-separated-values;q=0.9", "text/tab-separated-values"),
    ("application/sparql-results+json;q=0, */*;q=0.1", "application/sparql-results+xml"),
    ("text/*", "text/csv"),
    # rdflib's SPARQLStore / SPARQLWrapper style lists
    ("application/sparql-results+json,application/json,text/javascript,application/javascript",
     "application/sparql-results+json"),
    ("application/sparql-results+xml, application/rdf+xml", "application/sparql-results+xml"),
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "application/sparql-results+xml"),
])
def test_accept_q_values(base: str, accept: str, expected: str) -> None:
    r = httpx.get(base + "/sparql", params={"query": SELECT_SO}, headers={"Accept": accept})
    assert r.status_code == 200
    assert r.headers["content-type"].split(";")[0] == expected
    assert "Accept" in {v.strip() for v in r.headers["vary"].split(",")}


def test_graph_accept_q_values(base: str) -> None:
    r = httpx.get(base + "/sparql", params={"query": CONSTRUCT},
                  headers={"Accept": "text/turtle;q=0.3, application/n-triples;q=0.8, application/sparql-results+json"})
    assert r.headers["content-type"].split(";")[0] == "application/n-triples"


@pytest.mark.parametrize(("fmt", "query", "expected"), [
    ("csv", SELECT_SO, "text/csv"), ("tsv", SELECT_SO, "text/tab-separated-values"),
    ("xml", SELECT_SO, "application/sparql-results+xml"), ("json", SELECT_SO, "application/sparql-results+json"),
    ("ttl", CONSTRUCT, "text/turtle"), ("nt", CONSTRUCT, "application/n-triples"),
    ("jsonld", CONSTRUCT, "application/ld+json"), ("rdfxml", CONSTRUCT, "application/rdf+xml"),
    ("application/sparql-results+xml", SELECT_SO, "application/sparql-results+xml"),
])
def test_format_parameter_overrides_accept(base: str, fmt: str, query: str, expected: str) -> None:
    r = httpx.get(base + "/sparql", params={"query": query, "format": fmt}, headers={"Accept": "application/x-nothing"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].split(";")[0] == expected


def test_format_parameter_in_form_post(base: str) -> None:
    r = httpx.post(base + "/sparql", data={"query": SELECT_SO, "format": "csv"})
    assert r.headers["content-type"].split(";")[0] == "text/csv"
    assert csv_rows(r)[0] == ["s", "o"]


@pytest.mark.parametrize(("accept", "query"), [
    ("image/png", SELECT_SO), ("text/turtle", SELECT_SO), ("text/turtle", "ASK {}"),
    ("application/sparql-results+json", CONSTRUCT)])
def test_not_acceptable(base: str, accept: str, query: str) -> None:
    r = httpx.get(base + "/sparql", params={"query": query}, headers={"Accept": accept})
    assert r.status_code == 406
    assert r.json()["error"]["type"] == "not_acceptable"


# --- dataset ---------------------------------------------------------------------------------------------

def test_default_graph_is_union_and_graph_reaches_named_graphs(base: str) -> None:
    r = ask(base, "SELECT ?g ?s { GRAPH ?g { ?s <http://example.org/p> ?o } }")
    assert rows_of(r)[1] == {(f"<{G1}>", f"<{EX}a>"), (f"<{G1}>", f"<{EX}b>"), (f"<{G2}>", f"<{EX}c>"),
                             (f"<{G2}>", f"<{EX}d>"), (f"<{G2}>", f"<{EX}a>")}
    # The same triple in two graphs is one triple of the union default graph.
    r = ask(base, "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }")
    assert rows_of(r)[1] == {('"4"^^<http://www.w3.org/2001/XMLSchema#integer>',)}


def test_from_selects_graphs_of_the_store(base: str) -> None:
    r = ask(base, f"SELECT ?s FROM <{G1}> {{ ?s ?p ?o }}")
    assert rows_of(r)[1] == {(f"<{EX}a>",), (f"<{EX}b>",)}
    r = ask(base, f"SELECT ?g ?s FROM NAMED <{G2}> {{ GRAPH ?g {{ ?s ?p ?o }} }}")
    assert {row[0] for row in rows_of(r)[1]} == {f"<{G2}>"}
    r = ask(base, "SELECT ?s FROM <http://example.org/not-in-store> { ?s ?p ?o }")
    assert rows_of(r)[1] == set()


def test_protocol_dataset_parameters(base: str) -> None:
    r = httpx.get(base + "/sparql", params=[("query", "SELECT ?s { ?s ?p ?o }"), ("default-graph-uri", G2)])
    assert rows_of(r)[1] == {(f"<{EX}a>",), (f"<{EX}c>",), (f"<{EX}d>",)}
    r = httpx.get(base + "/sparql", params=[("query", "SELECT DISTINCT ?g { GRAPH ?g { ?s ?p ?o } }"),
                                           ("named-graph-uri", G1)])
    assert rows_of(r)[1] == {(f"<{G1}>",)}
    # The protocol's dataset overrides FROM in the query text.
    r = httpx.get(base + "/sparql", params=[("query", f"SELECT ?s FROM <{G1}> {{ ?s ?p ?o }}"), ("default-graph-uri", G2)])
    assert rows_of(r)[1] == {(f"<{EX}a>",), (f"<{EX}c>",), (f"<{EX}d>",)}


def test_relative_iris_resolve_against_the_endpoint(base: str) -> None:
    r = ask(base, "SELECT ?x { BIND(<thing> AS ?x) }")
    assert rows_of(r)[1] == {(f"<{base}/thing>",)}


def test_project_prefixes_are_predeclared(base: str) -> None:
    r = ask(base, "SELECT ?x { BIND(apsco:Membership AS ?x) }")
    assert rows_of(r)[1] == {("<https://w3id.org/apsco/ontology#Membership>",)}


# --- errors and refusals -----------------------------------------------------------------------------------

def _error(r: httpx.Response, status: int, type_: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].split(";")[0] == "application/json"
    err = r.json()["error"]
    assert set(err) == {"status", "type", "message", "line", "column"}
    assert err["status"] == status and err["type"] == type_ and err["message"]
    assert "Traceback" not in r.text
    return err


def test_syntax_error_has_parser_message_and_position(base: str) -> None:
    err = _error(ask(base, "SELECT * WHERE {\n  ?s ?p \n}"), 400, "syntax_error")
    assert err["line"] == 3 and isinstance(err["column"], int)
    err = _error(ask(base, "SELEKT * {}"), 400, "syntax_error")
    assert err["line"] == 1


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_wrong_method(base: str, method: str) -> None:
    r = httpx.request(method, base + "/sparql", params={"query": "ASK {}"})
    _error(r, 405, "method_not_allowed")
    assert set(r.headers["allow"].replace(" ", "").split(",")) == {"GET", "HEAD", "POST", "OPTIONS"}


@pytest.mark.parametrize("ctype", ["text/plain", "application/json", "multipart/form-data; boundary=x", None])
def test_wrong_media_type(base: str, ctype: str | None) -> None:
    headers = {"Content-Type": ctype} if ctype else {}
    _error(httpx.post(base + "/sparql", content=b"query=ASK%20%7B%7D", headers=headers), 415, "unsupported_media_type")


@pytest.mark.parametrize("ctype", ["application/sparql-query; charset=UTF-16", "application/x-www-form-urlencoded; charset=latin1"])
def test_non_utf8_charset(base: str, ctype: str) -> None:
    _error(httpx.post(base + "/sparql", content="ASK {}".encode("utf-16"), headers={"Content-Type": ctype}),
           415, "unsupported_charset")


def test_invalid_utf8_body(base: str) -> None:
    r = httpx.post(base + "/sparql", content=b"ASK { \xff }", headers={"Content-Type": "application/sparql-query"})
    _error(r, 400, "bad_encoding")
    r = httpx.post(base + "/sparql", content=b"query=ASK%20%7B%FF%7D",
                   headers={"Content-Type": "application/x-www-form-urlencoded"})
    _error(r, 400, "bad_encoding")


def test_multiple_and_missing_query(base: str) -> None:
    _error(httpx.get(base + "/sparql", params=[("query", "ASK {}"), ("query", "ASK {}")]), 400, "multiple_queries")
    _error(httpx.post(base + "/sparql", data={"format": "json"}), 400, "missing_query")


def _count(base: str) -> int:
    return int(ask(base, "SELECT (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } }").json()["results"]["bindings"][0]["n"]["value"])


def test_updates_are_refused_and_change_nothing(base: str, small_kg: graph.KnowledgeGraph) -> None:
    before = _count(base)
    assert before == len(small_kg.store) == 5
    insert = "INSERT DATA { GRAPH <http://example.org/x> { <http://example.org/x> <http://example.org/p> 1 } }"
    _error(httpx.post(base + "/sparql", data={"update": insert}), 403, "update_refused")
    _error(httpx.get(base + "/sparql", params={"update": "DROP ALL"}), 403, "update_refused")
    _error(httpx.post(base + "/sparql", content=b"DROP ALL", headers={"Content-Type": "application/sparql-update"}),
           403, "update_refused")
    for text in (insert, "DROP ALL", "CLEAR DEFAULT", "PREFIX ex: <http://example.org/> DELETE WHERE { ?s ?p ?o }",
                 "WITH <http://example.org/graph/one> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }"):
        _error(ask(base, text), 400, "update_refused")
        _error(httpx.post(base + "/sparql", content=text.encode(), headers={"Content-Type": "application/sparql-query"}),
               400, "update_refused")
    assert _count(base) == before


def test_errors_never_carry_a_traceback(base: str) -> None:
    for q in ("SELECT * { ?s ?p ?o } GROUP BY", "ASK { FILTER(<bad iri>) }", "SELECT (1 AS ?x) (2 AS ?x) {}"):
        r = ask(base, q)
        assert r.status_code == 400
        assert "Traceback" not in r.text and "File \"" not in r.text


# --- CORS ----------------------------------------------------------------------------------------------------

def test_cors_simple_request(base: str) -> None:
    r = httpx.get(base + "/sparql", params={"query": "ASK {}"}, headers={"Origin": "https://example.net"})
    assert r.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in r.headers
    exposed = {h.strip().lower() for h in r.headers["access-control-expose-headers"].split(",")}
    assert {"x-sparql-truncated", "x-sparql-maxrows", "retry-after"} <= exposed


def test_cors_preflight(base: str) -> None:
    r = httpx.options(base + "/sparql", headers={
        "Origin": "https://example.net", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type, accept"})
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "*"
    assert "POST" in r.headers["access-control-allow-methods"]
    assert "content-type" in r.headers["access-control-allow-headers"].lower()
    assert r.headers.get("access-control-allow-credentials") != "true"


def test_cors_with_cookie_never_allows_credentials(base: str) -> None:
    r = httpx.get(base + "/sparql", params={"query": "ASK {}"},
                  headers={"Origin": "https://evil.example", "Cookie": "session=1"})
    assert r.headers["access-control-allow-origin"] == "*"
    assert r.headers.get("access-control-allow-credentials") != "true"
    assert "set-cookie" not in r.headers


def test_plain_options(base: str) -> None:
    r = httpx.options(base + "/sparql")
    assert r.status_code == 204
    assert "POST" in r.headers["allow"]


# --- service description, health ---------------------------------------------------------------------------

SD = "http://www.w3.org/ns/sparql-service-description#"


@pytest.mark.parametrize("accept", ["text/turtle", "application/n-triples", "application/ld+json",
                                    "application/rdf+xml", "*/*"])
def test_service_description(base: str, small_kg: graph.KnowledgeGraph, accept: str) -> None:
    r = httpx.get(base + "/sparql", headers={"Accept": accept})
    assert r.status_code == 200
    assert r.headers["content-type"].split(";")[0] == ("text/turtle" if accept == "*/*" else accept)
    sd = ox.Store()
    sd.extend(ox.Quad(t.subject, t.predicate, t.object) for t in graph_of(r))
    endpoint = ox.NamedNode(base + "/sparql")
    assert ox.Quad(endpoint, ox.NamedNode(SD + "endpoint"), endpoint) in sd
    assert ox.Quad(endpoint, ox.NamedNode(SD + "feature"), ox.NamedNode(SD + "UnionDefaultGraph")) in sd
    assert ox.Quad(endpoint, ox.NamedNode(SD + "supportedLanguage"), ox.NamedNode(SD + "SPARQL11Query")) in sd
    names = {q.object for q in sd.quads_for_pattern(None, ox.NamedNode(SD + "name"), None)}
    assert names == set(small_kg.store.named_graphs())


def test_browser_without_query_is_sent_to_the_query_page(base: str) -> None:
    r = httpx.get(base + "/sparql", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert r.status_code == 303 and r.headers["location"] == "/query"
    assert "Accept" in r.headers["vary"]
    # An RDF client that also accepts HTML, at a lower q, gets the description.
    r = httpx.get(base + "/sparql", headers={"Accept": "text/turtle, text/html;q=0.5"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/turtle")


def test_health(base: str) -> None:
    r = httpx.get(base + "/health")
    assert r.status_code == 200
    doc = r.json()
    assert doc["status"] == "ok" and doc["triples"] == 5 and doc["workers"]["running"] == 2


# --- row cap -------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def capped(small_kg: graph.KnowledgeGraph, app_server: Callable[[object], Any]) -> Iterator[str]:
    with app_server(create_app(Settings(query_timeout_s=10, sparql_workers=1, row_cap=3), small_kg)) as url:
        yield url


@pytest.mark.parametrize("accept", ["application/sparql-results+json", "application/sparql-results+xml",
                                    "text/tab-separated-values"])
def test_row_cap_truncates_explicitly(capped: str, accept: str) -> None:
    r = httpx.get(capped + "/sparql", params={"query": SELECT_SO}, headers={"Accept": accept})
    assert r.status_code == 200
    assert r.headers["x-sparql-truncated"] == "true"
    assert r.headers["x-sparql-maxrows"] == "3"
    rows = rows_of(r)[1]
    assert len(rows) == 3 and rows < EXPECTED_SO


def test_row_cap_not_reached(capped: str) -> None:
    r = httpx.get(capped + "/sparql", params={"query": SELECT_SO + " LIMIT 3"})
    assert r.headers["x-sparql-truncated"] == "false" and len(rows_of(r)[1]) == 3


def test_row_cap_applies_to_graphs(capped: str) -> None:
    r = httpx.get(capped + "/sparql", params={"query": CONSTRUCT}, headers={"Accept": "application/n-triples"})
    assert r.headers["x-sparql-truncated"] == "true"
    assert len(graph_of(r)) == 3


# --- the real graph --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def real(kg: graph.KnowledgeGraph, app_server: Callable[[object], Any]) -> Iterator[str]:
    with app_server(create_app(Settings(query_timeout_s=20, sparql_workers=2), kg)) as url:
        yield url


def _local_rows(kg: graph.KnowledgeGraph, query: str) -> set[tuple[str, ...]]:
    answer = kg.store.query(query, use_default_graph_as_union=True, prefixes=graph.PREFIXES)
    variables = [v.value for v in answer.variables]  # type: ignore[union-attr]
    return {tuple("" if row[v] is None else str(row[v]) for v in variables) for row in answer}  # type: ignore[union-attr]


SAVED = sorted((REPO / "queries").glob("*.rq"))


@pytest.mark.parametrize("path", SAVED, ids=lambda p: p.stem)
def test_saved_queries_answer_as_locally(real: str, kg: graph.KnowledgeGraph, path: Path) -> None:
    """Each saved query sent as-is gives the same answer as pyoxigraph on the graph in-process."""
    text = path.read_text(encoding="utf-8")
    local = kg.store.query(text, use_default_graph_as_union=True, prefixes=graph.PREFIXES)
    r = httpx.post(real + "/sparql", data={"query": text}, timeout=30,
                   headers={"Accept": "application/sparql-results+json, text/turtle;q=0.9"})
    assert r.status_code == 200, r.text
    if isinstance(local, ox.QuerySolutions):
        assert rows_of(r)[1] == _local_rows(kg, text)
    elif isinstance(local, ox.QueryTriples):
        assert graph_of(r) == set(local)
    else:
        assert boolean_of(r) is bool(local)


def test_provenance_graphs_are_queryable(real: str, kg: graph.KnowledgeGraph) -> None:
    """Which article states which membership, through GRAPH and the sources graph (docs/model.md)."""
    q = """SELECT ?g ?article WHERE {
             GRAPH ?g { ?m a apsco:Membership }
             GRAPH graph:sources { ?g prov:wasDerivedFrom ?article } }"""
    rows = rows_of(ask(real, q))[1]
    assert rows and rows == _local_rows(kg, q)
    assert {r[1] for r in rows} <= {"<https://w3id.org/apsco/id/source/enwiki>", "<https://w3id.org/apsco/id/source/zhwiki>"}


def test_works_without_lifespan(small_kg: graph.KnowledgeGraph) -> None:
    """A test client used without its context runs no lifespan and a new event loop per request:
    the workers start on the first query and are restarted for the new loop."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # starlette's notice about httpx vs httpx2
        from starlette.testclient import TestClient

    app = create_app(Settings(sparql_workers=1), small_kg)
    client = TestClient(app)
    for _ in range(2):
        r = client.get("/sparql", params={"query": SELECT_SO}, headers={"Accept": "text/tab-separated-values"})
        assert r.status_code == 200 and {tuple(line.split("\t")) for line in r.text.split("\n")[1:-1]} == EXPECTED_SO
    pool = app.state.server.sparql.pool
    pool.close_sync()
    assert pool.pids == set()


def test_head(base: str) -> None:
    r = httpx.head(base + "/sparql", params={"query": SELECT_SO}, headers={"Accept": "text/csv"})
    assert r.status_code == 200 and r.content == b""
    assert r.headers["content-type"].startswith("text/csv") and r.headers["x-sparql-truncated"] == "false"
