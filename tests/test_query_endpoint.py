"""`run(..., endpoint=URL)` through SPARQLWrapper against real HTTP endpoints on 127.0.0.1.

* Every saved query gives the same rows through the project's own SPARQL 1.1 Protocol endpoint
  (`apsco_kg.serve.create_app`, loaded with the built graph) as on the local graph, by GET and POST.
* Misbehaving endpoints — unreachable, HTTP errors, HTML instead of results, too slow, corrupt
  results — are small Starlette apps in this file; each failure gives a clear one-line error.
Nothing here touches the internet.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs

import pyoxigraph as ox
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from apsco_kg import graph, queries, results
from apsco_kg.serve import create_app
from apsco_kg.settings import Settings
from conftest import free_port

NAMES = [q.name for q in queries.catalogue(Settings())]


def multiset(result: queries.QueryResult) -> Counter[Any]:
    if result.kind == "ask":
        return Counter([result.boolean])
    if result.kind == "graph":
        return Counter(result.triples)
    return Counter(tuple(sorted((k, repr(v)) for k, v in row.items())) for row in result.rows)


@pytest.fixture(scope="module")
def server(kg: graph.KnowledgeGraph, app_server: Callable[[object], Any]) -> Iterator[str]:
    """The project's own server (serve.create_app), serving the built graph; yields its /sparql URL."""
    with app_server(create_app(Settings(), kg)) as base:
        yield base + "/sparql"


# ---- the same answers remotely as locally --------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_every_saved_query_gives_the_same_rows_through_the_endpoint(name: str, server: str, kg: graph.KnowledgeGraph) -> None:
    local = queries.run(name, kg=kg)
    remote = queries.run(name, endpoint=server, timeout=30)
    assert remote.kind == local.kind and remote.variables == local.variables
    assert multiset(remote) == multiset(local), f"{name}: the endpoint's answer differs from the local one"


@pytest.mark.parametrize(
    "name, params",
    [
        ("cq14-roles-of-a-state", {"state": "泰国"}),  # label resolved on the endpoint
        ("cq14-roles-of-a-state", {"state": "id:state/turkey"}),
        ("cq17-meetings-in-a-year", {"year": "1994"}),
        ("cq20-single-article-statements", {"article": "id:source/zhwiki"}),
        ("describe-entity", {"entity": "Beijing"}),
        ("ask-full-member", {"state": "Indonesia"}),
        ("citations", {"article": "id:source/zhwiki"}),
        ("statements-with-sources", {"article": "English Wikipedia: Asia-Pacific Space Cooperation Organization"}),
        ("reconciliation", {"status": "apsco:NoItemKnown"}),
        ("cq07-satellite-projects", {"year": "2010", "org": "APSCO"}),
        ("cq19-statement-provenance", {"subject": "Beijing", "property": "apsco:country"}),
    ],
)
def test_parameters_bind_the_same_way_by_post(name: str, params: dict[str, str], server: str, kg: graph.KnowledgeGraph) -> None:
    local = queries.run(name, params, kg=kg)
    remote = queries.run(name, params, endpoint=server, method="POST")
    assert multiset(remote) == multiset(local) and len(local) > 0


@pytest.mark.parametrize("fmt", results.SELECT_FORMATS)
def test_every_output_format_is_byte_identical(fmt: str, server: str, kg: graph.KnowledgeGraph) -> None:
    # cq16 is fully ordered (ORDER BY ordinal), so even the row order must match.
    local = results.render(queries.run("cq16-conferences", kg=kg), fmt)
    remote = results.render(queries.run("cq16-conferences", endpoint=server), fmt)
    assert local == remote


def test_an_injection_attempt_through_the_endpoint_is_inert(server: str, kg: graph.KnowledgeGraph) -> None:
    echo = queries.from_text("#+ param: text | string | | t\nSELECT ?text (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?text")
    value = 'x" } ; DROP ALL ; SELECT * { ?s ?p ?o } #\n> }'
    before = len(kg.store)
    rows = queries.run(echo, {"text": value}, endpoint=server, method="POST").rows
    assert len(rows) == 1 and rows[0]["text"] == value
    assert len(kg.store) == before


# ---- endpoints that misbehave --------------------------------------------------------------------
SEEN: list[dict[str, str]] = []


async def _record(request: Request) -> dict[str, str]:
    # Parsed by hand: starlette's form parser needs python-multipart, which the project does not use.
    form = {k: v[0] for k, v in parse_qs((await request.body()).decode("utf-8")).items()} if request.method == "POST" else {}
    entry = {"method": request.method, "type": request.headers.get("content-type", ""),
             "accept": request.headers.get("accept", ""), "fields": ",".join(sorted({*request.query_params, *form}))}
    SEEN.append(entry)
    return {**dict(request.query_params), **{k: str(v) for k, v in form.items()}}


