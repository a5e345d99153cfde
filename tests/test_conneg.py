"""Dereferenceable IRIs and content negotiation (issue 4 §3, docs/linked-data.md).

Three layers: the Accept parser against the headers real clients send; the full matrix of entity
kind × media type × way of asking, with every RDF response parsed by rdflib and compared triple by
triple with the store; and real clients (rdflib's own URL fetcher, httpx like curl) against a
server on 127.0.0.1.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
import rdflib

from apsco_kg import graph
from apsco_kg.serve import conneg, create_app
from ld_support import APSCO, BASE, ID, client, fixture_settings, load_fixture, parse_rdf, triple_set, union_triples

# rdflib's JSON-LD parser warns about its own internals; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")

# ------------------------------------------------------------------------------------------------
# 1. The Accept parser, with the headers real clients send
# ------------------------------------------------------------------------------------------------
FIREFOX = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
CHROME = ("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,"
          "application/signed-exchange;v=b3;q=0.7")
SAFARI = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
# rdflib Graph.parse(url) without a format: every parser's media type, all at q=1.
RDFLIB_PARSE = ("application/rdf+xml, text/n3, text/turtle, application/n-triples, application/ld+json, "
                "application/n-quads, application/trix, application/trig")
RDFLIB_TURTLE = "text/turtle, application/x-turtle, */*;q=0.1"
RDFLIB_JSONLD = "application/ld+json, application/json;q=0.9, */*;q=0.1"
RDFLIB_XML = "application/rdf+xml, */*;q=0.1"
RDFLIB_NT = "text/plain, */*;q=0.1"
# SPARQLWrapper / rdflib SPARQLStore asking for a graph result in any RDF syntax.
SPARQLWRAPPER_RDF = ("application/rdf+xml,application/turtle,text/turtle,text/rdf+n3,application/n-triples,"
                     "application/n3,text/n3,application/xml,application/ld+json,application/x-json+ld")
# rapper (raptor2) guessing the syntax: every parser's type, weighted, plus */*;q=0.1.
RAPPER = ("application/rdf+xml, text/rdf;q=0.6, application/x-turtle;q=0.8, application/turtle;q=0.8, "
          "text/turtle, text/n3;q=0.3, application/n-triples, text/plain;q=0.1, application/ld+json;q=0.8, */*;q=0.1")
RAPPER_RDFXML = "application/rdf+xml"


@pytest.mark.parametrize(("accept", "expected"), [
    (None, conneg.TURTLE),
    ("", conneg.TURTLE),
    ("*/*", conneg.TURTLE),                      # curl
    (FIREFOX, conneg.HTML),
    (CHROME, conneg.HTML),
    (SAFARI, conneg.HTML),
    (RDFLIB_PARSE, conneg.TURTLE),               # ties at q=1: the server's order, Turtle first
    (RDFLIB_TURTLE, conneg.TURTLE),
    (RDFLIB_JSONLD, conneg.JSONLD),
    (RDFLIB_XML, conneg.RDFXML),
    (RDFLIB_NT, conneg.NTRIPLES),
    (SPARQLWRAPPER_RDF, conneg.TURTLE),
    (RAPPER, conneg.TURTLE),
    (RAPPER_RDFXML, conneg.RDFXML),
    ("text/*", conneg.TURTLE),
    ("application/*", conneg.JSONLD),
    ("text/html;q=0, */*", conneg.TURTLE),       # the more specific range wins, so HTML is excluded
    ("text/turtle;q=0.5, application/ld+json;q=0.9", conneg.JSONLD),
    ("application/rdf+xml;q=1.0, text/turtle;q=0.2", conneg.RDFXML),
    ("application/n-triples;q=0.3, text/html;q=0.2", conneg.NTRIPLES),
    ("TEXT/HTML", conneg.HTML),
    ('application/ld+json;profile="http://www.w3.org/ns/json-ld#expanded";q=0.9, text/turtle;q=0.8', conneg.JSONLD),
    ("application/json", conneg.JSONLD),
    ("application/xml", conneg.RDFXML),
    ("application/xhtml+xml", conneg.HTML),
    ("garbage, text/turtle;q=abc, application/n-triples;q=0.5", conneg.NTRIPLES),  # bad entries are dropped
    ("image/png", None),
    ("text/html;q=0", None),
    ("application/pdf, image/*", None),
])
def test_negotiate_real_client_headers(accept: str | None, expected: conneg.Representation | None) -> None:
    assert conneg.negotiate(accept) is expected


def test_quality_uses_most_specific_range() -> None:
    ranges = conneg.parse_accept("text/*;q=0.3, text/html;q=0.7, */*;q=0.1")
    assert conneg.quality(ranges, conneg.HTML) == 0.7
    assert conneg.quality(ranges, conneg.TURTLE) == 0.3
    assert conneg.quality(ranges, conneg.JSONLD) == 0.1


@pytest.mark.parametrize(("name", "expected"), [
    ("ttl", conneg.TURTLE), ("turtle", conneg.TURTLE), ("text/turtle", conneg.TURTLE),
    ("jsonld", conneg.JSONLD), ("json-ld", conneg.JSONLD), ("application/ld+json", conneg.JSONLD),
    ("nt", conneg.NTRIPLES), ("ntriples", conneg.NTRIPLES), ("rdf", conneg.RDFXML), ("xml", conneg.RDFXML),
    ("html", conneg.HTML), ("HTML", conneg.HTML), ("docx", None), ("", None),
])
def test_format_names(name: str, expected: conneg.Representation | None) -> None:
    assert conneg.by_format_name(name) is expected


def test_split_suffix() -> None:
    assert conneg.split_suffix("state/thailand.ttl") == ("state/thailand", conneg.TURTLE)
    assert conneg.split_suffix("state/thailand.jsonld") == ("state/thailand", conneg.JSONLD)
    assert conneg.split_suffix("state/thailand") == ("state/thailand", None)
    assert conneg.split_suffix("state/thailand.exe") == ("state/thailand.exe", None)


# ------------------------------------------------------------------------------------------------
# 2. The matrix: every kind of entity × every media type × every way of asking
# ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def fx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[object, graph.KnowledgeGraph]]:
    settings = fixture_settings(tmp_path_factory.mktemp("conneg"))
    kg = load_fixture(settings)
    with client(create_app(settings, kg)) as c:
        yield c, kg


# (kind, path served, IRI described)
ENTITIES = [
    ("organization", "/id/org/apsco", ID + "org/apsco"),
    ("state", "/id/state/thailand", ID + "state/thailand"),
    ("city", "/id/place/beijing", ID + "place/beijing"),
    ("person", "/id/person/zhang-wei", ID + "person/zhang-wei"),
    ("treaty", "/id/treaty/apsco-convention", ID + "treaty/apsco-convention"),
    ("meeting", "/id/event/2005-founding-ceremony", ID + "event/2005-founding-ceremony"),
    ("series", "/id/series/apmcsta", ID + "series/apmcsta"),
    ("involvement", "/id/membership/apsco/thailand", ID + "membership/apsco/thailand"),
    ("role", "/id/role/full-member", ID + "role/full-member"),
    ("source", "/id/source/enwiki", ID + "source/enwiki"),
    ("citation", "/id/citation/enwiki/1", ID + "citation/enwiki/1"),
    ("ontology-term", "/ontology", APSCO + "Membership"),
]
MEDIA = ["text/turtle", "application/ld+json", "application/n-triples", "application/rdf+xml", "text/html"]
WAYS = ["accept", "suffix", "format"]


def request_for(path: str, media: str, way: str) -> tuple[str, dict[str, str]]:
    rep = next(r for r in conneg.DOCUMENT_REPRESENTATIONS if r.media_type == media)
    if way == "accept":
        return path, {"Accept": media}
    if way == "suffix":
        # The suffix wins over a contradicting Accept header.
        return path + rep.suffix, {"Accept": "text/html" if media != "text/html" else "text/turtle"}
    return path + "?format=" + rep.names[0], {"Accept": "text/html" if media != "text/html" else "text/turtle"}


def expected_triples(kg: graph.KnowledgeGraph, iri: str, kind: str) -> set[tuple[rdflib.term.Node, ...]]:
    """What the document must hold, read from the store independently of the server's code."""
    store = kg.store
    node = ox.NamedNode(iri)
    if kind == "ontology-term":
        # /ontology holds every term of the ontology graph; check the one asked about and the header.
        return (triple_set(q for q in store.quads_for_pattern(node, None, None, graph.ONTOLOGY_GRAPH))
                | triple_set(store.quads_for_pattern(ox.NamedNode(BASE + "ontology"), None, None, graph.ONTOLOGY_GRAPH)))
    want = union_triples(store, node)
    # Involvement nodes pointing at the entity, with all their triples (SPARQL, not the server's code).
    rows = kg.query(f"SELECT DISTINCT ?n WHERE {{ ?n a apsco:Involvement ; ?p <{iri}> . }}")
    for row in rows:  # type: ignore[attr-defined]
        want |= union_triples(store, row["n"])
    # Labels of the IRIs the entity's own triples point at.
    for (_, _, o) in list(want):
        if isinstance(o, rdflib.URIRef) and str(o) != iri:
            want |= union_triples(store, ox.NamedNode(str(o)), ox.NamedNode("http://www.w3.org/2004/02/skos/core#prefLabel"))
    return want


