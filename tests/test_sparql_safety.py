"""The public endpoint's safety (security-risks.md §A, §D): no network or file access from a query,
a wall-clock limit that really stops the work, nesting refused before the parser, body cap,
per-client concurrency limit.

Outbound access is watched by a canary: a TCP listener on 127.0.0.1 that records every connection
(and answers like a SPARQL endpoint, so a fetch would succeed if one were attempted).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pyoxigraph as ox
import pytest

from apsco_kg import graph
from apsco_kg.serve import create_app
from apsco_kg.settings import Settings

from conftest import REPO, free_port

EX = "http://example.org/"
CARTESIAN = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?x . ?b ?q ?y . ?c ?r ?z }"
REDOS_CARTESIAN = ('SELECT * WHERE { ?a ?p ?x . ?b ?q ?y . ?c ?r ?z '
                   'FILTER(REGEX(CONCAT(STR(?x), STR(?y), STR(?z), "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!"), "^(a+)+$")) }')


class Canary:
    """Records every TCP connection made to it; replies with an empty SPARQL JSON result."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/sparql"
        self.hits: list[bytes] = []
        self._stop = False
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(1)
                try:
                    data = conn.recv(65536)
                except OSError:
                    data = b""
                self.hits.append(data)
                body = b'{"head":{"vars":["s"]},"results":{"bindings":[{"s":{"type":"literal","value":"CANARY"}}]}}'
                try:
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/sparql-results+json\r\n"
                                 b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
                except OSError:
                    pass

    def close(self) -> None:
        self._stop = True
        self.thread.join(timeout=5)
        self.sock.close()


@pytest.fixture(scope="module")
def canary() -> Iterator[Canary]:
    c = Canary()
    # The canary itself works: a plain client reaches it (so zero hits below means zero attempts).
    assert httpx.get(c.url).status_code == 200 and len(c.hits) == 1
    c.hits.clear()
    yield c
    c.close()


def _grid_kg(n: int = 1500) -> graph.KnowledgeGraph:
    """n triples in two named graphs: enough for a 3-way cartesian product of n³ ≈ 3.4·10⁹ rows."""
    kg = graph.KnowledgeGraph(ox.Store())
    p = ox.NamedNode(EX + "p")
    kg.store.bulk_extend([ox.Quad(ox.NamedNode(f"{EX}s{i}"), p, ox.Literal("a" * (i % 7 + 1)),
                                  ox.NamedNode(EX + ("g1" if i % 2 else "g2"))) for i in range(n)])
    return kg


@pytest.fixture(scope="module")
def grid_kg() -> graph.KnowledgeGraph:
    return _grid_kg()


SAFE = Settings(query_timeout_s=2.0, sparql_workers=3, max_concurrent_per_client=2, client_wait_s=0.5,
                max_query_chars=3_000_000, max_body_bytes=3 * 1024 * 1024)


@pytest.fixture(scope="module")
def base(grid_kg: graph.KnowledgeGraph, app_server: Callable[[object], Any]) -> Iterator[str]:
    with app_server(create_app(SAFE, grid_kg)) as url:
        yield url


def health(base: str) -> dict[str, Any]:
    r = httpx.get(base + "/health", timeout=10)
    assert r.status_code == 200
    return r.json()  # type: ignore[no-any-return]


def wait_workers(base: str, n: int, timeout: float = 30.0) -> dict[str, Any]:
    """Wait until n workers are idle (a killed worker's replacement has loaded the store)."""
    deadline = time.monotonic() + timeout
    while True:
        h = health(base)
        if h["workers"]["idle"] == n or time.monotonic() > deadline:
            return h
        time.sleep(0.1)


def get(base: str, query: str, **kw: Any) -> httpx.Response:
    return httpx.get(base + "/sparql", params={"query": query}, timeout=60, **kw)


def error_type(r: httpx.Response) -> str:
    assert r.headers["content-type"].startswith("application/json"), r.text
    assert "Traceback" not in r.text
    return str(r.json()["error"]["type"])


# --- no network, no file system ---------------------------------------------------------------------

