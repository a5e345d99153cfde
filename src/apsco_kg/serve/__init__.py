"""The linked-data server (issue 4): one Starlette app composed of two route sets.

* `sparql.routes(state)` — the SPARQL 1.1 Protocol endpoint, its limits, /health;
* `pages.routes(state)` — dereferenceable IRIs with content negotiation, HTML pages, the landing
  page, the query page, /dumps and /.well-known/void.

`create_app` is the contract the tests (and the query/wikidata tests' local endpoints) rely on:
`create_app(settings=None, kg=None)` returns an ASGI app serving `kg` (default: the graph built from
`settings`), with the SPARQL endpoint at `/sparql`.

The app also carries CORS for any origin without credentials (public read-only data, security-risks.md
D3), and a lifespan that starts the SPARQL query workers (serve/worker.py) and stops them on shutdown.
If no lifespan runs (a test client used without its context), the workers start on the first query and
are stopped at interpreter exit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from .. import graph
from ..settings import Settings


@dataclass
class ServerState:
    settings: Settings
    kg: graph.KnowledgeGraph
    sparql: Any = None  # the SparqlEndpoint, set by sparql.routes()

# Headers a cross-origin script may read: the truncation and rate-limit signals, negotiation results.
EXPOSED_HEADERS = ["X-SPARQL-Truncated", "X-SPARQL-MaxRows", "Retry-After", "Content-Location", "Link", "Vary",
                   "ETag", "Digest", "Repr-Digest"]


def create_app(settings: Settings | None = None, kg: graph.KnowledgeGraph | None = None) -> Starlette:
    from . import pages, sparql

    settings = settings or Settings.from_env()
    state = ServerState(settings, kg if kg is not None else graph.load(settings))
    routes = sparql.routes(state) + pages.routes(state)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await state.sparql.startup()
        try:
            yield
        finally:
            await state.sparql.shutdown()

    cors = Middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=False,
                      allow_methods=["GET", "HEAD", "POST", "OPTIONS"], allow_headers=["*"],
                      expose_headers=EXPOSED_HEADERS, max_age=86400)
    app = Starlette(routes=routes, middleware=[cors], lifespan=lifespan)
    app.state.server = state
    return app


def run(host: str = "127.0.0.1", port: int = 8000, **overrides: object) -> None:
    """Load the graph and serve it with uvicorn until interrupted (`apsco-kg serve`).

    `overrides` are Settings fields; None means "keep the default / environment value".
    """
    import uvicorn

    settings = Settings.from_env()
    changes = {k: v for k, v in overrides.items() if v is not None}
    if changes:
        settings = settings.with_(**changes)
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info", lifespan="on",
                proxy_headers=False, server_header=False)
