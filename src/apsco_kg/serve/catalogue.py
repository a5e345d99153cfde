"""The saved queries (queries/*.rq) as the landing and query pages list them.

`apsco_kg.queries.catalogue()` is the source of truth: a broken query header is an error there and
is not hidden here. Only if that module is missing (a partial checkout) are the .rq files read
directly: the name is the file stem, the title the first `#` comment line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..settings import Settings

if TYPE_CHECKING:
    from .. import graph


def _from_files(settings: Settings) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    folder = settings.queries_dir
    if not folder.is_dir():
        return out
    for path in sorted(folder.glob("*.rq")):
        text = path.read_text(encoding="utf-8")
        comments = [ln.lstrip("#+").strip() for ln in text.splitlines() if ln.startswith("#") and ln.lstrip("#+").strip()]
        titles = [c.split(":", 1)[1].strip() for c in comments if c.lower().startswith("title:")]
        title = titles[0] if titles else comments[0] if comments else path.stem
        out.append({"name": path.stem, "title": title, "description": "", "query": text})
    return out


def saved_queries(settings: Settings, kg: graph.KnowledgeGraph | None = None) -> list[dict[str, str]]:
    """[{name, title, description, query}] in a stable order (by name). With `kg`, a default
    parameter given as a label (state=Thailand) is resolved against it and bound too."""
    try:
        from .. import queries
    except ImportError:
        return _from_files(settings)
    try:
        items = queries.catalogue(settings)
    except queries.QueryError:
        # `apsco-kg query` and the tests report the broken header; the pages still list every file.
        return _from_files(settings)
    return [
        {"name": q.name, "title": q.title or q.name, "description": q.description, "query": _runnable(q, kg)}
        for q in items
    ]


def _runnable(q: object, kg: graph.KnowledgeGraph | None = None) -> str:
    """The text the query page runs: the saved query with its default parameters bound by VALUES and
    the project prefixes it uses declared (apsco_kg.queries' own functions, as `apsco-kg query
    --endpoint` sends it), so a saved query gives rows at /sparql as it is. Label defaults are
    resolved against `kg` when it is given. Falls back to the file's text."""
    from .. import queries

    assert isinstance(q, queries.SavedQuery)
    try:
        resolve = queries.label_resolver(kg) if kg is not None else None
        return queries.with_prefixes(queries.with_values(q.text, queries.bind(q, None, resolve)))
    except (queries.QueryError, ValueError, TypeError):
        return queries.with_prefixes(q.text)
