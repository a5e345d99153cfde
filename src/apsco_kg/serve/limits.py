"""Checks on untrusted query text that run BEFORE any SPARQL parser sees it, and per-client limits.

Why lexical: pyoxigraph's parser and evaluator recurse on nesting and crash the whole process with a
Rust stack overflow (security-risks.md §0.1) — a crash cannot be caught, so the only safe place to
refuse a deep query is before the parser. The scanner below understands just enough of the SPARQL
grammar (strings, IRIs, comments, words) to count brackets that really nest and to find keywords.
It is linear in the length of the text and never recurses.

It is a first guard, not a replica of the parser: `<` is both the IRI opener and less-than, and a
crafted query can make a lexer and a PEG parser disagree about where strings begin. The guarantee
that does not depend on the scan is in worker.py: queries are evaluated on a 1 GiB stack, on which
any nesting that fits in max_query_chars (100 000 levels, tested) is harmless, and even a crash would
only cost a worker process, never the server.
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from .errors import ProtocolError

OPEN = "([{"
CLOSE = ")]}"
# An IRIREF per the SPARQL grammar; '<' that does not start one is the less-than operator.
_IRIREF = re.compile(r'<[^<>"{}|^`\\\x00-\x20]*>')
# A "word": keywords, prefixed names, variables, blank-node labels, numbers. ':' is included so a
# prefixed name such as `service:x` is one word and never mistaken for the SERVICE keyword.
_WORD = re.compile(r"[?$]?[A-Za-z0-9_\-.:%\\\u00b7\u00c0-\uffff]+")
_LONG_QUOTES = ('"""', "'''")

QUERY_FORMS = frozenset({"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"})
UPDATE_OPERATIONS = frozenset({"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH"})
WATCHED = QUERY_FORMS | UPDATE_OPERATIONS | {"SERVICE", "FROM"}


@dataclass
class QueryScan:
    """What the lexical scan learnt about a query text."""

    max_depth: int = 0
    depth_at: tuple[int, int] | None = None  # (line, column) where max_depth was first exceeded
    form: str | None = None  # first query form or update keyword met, upper-case
    keywords: set[str] = field(default_factory=set)  # watched keywords seen anywhere