SERVICE_QUERIES = [
    "SELECT * WHERE { SERVICE <{url}> { ?s ?p ?o } }",
    "SELECT * WHERE { ?x ?y ?z OPTIONAL { SERVICE SILENT <{url}> { ?s ?p ?o } } }",
    "SELECT * WHERE { VALUES ?svc { <{url}> } SERVICE ?svc { ?s ?p ?o } }",
    "select * where { service silent <{url}> { ?s ?p ?o } }",
    "SELECT * WHERE { SeRvIcE<{url}>{?s ?p ?o} }",
    "PREFIX service: <http://x/>\nSELECT * WHERE { # SERVICE in a comment\n SERVICE <{url}> { ?s ?p ?o } }",
    "ASK { { { SERVICE SILENT <{url}> {} } } }",
]


@pytest.mark.parametrize("template", SERVICE_QUERIES)
def test_service_is_refused_and_nothing_is_contacted(base: str, canary: Canary, template: str) -> None:
    q = template.replace("{url}", canary.url)
    for r in (get(base, q), httpx.post(base + "/sparql", data={"query": q}),
              httpx.post(base + "/sparql", content=q.encode(), headers={"Content-Type": "application/sparql-query"})):
        assert r.status_code == 400
        assert error_type(r) == "service_refused"
        assert "CANARY" not in r.text
    time.sleep(0.2)
    assert canary.hits == []


@pytest.mark.parametrize("q", [
    'PREFIX service: <http://example.org/> SELECT ?s WHERE { ?s service:p ?o } LIMIT 1',
    'SELECT ?s WHERE { ?s ?p "SERVICE <http://127.0.0.1/>" }',
    'SELECT ?service WHERE { ?service ?p ?o } LIMIT 1',
    'SELECT ?s WHERE { ?s <http://example.org/SERVICE> ?o }',
])
def test_service_word_elsewhere_is_not_refused(base: str, q: str) -> None:
    assert get(base, q).status_code == 200


@pytest.mark.parametrize("template", [
    "SELECT * FROM <{url}> WHERE { ?s ?p ?o }",
    "SELECT * FROM NAMED <{url}> WHERE { GRAPH ?g { ?s ?p ?o } }",
    "SELECT * FROM <{url}> FROM NAMED <{url}> WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }",
])
def test_from_foreign_iri_is_inert(base: str, canary: Canary, template: str) -> None:
    r = get(base, template.replace("{url}", canary.url))
    assert r.status_code == 200
    assert r.json()["results"]["bindings"] == []
    r = httpx.get(base + "/sparql", params=[("query", "SELECT * { ?s ?p ?o }"), ("default-graph-uri", canary.url),
                                            ("named-graph-uri", canary.url)])
    assert r.status_code == 200 and r.json()["results"]["bindings"] == []
    time.sleep(0.2)
    assert canary.hits == []


def test_load_is_refused(base: str, canary: Canary) -> None:
    load = f"LOAD <{canary.url}>"
    assert error_type(get(base, load)) == "update_refused"
    assert httpx.post(base + "/sparql", data={"update": load}).status_code == 403
    assert httpx.post(base + "/sparql", content=load.encode(),
                      headers={"Content-Type": "application/sparql-update"}).status_code == 403
    assert httpx.get(base + "/sparql", params={"update": f"LOAD SILENT <{canary.url}> INTO GRAPH <{EX}x>"}).status_code == 403
    time.sleep(0.2)
    assert canary.hits == []


@pytest.fixture()
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "secret.nt"
    path.write_text('<http://secret.example/s> <http://secret.example/p> "FILE-CONTENT-LEAKED" .\n')
    return path


def test_file_iris_give_no_content(base: str, secret_file: Path) -> None:
    iri = secret_file.as_uri()
    queries = [
        f"SELECT * FROM <{iri}> WHERE {{ ?s ?p ?o }}",
        f"SELECT * FROM NAMED <{iri}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}",
        f"CONSTRUCT {{ ?s ?p ?o }} FROM <{iri}> WHERE {{ ?s ?p ?o }}",
        f"SELECT * WHERE {{ SERVICE <{iri}> {{ ?s ?p ?o }} }}",
        f"LOAD <{iri}>",
    ]
    for q in queries:
        r = get(base, q)
        assert r.status_code in (200, 400)
        assert "FILE-CONTENT-LEAKED" not in r.text and "secret.example" not in r.text
    r = httpx.get(base + "/sparql", params=[("query", "SELECT * { ?s ?p ?o }"), ("default-graph-uri", iri)])
    assert r.status_code == 200 and "FILE-CONTENT-LEAKED" not in r.text


