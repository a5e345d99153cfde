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
        self.env = Environment(
            loader=FileSystemLoader(str(HERE / "templates")),
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )

    # ---- rendering --------------------------------------------------------------------------
    def html(self, template: str, request: Request, status: int = 200, **context: Any) -> Response:
        lang = render.pick_lang(request.query_params.get("lang"))
        ui = render.UI[lang]

        def lhref(href: str | None) -> str | None:
            """Keep the chosen language on links within the site."""
            if href is None or lang == "en" or not href.startswith(self.linker.base_url):
                return href
            path, hash_, frag = href.partition("#")
            return path + ("&" if "?" in path else "?") + "lang=" + lang + hash_ + frag

        def view(term: describe.Term) -> render.TermView:
            return render.term_view(term, self.labels, self.linker, lang)

        def toggle_href() -> str:
            params = dict(request.query_params)
            params["lang"] = render.other_lang(lang)
            # Through the linker, so the toggle is right behind a proxy that mounts us under a path.
            return self.linker.page(request.url.path) + "?" + "&".join(f"{quote(k)}={quote(v)}" for k, v in params.items())

        body = self.env.get_template(template).render(
            lang=lang, ui=ui, view=view, lhref=lhref, label=lambda iri: self.labels.get(iri, lang),
            page=self.linker.page, view_iri=self.linker.href, toggle_href=toggle_href(),
            heading=lambda sts: render.involvement_heading(sts, self.labels, lang),
            source=self.sources.get, **context,
        )
        headers = {**SECURITY_HEADERS, "Content-Language": "zh-Hans" if lang == "zh" else "en"}
        return Response(body, status, headers=headers, media_type="text/html; charset=utf-8")

    def rdf(self, triples: list[ox.Triple], rep: conneg.Representation) -> bytes:
        assert rep.rdf_format is not None
        prefixes = TURTLE_PREFIXES if rep.rdf_format in (ox.RdfFormat.TURTLE, ox.RdfFormat.RDF_XML) else None
        body = ox.serialize(triples, format=rep.rdf_format, prefixes=prefixes)
        assert body is not None  # no output file given: pyoxigraph returns the bytes
        return body

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
                   triples: Callable[[], list[ox.Triple]], page: Callable[[], Response],
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
        body = self.rdf(triples(), rep)
        return Response(body, 200, headers=headers, media_type=rep.content_type)

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
        iri = ox.NamedNode(self.base_iri + prefix + base)
        desc = await run_in_threadpool(describe.describe, self.store, iri)
        # A named graph exists if it holds statements, even when graph:sources does not describe it
        # (graph:inferred, graph:ontology): the source column links to every graph.
        if not desc.exists and not (prefix == "graph/" and self.store.contains_named_graph(iri)):
            return self.not_found(request, iri.value)
        doc_url = self.linker.local(iri.value)

        def page() -> Response:
            lang = render.pick_lang(request.query_params.get("lang"))
            all_labels = self.labels.all(iri.value)
            if all_labels:
                title = self.labels.get(iri.value, lang)
            elif describe.is_involvement(self.store, iri):
                title = render.involvement_heading(desc.statements, self.labels, lang)
            elif prefix == "graph/":
                title = "graph:" + base
            else:
                title = render.local_name(iri.value)
            held = describe.graph_statements(self.store, iri, limit=1000) if prefix == "graph/" else []
            jsonld = render.script_json(self.rdf(desc.triples(), conneg.JSONLD))
            return self.html("entity.html", request, desc=desc, iri=iri.value, jsonld=jsonld, title=title,
                             doc_url=doc_url, formats=conneg.RDF_REPRESENTATIONS, all_labels=all_labels,
                             held=held, wikidata=[describe.text(s.object) for s in desc.statements
                                                  if s.predicate.value == WIKIDATA_ITEM])

        return self.negotiated(request, doc_url, suffix_rep, desc.triples, page)

    async def ontology(self, request: Request) -> Response:
        rest = request.path_params.get("rest", "")
        suffix_rep = conneg.BY_SUFFIX.get(rest) if rest else None
        if rest and suffix_rep is None:
            return self.not_found(request, request.url.path)
        doc_url = self.linker.local(describe.ONTOLOGY_DOC.value)
        triples = describe.ontology_triples(self.store)

        def page() -> Response:
            return self.html("ontology.html", request, terms=self.overview.ontology_terms(), doc_url=doc_url,
                             formats=conneg.RDF_REPRESENTATIONS, ontology_iri=describe.ONTOLOGY_DOC.value,
                             jsonld=render.script_json(self.rdf(triples, conneg.JSONLD)))

        return self.negotiated(request, doc_url, suffix_rep, lambda: triples, page)

    async def landing(self, request: Request) -> Response:
        dumps = await run_in_threadpool(self.dumps.list)
        void_doc = self.linker.page(".well-known/void")

        def page() -> Response:
            return self.html("landing.html", request, overview=self.overview, dumps=dumps,
                             dump_error=self.dumps.build_error, queries=saved_queries(self.settings),
                             void_url=void_doc, human_size=render.human_size,
                             known=lambda iri: bool(self.labels.all(iri)))

        # `/` is the dataset's home: people get the landing page, programs its VoID description.
        return self.negotiated(request, void_doc, None, lambda: self.void(), page, html_location=self.linker.page(""))

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

        return self.negotiated(request, doc_url, suffix_rep, lambda: triples, page)

    async def query_page(self, request: Request) -> Response:
        queries = saved_queries(self.settings)
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