def all_union(kg: graph.KnowledgeGraph) -> set[tuple[rdflib.term.Node, ...]]:
    return union_triples(kg.store)


def embedded_jsonld(html: str) -> str:
    m = re.search(r'<script type="application/ld\+json"[^>]*>(.*?)</script>', html, re.S)
    assert m, "no embedded JSON-LD"
    return m.group(1)


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("media", MEDIA)
@pytest.mark.parametrize(("kind", "path", "iri"), ENTITIES, ids=[e[0] for e in ENTITIES])
def test_matrix(fx: tuple[object, graph.KnowledgeGraph], kind: str, path: str, iri: str, media: str, way: str) -> None:
    c, kg = fx
    url, headers = request_for(path, media, way)
    r = c.get(url, headers=headers)  # type: ignore[attr-defined]
    assert r.status_code == 200, r.text[:500]
    assert r.headers["content-type"].split(";")[0].strip() == media
    assert "Accept" in r.headers["vary"]
    rep = next(x for x in conneg.DOCUMENT_REPRESENTATIONS if x.media_type == media)
    assert r.headers["content-location"] == path + rep.suffix
    body = embedded_jsonld(r.text) if media == "text/html" else r.content
    got = parse_rdf(body, "application/ld+json" if media == "text/html" else media)
    want = expected_triples(kg, iri, kind)
    missing = want - got
    assert not missing, f"{len(missing)} triples missing, e.g. {sorted(missing, key=str)[:3]}"
    invented = got - all_union(kg)
    assert not invented, f"triples not in the store: {sorted(invented, key=str)[:3]}"
    if media == "text/html":
        assert iri.split("#")[0] in r.text or iri in r.text


