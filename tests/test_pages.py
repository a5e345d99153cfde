"""HTML pages, the landing page, the query page, /dumps/ and /.well-known/void (issue 4 §4, §5).

Pages are checked for what a reader must see (labels in both languages, sources beside each
statement, dates at their precision, incoming links, the Wikidata link) and for what an attacker
must not achieve (risks B8): a stored `</script>` stays text, a `javascript:` IRI is never a link,
and the embedded JSON-LD contains no `<` at all.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
import rdflib

from apsco_kg import graph
from apsco_kg.serve import create_app
from ld_support import APSCO, ID, REPO, SAVED_QUERIES, client, fixture_settings, load_fixture, parse_rdf

pytestmark = pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")


class Page(HTMLParser):
    """Just enough of a DOM for assertions: links, scripts, elements by id, and visible text."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str]] = []  # (href, text)
        self.scripts: list[dict[str, str | None]] = []
        self.ids: dict[str, str] = {}
        self.alternates: list[dict[str, str | None]] = []
        self._open_a: list[str] | None = None
        self._id_stack: list[tuple[str, str, list[str]]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "a" and a.get("href") is not None:
            self._open_a = [a["href"] or ""]
        if tag == "script":
            self.scripts.append(a)
        if tag == "link" and a.get("rel") == "alternate":
            self.alternates.append(a)
        if a.get("id"):
            self._id_stack.append((tag, a["id"] or "", []))

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._open_a is not None:
            self.links.append((self._open_a[0], "".join(self._open_a[1:]).strip()))
            self._open_a = None
        if self._id_stack and self._id_stack[-1][0] == tag:
            _, ident, parts = self._id_stack.pop()
            self.ids[ident] = "".join(parts).strip()

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._open_a is not None:
            self._open_a.append(data)
        for _, _, parts in self._id_stack:
            parts.append(data)

    def hrefs(self) -> list[str]:
        return [h for h, _ in self.links]

    def link_texts(self, href: str) -> list[str]:
        return [t for h, t in self.links if h == href]


def row_with(html: str, needle: str) -> str:
    """The table row (<tr>…</tr>) containing `needle`."""
    for row in re.findall(r"<tr[^>]*>.*?</tr>", html, re.S):
        if needle in row:
            return row
    raise AssertionError(f"no row containing {needle!r}")


@pytest.fixture(scope="module")
def fx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[object, graph.KnowledgeGraph, Path]]:
    tmp = tmp_path_factory.mktemp("pages")
    settings = fixture_settings(tmp)
    kg = load_fixture(settings)
    with client(create_app(settings, kg)) as c:
        yield c, kg, settings.out_dir


def get_html(c: object, url: str) -> str:
    r = c.get(url, headers={"Accept": "text/html"})  # type: ignore[attr-defined]
    assert r.status_code == 200, (url, r.status_code, r.text[:300])
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    return r.text


# ------------------------------------------------------------------------------------------------
# Entity pages
# ------------------------------------------------------------------------------------------------
def test_labels_in_both_languages_and_the_switch(fx: tuple[object, graph.KnowledgeGraph, Path]) -> None:
    c, _, _ = fx
    en = Page(get_html(c, "/id/org/apsco"))
    zh = Page(get_html(c, "/id/org/apsco?lang=zh"))
    assert en.ids["label"] == "Asia-Pacific Space Cooperation Organization"
    assert zh.ids["label"] == "亚太空间合作组织"
    for page in (en, zh):  # both names are on both pages
        assert "Asia-Pacific Space Cooperation Organization" in "".join(page.text)
        assert "亚太空间合作组织" in "".join(page.text)
    # The toggle goes to the other language; links within the site keep the chosen language.
    assert en.link_texts("/id/org/apsco?lang=zh") == ["中文"]
    assert zh.link_texts("/id/org/apsco?lang=en") == ["English"]
    assert "/id/place/beijing?lang=zh" in zh.hrefs()
    assert zh.link_texts("/id/place/beijing?lang=zh") == ["北京"]
    assert en.link_texts("/id/place/beijing") == ["Beijing"]


