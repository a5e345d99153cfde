"""The saved queries (queries/*.rq) as the landing and query pages list them.

`apsco_kg.queries.catalogue()` is the source of truth: a broken query header is an error there and
is not hidden here. Only if that module is missing (a partial checkout) are the .rq files read
directly: the name is the file stem, the title the first `#` comment line.
"""

from __future__ import annotations

from ..settings import Settings


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


def saved_queries(settings: Settings) -> list[dict[str, str]]:
    """[{name, title, description, query}] in a stable order (by name)."""
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
        {"name": q.name, "title": q.title or q.name, "description": q.description, "query": _runnable(q)}
        for q in items
    ]


def _runnable(q: object) -> str:
    """The text the query page runs: the saved query with its default parameters bound by VALUES and
    the project prefixes it uses declared (queries.py's own functions, as `apsco-kg query --endpoint`
    sends it), so a saved query gives rows at /sparql as it is. Falls back to the file's text."""
    from .. import queries

    assert isinstance(q, queries.SavedQuery)
    try:
        return queries.with_prefixes(queries.with_values(q.text, queries.bind(q, None, None)))
    except (queries.QueryError, ValueError, TypeError):
        return queries.with_prefixes(q.text)