# ------------------------------------------------------------------------------------------------
# 3. Status codes and headers
# ------------------------------------------------------------------------------------------------
def test_406_lists_what_is_available(fx: tuple[object, graph.KnowledgeGraph]) -> None:
    c, _ = fx
    for headers, url in (({"Accept": "image/png"}, "/id/org/apsco"), ({}, "/id/org/apsco?format=docx"),
                         ({"Accept": "text/html;q=0"}, "/ontology")):
        r = c.get(url, headers=headers)  # type: ignore[attr-defined]
        assert r.status_code == 406
        assert "Accept" in r.headers["vary"]
        for media in MEDIA:
            assert media in r.text


def test_vary_on_every_representation(fx: tuple[object, graph.KnowledgeGraph]) -> None:
    c, _ = fx
    for url, accept in (("/id/org/apsco", "text/html"), ("/id/org/apsco", "text/turtle"), ("/id/org/apsco.nt", "*/*"),
                        ("/ontology", "application/ld+json"), ("/.well-known/void", "text/turtle"),
                        ("/id/org/none-such", "text/turtle")):
        r = c.get(url, headers={"Accept": accept})  # type: ignore[attr-defined]
        assert "Accept" in r.headers.get("vary", ""), url


def test_browser_and_curl_get_different_things_from_one_url(fx: tuple[object, graph.KnowledgeGraph]) -> None:
    c, _ = fx
    html = c.get("/id/state/thailand", headers={"Accept": CHROME})  # type: ignore[attr-defined]
    data = c.get("/id/state/thailand", headers={"Accept": "*/*"})  # type: ignore[attr-defined]
    assert html.headers["content-type"].startswith("text/html")
    assert html.headers["content-location"] == "/id/state/thailand.html"
    assert data.headers["content-type"].startswith("text/turtle")
    assert data.headers["content-location"] == "/id/state/thailand.ttl"


