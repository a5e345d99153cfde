"""The errors a saved query can end in, in one place so every module (and the CLI, the tests and
notebooks, through `apsco_kg.queries`) catches the same classes.

Each carries the CLI exit code: 2 = the user's input is wrong, 1 = the endpoint failed. The message
is always one line: the CLI prints it as is and a traceback is never the answer.
"""

from __future__ import annotations

import re


class QueryError(Exception):
    exit_code = 2

    def __init__(self, message: str):
        # One line, always: the CLI prints it as is and a traceback is never the answer.
        super().__init__(" ".join(message.split()))


class HeaderError(QueryError):
    """A saved query whose `#+` header cannot be read."""


class UnknownQuery(QueryError):
    """No saved query of that name."""


class ParameterError(QueryError):
    """A parameter value of the wrong type, an unknown parameter, a label that names nothing."""


class QuerySyntaxError(QueryError):
    """The SPARQL parser refused the query; `line`/`column` say where."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None, source: str = "query"):
        self.line, self.column, self.source = line, column, source
        where = source + (f":{line}:{column}" if line is not None and column is not None else "")
        super().__init__(f"{where}: syntax error: {message}")


class EndpointError(QueryError):
    """The endpoint could not be reached, answered with an HTTP error, or did not send a SPARQL result."""

    exit_code = 1


class QueryRejected(EndpointError):
    """The endpoint answered 400: it refused the query (usually a syntax error it reports itself)."""

    exit_code = 2


class QueryTimeout(QueryError):
    exit_code = 1


_SYNTAX_POSITION = re.compile(r"^error at (\d+):(\d+):\s*(.*)$", re.DOTALL)


def syntax_error(exc: SyntaxError, source: str) -> QuerySyntaxError:
    """pyoxigraph's SyntaxError as a QuerySyntaxError that names the file, line and column."""
    msg = str(exc.msg if exc.msg else exc)
    m = _SYNTAX_POSITION.match(msg)
    if m:
        return QuerySyntaxError(m.group(3), int(m.group(1)), int(m.group(2)), source)
    line = exc.lineno if isinstance(exc.lineno, int) else None
    col = exc.offset if isinstance(exc.offset, int) else None
    return QuerySyntaxError(msg, line, col, source)
