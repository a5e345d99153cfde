"""The one JSON error shape of the SPARQL endpoint (docs/sparql-endpoint.md, "Errors").

    {"error": {"status": 400, "type": "syntax_error", "message": "…", "line": 1, "column": 25}}

`line` and `column` are null when the error has no position. Never a stack trace.
"""

from __future__ import annotations

import json

from starlette.responses import Response

ERROR_MEDIA_TYPE = "application/json"


class ProtocolError(Exception):
    """A refusal with an HTTP status; raised anywhere in request handling, rendered by error_response."""

    def __init__(self, status: int, type_: str, message: str, line: int | None = None,
                 column: int | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.type = type_
        self.message = message
        self.line = line
        self.column = column
        self.headers = headers or {}

    def body(self) -> dict[str, object]:
        return {"error": {"status": self.status, "type": self.type, "message": self.message,
                          "line": self.line, "column": self.column}}


def error_response(err: ProtocolError) -> Response:
    payload = json.dumps(err.body(), ensure_ascii=False).encode("utf-8")
    return Response(payload, status_code=err.status, media_type=ERROR_MEDIA_TYPE, headers=err.headers)
