"""The saved-query catalogue (queries/*.rq), safe parameter binding, and running a query locally or
against any SPARQL 1.1 endpoint through SPARQLWrapper.

Public API (stable; tests/test_competency.py and notebooks rely on it):

* `catalogue(settings=None) -> list[SavedQuery]`
* `get(name, settings=None) -> SavedQuery`
* `run(query, params=None, *, kg=None, endpoint=None, settings=None, timeout=30.0, method="GET")
  -> QueryResult`

A query's text is never edited with user input. Locally, parameters are bound with pyoxigraph's
SEP-0007 `substitutions`; against an endpoint, with a `VALUES` block whose terms are written by
pyoxigraph's own N-Triples serialisation of already-validated `NamedNode`/`Literal` objects, so no
value can close a string or an IRI. The header format is documented in docs/queries.md.

This package only gathers the public names; the work is done in its modules:

* `errors`  — QueryError and its subclasses, each with the CLI's exit code
* `terms`   — the known prefixes, the RDF term types, `plain` and `compact`
* `lexer`   — the SPARQL scanner (`scan`, `strip_comments`) and the checks made before running
* `saved`   — the `#+` header format, `Param`, `SavedQuery` and the catalogue
* `binding` — parameter values to RDF terms, label resolution, VALUES and PREFIX insertion
* `answer`  — `QueryResult`
* `remote`  — running on an endpoint through SPARQLWrapper
* `runner`  — `run`, and running on the local graph
"""

from __future__ import annotations

from .answer import QueryResult
from .binding import LabelResolver, bind, label_resolver, to_term, values_block, with_prefixes, with_values
from .errors import (
    EndpointError,
    HeaderError,
    ParameterError,
    QueryError,
    QueryRejected,
    QuerySyntaxError,
    QueryTimeout,
    UnknownQuery,
    syntax_error,
)
from .lexer import Shape, check_text, scan, strip_comments
from .remote import USER_AGENT
from .runner import run
from .saved import (
    HEADER_KEYS,
    NAME_RE,
    PARAM_TYPES,
    Param,
    SavedQuery,
    catalogue,
    from_text,
    get,
    parse_header,
    parse_saved_query,
)
from .terms import KNOWN_PREFIXES, RDFS_LABEL, XSD, Kind, Term, compact, plain

__all__ = [
    "HEADER_KEYS",
    "KNOWN_PREFIXES",
    "NAME_RE",
    "PARAM_TYPES",
    "RDFS_LABEL",
    "USER_AGENT",
    "XSD",
    "EndpointError",
    "HeaderError",
    "Kind",
    "LabelResolver",
    "Param",
    "ParameterError",
    "QueryError",
    "QueryRejected",
    "QueryResult",
    "QuerySyntaxError",
    "QueryTimeout",
    "SavedQuery",
    "Shape",
    "Term",
    "UnknownQuery",
    "bind",
    "catalogue",
    "check_text",
    "compact",
    "from_text",
    "get",
    "label_resolver",
    "parse_header",
    "parse_saved_query",
    "plain",
    "run",
    "scan",
    "strip_comments",
    "syntax_error",
    "to_term",
    "values_block",
    "with_prefixes",
    "with_values",
]