def test_language_fallback(fx: tuple[object, graph.KnowledgeGraph, Path]) -> None:
    c, _, _ = fx
    # Only a Chinese label: the English page falls back to it.
    assert Page(get_html(c, "/id/person/zhang-wei")).ids["label"] == "张伟"
    # Only an English label: the Chinese page falls back to it.
    assert Page(get_html(c, "/id/state/china?lang=zh")).ids["label"] == "China"
    # No label at all: the IRI's local name (a citation) ...
    assert Page(get_html(c, "/id/citation/enwiki/4")).ids["label"] == "4"
    # ... and an involvement node is named by its type, agent, role and context.
    assert Page(get_html(c, "/id/membership/apsco/thailand")).ids["label"] == (
        "membership: Thailand · full member · Asia-Pacific Space Cooperation Organization")
    zh = Page(get_html(c, "/id/membership/apsco/thailand?lang=zh"))
    assert zh.ids["label"] == "成员资格: 泰国 · 正式成员国 · 亚太空间合作组织"
    # An unknown ?lang is English.
    assert Page(get_html(c, "/id/place/beijing?lang=fr")).ids["label"] == "Beijing"


def test_every_statement_shows_its_sources(fx: tuple[object, graph.KnowledgeGraph, Path]) -> None:
    c, _, _ = fx
    html = get_html(c, "/id/org/apsco")
    hq = row_with(html, 'title="https://w3id.org/apsco/ontology#headquarters"')
    # Stated by the English article with references 1 and 4, and by the Chinese article (general ref 1).
    assert 'data-graph="https://w3id.org/apsco/graph/enwiki/cite-1-4"' in hq
    assert 'href="/id/citation/enwiki/1"' in hq and ">[1]<" in hq
    assert 'href="/id/citation/enwiki/4"' in hq and ">[4]<" in hq
    assert 'data-graph="https://w3id.org/apsco/graph/zhwiki"' in hq
    assert 'href="/id/citation/zhwiki/1"' in hq
    wd = row_with(html, 'title="https://w3id.org/apsco/ontology#wikidataItem"')
    assert 'data-graph="https://w3id.org/apsco/graph/curation"' in wd
    assert "cite-1-4" not in wd
    # Every row of the statements table names at least one source graph.
    section = html.split('<section id="statements">', 1)[1].split("</section>", 1)[0]
    rows = [r for r in re.findall(r"<tr>.*?</tr>", section, re.S) if "<td" in r]
    assert len(rows) >= 8
    assert all("data-graph=" in r for r in rows)


@pytest.mark.parametrize(("url", "needle", "en", "zh"), [
    ("/id/org/apsco", "ontology#inception", "December 2008", "2008年12月"),                       # gYearMonth
    ("/id/treaty/apsco-convention", "ontology#signingDate", "28 October 2005", "2005年10月28日"),  # date
    ("/id/series/apmcsta", "ontology#startDate", ">1992<", ">1992年<"),                           # gYear
    ("/id/event/1994-01-drafting-meeting", "ontology#date", "January 1994", "1994年1月"),
])
def test_dates_at_their_precision(fx: tuple[object, graph.KnowledgeGraph, Path], url: str, needle: str, en: str, zh: str) -> None:
    c, _, _ = fx
    assert en in row_with(get_html(c, url), needle)
    assert zh in row_with(get_html(c, url + "?lang=zh"), needle)
    # Never a made-up day or month: January 1994 is not "1 January 1994".
    assert "1 January 1994" not in get_html(c, "/id/event/1994-01-drafting-meeting")


def test_incoming_links(fx: tuple[object, graph.KnowledgeGraph, Path]) -> None:
    c, _, _ = fx
    html = get_html(c, "/id/place/beijing")
    incoming = html.split('<section id="incoming">', 1)[1].split("</section>", 1)[0]
    page = Page(incoming)
    assert page.link_texts("/id/org/apsco") == ["Asia-Pacific Space Cooperation Organization"]
    assert "/id/treaty/apsco-convention" in page.hrefs()
    assert "/id/event/2005-founding-ceremony" in page.hrefs()
    assert "/ontology#headquarters" in page.hrefs()


