"""Content negotiation and HTML pages (placeholder; being written)."""

from __future__ import annotations

from starlette.routing import BaseRoute


def routes(state: object) -> list[BaseRoute]:
    return []