def test_link_headers_and_alternates(fx: tuple[object, graph.KnowledgeGraph]) -> None:
    c, _ = fx
    r = c.get("/id/org/apsco", headers={"Accept": "text/turtle"})  # type: ignore[attr-defined]
    links = r.headers["link"]
    for suffix, media in ((".ttl", "text/turtle"), (".jsonld", "application/ld+json"), (".nt", "application/n-triples"),
                          (".rdf", "application/rdf+xml"), (".html", "text/html")):
        assert f'</id/org/apsco{suffix}>; rel="alternate"; type="{media}"' in links
    assert r.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in r.headers


def test_head_has_the_headers_and_no_body(fx: tuple[object, graph.KnowledgeGraph]) -> None:
    c, _ = fx
    r = c.head("/id/org/apsco", headers={"Accept": "application/ld+json"})  # type: ignore[attr-defined]
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/ld+json"
    assert r.headers["content-location"] == "/id/org/apsco.jsonld"
    assert r.content == b""


def test_unknown_iris_are_404(fx: tuple[object, graph.KnowledgeGraph]) -> None:
    c, _ = fx
    assert c.get("/id/state/atlantis", headers={"Accept": "text/turtle"}).status_code == 404  # type: ignore[attr-defined]
    r = c.get("/id/state/atlantis", headers={"Accept": "text/html"})  # type: ignore[attr-defined]
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert c.get("/ontology.exe").status_code == 404  # type: ignore[attr-defined]
    assert c.get("/id/state/thailand.exe").status_code == 404  # type: ignore[attr-defined]
    assert c.get("/id/state/<script>").status_code == 404  # type: ignore[attr-defined]
    for odd in ("/id/state/%zz", "/id/state/a%2", "/id/", "/id/state/thai land", "/graph/nope"):
        assert c.get(odd, headers={"Accept": "text/html"}).status_code == 404, odd  # type: ignore[attr-defined]


def test_turtle_is_readable_and_jsonld_is_plain_json(fx: tuple[object, graph.KnowledgeGraph]) -> None:
    c, _ = fx
    ttl = c.get("/id/org/apsco.ttl").text  # type: ignore[attr-defined]
    assert "<https://w3id.org/apsco/id/org/apsco>" in ttl  # full entity IRIs, not id:org\/apsco
    assert "@prefix skos:" in ttl
    doc = json.loads(c.get("/id/org/apsco.jsonld").text)  # type: ignore[attr-defined]
    assert any(n.get("@id") == ID + "org/apsco" for n in doc)
    assert "@context" not in json.dumps(doc)  # expanded: a client never has to fetch a context


def test_involvement_nodes_travel_with_the_state(fx: tuple[object, graph.KnowledgeGraph]) -> None:
    c, _ = fx
    got = parse_rdf(c.get("/id/state/thailand.nt").content, "application/n-triples")  # type: ignore[attr-defined]
    sig = rdflib.URIRef(ID + "signature/apsco-convention/thailand")
    assert (sig, rdflib.URIRef(APSCO + "date"), rdflib.Literal("2005-10-28", datatype=rdflib.XSD.date)) in got
    assert (sig, rdflib.URIRef(APSCO + "context"), rdflib.URIRef(ID + "treaty/apsco-convention")) in got
    # ... and the label of the treaty it points at, so a client can name it without another request.
    assert (rdflib.URIRef(ID + "treaty/apsco-convention"), rdflib.SKOS.prefLabel,
            rdflib.Literal("亚太空间合作组织公约", lang="zh")) in got