def test_involvements_on_the_state_page(fx: tuple[object, graph.KnowledgeGraph, Path]) -> None:
    c, _, _ = fx
    html = get_html(c, "/id/state/thailand")
    section = html.split('<section id="involvements">', 1)[1].split("</section>", 1)[0]
    page = Page(section)
    assert "/id/signature/apsco-convention/thailand" in page.hrefs()
    assert "/id/membership/apsco/thailand" in page.hrefs()
    assert "28 October 2005" in section and "October 2024" in section


def test_labels_for_every_linked_iri(fx: tuple[object, graph.KnowledgeGraph, Path]) -> None:
    c, kg, _ = fx
    page = Page(get_html(c, "/id/org/apsco"))
    # Every link to one of our entities shows a label, never the raw IRI or an empty text.
    for href, text in page.links:
        if href.startswith("/id/"):
            assert text and not text.startswith("https://"), (href, text)
    assert page.link_texts("/id/treaty/apsco-convention") == ["Convention of the Asia-Pacific Space Cooperation Organization"]
    assert page.link_texts("/ontology#headquarters") == ["headquarters location"]


def test_wikidata_item_is_linked(fx: tuple[object, graph.KnowledgeGraph, Path]) -> None:
    c, _, _ = fx
    page = Page(get_html(c, "/id/org/apsco"))
    assert "Q1123374" in page.link_texts("http://www.wikidata.org/entity/Q1123374")


def test_embedded_jsonld_is_escaped_and_complete(fx: tuple[object, graph.KnowledgeGraph, Path]) -> None:
    c, kg, _ = fx
    html = get_html(c, "/id/org/apsco")
    blocks = re.findall(r'<script type="application/ld\+json" id="jsonld">(.*?)</script>', html, re.S)
    assert len(blocks) == 1
    block = blocks[0]
    assert "<" not in block and ">" not in block and "&" not in block
    assert "\\u003c/script\\u003e" in block
    got = parse_rdf(block, "application/ld+json")
    hostile = rdflib.Literal("An organization </script><script>alert(1)</script> with a hostile note", lang="en")
    assert (rdflib.URIRef(ID + "org/apsco"), rdflib.URIRef(APSCO + "description"), hostile) in got
    # Exactly one script element that runs nothing: the data block.
    assert [s.get("type") for s in Page(html).scripts] == ["application/ld+json"]


def test_alternate_links_for_each_format(fx: tuple[object, graph.KnowledgeGraph, Path]) -> None:
    c, _, _ = fx
    page = Page(get_html(c, "/id/treaty/apsco-convention"))
    got = {(a["type"], a["href"]) for a in page.alternates}
    assert got == {
        ("text/turtle", "/id/treaty/apsco-convention.ttl"),
        ("application/ld+json", "/id/treaty/apsco-convention.jsonld"),
        ("application/n-triples", "/id/treaty/apsco-convention.nt"),
        ("application/rdf+xml", "/id/treaty/apsco-convention.rdf"),
    }
    for _, href in got:  # and each of them is served
        assert c.get(href).status_code == 200  # type: ignore[attr-defined]


def test_hostile_literal_and_javascript_iri(fx: tuple[object, graph.KnowledgeGraph, Path]) -> None:
    c, _, _ = fx
    html = get_html(c, "/id/work/xss")
    assert "<script>alert" not in html
    assert "&lt;/script&gt;&lt;script&gt;alert(" in html
    assert "<b>bold</b>" not in html and "&lt;b&gt;bold&lt;/b&gt;" in html
    page = Page(html)
    assert page.ids["label"] == "</script><script>alert('xss')</script> & <b>bold</b>"  # shown as text
    assert not any(h.lower().lstrip().startswith("javascript:") for h in page.hrefs())
    assert "javascript:alert(document.cookie)" in "".join(page.text)  # visible, but as text
    assert [s.get("type") for s in page.scripts] == ["application/ld+json"]
    # The page that links to it (its incoming neighbours) escape its label too.
    apsco = get_html(c, "/id/org/apsco")
    assert "<script>alert" not in apsco


