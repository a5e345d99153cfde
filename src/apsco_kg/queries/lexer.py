"""Lexical scanning of SPARQL text, and the checks made on a query before any engine sees it.

The scanner finds the query form, the prefixes a query declares and uses, its nesting depth and the
brace that opens its WHERE clause, without being fooled by strings, IRIs or comments. It is not a
parser (pyoxigraph or the endpoint parses); it exists so that parameters can be bound by VALUES,
missing prefixes declared, comments stripped for SPARQLWrapper, and updates, SERVICE and
over-nested text refused up front.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..settings import Settings
from .errors import QueryError

if TYPE_CHECKING:
    from .saved import SavedQuery


_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>\#[^\n]*)
  | (?P<string>\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'''(?:[^'\\]|\\.|'(?!''))*'''
               |"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<var>[?$][\w\u00b7\u0300-\u036f\u203f-\u2040]+)
  | (?P<word>(?:[^\W\d][\w\-.]*)?:(?:[\w\-:%]|\\.|\.(?=[\w\-:%]))*|[^\W\d][\w\-]*)
  | (?P<open>[{(\[])
  | (?P<close>[})\]])
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)

_QUERY_FORMS = {"SELECT": "select", "ASK": "ask", "CONSTRUCT": "graph", "DESCRIBE": "graph"}
_UPDATE_WORDS = {"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH"}


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    start: int
    end: int


def _tokens(text: str) -> Iterator[_Token]:
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup or "other"
        if kind not in ("ws", "comment"):
            yield _Token(kind, m.group(), m.start(), m.end())


def strip_comments(text: str) -> str:
    """The text without its comments, newlines kept (so line numbers are unchanged). SPARQLWrapper
    guesses the query form with a regex that misses every other line of a comment block, so a word
    like "adds" in a header would make it send the query as an update; it only ever sees this."""
    return "".join(m.group() for m in _TOKEN.finditer(text) if m.lastgroup != "comment")


@dataclass(frozen=True)
class Shape:
    """What the scanner learnt about a query's text."""

    form: str  # SELECT, ASK, CONSTRUCT, DESCRIBE, an update keyword, or "" if none was found
    declared_prefixes: frozenset[str]
    used_prefixes: frozenset[str]
    max_depth: int
    uses_service: bool
    where_open: int | None  # offset just after the '{' that opens the outermost WHERE group


def scan(text: str) -> Shape:
    """The query form, the prefixes declared and used, the nesting depth and the WHERE brace of `text`."""
    toks = list(_tokens(text))
    form = ""
    declared: set[str] = set()
    used: set[str] = set()
    depth = max_depth = 0
    service = False
    form_index: int | None = None
    for i, t in enumerate(toks):
        if t.kind == "open":
            depth += 1
            max_depth = max(max_depth, depth)
        elif t.kind == "close":
            depth -= 1
        elif t.kind == "word":
            up = t.text.upper()
            if ":" in t.text:
                prefix = t.text.split(":", 1)[0]
                if i > 0 and toks[i - 1].kind == "word" and toks[i - 1].text.upper() == "PREFIX":
                    declared.add(prefix)
                else:
                    used.add(prefix)
            elif up == "SERVICE":
                service = True
            elif not form and depth == 0 and (up in _QUERY_FORMS or up in _UPDATE_WORDS):
                form, form_index = up, i
    return Shape(form, frozenset(declared), frozenset(used), max_depth, service, _where_open(toks, form, form_index))


def _where_open(toks: list[_Token], form: str, index: int | None) -> int | None:
    """Offset just after the '{' of the outermost WHERE group, or None (CONSTRUCT WHERE short form,
    DESCRIBE without WHERE): there the VALUES block goes after the query instead."""
    if index is None or form not in _QUERY_FORMS:
        return None
    rest = toks[index + 1:]
    if form == "CONSTRUCT":
        if rest and rest[0].kind == "word" and rest[0].text.upper() == "WHERE":
            return None
        depth, skipped = 0, False  # skip the template { … }
        for j, t in enumerate(rest):
            if t.kind == "open" and t.text == "{":
                depth += 1
            elif t.kind == "close" and t.text == "}":
                depth -= 1
                if depth == 0:
                    rest, skipped = rest[j + 1:], True
                    break
        if not skipped:
            return None
    for t in rest:
        if t.kind == "open" and t.text == "{":
            return t.end
    return None


def _declared_prefix_map(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    toks = list(_tokens(text))
    for i in range(len(toks) - 2):
        if toks[i].kind == "word" and toks[i].text.upper() == "PREFIX" and toks[i + 2].kind == "iri":
            found[toks[i + 1].text.split(":", 1)[0]] = toks[i + 2].text[1:-1]
    return found


def check_text(query: SavedQuery, settings: Settings, *, local: bool) -> Shape:
    """Refuse, before any engine sees it, what this tool never runs: updates, over-long or
    over-nested text (pyoxigraph's parser overflows its stack on deep nesting), and — locally —
    SERVICE, which would make the local engine fetch from the network."""
    source = str(query.path) if query.path else query.name
    if len(query.text) > settings.max_query_chars:
        raise QueryError(f"{source}: the query is {len(query.text):,} characters, above the limit of {settings.max_query_chars:,}")
    shape = scan(query.text)
    if shape.max_depth > settings.max_query_depth:
        raise QueryError(f"{source}: the query nests brackets {shape.max_depth} deep, above the limit of {settings.max_query_depth}")
    if shape.form in _UPDATE_WORDS:
        raise QueryError(f"{source}: {shape.form} is a SPARQL update; this tool only runs queries (SELECT, ASK, CONSTRUCT, DESCRIBE)")
    if local and shape.uses_service:
        raise QueryError(f"{source}: SERVICE (federated query) is not run against the local graph; run it with --endpoint on an endpoint that federates")
    return shape
