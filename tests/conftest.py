"""Shared fixtures. Servers bind to 127.0.0.1 on a free port and are stopped when the test ends."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from apsco_kg import graph
from apsco_kg.settings import Settings

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings()


@pytest.fixture(scope="session")
def kg(settings: Settings) -> graph.KnowledgeGraph:
    """The real graph, loaded once per test session (ontology + data/ + inferred closure)."""
    return graph.load(settings)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve_app(app: object, **options: Any) -> Iterator[str]:
    """Run an ASGI app with uvicorn on 127.0.0.1 in a thread; yield its base URL; stop it after.

    `options` go to uvicorn.Config (e.g. proxy_headers=False, as `apsco-kg serve` runs)."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on",
                                           **options))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture(scope="session")
def app_server() -> Callable[[object], "contextmanager[str]"]:
    """Factory: `with app_server(app) as base_url:` runs any ASGI app on loopback for a test."""
    return serve_app