# --- wall-clock limit ------------------------------------------------------------------------------------

@pytest.mark.parametrize("query", [CARTESIAN, REDOS_CARTESIAN], ids=["cartesian", "redos-regex-cartesian"])
def test_expensive_query_stopped_at_the_limit(base: str, query: str) -> None:
    before = wait_workers(base, 3)
    start = time.monotonic()
    r = get(base, query)
    elapsed = time.monotonic() - start
    assert r.status_code == 503
    assert error_type(r) == "query_timeout"
    assert "2 s" in r.json()["error"]["message"]
    assert 1.5 < elapsed < 10
    # The worker running it was killed (not left computing), and replaced.
    start = time.monotonic()
    r = get(base, "ASK {}")
    assert r.status_code == 200 and r.json()["boolean"] is True
    assert time.monotonic() - start < 1.0
    after = wait_workers(base, 3)
    assert after["workers"]["killed_on_timeout"] == before["workers"]["killed_on_timeout"] + 1
    gone = set(before["workers"]["pids"]) - set(after["workers"]["pids"])
    assert len(gone) == 1
    pid = gone.pop()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert after["pid"] == before["pid"]


def test_redos_regex_alone_ends(base: str) -> None:
    """pyoxigraph's regex engine is linear: the classic ReDoS pattern answers false (or hits the limit)."""
    r = get(base, 'ASK { FILTER(REGEX("' + "a" * 40 + '!", "^(a+)+$")) }')
    if r.status_code == 200:
        assert r.json()["boolean"] is False
    else:
        assert r.status_code == 503 and error_type(r) == "query_timeout"
    assert get(base, "ASK {}").status_code == 200


def test_trivial_queries_served_while_expensive_ones_run(base: str) -> None:
    wait_workers(base, 3)
    other = httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2"), timeout=30)
    with ThreadPoolExecutor(2) as pool, other:
        slow = pool.submit(get, base, CARTESIAN)
        time.sleep(0.3)
        start = time.monotonic()
        r = other.get(base + "/sparql", params={"query": "ASK { ?s ?p ?o }"})
        assert r.status_code == 200 and r.json()["boolean"] is True
        assert time.monotonic() - start < 1.0
        assert slow.result().status_code == 503


# --- row cap on a large answer ----------------------------------------------------------------------------

def test_unbounded_select_is_capped(grid_kg: graph.KnowledgeGraph, app_server: Callable[[object], Any]) -> None:
    with app_server(create_app(Settings(row_cap=1000, sparql_workers=1), grid_kg)) as url:
        r = get(url, "SELECT * { ?s ?p ?o }")
        assert r.status_code == 200
        assert r.headers["x-sparql-truncated"] == "true" and r.headers["x-sparql-maxrows"] == "1000"
        assert len(r.json()["results"]["bindings"]) == 1000


# --- nesting and length, checked before any parser ------------------------------------------------------------

def nested(kind: str, depth: int) -> str:
    if kind == "parens":
        return "ASK { FILTER(" + "(" * depth + "true" + ")" * depth + ") }"
    if kind == "braces":
        return "ASK " + "{ " * depth + "?s ?p ?o " + "} " * depth
    return "SELECT * { ?s ?p " + "[ a " * depth + "<http://example.org/c>" + " ]" * depth + " }"


