"""Shared helpers for the linked-data server tests (test_conneg, test_pages, test_browser).

The tests serve a small fixture dataset (tests/fixtures/linked-data/fixture.trig) with one entity of
every kind plus hostile values, loaded by the real loader (graph.load: ontology + closure), from a
private resources root whose queries/ folder holds two saved queries written here. Expected triples
are read back from the store, and responses are parsed with rdflib — a different parser from the
pyoxigraph serialiser the server uses — so a test compares two independent readings.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pyoxigraph as ox
import rdflib

from apsco_kg import graph
from apsco_kg.settings import Settings

REPO = Path(__file__).resolve().parent.parent
FIXTURE_DATA = Path(__file__).resolve().parent / "fixtures" / "linked-data"
BASE = "https://w3id.org/apsco/"
ID = BASE + "id/"
APSCO = BASE + "ontology#"

# Saved queries for the fixture root (the real queries/ is another engineer's and may change).
SAVED_QUERIES = {
    "states": (
        "#+ title: Every state, with its English label\n"
        "#+ description: The states of the fixture graph.\n"
        "PREFIX apsco: <https://w3id.org/apsco/ontology#>\n"
        "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"
        "SELECT ?state ?label WHERE {\n"
        "  ?state a apsco:State ; skos:prefLabel ?label .\n"
        "  FILTER(LANG(?label) = \"en\")\n"
        "} ORDER BY ?label\n"
    ),
    "headquarters": (
        "#+ title: Where the organization has its headquarters\n"
        "#+ description: Organization and headquarters city.\n"
        "PREFIX apsco: <https://w3id.org/apsco/ontology#>\n"
        "SELECT ?org ?city WHERE { ?org apsco:headquarters ?city }\n"
    ),
}


def make_root(tmp: Path) -> Path:
    """A resources root: the real ontology, the fixture data and our own saved queries."""
    root = tmp / "root"
    root.mkdir(parents=True, exist_ok=True)
    (root / "ontology").symlink_to(REPO / "ontology", target_is_directory=True)
    (root / "data").symlink_to(FIXTURE_DATA, target_is_directory=True)
    queries = root / "queries"
    queries.mkdir(exist_ok=True)
    for name, text in SAVED_QUERIES.items():
        (queries / f"{name}.rq").write_text(text, encoding="utf-8")
    return root


def fixture_settings(tmp: Path, **changes: object) -> Settings:
    return Settings(root=make_root(tmp), out_dir=tmp / "dist").with_(**changes)


def load_fixture(settings: Settings) -> graph.KnowledgeGraph:
    kg = graph.load(settings)
    assert not kg.problems, kg.problems
    return kg


def client(app: object):  # -> starlette.testclient.TestClient
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

        return TestClient(app)  # type: ignore[arg-type]


# ---- RDF comparisons ---------------------------------------------------------------------------
def to_rdflib(term: object) -> rdflib.term.Node:
    if isinstance(term, ox.NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return rdflib.Literal(term.value, lang=term.language)
        if term.datatype.value == "http://www.w3.org/2001/XMLSchema#string":
            return rdflib.Literal(term.value)  # rdflib keeps simple literals untyped
        return rdflib.Literal(term.value, datatype=rdflib.URIRef(term.datatype.value))
    raise AssertionError(f"unexpected term {term!r} (the data has no blank nodes)")


def triple_set(triples: object) -> set[tuple[rdflib.term.Node, ...]]:
    return {(to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object)) for t in triples}  # type: ignore[attr-defined]


def union_triples(store: ox.Store, s: ox.NamedNode | None = None, p: ox.NamedNode | None = None,
                  o: object | None = None) -> set[tuple[rdflib.term.Node, ...]]:
    return triple_set(store.quads_for_pattern(s, p, o, None))  # type: ignore[arg-type]


RDFLIB_FORMATS = {
    "text/turtle": "turtle",
    "application/ld+json": "json-ld",
    "application/n-triples": "nt",
    "application/rdf+xml": "xml",
}


def parse_rdf(body: bytes | str, media_type: str) -> set[tuple[rdflib.term.Node, ...]]:
    g = rdflib.Graph()
    g.parse(data=body, format=RDFLIB_FORMATS[media_type])
    for t in g:
        assert not any(isinstance(x, rdflib.BNode) for x in t), f"blank node in response: {t}"
    return set(g)  # type: ignore[arg-type]