def test_base_url_moves_links_not_iris(tmp_path: Path) -> None:
    settings = fixture_settings(tmp_path, base_url="http://127.0.0.1:9/apsco/")
    with client(create_app(settings, load_fixture(settings))) as c:
        r = c.get("/id/org/apsco", headers={"Accept": "text/html"})
        assert r.headers["content-location"] == "http://127.0.0.1:9/apsco/id/org/apsco.html"
        assert 'href="http://127.0.0.1:9/apsco/id/place/beijing"' in r.text
        assert 'href="/id/place/beijing"' not in r.text
        assert 'href="http://127.0.0.1:9/apsco/id/org/apsco?lang=zh"' in r.text  # the language toggle
        assert 'href="http://127.0.0.1:9/apsco/static/site.css"' in r.text
        got = parse_rdf(c.get("/id/org/apsco.ttl").content, "text/turtle")
        subjects = {str(s) for s, _, _ in got}
        assert ID + "org/apsco" in subjects  # the canonical IRI, whatever the server's address
        assert not any(s.startswith("http://127.0.0.1") for s in subjects)


# ------------------------------------------------------------------------------------------------
# 4. Real clients over real HTTP on 127.0.0.1
# ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, app_server: object) -> Iterator[tuple[str, graph.KnowledgeGraph]]:
    settings = fixture_settings(tmp_path_factory.mktemp("live"))
    kg = load_fixture(settings)
    with app_server(create_app(settings, kg)) as base:  # type: ignore[operator]
        yield base, kg


def test_rdflib_dereferences_an_iri(live: tuple[str, graph.KnowledgeGraph]) -> None:
    base, kg = live
    g = rdflib.Graph()
    g.parse(base + "/id/treaty/apsco-convention")  # rdflib's own Accept header and content-type sniffing
    got = set(g)
    assert union_triples(kg.store, ox.NamedNode(ID + "treaty/apsco-convention")) <= got  # type: ignore[operator]
    for fmt in ("json-ld", "xml", "nt"):
        g2 = rdflib.Graph()
        g2.parse(base + "/id/place/beijing", format=fmt)
        assert (rdflib.URIRef(ID + "place/beijing"), rdflib.SKOS.prefLabel, rdflib.Literal("北京", lang="zh")) in g2


def test_curl_like_client(live: tuple[str, graph.KnowledgeGraph]) -> None:
    base, _ = live
    r = httpx.get(base + "/id/org/apsco", headers={"Accept": "*/*", "User-Agent": "curl/8.5.0"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/turtle")
    assert "Accept" in [v.strip() for v in r.headers["vary"].split(",")]
    r = httpx.get(base + "/id/org/apsco", headers={"Accept": FIREFOX})
    assert r.headers["content-type"].startswith("text/html")
    r = httpx.get(base + "/id/org/apsco", headers={"Accept": "video/mp4"})
    assert r.status_code == 406


# ------------------------------------------------------------------------------------------------
# 5. The real graph: every entity IRI and every ontology term dereferences
# ------------------------------------------------------------------------------------------------
def test_every_iri_of_the_real_graph_dereferences(kg: graph.KnowledgeGraph, tmp_path: Path) -> None:
    from apsco_kg.settings import Settings

    entities = sorted({t.value for q in kg.store for t in (q.subject, q.object)
                       if isinstance(t, ox.NamedNode) and t.value.startswith(ID)})
    assert len(entities) > 100, "the real graph (data/) should be loaded"
    settings = Settings(out_dir=tmp_path / "dist")
    with client(create_app(settings, kg)) as c:
        for iri in entities:
            path = iri[len(BASE) - 1:]
            r = c.get(path, headers={"Accept": "application/n-triples"})
            assert r.status_code == 200, (iri, r.status_code)
            got = parse_rdf(r.content, "application/n-triples")
            assert union_triples(kg.store, ox.NamedNode(iri)) <= got, iri
            page = c.get(path + ".html")
            assert page.status_code == 200, (iri, page.status_code)
            assert "<script>" not in page.text
        # Every term of the ontology is in /ontology, with all its triples, and has an anchor.
        doc = parse_rdf(c.get("/ontology.ttl").content, "text/turtle")
        html = c.get("/ontology", headers={"Accept": "text/html"}).text
        terms = {q.subject.value for q in kg.store.quads_for_pattern(None, None, None, graph.ONTOLOGY_GRAPH)
                 if q.subject.value.startswith(APSCO)}
        assert len(terms) > 50
        for term in terms:
            assert union_triples(kg.store, ox.NamedNode(term), None, None) & doc, term
            assert triple_set(kg.store.quads_for_pattern(ox.NamedNode(term), None, None, graph.ONTOLOGY_GRAPH)) <= doc, term
            assert f'id="{term.split("#", 1)[1]}"' in html, term