@pytest.mark.parametrize("kind", ["parens", "braces", "brackets"])
@pytest.mark.parametrize("depth", [30, 1_000, 10_000, 100_000])
def test_deep_nesting(base: str, kind: str, depth: int) -> None:
    before = wait_workers(base, 3)
    q = nested(kind, depth)
    r = httpx.post(base + "/sparql", content=q.encode(), headers={"Content-Type": "application/sparql-query"}, timeout=60)
    if depth <= SAFE.max_query_depth:
        assert r.status_code == 200, r.text
    else:
        assert r.status_code == 400
        assert error_type(r) == "query_too_deep"
        err = r.json()["error"]
        assert err["line"] == 1 and isinstance(err["column"], int)
    after = health(base)
    # Same server process, same workers: nothing crashed, nothing had to be restarted.
    assert after["pid"] == before["pid"] == os.getpid()
    assert after["workers"]["pids"] == before["workers"]["pids"]
    assert after["workers"]["crashed"] == 0


def test_brackets_inside_an_iri_token_still_count(base: str) -> None:
    """`1 <((((…1))))> 0` is an IRI to a tokenizer but nesting to a parser reading `<` as less-than."""
    q = "ASK { FILTER(1 <" + "(" * 10_000 + "1" + ")" * 10_000 + "> 0) }"
    r = get(base, q)
    assert r.status_code == 400 and error_type(r) == "query_too_deep"
    # An ordinary IRI with balanced parentheses is not "deep".
    r = get(base, "ASK { FILTER(<https://en.wikipedia.org/wiki/Long_March_(rocket_family)> != <x>) }")
    assert r.status_code == 200


@pytest.mark.parametrize("q", [
    # A quote inside `<…>`: a parser reading `<` as less-than starts a string there, a tokenizer does
    # not, and from then on they disagree about what is code. Whatever the scan concludes, the
    # 10 000 parentheses must not crash anything.
    "ASK { FILTER((\"x\" <'> ' && " + "(" * 10_000 + "true" + ")" * 10_000 + " ' )) }",
    "ASK { FILTER(?a <#> '''\n" + "(" * 10_000 + "true" + ")" * 10_000 + " ''') }",
])
def test_scanner_disagreement_cannot_crash_a_worker(base: str, q: str) -> None:
    before = wait_workers(base, 3)
    r = httpx.post(base + "/sparql", content=q.encode(), headers={"Content-Type": "application/sparql-query"}, timeout=60)
    assert r.status_code in (200, 400, 503), r.text
    after = health(base)
    assert after["pid"] == before["pid"] and after["workers"]["crashed"] == 0


def test_worker_stack_survives_nesting_the_scan_would_refuse(grid_kg: graph.KnowledgeGraph,
                                                            app_server: Callable[[object], Any]) -> None:
    """The guarantee under the lexical check: with the check switched off, 100 000-deep queries
    (as deep as 100 000 characters allow) are evaluated on the workers' 1 GiB stack without a crash."""
    settings = Settings(sparql_workers=1, query_timeout_s=20, max_query_depth=10**9, max_query_chars=3_000_000,
                        max_body_bytes=3 * 1024 * 1024)
    with app_server(create_app(settings, grid_kg)) as url:
        before = wait_workers(url, 1)
        for kind in ("parens", "braces"):
            r = httpx.post(url + "/sparql", content=nested(kind, 100_000).encode(),
                           headers={"Content-Type": "application/sparql-query"}, timeout=60)
            assert r.status_code == 200 and r.json()["boolean"] is True
        after = health(url)
        assert after["workers"]["pids"] == before["workers"]["pids"] and after["workers"]["crashed"] == 0


def test_brackets_in_strings_and_comments_do_not_count(base: str) -> None:
    q = 'ASK { FILTER("' + "(" * 5000 + '" != "x") } # ' + "{" * 5000
    r = get(base, q)
    assert r.status_code == 200 and r.json()["boolean"] is True
    q = "ASK { FILTER('''" + "[" * 5000 + "''' != \"\"\"" + "}" * 5000 + "\"\"\") }"
    assert get(base, q).status_code == 200


def test_long_operator_chain_does_not_crash_a_worker(base: str) -> None:
    """`1+1+…` is lexically flat but recursive in the engine: it crashes pyoxigraph on an 8 MB stack
    at about 10 000 terms. Workers evaluate on a 1 GiB stack, so the chain is answered (or stopped at
    the limit) and no worker crashes."""
    before = wait_workers(base, 3)
    q = "ASK { FILTER(" + "+".join(["1"] * 12_000) + " > 0) }"
    r = httpx.post(base + "/sparql", content=q.encode(), headers={"Content-Type": "application/sparql-query"}, timeout=60)
    assert r.status_code in (200, 503), r.text
    if r.status_code == 200:
        assert r.json()["boolean"] is True
    assert health(base)["workers"]["crashed"] == before["workers"]["crashed"] == 0