def _line_col(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _skip_string(text: str, i: int) -> int:
    """Index just after the string literal starting at i (unterminated: end of text)."""
    for quote in _LONG_QUOTES:
        if text.startswith(quote, i):
            j = i + 3
            while True:
                k = text.find(quote, j)
                if k < 0:
                    return len(text)
                # A quote preceded by an odd number of backslashes is escaped.
                backslashes = 0
                while k - 1 - backslashes >= i + 3 and text[k - 1 - backslashes] == "\\":
                    backslashes += 1
                if backslashes % 2 == 0:
                    return k + 3
                j = k + 1
    quote = text[i]
    j = i + 1
    n = len(text)
    while j < n:
        c = text[j]
        if c == "\\":
            j += 2
            continue
        if c == quote or c == "\n":
            return j + 1
        j += 1
    return n


def _bracket_profile(text: str, start: int, end: int) -> tuple[int, int]:
    """Peak and net nesting of the brackets in text[start:end] (0 and 0 for almost every IRI)."""
    peak = net = 0
    for k in range(start, end):
        ch = text[k]
        if ch in OPEN:
            net += 1
            peak = max(peak, net)
        elif ch in CLOSE:
            net -= 1
    return peak, net


def scan(text: str, depth_limit: int | None = None) -> QueryScan:
    """Count lexical nesting of ( [ { outside strings, IRIs and comments; note the keywords used.

    Stops counting once depth_limit is exceeded (the caller refuses the query anyway).
    """
    result = QueryScan()
    depth = 0
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c in OPEN:
            depth += 1
            if depth > result.max_depth:
                result.max_depth = depth
                if depth_limit is not None and depth > depth_limit:
                    result.depth_at = _line_col(text, i)
                    return result
            i += 1
        elif c in CLOSE:
            depth = max(0, depth - 1)
            i += 1
        elif c == "#":
            k = text.find("\n", i)
            i = n if k < 0 else k + 1
        elif c == '"' or c == "'":
            i = _skip_string(text, i)
        elif c == "<":
            m = _IRIREF.match(text, i)
            if m is None:
                i += 1
                continue
            # `<…>` is an IRI to a tokenizer, but a PEG parser in expression context may read `<` as
            # less-than and the brackets inside as nesting. Count the worse of the two readings.
            peak, net = _bracket_profile(text, i + 1, m.end() - 1)
            if depth + peak > result.max_depth:
                result.max_depth = depth + peak
                if depth_limit is not None and result.max_depth > depth_limit:
                    result.depth_at = _line_col(text, i)
                    return result
            depth += max(0, net)
            i = m.end()
        else:
            m = _WORD.match(text, i)
            if m is None:
                i += 1
                continue
            word = m.group(0).upper()
            if word in WATCHED:
                result.keywords.add(word)
                if result.form is None and word in QUERY_FORMS | UPDATE_OPERATIONS:
                    result.form = word
            i = m.end()
    return result


def check_query_text(text: str, max_chars: int, max_depth: int) -> QueryScan:
    """Refuse (ProtocolError 400) what must never reach the parser; return the scan otherwise."""
    if len(text) > max_chars:
        raise ProtocolError(400, "query_too_long",
                            f"the query is {len(text):,} characters long; this endpoint accepts at most {max_chars:,}")
    result = scan(text, depth_limit=max_depth)
    if result.depth_at is not None:
        line, col = result.depth_at
        raise ProtocolError(400, "query_too_deep",
                            f"brackets, braces and parentheses nest more than {max_depth} deep; "
                            "flatten the query", line, col)
    if result.form in UPDATE_OPERATIONS:
        raise ProtocolError(400, "update_refused",
                            f"{result.form} is a SPARQL Update operation; this endpoint is read-only and "
                            "answers queries (SELECT, ASK, CONSTRUCT, DESCRIBE) only")
    if "SERVICE" in result.keywords:
        raise ProtocolError(400, "service_refused",
                            "SERVICE (federated query) is refused: this endpoint never contacts other servers")
    return result


class ClientLimiter:
    """At most `per_client` queries of one client execute at once; more wait briefly, then get 429.

    Cheap queries free their slot in milliseconds, so a client with many connections (a benchmark, a
    page with several widgets) is queued and served. A client whose slots are held by expensive
    queries makes its next request wait `wait_s` and then answers 429 with Retry-After — while other
    clients, who have their own slots, are still served.
    """

    def __init__(self, per_client: int, wait_s: float, timeout_s: float, max_waiting: int = 64) -> None:
        self.per_client = max(1, per_client)
        self.wait_s = wait_s
        self.timeout_s = timeout_s
        self.max_waiting = max_waiting
        self._slots: dict[str, asyncio.Semaphore] = {}
        self._started: dict[str, list[float]] = {}
        self._waiting: dict[str, int] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    def _retry_after(self, key: str) -> int:
        started = self._started.get(key) or [time.monotonic()]
        remaining = self.timeout_s - (time.monotonic() - min(started))
        return max(1, math.ceil(remaining))

    def _refuse(self, key: str) -> ProtocolError:
        retry = self._retry_after(key)
        return ProtocolError(429, "too_many_requests",
                             f"this client already has {self.per_client} queries running; "
                             f"retry after {retry} s", headers={"Retry-After": str(retry)})

    @asynccontextmanager
    async def slot(self, key: str) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            # Semaphores belong to one event loop; a new loop (test client without lifespan) starts afresh.
            self._loop = loop
            self._slots.clear()
            self._started.clear()
            self._waiting.clear()
        sem = self._slots.setdefault(key, asyncio.Semaphore(self.per_client))
        if self._waiting.get(key, 0) >= self.max_waiting:
            raise self._refuse(key)
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            await asyncio.wait_for(sem.acquire(), timeout=self.wait_s)
        except TimeoutError:
            raise self._refuse(key) from None
        finally:
            self._waiting[key] -= 1
        start = time.monotonic()
        self._started.setdefault(key, []).append(start)
        try:
            yield
        finally:
            self._started[key].remove(start)
            sem.release()
            # Forget idle clients so the tables do not grow with every address ever seen.
            if not self._started[key] and not self._waiting.get(key):
                self._started.pop(key, None)
                self._waiting.pop(key, None)
                if sem._value == self.per_client:  # no waiter holds a reference to this semaphore
                    self._slots.pop(key, None)