def _misbehaving_app(kg: graph.KnowledgeGraph) -> Starlette:
    async def echo(request: Request) -> Response:
        """A minimal SPARQL endpoint that records what it receives."""
        args = await _record(request)
        if "update" in args:
            return PlainTextResponse("updates are not accepted here", status_code=403)
        try:
            answer = kg.query(args["query"])
        except SyntaxError as exc:
            return PlainTextResponse(f"Parse error: {exc}", status_code=400)
        if isinstance(answer, ox.QueryTriples):
            return Response(ox.serialize(answer, format=ox.RdfFormat.N_TRIPLES), media_type="application/n-triples")
        return Response(answer.serialize(format=ox.QueryResultsFormat.JSON), media_type="application/sparql-results+json")

    async def html(request: Request) -> Response:
        await _record(request)
        return Response("<!DOCTYPE html><html><body><h1>Welcome to our portal</h1></body></html>", media_type="text/html")

    async def boom(request: Request) -> Response:
        await _record(request)
        return PlainTextResponse("java.lang.OutOfMemoryError: the store is on fire", status_code=503)

    async def slow(request: Request) -> Response:
        await _record(request)
        await asyncio.sleep(5)
        return Response(b'{"head":{},"boolean":true}', media_type="application/sparql-results+json")

    async def corrupt(request: Request) -> Response:
        await _record(request)
        return Response(b'{"head":{"vars":["s"]},"results":{"bindings":[{"s":', media_type="application/sparql-results+json")

    methods = ["GET", "POST"]
    return Starlette(routes=[
        Route("/sparql", echo, methods=methods), Route("/html", html, methods=methods),
        Route("/boom", boom, methods=methods), Route("/slow", slow, methods=methods),
        Route("/corrupt", corrupt, methods=methods),
    ])


@pytest.fixture(scope="module")
def odd(kg: graph.KnowledgeGraph, app_server: Callable[[object], Any]) -> Iterator[str]:
    with app_server(_misbehaving_app(kg)) as base:
        yield base


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_the_method_is_used_and_nothing_is_ever_sent_as_an_update(method: str, odd: str, kg: graph.KnowledgeGraph) -> None:
    SEEN.clear()
    result = queries.run("cq13-initiators", endpoint=odd + "/sparql", method=method)
    assert {r["state"] for r in result.rows} == {r["state"] for r in queries.run("cq13-initiators", kg=kg).rows}
    assert [e["method"] for e in SEEN] == [method]
    assert SEEN[0]["fields"] == "query" and "update" not in SEEN[0]["fields"]
    assert SEEN[0]["accept"].startswith("application/sparql-results+json")
    if method == "POST":
        assert SEEN[0]["type"] == "application/x-www-form-urlencoded"


@pytest.mark.parametrize("text", ["DELETE WHERE { ?s ?p ?o }", "PREFIX x: <http://x#>\nDROP ALL", "LOAD <http://127.0.0.1:9/x>"])
def test_update_looking_text_is_never_sent(text: str, odd: str) -> None:
    SEEN.clear()
    with pytest.raises(queries.QueryError, match="update"):
        queries.run(queries.from_text(text), endpoint=odd + "/sparql", method="POST")
    assert SEEN == []


def test_construct_comes_back_as_triples(odd: str, kg: graph.KnowledgeGraph) -> None:
    SEEN.clear()
    remote = queries.run("describe-entity", {"entity": "Bahrain"}, endpoint=odd + "/sparql")
    assert multiset(remote) == multiset(queries.run("describe-entity", {"entity": "Bahrain"}, kg=kg))
    assert SEEN[-1]["accept"].startswith("application/n-triples")


def test_unreachable_endpoint() -> None:
    url = f"http://127.0.0.1:{free_port()}/sparql"
    with pytest.raises(queries.EndpointError, match=r"cannot reach the endpoint.*(refused|Connection)") as err:
        queries.run("cq13-initiators", endpoint=url, timeout=5)
    assert err.value.exit_code == 1


def test_http_error_gives_status_and_body(odd: str) -> None:
    with pytest.raises(queries.EndpointError, match=r"HTTP 503 Service Unavailable: 'java.lang.OutOfMemoryError: the store is on fire'"):
        queries.run("cq13-initiators", endpoint=odd + "/boom")


def test_a_query_the_endpoint_refuses_is_exit_2_with_its_message(odd: str) -> None:
    with pytest.raises(queries.QueryRejected, match=r"refused the query \(HTTP 400\): 'Parse error: .*3:4") as err:
        queries.run(queries.from_text("SELECT ?s WHERE {\n  ?s ?p ?o ?x .\n  ?s ?p ?o\n}"), endpoint=odd + "/sparql")
    assert err.value.exit_code == 2


def test_html_instead_of_results_says_what_came_back(odd: str) -> None:
    with pytest.raises(queries.EndpointError, match=r"expected a SPARQL result .* sent text/html: '<!DOCTYPE html><html><body><h1>Welcome"):
        queries.run("cq13-initiators", endpoint=odd + "/html")


def test_corrupt_results_are_an_error(odd: str) -> None:
    with pytest.raises(queries.EndpointError, match="not a valid SPARQL result"):
        queries.run("cq13-initiators", endpoint=odd + "/corrupt")


def test_a_slow_endpoint_times_out(odd: str) -> None:
    started = time.monotonic()
    with pytest.raises(queries.QueryTimeout, match=r"within 0.5 s"):
        queries.run("ask-full-member", {"state": "id:state/thailand"}, endpoint=odd + "/slow", timeout=0.5)
    assert time.monotonic() - started < 3


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/sparql", "127.0.0.1:8000/sparql"])
def test_only_http_endpoints(url: str) -> None:
    with pytest.raises(queries.QueryError, match="must be an http"):
        queries.run("cq13-initiators", endpoint=url)
