"""`wikidata diff` against local endpoints on 127.0.0.1 — never the live Wikidata Query Service.

The main test serves a small Wikidata-shaped extract (tests/fixtures/wikidata/wikidata-extract.ttl)
through the project's own SPARQL endpoint (create_app) and checks the diff reports exactly what
the extract lacks of the mini dataset; the others check the failures a user must be told about.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from apsco_kg import graph
from apsco_kg.cli import main
from apsco_kg.serve import create_app
from apsco_kg.settings import GRAPH, Settings
from apsco_kg.wikidata import mapping, quickstatements as qs
from apsco_kg.wikidata.diff import USER_AGENT, DiffError, Endpoint, diff, diff_mapping

FIXTURES = Path(__file__).parent / "fixtures" / "wikidata"
MINI = FIXTURES / "mini"
EXTRACT = FIXTURES / "wikidata-extract.ttl"
APSCO = "https://w3id.org/apsco/id/org/apsco"


@pytest.fixture(scope="module")
def mini_kg(settings: Settings) -> graph.KnowledgeGraph:
    return graph.load(settings.with_(data_dir=MINI))


@pytest.fixture(scope="module")
def extract_kg(settings: Settings) -> graph.KnowledgeGraph:
    """The Wikidata-shaped extract as a KnowledgeGraph, in a named graph of its own."""
    quads = graph.parse_bytes(EXTRACT.read_bytes(), EXTRACT, ox.RdfFormat.TURTLE, settings.max_input_bytes)
    store = ox.Store()
    g = ox.NamedNode(GRAPH + "wikidata-extract")
    store.bulk_extend([ox.Quad(q.subject, q.predicate, q.object, g) for q in quads])
    return graph.KnowledgeGraph(store)


def found(result: Any) -> set[tuple[str, str, str, str, tuple[str, ...], int]]:
    return {(f.kind, f.statement.subject.qid, f.statement.property, qs.value_v1(f.statement.value),
             tuple(p for p, _ in f.qualifiers), len(f.references)) for f in result.findings}


EXPECTED = {
    ("missing-references", "Q900000001", "P159", "Q956", (), 2),           # has only the enwiki block
    ("missing", "Q900000001", "P571", "+2005-10-28T00:00:00Z/11", (), 0),  # holds 2005 at /9 only
    ("missing", "Q900000001", "P1813", 'en:"APSCO"', (), 0),
    ("missing-qualifiers", "Q869", "P463", "Q900000001", ("P585",), 0),    # the "as of" is lacking
}
# With the QIDs batch 1 created, the new items' statements can be compared too.
CREATED = {
    ("missing", "Q900000011", "P17", "Q869", (), 0), ("missing", "Q900000011", "P31", "Q625994", (), 0),
    ("missing", "Q900000011", "P179", "Q900000013", (), 0), ("missing", "Q900000011", "P276", "Q1861", (), 0),
    ("missing", "Q900000011", "P585", "+1994-01-00T00:00:00Z/10", (), 0),
    ("missing", "Q900000001", "P457", "Q900000014", (), 0), ("missing", "Q900000001", "P1037", "Q900000012", (), 0),
    ("missing", "Q900000012", "P31", "Q5", (), 0), ("missing", "Q900000013", "P31", "Q47258130", (), 0),
    ("missing", "Q900000014", "P31", "Q131569", (), 0), ("missing", "Q900000014", "P1476", 'zh:"亚太空间合作组织公约"', (), 0),
    ("missing", "Q900000014", "P1891", "Q869", (), 0),
    ("missing-qualifiers", "Q900000014", "P1891", "Q43", ("P276", "P1545"), 0),  # has P585, lacks place and ordinal
}


def test_diff_reports_exactly_what_the_extract_lacks(mini_kg: graph.KnowledgeGraph, extract_kg: graph.KnowledgeGraph,
                                                     settings: Settings, app_server: Callable[..., Any]) -> None:
    with app_server(create_app(settings, extract_kg)) as base:
        result = diff(mini_kg, base + "/sparql", 10.0)
    assert result.reconciled == {APSCO: "Q900000001"}  # found by its enwiki sitelink (schema:about)
    assert found(result) == EXPECTED
    assert result.present == 2  # P31 with both blocks; P571 2005 at year precision
    # Printed as QuickStatements our strict parser reads, each line saying what it adds.
    m = mapping.build(mini_kg, result.reconciled)
    commands = qs.parse_v1(result.quickstatements(), qs.ParseOptions(m.ontology.datatypes(), require_references=False))
    assert len(commands) == len(EXPECTED)
    summaries = sorted(c.summary for c in commands if isinstance(c, qs.Claim))
    assert summaries == sorted([
        "apsco-kg diff: missing statement", "apsco-kg diff: missing statement",
        "apsco-kg diff: same value, missing 2 reference(s)", "apsco-kg diff: same value, missing qualifiers P585"])
    missing = [c for c in commands if isinstance(c, qs.Claim) and c.summary == "apsco-kg diff: missing statement"]
    assert all(c.references for c in missing)  # a whole missing statement comes with its references


def test_diff_with_created_qids(mini_kg: graph.KnowledgeGraph, extract_kg: graph.KnowledgeGraph,
                                settings: Settings, app_server: Callable[..., Any]) -> None:
    created = mapping.read_qid_file(FIXTURES / "created.tsv")
    with app_server(create_app(settings, extract_kg)) as base:
        result = diff(mini_kg, base + "/sparql", 10.0, created=created)
    assert found(result) == EXPECTED | CREATED
    assert result.present == 2


def test_diff_command(extract_kg: graph.KnowledgeGraph, settings: Settings, app_server: Callable[..., Any]) -> None:
    with app_server(create_app(settings, extract_kg)) as base:
        r = CliRunner().invoke(main, ["wikidata", "diff", "--endpoint", base + "/sparql", "--timeout", "10",
                                      "--data", str(MINI)])
    assert r.exit_code == 0, r.output
    lines = [line for line in r.stdout.splitlines() if line]
    assert len(lines) == len(EXPECTED)
    assert "Q869\tP463\tQ900000001\tP585\t+2024-10-00T00:00:00Z/10\t/* apsco-kg diff: same value, missing qualifiers P585 */" in lines
    assert "reconciled to Q900000001 by its sitelink" in r.stderr


# ---- failures ---------------------------------------------------------------------------------


def _app(handler: Callable[[Request], Any]) -> Starlette:
    return Starlette(routes=[Route("/sparql", handler, methods=["GET", "POST"])])


def _empty_mapping(kg: graph.KnowledgeGraph) -> mapping.Mapping:
    return mapping.build(kg, mapping.read_qid_file(FIXTURES / "reconciled.tsv"))


def test_unreachable_endpoint(mini_kg: graph.KnowledgeGraph) -> None:
    from conftest import free_port  # the port is free: nothing listens there

    with pytest.raises(DiffError, match="cannot reach"):
        diff_mapping(_empty_mapping(mini_kg), Endpoint(f"http://127.0.0.1:{free_port()}/sparql", 5.0))


def test_http_error(mini_kg: graph.KnowledgeGraph, app_server: Callable[..., Any]) -> None:
    async def fail(request: Request) -> Response:
        return Response("overloaded", status_code=503)
    with app_server(_app(fail)) as base, pytest.raises(DiffError, match="HTTP"):
        diff_mapping(_empty_mapping(mini_kg), Endpoint(base + "/sparql", 5.0))


def test_not_a_sparql_result(mini_kg: graph.KnowledgeGraph, app_server: Callable[..., Any]) -> None:
    async def html(request: Request) -> Response:
        return Response("<html><body>Welcome</body></html>", media_type="application/sparql-results+json")
    with app_server(_app(html)) as base, pytest.raises(DiffError, match="SPARQL JSON results"):
        diff_mapping(_empty_mapping(mini_kg), Endpoint(base + "/sparql", 5.0))


def test_timeout(mini_kg: graph.KnowledgeGraph, app_server: Callable[..., Any]) -> None:
    async def slow(request: Request) -> Response:
        await asyncio.sleep(3)
        return Response(json.dumps({"head": {"vars": []}, "results": {"bindings": []}}))
    with app_server(_app(slow)) as base, pytest.raises(DiffError, match="within 0.5 s"):
        diff_mapping(_empty_mapping(mini_kg), Endpoint(base + "/sparql", 0.5))


def test_user_agent_and_method(mini_kg: graph.KnowledgeGraph, app_server: Callable[..., Any]) -> None:
    seen: list[tuple[str, str, bytes]] = []

    async def record(request: Request) -> Response:
        seen.append((request.method, request.headers.get("user-agent", ""), await request.body()))
        return Response(json.dumps({"head": {"vars": []}, "results": {"bindings": []}}),
                        media_type="application/sparql-results+json")
    with app_server(_app(record)) as base:
        result = diff_mapping(_empty_mapping(mini_kg), Endpoint(base + "/sparql", 5.0))
    assert seen and all(method == "POST" and ua == USER_AGENT for method, ua, _ in seen)
    assert USER_AGENT.startswith("apsco-kg/") and "https://w3id.org/apsco/" in USER_AGENT
    assert b"wd%3AQ" not in seen[0][2] and b"Q869" in seen[0][2]  # full IRIs in VALUES, our items asked for
    assert {f.kind for f in result.findings} == {"missing"}  # an empty endpoint lacks everything
    assert len(result.findings) == 6


def test_cli_reports_errors_without_a_traceback() -> None:
    from conftest import free_port

    r = CliRunner().invoke(main, ["wikidata", "diff", "--endpoint", f"http://127.0.0.1:{free_port()}/sparql",
                                  "--data", str(MINI), "--timeout", "5"])
    assert r.exit_code == 1
    assert "Error: cannot reach http://127.0.0.1:" in r.stderr
    assert "Traceback" not in r.output
