"""The SPARQL 1.1 Protocol endpoint at /sparql, and /health (issue 4 §1, §2).

Request path, in order — every refusal happens before the query reaches an engine:
method (405) → body size while streaming (413) → media type and charset (415) → parameters
(update: 403, duplicates: 400) → text length and lexical nesting depth, update keywords, SERVICE
(400, limits.py) → Accept / ?format= (406) → per-client slot (429) → an idle worker (503 if none)
→ the query runs in a killable worker process under the wall-clock limit (503 on timeout).
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

import pyoxigraph as ox
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from .. import graph
from ..settings import Settings
from . import media, service_description
from .errors import ProtocolError, error_response
from .limits import ClientLimiter, check_query_text
from .worker import WorkerCrashed, WorkerPool, WorkerTimeout

if TYPE_CHECKING:
    from . import ServerState

log = logging.getLogger(__name__)
ALLOW = "GET, HEAD, POST, OPTIONS"
FORM = "application/x-www-form-urlencoded"
SPARQL_QUERY = "application/sparql-query"
SPARQL_UPDATE = "application/sparql-update"


@dataclass
class QueryRequest:
    text: str
    default_graphs: list[str] | None
    named_graphs: list[str] | None
    format_param: str | None


def client_key(request: Request, trust_forwarded_for: bool) -> str:
    """Who is asking, for the per-client limit. X-Forwarded-For only when a trusted proxy sets it:
    its last entry is the address that proxy saw (earlier entries are whatever the client claimed)."""
    if trust_forwarded_for:
        forwarded = request.headers.get("x-forwarded-for", "")
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        if hops:
            return hops[-1]
    return request.client.host if request.client else "unknown"


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it passes `limit` — never read whole first."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise ProtocolError(413, "body_too_large", f"the request body is {int(declared):,} bytes; the limit is {limit:,}")
        except ValueError:
            raise ProtocolError(400, "bad_request", "Content-Length is not a number") from None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ProtocolError(413, "body_too_large", f"the request body exceeds the limit of {limit:,} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _parse_params(raw: bytes | str, what: str) -> list[tuple[str, str]]:
    try:
        return parse_qsl(raw.decode("utf-8", "strict") if isinstance(raw, bytes) else raw,
                         keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise ProtocolError(400, "bad_encoding", f"the {what} is not UTF-8 (percent-encoded UTF-8 is required)") from None


def _media_type(request: Request) -> tuple[str, dict[str, str]]:
    raw = request.headers.get("content-type", "")
    parts = [p.strip() for p in raw.split(";")]
    params: dict[str, str] = {}
    for p in parts[1:]:
        name, _, value = p.partition("=")
        params[name.strip().lower()] = value.strip().strip('"').lower()
    return parts[0].lower(), params


def _require_utf8(params: dict[str, str]) -> None:
    charset = params.get("charset")
    if charset is not None and charset not in ("utf-8", "utf8"):
        raise ProtocolError(415, "unsupported_charset", f"charset={charset} is not supported; send UTF-8")


def _refuse_update() -> ProtocolError:
    return ProtocolError(403, "update_refused",
                         "this endpoint is read-only: SPARQL Update is not accepted (no update parameter, "
                         "no application/sparql-update)")


async def parse_request(request: Request, max_body: int) -> QueryRequest | None:
    """The query and dataset of a protocol request; None for GET without a query (→ service description)."""
    url_params = _parse_params(request.scope.get("query_string", b""), "query string")
    if request.method in ("GET", "HEAD"):
        params = url_params
    else:
        mtype, mparams = _media_type(request)
        if mtype == SPARQL_UPDATE:
            raise _refuse_update()
        if mtype not in (FORM, SPARQL_QUERY):
            raise ProtocolError(415, "unsupported_media_type",
                                f"POST needs Content-Type {FORM} or {SPARQL_QUERY}, not {mtype or '(none)'}")
        _require_utf8(mparams)
        body = await read_body(request, max_body)
        if mtype == FORM:
            params = url_params + _parse_params(body, "form body")
        else:
            try:
                text = body.decode("utf-8", "strict")
            except UnicodeDecodeError:
                raise ProtocolError(400, "bad_encoding", "the query is not UTF-8") from None
            if any(k in ("query", "update") for k, _ in url_params):
                raise ProtocolError(400, "bad_request", "a direct POST carries the query in its body, not in query=")
            params = url_params + [("query", text)]
    names = [k for k, _ in params]
    if "update" in names or "using-graph-uri" in names or "using-named-graph-uri" in names:
        raise _refuse_update()
    queries = [v for k, v in params if k == "query"]
    if len(queries) > 1:
        raise ProtocolError(400, "multiple_queries", "exactly one query parameter is allowed")
    if not queries:
        if request.method in ("GET", "HEAD"):
            return None
        raise ProtocolError(400, "missing_query", "no query: send query=… (form) or the query as the body")
    formats = [v for k, v in params if k == "format"]
    default = [v for k, v in params if k == "default-graph-uri"]
    named = [v for k, v in params if k == "named-graph-uri"]
    dataset_given = bool(default or named)
    return QueryRequest(queries[0], default if dataset_given else None, named if dataset_given else None,
                        formats[0] if formats else None)


class SparqlEndpoint:
    def __init__(self, state: ServerState) -> None:
        self.state = state
        s = state.settings
        self.pool: WorkerPool | None = None
        self.limiter = ClientLimiter(s.max_concurrent_per_client, s.client_wait_s, s.query_timeout_s)

    @property
    def settings(self) -> Settings:
        return self.state.settings

    def ensure_pool(self) -> WorkerPool:
        if self.pool is None:
            nquads = self.state.kg.store.dump(format=ox.RdfFormat.N_QUADS) or b""
            self.pool = WorkerPool(nquads, max(1, self.settings.sparql_workers))
            atexit.register(self.pool.close_sync)  # in case no lifespan shutdown runs
        return self.pool

    async def startup(self) -> None:
        await self.ensure_pool().start()

    async def shutdown(self) -> None:
        if self.pool is not None:
            await self.pool.close()
            atexit.unregister(self.pool.close_sync)
            self.pool = None

    async def handle(self, request: Request) -> Response:
        try:
            if request.method == "OPTIONS":
                return Response(status_code=204, headers={"Allow": ALLOW})
            if request.method not in ("GET", "HEAD", "POST"):
                raise ProtocolError(405, "method_not_allowed", f"{request.method} is not allowed; use GET or POST",
                                    headers={"Allow": ALLOW})
            query = await parse_request(request, self.settings.max_body_bytes)
            if query is None:
                return service_description.response(request, self.state)
            return await self.run(request, query)
        except ProtocolError as err:
            return error_response(err)
        except Exception:
            # A real fault of ours: logged with its traceback here, answered without one.
            log.exception("SPARQL request failed")
            return error_response(ProtocolError(500, "internal_error", "the server failed to answer this request"))

    async def run(self, request: Request, query: QueryRequest) -> Response:
        s = self.settings
        check_query_text(query.text, s.max_query_chars, s.max_query_depth)
        choice = media.choose(request.headers.get("accept"), query.format_param)
        job = {
            "query": query.text,
            "results": choice.results, "boolean": choice.boolean, "graph": choice.graph,
            "default_graphs": query.default_graphs, "named_graphs": query.named_graphs,
            "row_cap": s.row_cap,
            "prefixes": graph.PREFIXES,
            "base_iri": str(request.url.replace(query="", fragment="")),
        }
        pool = self.ensure_pool()
        async with self.limiter.slot(client_key(request, s.trust_forwarded_for)):
            try:
                reply = await pool.execute(job, s.query_timeout_s, acquire_timeout=s.query_timeout_s)
            except WorkerTimeout:
                raise ProtocolError(503, "query_timeout",
                                    f"the query ran longer than the limit of {s.query_timeout_s:g} s and was stopped; "
                                    "narrow it (LIMIT, more specific patterns)") from None
            except WorkerCrashed:
                raise ProtocolError(500, "engine_failure",
                                    "the query engine process failed on this query; it has been restarted") from None
            except asyncio.TimeoutError:
                raise ProtocolError(503, "busy", "all query workers are busy; retry shortly",
                                    headers={"Retry-After": "5"}) from None
        if reply[0] == "error":
            _, status, type_, message, line, column = reply
            if type_ == "not_acceptable":
                raise media.not_acceptable(message)
            raise ProtocolError(status, type_, message, line, column)
        _, _kind, fmt, body, truncated, _count = reply
        headers = {
            "Vary": "Accept",
            "X-SPARQL-MaxRows": str(s.row_cap),
            "X-SPARQL-Truncated": "true" if truncated else "false",
        }
        return Response(body, media_type=media.BY_KEY[fmt].media_type, headers=headers)

    async def health(self, request: Request) -> Response:
        pool = self.pool
        workers: dict[str, object] = {"configured": self.settings.sparql_workers, "running": 0, "pids": [],
                                      "idle": 0, "killed_on_timeout": 0, "crashed": 0}
        if pool is not None:
            workers.update(running=len(pool.pids), pids=sorted(pool.pids), idle=pool.idle_count,
                           killed_on_timeout=pool.stats.killed_on_timeout, crashed=pool.stats.crashed)
        return JSONResponse({"status": "ok", "pid": os.getpid(), "triples": len(self.state.kg), "workers": workers},
                            headers={"Cache-Control": "no-store"})


def routes(state: ServerState) -> list[BaseRoute]:
    endpoint = SparqlEndpoint(state)
    state.sparql = endpoint  # the app's lifespan starts and stops its workers
    methods = ["GET", "HEAD", "POST", "OPTIONS", "PUT", "DELETE", "PATCH"]
    return [
        Route("/sparql", endpoint.handle, methods=methods),
        Route("/sparql/", endpoint.handle, methods=methods),
        Route("/health", endpoint.health, methods=["GET", "HEAD"]),
    ]
