"""`QueryResult`, the one answer type of the query runner, whether the query ran on the local graph
or on an endpoint, and its construction from what pyoxigraph returns (it parses an endpoint's
answer too, so both paths build their result here).

The output formats in apsco_kg.results render a `QueryResult`; notebooks read `rows`, `boolean`
or `triples`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyoxigraph as ox

from .errors import QueryError
from .saved import SavedQuery
from .terms import Kind, Term, plain


@dataclass
class QueryResult:
    """The answer to one query. `terms`/`graph_terms` keep the RDF terms (for the output formats);
    `rows`, `boolean` and `triples` are the plain-Python view."""

    kind: Kind
    variables: list[str] = field(default_factory=list)
    terms: list[tuple[Term | None, ...]] = field(default_factory=list)
    boolean: bool | None = None
    graph_terms: list[ox.Triple] = field(default_factory=list)
    query: SavedQuery | None = None
    bindings: dict[str, ox.NamedNode | ox.Literal] = field(default_factory=dict)

    @property
    def rows(self) -> list[dict[str, object]]:
        """One dict per solution; every variable is a key, and an unbound one maps to None."""
        return [{v: plain(t) for v, t in zip(self.variables, row)} for row in self.terms]

    @property
    def triples(self) -> list[tuple[object, object, object]]:
        return [(plain(t.subject), plain(t.predicate), plain(t.object)) for t in self.graph_terms]

    def __len__(self) -> int:
        if self.kind == "select":
            return len(self.terms)
        if self.kind == "graph":
            return len(self.graph_terms)
        return 1


def _from_oxigraph(answer: object, query: SavedQuery, bound: dict[str, ox.NamedNode | ox.Literal]) -> QueryResult:
    if isinstance(answer, ox.QuerySolutions):
        variables = [v.value for v in answer.variables]
        terms = [tuple(sol[v] for v in variables) for sol in answer]
        return QueryResult("select", variables, terms, query=query, bindings=bound)
    if isinstance(answer, ox.QueryBoolean):
        return QueryResult("ask", boolean=bool(answer), query=query, bindings=bound)
    if isinstance(answer, ox.QueryTriples):
        return QueryResult("graph", graph_terms=list(answer), query=query, bindings=bound)
    raise QueryError(f"unexpected answer of type {type(answer).__name__}")
