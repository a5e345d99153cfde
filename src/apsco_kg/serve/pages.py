"""Dereferenceable IRIs, HTML pages, the query page, /dumps/ and /.well-known/void (issue 4 §3–§5).

How an IRI is served (docs/linked-data.md):

* `/id/{kind}/{slug}`, `/graph/{…}` and `/ontology` answer **200 with Content-Location** naming
  the representation chosen (`/id/state/thailand.ttl`), `Vary: Accept` on every response, and
  `Link: rel="alternate"` headers for the other formats;
* a suffix (`.ttl .jsonld .nt .rdf .html`) fixes the representation, then `?format=`, then the
  Accept header (conneg.py); 406 with the list of what is available when nothing matches;
* ontology terms are hash IRIs (`/ontology#Membership`): the client fetches `/ontology`.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pyoxigraph as ox
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from .. import graph
from . import conneg, describe, render
from .catalogue import saved_queries
from .dumps import DumpCatalogue, read_sums
from .overview import Overview, void_triples

HERE = Path(__file__).resolve().parent
SECURITY_HEADERS = {
    # Pages embed no inline script (data blocks are not executed), so scripts can be 'self' only.
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}
# Linked data is public and read-only: any origin may read it, never with credentials (risks D3).
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "Content-Location, Link, ETag, Digest, Repr-Digest, Vary",
}
Handler = Callable[[Request], Awaitable[Response]]
# Prefixes for Turtle and RDF/XML output. `id:` and `graph:` are left out on purpose: entity IRIs
# have slashes in their local part, which Turtle must escape (id:org\/apsco); full IRIs read better.
TURTLE_PREFIXES = {k: v for k, v in graph.PREFIXES.items() if k not in ("id", "graph")}


class Site:
    """Everything the page handlers share, built once per app from the ServerState."""

    def __init__(self, state: Any):
        self.settings = state.settings
        self.kg: graph.KnowledgeGraph = state.kg
        self.store: ox.Store = self.kg.store
        self.base_iri: str = self.settings.base_iri
        self.linker = render.Linker(self.base_iri, self.settings.base_url)
        self.labels = render.Labels(self.store)
        self.sources = render.Sources(self.store)
        self.dumps = DumpCatalogue(self.settings, self.kg)
        self.overview = Overview(self.store, self.base_iri)
        # The server never writes to the store after loading, so a description, and each RDF
        # serialisation of it, can be computed once per IRI (the entity-page benchmark depends on it).
        self.describe = lru_cache(maxsize=4096)(self._describe)
        self.rdf_cached = lru_cache(maxsize=8192)(self._rdf_cached)
        self.entity_page = lru_cache(maxsize=2048)(self._entity_page)
        self.ontology_rdf = lru_cache(maxsize=8)(self._ontology_rdf)
        self.ontology_page = lru_cache(maxsize=64)(self._ontology_page)
        self.env = Environment(
            loader=FileSystemLoader(str(HERE / "templates")),
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )

    # ---- rendering --------------------------------------------------------------------------
    def html(self, template: str, request: Request, status: int = 200, **context: Any) -> Response:
        params = tuple(request.query_params.multi_items())
        lang = render.pick_lang(request.query_params.get("lang"))
        return self.html_response(self.render_page(template, request.url.path, params, **context), lang, status)

    def html_response(self, body: str, lang: str, status: int = 200) -> Response:
        headers = {**SECURITY_HEADERS, "Content-Language": "zh-Hans" if lang == "zh" else "en"}
        return Response(body, status, headers=headers, media_type="text/html; charset=utf-8")

    def render_page(self, template: str, path: str, params: tuple[tuple[str, str], ...], **context: Any) -> str:
        """A page as text. Depends only on its arguments (and the read-only store), so it can be cached."""
        query = dict(params)
        lang = render.pick_lang(query.get("lang"))
        ui = render.UI[lang]

        def lhref(href: str | None) -> str | None:
            """Keep the chosen language on links within the site."""
            if href is None or lang == "en" or not href.startswith(self.linker.base_url):
                return href
            link, hash_, frag = href.partition("#")
            return link + ("&" if "?" in link else "?") + "lang=" + lang + hash_ + frag

        def view(term: describe.Term) -> render.TermView:
            return render.term_view(term, self.labels, self.linker, lang)

        def toggle_href() -> str:
            other = {**query, "lang": render.other_lang(lang)}
            # Through the linker, so the toggle is right behind a proxy that mounts us under a path.
            return self.linker.page(path) + "?" + "&".join(f"{quote(k)}={quote(v)}" for k, v in other.items())

        return self.env.get_template(template).render(
            lang=lang, ui=ui, view=view, lhref=lhref, label=lambda iri: self.labels.get(iri, lang),
            page=self.linker.page, view_iri=self.linker.href, toggle_href=toggle_href(),
            heading=lambda sts: render.involvement_heading(sts, self.labels, lang),
            source=self.sources.get, **context,
        )

    def rdf(self, triples: list[ox.Triple], rep: conneg.Representation) -> bytes:
        assert rep.rdf_format is not None
        prefixes = TURTLE_PREFIXES if rep.rdf_format in (ox.RdfFormat.TURTLE, ox.RdfFormat.RDF_XML) else None
        body = ox.serialize(triples, format=rep.rdf_format, prefixes=prefixes)
        assert body is not None  # no output file given: pyoxigraph returns the bytes
        return body

    def _describe(self, iri: str) -> describe.Description:
        return describe.describe(self.store, ox.NamedNode(iri))

    def _rdf_cached(self, iri: str, key: str) -> bytes:
        rep = next(r for r in conneg.RDF_REPRESENTATIONS if r.key == key)
        return self.rdf(self.describe(iri).triples(), rep)

    def _entity_page(self, iri: str, prefix: str, base: str, path: str, params: tuple[tuple[str, str], ...]) -> str:
        node = ox.NamedNode(iri)
        desc = self.describe(iri)
        lang = render.pick_lang(dict(params).get("lang"))
        all_labels = self.labels.all(iri)
        if all_labels:
            title = self.labels.get(iri, lang)
        elif describe.is_involvement(self.store, node):
            title = render.involvement_heading(desc.statements, self.labels, lang)
        elif prefix == "graph/":
            title = "graph:" + base
        else:
            title = render.local_name(iri)
        held = describe.graph_statements(self.store, node, limit=1000) if prefix == "graph/" else []
        jsonld = render.script_json(self.rdf_cached(iri, conneg.JSONLD.key))
        return self.render_page("entity.html", path, params, desc=desc, iri=iri, jsonld=jsonld, title=title,
                                doc_url=self.linker.local(iri), formats=conneg.RDF_REPRESENTATIONS,
                                all_labels=all_labels, held=held,
                                wikidata=[describe.text(s.object) for s in desc.statements
                                          if s.predicate.value == WIKIDATA_ITEM])

    # ---- content negotiation -----------------------------------------------------------------
    def choose(self, request: Request, suffix_rep: conneg.Representation | None,
               offers: tuple[conneg.Representation, ...] = conneg.DOCUMENT_REPRESENTATIONS) -> conneg.Representation | None:
        if suffix_rep is not None:
            return suffix_rep
        fmt = request.query_params.get("format")
        if fmt is not None:
            return conneg.by_format_name(fmt, offers)
        return conneg.negotiate(request.headers.get("accept"), offers)

    def negotiated(self, request: Request, doc_url: str, suffix_rep: conneg.Representation | None,
                   rdf_body: Callable[[conneg.Representation], bytes], page: Callable[[], Response],
                   offers: tuple[conneg.Representation, ...] = conneg.DOCUMENT_REPRESENTATIONS,
                   html_location: str | None = None) -> Response:
        """One document in several representations: 200 + Content-Location, Vary: Accept, Link."""
        rep = self.choose(request, suffix_rep, offers)
        vary = {"Vary": "Accept", **CORS_HEADERS}
        if rep is None:
            return PlainTextResponse(conneg.not_acceptable_text(offers), 406, headers=vary)
        links = ", ".join(f'<{doc_url}{r.suffix}>; rel="alternate"; type="{r.media_type}"' for r in offers)
        location = html_location if (rep is conneg.HTML and html_location is not None) else doc_url + rep.suffix
        headers = {**vary, "Content-Location": location, "Link": links}
        if rep is conneg.HTML:
            response = page()
            response.headers.update(headers)
            return response
        return Response(rdf_body(rep), 200, headers=headers, media_type=rep.content_type)

    def not_found(self, request: Request, what: str) -> Response:
        rep = conneg.negotiate(request.headers.get("accept"))
        if rep is conneg.HTML:
            r = self.html("not_found.html", request, 404, what=what)
        else:
            r = PlainTextResponse(f"404 Not Found: nothing is known about {what}\n", 404)
        r.headers["Vary"] = "Accept"
        return r

    # ---- handlers -----------------------------------------------------------------------------
    async def entity(self, request: Request) -> Response:
        prefix = request.scope["route_prefix"]
        base, suffix_rep = conneg.split_suffix(request.path_params["path"])
        if not re.fullmatch(r"[A-Za-z0-9._~%!$&'()*+,;=:@/-]+", base):
            return self.not_found(request, prefix + base)
        try:
            iri = ox.NamedNode(self.base_iri + prefix + base)
        except ValueError:  # not a valid IRI (e.g. a stray %): nothing can be known about it
            return self.not_found(request, prefix + base)
        desc = await run_in_threadpool(self.describe, iri.value)
        # A named graph exists if it holds statements, even when graph:sources does not describe it
        # (graph:inferred, graph:ontology): the source column links to every graph.
        if not desc.exists and not (prefix == "graph/" and self.store.contains_named_graph(iri)):
            return self.not_found(request, iri.value)
        doc_url = self.linker.local(iri.value)

        def page() -> Response:
            params = tuple(request.query_params.multi_items())
            lang = render.pick_lang(request.query_params.get("lang"))
            return self.html_response(self.entity_page(iri.value, prefix, base, request.url.path, params), lang)

        def cached(rep: conneg.Representation) -> bytes:
            return self.rdf_cached(iri.value, rep.key)

        return await run_in_threadpool(self.negotiated, request, doc_url, suffix_rep, cached, page)

    async def ontology(self, request: Request) -> Response:
        rest = request.path_params.get("rest", "")
        suffix_rep = conneg.BY_SUFFIX.get(rest) if rest else None
        if rest and suffix_rep is None:
            return self.not_found(request, request.url.path)
        doc_url = self.linker.local(describe.ONTOLOGY_DOC.value)

        def page() -> Response:
            params = tuple(request.query_params.multi_items())
            lang = render.pick_lang(request.query_params.get("lang"))
            return self.html_response(self.ontology_page(request.url.path, params), lang)

        return await run_in_threadpool(self.negotiated, request, doc_url, suffix_rep,
                                       lambda rep: self.ontology_rdf(rep.key), page)

    def _ontology_rdf(self, key: str) -> bytes:
        rep = next(r for r in conneg.RDF_REPRESENTATIONS if r.key == key)
        return self.rdf(describe.ontology_triples(self.store), rep)

    def _ontology_page(self, path: str, params: tuple[tuple[str, str], ...]) -> str:
        return self.render_page("ontology.html", path, params, terms=self.overview.ontology_terms(),
                                doc_url=self.linker.local(describe.ONTOLOGY_DOC.value),
                                formats=conneg.RDF_REPRESENTATIONS, ontology_iri=describe.ONTOLOGY_DOC.value,
                                jsonld=render.script_json(self.ontology_rdf(conneg.JSONLD.key)))

    async def landing(self, request: Request) -> Response:
        dumps = await run_in_threadpool(self.dumps.list)
        void_doc = self.linker.page(".well-known/void")

        def page() -> Response:
            return self.html("landing.html", request, overview=self.overview, dumps=dumps,
                             dump_error=self.dumps.build_error, queries=saved_queries(self.settings, self.kg),
                             void_url=void_doc, human_size=render.human_size,
                             known=lambda iri: bool(self.labels.all(iri)))

        # `/` is the dataset's home: people get the landing page, programs its VoID description.
        return await run_in_threadpool(self.negotiated, request, void_doc, None, lambda rep: self.rdf(self.void(), rep),
                                       page, html_location=self.linker.page(""))

    def void(self) -> list[ox.Triple]:
        return void_triples(self.dumps, self.overview, self.linker)

    async def well_known_void(self, request: Request) -> Response:
        rest = request.path_params.get("rest", "")
        suffix_rep = conneg.BY_SUFFIX.get(rest) if rest else None
        if rest and suffix_rep is None:
            return self.not_found(request, request.url.path)
        doc_url = self.linker.page(".well-known/void")
        triples = await run_in_threadpool(self.void)

        def page() -> Response:
            statements = [describe.Statement(t.subject, t.predicate, t.object) for t in triples]
            return self.html("void.html", request, statements=statements, doc_url=doc_url,
                             formats=conneg.RDF_REPRESENTATIONS)

        return await run_in_threadpool(self.negotiated, request, doc_url, suffix_rep,
                                       lambda rep: self.rdf(triples, rep), page)

    async def query_page(self, request: Request) -> Response:
        queries = await run_in_threadpool(saved_queries, self.settings, self.kg)  # labels are looked up in kg
        return self.html("query.html", request, queries=queries, endpoint=self.linker.page("sparql"),
                         queries_json=render.script_json(_queries_json(queries)))

    async def dump_listing(self, request: Request) -> Response:
        dumps = await run_in_threadpool(self.dumps.list)
        sums = read_sums(self.dumps.folder)
        return self.html("dumps.html", request, dumps=dumps, dump_error=self.dumps.build_error,
                         human_size=render.human_size, sums_agree=all(sums.get(d.name, d.sha256) == d.sha256 for d in dumps))

    async def dump_file(self, request: Request) -> Response:
        dump = await run_in_threadpool(self.dumps.get, request.path_params["name"])
        if dump is None:
            return PlainTextResponse("404 Not Found: no such dump; see /dumps/\n", 404)
        headers = {
            "ETag": dump.etag,
            # RFC 3230 Digest (widely read) and RFC 9530 Repr-Digest (its successor) — same hash.
            "Digest": f"SHA-256={dump.digest_b64}",
            "Repr-Digest": f"sha-256=:{dump.digest_b64}:",
            "Cache-Control": "public, max-age=3600",
            **CORS_HEADERS,
        }
        if dump.etag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
            return Response(status_code=304, headers=headers)
        return FileResponse(dump.path, headers=headers, media_type=dump.media_type, filename=None)


WIKIDATA_ITEM = "https://w3id.org/apsco/ontology#wikidataItem"


def _queries_json(queries: list[dict[str, str]]) -> str:
    return json.dumps(queries, ensure_ascii=False)


def _prefixed(prefix: str, handler: Callable[[Request], Awaitable[Response]]) -> Handler:
    async def endpoint(request: Request) -> Response:
        request.scope["route_prefix"] = prefix
        return await handler(request)

    return endpoint


def routes(state: Any) -> list[BaseRoute]:
    site = Site(state)
    return [
        Route("/", site.landing, methods=["GET", "HEAD"]),
        Route("/id/{path:path}", _prefixed("id/", site.entity), methods=["GET", "HEAD"]),
        Route("/graph/{path:path}", _prefixed("graph/", site.entity), methods=["GET", "HEAD"]),
        Route("/ontology", site.ontology, methods=["GET", "HEAD"]),
        Route("/ontology{rest:path}", site.ontology, methods=["GET", "HEAD"]),
        Route("/query", site.query_page, methods=["GET", "HEAD"]),
        Route("/dumps", lambda request: RedirectResponse(site.linker.page("dumps/"), 308), methods=["GET", "HEAD"]),
        Route("/dumps/", site.dump_listing, methods=["GET", "HEAD"]),
        Route("/dumps/{name}", site.dump_file, methods=["GET", "HEAD"]),
        Route("/.well-known/void", site.well_known_void, methods=["GET", "HEAD"]),
        Route("/.well-known/void{rest:path}", site.well_known_void, methods=["GET", "HEAD"]),
        Mount("/static", app=StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