def test_security_headers_on_pages(fx: tuple[object, graph.KnowledgeGraph, Path]) -> None:
    c, _, _ = fx
    r = c.get("/id/org/apsco", headers={"Accept": "text/html"})  # type: ignore[attr-defined]
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src", 1)[1].split(";", 1)[0]
    assert r.headers["x-content-type-options"] == "nosniff"


def test_graph_pages_show_provenance(fx: tuple[object, graph.KnowledgeGraph, Path]) -> None:
    c, _, _ = fx
    html = get_html(c, "/graph/enwiki/cite-1-4")
    page = Page(html)
    assert page.ids["label"] == "graph:enwiki/cite-1-4"
    assert "/id/citation/enwiki/4" in page.hrefs()          # what it cites (its description)
    assert "/id/org/apsco" in page.hrefs()                   # what it holds


# ------------------------------------------------------------------------------------------------
# The ontology
# ------------------------------------------------------------------------------------------------
def test_ontology_page(fx: tuple[object, graph.KnowledgeGraph, Path]) -> None:
    c, _, _ = fx
    en = get_html(c, "/ontology")
    page = Page(en)
    for term in ("Membership", "State", "headquarters", "wikidataItem", "NeedsReconciliation"):
        assert term in page.ids, term
    assert "成员资格" in page.ids["Membership"] and "membership" in page.ids["Membership"]
    assert "An agent's membership of an organization" in page.ids["Membership"]
    assert "总部所在地" in page.ids["headquarters"]
    assert "/ontology#Involvement" in Page(en.split('id="Membership"', 1)[1]).hrefs()  # subclass of
    zh = Page(get_html(c, "/ontology?lang=zh"))
    assert zh.ids["Membership"].startswith("成员资格")


# ------------------------------------------------------------------------------------------------
# Landing page, dumps, VoID
# ------------------------------------------------------------------------------------------------
def test_landing_page(fx: tuple[object, graph.KnowledgeGraph, Path]) -> None:
    c, kg, out_dir = fx
    html = get_html(c, "/")
    page = Page(html)
    assert "/id/source/enwiki" in page.hrefs() and "/id/source/zhwiki" in page.hrefs()
    distinct = {(q.subject, q.predicate, q.object) for q in kg.store}
    assert page.ids["count-triples"] == str(len(distinct))
    assert "/query" in page.hrefs() and "/ontology" in page.hrefs() and "/dumps/" in page.hrefs()
    assert page.link_texts("/id/org/apsco") == ["Asia-Pacific Space Cooperation Organization"]
    # The saved queries, as permalinks into the query page.
    for name, text in SAVED_QUERIES.items():
        title = text.splitlines()[0].split("title: ", 1)[1]
        hrefs = [h for h, t in page.links if t == title]
        assert hrefs and hrefs[0].startswith("/query?query="), name
    # The dumps were built on first use (export.write_dumps) and are listed with size and checksum.
    assert (out_dir / "apsco.ttl").is_file() and (out_dir / "SHA256SUMS").is_file()
    data = (out_dir / "apsco.ttl").read_bytes()
    row = row_with(html, ">apsco.ttl<")
    assert hashlib.sha256(data).hexdigest() in row
    assert f'data-bytes="{len(data)}"' in row


