"""The W3C SPARQL 1.1 Protocol test suite, driven from its manifest.

Every `query_*`, `bad_*` and `update_*` entry of `shared/reference/w3c-sparql11-protocol/manifest.ttl`
(w3c/rdf-tests, sparql/sparql11/protocol) is read with rdflib and its HTTP requests are sent as
written to our /sparql/ endpoint, serving data1/2/3.nt as named graphs named by the manifest's labels.

* `query_*` and `bad_*`: the expected status class, and for 2xx the expected boolean / result format.
* `update_*`: our endpoint is read-only, so each update request must be refused (4xx), every
  follow-up ASK that checks the update's effect must answer **false**, and the store must hold
  exactly the triples it held before.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pyoxigraph as ox
import pytest
from rdflib import Graph, Namespace
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS

from apsco_kg import graph
from apsco_kg.serve import create_app
from apsco_kg.settings import Settings

# A copy of shared/reference/w3c-sparql11-protocol (W3C test-suite licence; see its README), so the
# suite runs from the repository alone.
SUITE = Path(__file__).resolve().parent / "fixtures" / "w3c-sparql11-protocol"
MANIFEST = SUITE / "manifest.ttl"
BASE = "http://www.w3.org/2009/sparql/docs/tests/data-sparql11/protocol/manifest#"
MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = Namespace("http://www.w3.org/2011/http#")
HTS = Namespace("http://www.w3.org/2011/http-statusCodes#")
CNT = Namespace("http://www.w3.org/2011/content#")
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
RESULT_TYPES = {"application/sparql-results+json", "application/sparql-results+xml", "text/csv",
                "text/tab-separated-values"}
RDF_TYPES = {"text/turtle", "application/n-triples", "application/rdf+xml", "application/ld+json"}


@dataclass(frozen=True)
class Step:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None
    statuses: frozenset[int]  # acceptable status classes: 2, 3, 4, 5
    boolean: bool | None
    fmt: str | None

    @property
    def is_update(self) -> bool:
        ctype = self.headers.get("content-type", "")
        body = (self.body or b"").decode("utf-8", "replace")
        return ("update=" in self.path or ctype.startswith("application/sparql-update")
                or body.startswith("update=") or "using-" in self.path)


@dataclass(frozen=True)
class Case:
    name: str
    steps: tuple[Step, ...]
    graphs: tuple[tuple[str, str], ...]  # (graph name, data file)


def _load_cases() -> list[Case]:
    g = Graph()
    g.parse(data=MANIFEST.read_bytes(), format="turtle", publicID=str(MANIFEST.as_uri()))
    manifest = next(g.subjects(RDF.type, MF.Manifest))
    cases: list[Case] = []
    for entry in Collection(g, g.value(manifest, MF.entries)):
        name = str(entry).split("#")[-1]
        action = g.value(entry, MF.action)
        steps = []
        for req in Collection(g, g.value(action, HT.requests)):
            headers = {}
            hlist = g.value(req, HT.headers)
            if hlist is not None:
                for h in Collection(g, hlist):
                    headers[str(g.value(h, HT.fieldName)).lower()] = str(g.value(h, HT.fieldValue))
            body_node = g.value(req, HT.body)
            body = None
            if body_node is not None:
                encoding = str(g.value(body_node, CNT.characterEncoding) or "UTF-8")
                body = str(g.value(body_node, CNT.chars)).encode(encoding.lower())
            resp = g.value(req, HT.resp)
            statuses = frozenset(int(str(s).split("StatusCode")[-1][0]) for s in g.objects(resp, MF.expectedStatus))
            expected_bool = g.value(resp, MF.expectedBoolean)
            fmt = g.value(resp, MF.expectedFormat)
            steps.append(Step(str(g.value(req, HT.methodName)), str(g.value(req, HT.absolutePath)), headers, body,
                              statuses, None if expected_bool is None else expected_bool.toPython(),
                              None if fmt is None else str(fmt)))
        graphs = tuple(sorted((str(g.value(d, RDFS.label)), str(g.value(d, UT.graph)).rsplit("/", 1)[-1])
                              for d in g.objects(entry, UT.graphData)))
        cases.append(Case(name, tuple(steps), graphs))
    return cases


CASES = _load_cases()


def test_manifest_is_fully_ported() -> None:
    """Every entry of the manifest is run below (34 in the copy we hold), none skipped."""
    names = {c.name for c in CASES}
    assert len(CASES) == 34
    assert {n.split("_")[0] for n in names} == {"query", "update", "bad"}
    assert sum(n.startswith("bad_") for n in names) == 14


@pytest.fixture(scope="module")
def protocol_kg() -> graph.KnowledgeGraph:
    """Every graph the manifest's ut:graphData names, from its file, in the named graph its label
    gives (data1/2/3.nt). One store serves all cases: no case depends on a graph being absent."""
    kg = graph.KnowledgeGraph(ox.Store())
    graphs = {pair for case in CASES for pair in case.graphs}
    assert graphs == {(f"http://kasei.us/2009/09/sparql/data/data{n}.rdf", f"data{n}.nt") for n in (1, 2, 3)}
    for name, filename in sorted(graphs):
        for q in ox.parse((SUITE / filename).read_bytes(), format=ox.RdfFormat.N_TRIPLES):
            kg.store.add(ox.Quad(q.subject, q.predicate, q.object, ox.NamedNode(name)))
    return kg


@pytest.fixture(scope="module")
def endpoint(protocol_kg: graph.KnowledgeGraph, app_server: Callable[[object], Any]) -> Iterator[str]:
    with app_server(create_app(Settings(query_timeout_s=10, sparql_workers=2), protocol_kg)) as base:
        yield base


def _send(base: str, step: Step) -> httpx.Response:
    # The manifest's paths start with /sparql/; we serve /sparql/ as well as /sparql.
    return httpx.request(step.method, base + step.path, headers=step.headers, content=step.body, timeout=30)


def _boolean(response: httpx.Response) -> bool:
    ctype = response.headers["content-type"].split(";")[0]
    if ctype == "application/sparql-results+json":
        return bool(json.loads(response.content)["boolean"])
    assert ctype == "application/sparql-results+xml", ctype
    root = ET.fromstring(response.content)
    return root.find("{http://www.w3.org/2005/sparql-results#}boolean").text == "true"  # type: ignore[union-attr]


def _check_format(response: httpx.Response, fmt: str) -> None:
    ctype = response.headers["content-type"].split(";")[0].strip()
    if fmt == "boolean":
        assert ctype in {"application/sparql-results+json", "application/sparql-results+xml"}
        _boolean(response)
    elif fmt == "tabular":
        assert ctype in RESULT_TYPES
        if ctype == "application/sparql-results+json":
            assert "bindings" in json.loads(response.content)["results"]
    else:
        assert fmt == "RDF"
        assert ctype in RDF_TYPES
        parsed = list(ox.parse(response.content, format=ox.RdfFormat.from_media_type(ctype)))
        assert isinstance(parsed, list)


def _count(base: str) -> int:
    r = httpx.get(base + "/sparql", params={"query": "SELECT (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } }"},
                  headers={"Accept": "application/sparql-results+json"})
    assert r.status_code == 200
    return int(r.json()["results"]["bindings"][0]["n"]["value"])


@pytest.mark.parametrize("case", [c for c in CASES if not c.name.startswith("update_")], ids=lambda c: c.name)
def test_query_and_bad_cases(case: Case, endpoint: str) -> None:
    for step in case.steps:
        response = _send(endpoint, step)
        assert response.status_code // 100 in step.statuses, (case.name, response.status_code, response.text)
        if response.status_code // 100 == 2:
            if step.fmt is not None:
                _check_format(response, step.fmt)
            if step.boolean is not None:
                assert _boolean(response) is step.boolean
        else:
            # Refusals carry the documented JSON error shape, never a stack trace.
            err = response.json()["error"]
            assert err["status"] == response.status_code
            assert err["message"] and "Traceback" not in response.text


@pytest.mark.parametrize("case", [c for c in CASES if c.name.startswith("update_")], ids=lambda c: c.name)
def test_update_cases_are_refused(case: Case, endpoint: str, protocol_kg: graph.KnowledgeGraph) -> None:
    before = _count(endpoint)
    assert before == len(protocol_kg.store) == 3
    updates = [s for s in case.steps if s.is_update]
    assert updates, "each update case sends at least one update"
    for step in case.steps:
        response = _send(endpoint, step)
        if step.is_update:
            assert response.status_code in (400, 403), response.text
            assert response.json()["error"]["type"] == "update_refused"
        else:
            # The follow-up checks ask whether the update took effect: it must not have.
            assert response.status_code == 200
            assert step.boolean is True and _boolean(response) is False
    assert _count(endpoint) == before
