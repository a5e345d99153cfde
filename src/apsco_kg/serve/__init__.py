"""The linked-data server (issue 4): one Starlette app composed of two route sets.

* `sparql.routes(state)` — the SPARQL 1.1 Protocol endpoint, its limits, /health;
* `pages.routes(state)` — dereferenceable IRIs with content negotiation, HTML pages, the landing
  page, the query page, /dumps and /.well-known/void.

`create_app` is the contract the tests (and the query/wikidata tests' local endpoints) rely on:
`create_app(settings=None, kg=None)` returns an ASGI app serving `kg` (default: the graph built from
`settings`), with the SPARQL endpoint at `/sparql`.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.applications import Starlette

from .. import graph
from ..settings import Settings


@dataclass
class ServerState:
    settings: Settings
    kg: graph.KnowledgeGraph


def create_app(settings: Settings | None = None, kg: graph.KnowledgeGraph | None = None) -> Starlette:
    from . import pages, sparql

    settings = settings or Settings.from_env()
    state = ServerState(settings, kg if kg is not None else graph.load(settings))
    return Starlette(routes=sparql.routes(state) + pages.routes(state))