def test_dumps_listing_and_downloads(fx: tuple[object, graph.KnowledgeGraph, Path]) -> None:
    c, _, out_dir = fx
    c.get("/")  # type: ignore[attr-defined]  # builds the dumps if absent
    html = get_html(c, "/dumps/")
    sums = {}
    for line in (out_dir / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        sums[name.lstrip("*")] = digest
    assert "apsco.ttl" in sums and "apsco.nq" in sums
    for name, digest in sums.items():
        assert digest in row_with(html, f">{name}<")
        r = c.get(f"/dumps/{name}")  # type: ignore[attr-defined]
        assert r.status_code == 200
        assert hashlib.sha256(r.content).hexdigest() == digest  # the served bytes match SHA256SUMS
        assert r.headers["etag"] == f'"sha256-{digest}"'
        assert r.headers["digest"] == "SHA-256=" + base64.b64encode(bytes.fromhex(digest)).decode()
        again = c.get(f"/dumps/{name}", headers={"If-None-Match": r.headers["etag"]})  # type: ignore[attr-defined]
        assert again.status_code == 304 and again.content == b""
    assert c.get("/dumps/apsco.ttl").headers["content-type"].startswith("text/turtle")  # type: ignore[attr-defined]
    assert c.get("/dumps/apsco.nq").headers["content-type"] == "application/n-quads"  # type: ignore[attr-defined]
    # Only files of the dump folder: no traversal, no guessing.
    for bad in ("/dumps/..%2Fpyproject.toml", "/dumps/../pyproject.toml", "/dumps/.hidden", "/dumps/nope.ttl"):
        assert c.get(bad).status_code == 404, bad  # type: ignore[attr-defined]
    assert c.get("/dumps", follow_redirects=False).status_code == 308  # type: ignore[attr-defined]


def test_void_is_content_negotiated(fx: tuple[object, graph.KnowledgeGraph, Path]) -> None:
    c, _, out_dir = fx
    c.get("/dumps/")  # type: ignore[attr-defined]
    void = rdflib.Namespace("http://rdfs.org/ns/void#")
    for media in ("text/turtle", "application/ld+json", "application/n-triples", "application/rdf+xml"):
        r = c.get("/.well-known/void", headers={"Accept": media})  # type: ignore[attr-defined]
        assert r.status_code == 200 and r.headers["content-type"].split(";")[0] == media
        assert "Accept" in r.headers["vary"]
        got = parse_rdf(r.content, media)
        datasets = {s for s, p, o in got if p == rdflib.RDF.type and o == void.Dataset}
        assert datasets, media
    # It is the build's own description (export.py's void.ttl), triple for triple.
    built = rdflib.Graph().parse(data=(out_dir / "void.ttl").read_bytes(), format="turtle")
    assert set(built) == parse_rdf(c.get("/.well-known/void.nt").content, "application/n-triples")  # type: ignore[attr-defined]
    html = get_html(c, "/.well-known/void")
    assert "void#Dataset" in html
    # `/` hands programs the same description.
    r = c.get("/", headers={"Accept": "text/turtle"})  # type: ignore[attr-defined]
    assert r.status_code == 200 and r.headers["content-location"] == "/.well-known/void.ttl"


# ------------------------------------------------------------------------------------------------
# The query page
# ------------------------------------------------------------------------------------------------
def test_query_page_is_self_hosted(fx: tuple[object, graph.KnowledgeGraph, Path]) -> None:
    c, _, _ = fx
    html = get_html(c, "/query")
    page = Page(html)
    srcs = [s.get("src") for s in page.scripts if s.get("src")]
    assert srcs == ["/static/yasgui/yasgui.min.js", "/static/query.js"]  # no CDN
    assert not re.search(r'(src|href)="(https?:)?//', html.split("<main>")[0])
    block = re.search(r'<script type="application/json" id="saved-queries">(.*?)</script>', html, re.S)
    assert block and "<" not in block.group(1)
    queries = {q["name"]: q["query"] for q in json.loads(block.group(1))}
    assert queries == SAVED_QUERIES
    assert page.ids["endpoint"] == "/sparql"
    for asset, media in (("/static/yasgui/yasgui.min.js", "javascript"), ("/static/yasgui/yasgui.min.css", "text/css"),
                         ("/static/query.js", "javascript")):
        r = c.get(asset)  # type: ignore[attr-defined]
        assert r.status_code == 200 and media in r.headers["content-type"]
    vendored = REPO / "src/apsco_kg/serve/static/yasgui"
    assert c.get("/static/yasgui/yasgui.min.js").content == (vendored / "yasgui.min.js").read_bytes()  # type: ignore[attr-defined]
    sums = dict(reversed(line.split()) for line in (vendored / "SHA256SUMS").read_text().splitlines())
    assert hashlib.sha256((vendored / "yasgui.min.js").read_bytes()).hexdigest() == sums["yasgui.min.js"]
    # Permalinks: each saved query is offered as ?query=… on the page itself.
    examples = [h for h, _ in page.links if h.startswith("?query=")]
    assert len(examples) == len(SAVED_QUERIES)


def test_every_source_link_resolves(fx: tuple[object, graph.KnowledgeGraph, Path]) -> None:
    """The source column links to graph pages (also graph:inferred and graph:ontology) and citations."""
    c, _, _ = fx
    for url in ("/id/org/apsco", "/id/role/full-member", "/id/state/thailand"):
        page = Page(get_html(c, url))
        targets = {h.split("?")[0] for h in page.hrefs() if h.startswith(("/graph/", "/id/citation/"))}
        assert targets, url
        for href in targets:
            assert c.get(href, headers={"Accept": "text/html"}).status_code == 200, href  # type: ignore[attr-defined]


def test_void_without_a_build_is_made_from_the_store(tmp_path: Path) -> None:
    """A dump folder without void.ttl (an older or partial build): the server describes the dataset itself."""
    settings = fixture_settings(tmp_path)
    settings.out_dir.mkdir()
    (settings.out_dir / "apsco.nt").write_bytes(b"<https://w3id.org/apsco/id/x> <http://example.org/p> \"1\" .\n")
    kg = load_fixture(settings)
    with client(create_app(settings, kg)) as c:
        got = parse_rdf(c.get("/.well-known/void.ttl").content, "text/turtle")
    void = rdflib.Namespace("http://rdfs.org/ns/void#")
    dcat = rdflib.Namespace("http://www.w3.org/ns/dcat#")
    ds = rdflib.URIRef("https://w3id.org/apsco/dataset")
    assert (ds, rdflib.RDF.type, void.Dataset) in got and (ds, rdflib.RDF.type, dcat.Dataset) in got
    distinct = {(q.subject, q.predicate, q.object) for q in kg.store}
    assert (ds, void.triples, rdflib.Literal(len(distinct))) in got
    assert (ds, void.dataDump, rdflib.URIRef("https://w3id.org/apsco/dumps/apsco.nt")) in got
    digest = hashlib.sha256((settings.out_dir / "apsco.nt").read_bytes()).hexdigest()
    assert digest in {str(o) for _, _, o in got}


def test_stale_sha256sums_is_flagged_and_headers_follow_the_bytes(tmp_path: Path) -> None:
    settings = fixture_settings(tmp_path)
    with client(create_app(settings, load_fixture(settings))) as c:
        assert 'id="sums-stale"' not in get_html(c, "/dumps/")  # a fresh build agrees with itself
        with (settings.out_dir / "apsco.nt").open("ab") as f:
            f.write(b"<https://w3id.org/apsco/id/x> <http://example.org/p> \"tampered\" .\n")
        html = get_html(c, "/dumps/")
        assert 'id="sums-stale"' in html
        served = c.get("/dumps/apsco.nt")
        assert served.headers["etag"] == f'"sha256-{hashlib.sha256(served.content).hexdigest()}"'
        assert served.content.endswith(b'"tampered" .\n')


def test_query_page_binds_label_defaults(tmp_path: Path) -> None:
    """A saved query whose default parameter is a label (cq14: state=Thailand) reaches the query page
    with that label resolved against the served graph and bound by VALUES, not left unbound."""
    settings = fixture_settings(tmp_path)
    name = "cq14-roles-of-a-state"
    (settings.queries_dir / f"{name}.rq").write_text((REPO / "queries" / f"{name}.rq").read_text(encoding="utf-8"), encoding="utf-8")
    with client(create_app(settings, load_fixture(settings))) as c:
        html = get_html(c, "/query")
    block = re.search(r'<script type="application/json" id="saved-queries">(.*?)</script>', html, re.S)
    assert block
    text = {q["name"]: q["query"] for q in json.loads(block.group(1))}[name]
    assert f"VALUES (?state) {{ (<{ID}state/thailand>) }}" in text
