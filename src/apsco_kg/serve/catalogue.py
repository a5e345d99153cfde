"""The saved queries (queries/*.rq) as the landing and query pages list them.

`apsco_kg.queries.catalogue()` (written with the query CLI) is the source of truth when it exists;
until then, or if it fails, the .rq files are read directly: the name is the file stem, the title
the first `#` comment line.
"""

from __future__ import annotations

from typing import Any

from ..settings import Settings


def _from_files(settings: Settings) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    folder = settings.queries_dir
    if not folder.is_dir():
        return out
    for path in sorted(folder.glob("*.rq")):
        text = path.read_text(encoding="utf-8")
        comments = [ln.lstrip("#").strip() for ln in text.splitlines() if ln.startswith("#") and ln.lstrip("#").strip()]
        out.append({"name": path.stem, "title": comments[0] if comments else path.stem, "query": text})
    return out


def _field(item: Any, *names: str) -> str | None:
    for name in names:
        value = item.get(name) if isinstance(item, dict) else getattr(item, name, None)
        if isinstance(value, str) and value:
            return value
    return None


def saved_queries(settings: Settings) -> list[dict[str, str]]:
    """[{name, title, query}] in a stable order."""
    try:
        from .. import queries  # type: ignore[attr-defined]

        items = queries.catalogue()
        if isinstance(items, dict):
            items = list(items.values())
        out: list[dict[str, str]] = []
        for item in items:
            name = _field(item, "name", "slug", "id")
            text = _field(item, "query", "text", "sparql")
            if name is None or text is None:
                continue
            out.append({"name": name, "title": _field(item, "title", "description", "label") or name, "query": text})
        if out:
            return out
    except Exception:  # the catalogue is optional for the pages; fall back to the files
        pass
    return _from_files(settings)