def test_query_length_limit(grid_kg: graph.KnowledgeGraph, app_server: Callable[[object], Any]) -> None:
    with app_server(create_app(Settings(sparql_workers=1), grid_kg)) as url:
        q = "ASK {}" + " " * 100_000
        r = httpx.post(url + "/sparql", content=q.encode(), headers={"Content-Type": "application/sparql-query"})
        assert r.status_code == 400 and error_type(r) == "query_too_long"
        r = httpx.post(url + "/sparql", content=nested("parens", 100_000).encode(),
                       headers={"Content-Type": "application/sparql-query"})
        assert r.status_code == 400 and error_type(r) == "query_too_long"


def test_deep_nesting_against_the_cli_server() -> None:
    """`apsco-kg serve` as its own process: 10k-deep queries get 400 and the process keeps its PID."""
    port = free_port()
    cli = Path(sys.executable).parent / "apsco-kg"
    proc = subprocess.Popen([str(cli), "serve", "--port", str(port), "--timeout", "2",
                             "--workers", "1"], cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                h = httpx.get(url + "/health", timeout=2).json()
                if h["workers"]["idle"] == 1:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline and proc.poll() is None, "server did not start"
            time.sleep(0.2)
        assert h["pid"] == proc.pid
        for kind in ("parens", "braces", "brackets"):
            r = httpx.post(url + "/sparql", content=nested(kind, 10_000).encode(),
                           headers={"Content-Type": "application/sparql-query"}, timeout=30)
            assert r.status_code == 400 and error_type(r) == "query_too_deep"
        after = httpx.get(url + "/health").json()
        assert proc.poll() is None and after["pid"] == proc.pid
        assert after["workers"]["pids"] == h["workers"]["pids"] and after["workers"]["crashed"] == 0
        assert httpx.get(url + "/sparql", params={"query": "ASK {}"}).json()["boolean"] is True
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    # Its workers stopped with it.
    for pid in h["workers"]["pids"]:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


# --- request body cap ----------------------------------------------------------------------------------------

def _raw(base: str, head: bytes, chunks: list[bytes]) -> tuple[bytes, int]:
    """Send a request over a raw socket; return the response head and how many chunks went out
    before the server answered."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=20) as s:
        s.sendall(head)
        sent = 0
        s.setblocking(False)
        response = b""
        for chunk in chunks:
            try:
                response += s.recv(65536)
            except BlockingIOError:
                pass
            if response:
                break
            try:
                s.sendall(chunk)
            except (BlockingIOError, BrokenPipeError, ConnectionResetError):
                break
            sent += 1
        s.setblocking(True)
        s.settimeout(20)
        try:
            while b"\r\n\r\n" not in response:
                data = s.recv(65536)
                if not data:
                    break
                response += data
        except (ConnectionResetError, TimeoutError):
            pass
    return response, sent


def test_declared_oversized_body_refused_before_reading(base: str) -> None:
    head = (b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
            b"Content-Length: 20000000\r\n\r\n")
    response, _ = _raw(base, head, [b"ASK {}" + b" " * 1000])
    assert response.startswith(b"HTTP/1.1 413")
    assert b'"body_too_large"' in response or b"\r\n\r\n" in response


def test_chunked_oversized_body_refused_while_streaming(base: str) -> None:
    head = (b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n")
    piece = b" " * 65536
    chunk = hex(len(piece))[2:].encode() + b"\r\n" + piece + b"\r\n"
    chunks = [chunk] * 320  # 20 MiB if all were sent
    response, sent = _raw(base, head, chunks)
    assert response.startswith(b"HTTP/1.1 413")
    # Refused once past the 3 MiB limit, long before the 20 MiB were sent.
    assert sent < 160


def test_oversized_form_body(base: str) -> None:
    r = httpx.post(base + "/sparql", data={"query": "ASK {}", "pad": "x" * (5 * 1024 * 1024)})
    assert r.status_code == 413 and error_type(r) == "body_too_large"


# --- per-client concurrency ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def limited(grid_kg: graph.KnowledgeGraph, app_server: Callable[[object], Any]) -> Iterator[str]:
    # A longer limit than `base`, so the two expensive queries surely still run while we probe.
    # proxy_headers=False as `apsco-kg serve` runs uvicorn: the peer address is the client.
    with app_server(create_app(SAFE.with_(query_timeout_s=5.0, client_wait_s=0.3), grid_kg),
                    proxy_headers=False) as url:
        yield url


def test_per_client_limit_429_while_others_are_served(limited: str) -> None:
    base = limited
    wait_workers(base, 3)
    other = httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2"), timeout=30)
    with ThreadPoolExecutor(2) as pool, other:
        running = [pool.submit(get, base, CARTESIAN) for _ in range(2)]
        time.sleep(0.4)
        r = get(base, "ASK {}")
        assert r.status_code == 429
        assert error_type(r) == "too_many_requests"
        assert 1 <= int(r.headers["retry-after"]) <= 5
        # X-Forwarded-For is not trusted by default: it does not make a new client.
        r = get(base, "ASK {}", headers={"X-Forwarded-For": "203.0.113.9"})
        assert r.status_code == 429
        # Another client address is served meanwhile.
        r = other.get(base + "/sparql", params={"query": "ASK {}"})
        assert r.status_code == 200 and r.json()["boolean"] is True
        assert [f.result().status_code for f in running] == [503, 503]
    wait_workers(base, 3)
    assert get(base, "ASK {}").status_code == 200


def test_forwarded_for_when_trusted(grid_kg: graph.KnowledgeGraph, app_server: Callable[[object], Any]) -> None:
    settings = SAFE.with_(trust_forwarded_for=True, max_concurrent_per_client=1)
    with app_server(create_app(settings, grid_kg), proxy_headers=False) as url:
        wait_workers(url, 3)
        with ThreadPoolExecutor(1) as pool:
            slow = pool.submit(get, url, CARTESIAN, headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.5"})
            time.sleep(0.4)
            assert get(url, "ASK {}", headers={"X-Forwarded-For": "203.0.113.5"}).status_code == 429
            assert get(url, "ASK {}", headers={"X-Forwarded-For": "203.0.113.6"}).status_code == 200
            assert slow.result().status_code == 503


def test_many_cheap_queries_from_one_client_are_queued_not_refused(base: str) -> None:
    wait_workers(base, 3)
    with ThreadPoolExecutor(16) as pool:
        codes = list(pool.map(lambda _: get(base, "SELECT * { ?s ?p ?o } LIMIT 5").status_code, range(64)))
    assert codes == [200] * 64


# --- real faults: a worker that dies ----------------------------------------------------------------------

@pytest.fixture()
def one_worker(grid_kg: graph.KnowledgeGraph, app_server: Callable[[object], Any]) -> Iterator[str]:
    with app_server(create_app(Settings(sparql_workers=1, query_timeout_s=10), grid_kg)) as url:
        yield url


def test_worker_killed_while_idle_is_replaced_transparently(one_worker: str) -> None:
    pid = wait_workers(one_worker, 1)["workers"]["pids"][0]
    os.kill(pid, signal.SIGKILL)
    time.sleep(0.3)
    r = get(one_worker, "ASK { ?s ?p ?o }")
    assert r.status_code == 200 and r.json()["boolean"] is True
    h = health(one_worker)
    assert h["workers"]["crashed"] == 1 and pid not in h["workers"]["pids"]


def test_worker_dying_mid_query_is_a_500_without_traceback(one_worker: str) -> None:
    pid = wait_workers(one_worker, 1)["workers"]["pids"][0]
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(get, one_worker, CARTESIAN)
        time.sleep(0.5)
        os.kill(pid, signal.SIGKILL)
        r = running.result()
    assert r.status_code == 500
    assert error_type(r) == "engine_failure"
    wait_workers(one_worker, 1)
    assert get(one_worker, "ASK {}").json()["boolean"] is True
