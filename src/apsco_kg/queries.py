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
"""

from __future__ import annotations

import difflib
import re
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from http.client import HTTPResponse
from pathlib import Path
from typing import Literal as TypingLiteral

import pyoxigraph as ox

from . import graph
from .settings import ID, Settings

XSD = "http://www.w3.org/2001/XMLSchema#"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
# Prefixes the catalogue and the output formats know: the project's, plus the role vocabulary.
KNOWN_PREFIXES: dict[str, str] = {**graph.PREFIXES, "role": ID + "role/"}

Kind = TypingLiteral["select", "ask", "graph"]
Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
PARAM_TYPES = ("iri", "string", "integer", "decimal", "boolean", "date", "gYearMonth", "gYear")
HEADER_KEYS = ("title", "description", "param", "row", "question", "tags")


# --------------------------------------------------------------------------------------------
# Errors. Each carries the CLI exit code: 2 = the user's input is wrong, 1 = the endpoint failed.
# --------------------------------------------------------------------------------------------
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


# --------------------------------------------------------------------------------------------
# Lexical scanning of SPARQL text: enough to find the query form, the prefixes it uses, its
# nesting depth and the braces of its WHERE clause, without being fooled by strings, IRIs or
# comments. (It is not a parser; pyoxigraph or the endpoint parses.)
# --------------------------------------------------------------------------------------------
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


# --------------------------------------------------------------------------------------------
# The catalogue
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Param:
    name: str
    type: str
    default: str | None  # None: optional, left unbound when no value is given
    description: str
    rdf_class: str | None = None  # for iri parameters: labels resolve only to instances of this class

    def describe(self) -> str:
        kind = self.type + (f" ({_compact(self.rdf_class)})" if self.rdf_class else "")
        return f"{self.name}={self.default}" if self.default is not None else f"{self.name} [{kind}, optional]"


@dataclass(frozen=True)
class SavedQuery:
    name: str
    text: str
    title: str = ""
    description: str = ""
    params: tuple[Param, ...] = ()
    row: str = ""
    questions: tuple[int, ...] = ()
    tags: tuple[str, ...] = ()
    path: Path | None = None

    @property
    def shape(self) -> Shape:
        return scan(self.text)

    @property
    def kind(self) -> Kind:
        form = self.shape.form
        return "graph" if form in ("CONSTRUCT", "DESCRIBE") else "ask" if form == "ASK" else "select"

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        known = ", ".join(p.name for p in self.params) or "none"
        raise ParameterError(f"query {self.name!r} has no parameter {name!r} (its parameters: {known})")


_HEADER_LINE = re.compile(r"^#\+\s?(?:(?P<key>[A-Za-z]+):\s?(?P<value>.*)|(?P<cont>\s+\S.*|\s*))$")


def parse_header(text: str, name: str) -> dict[str, list[str]]:
    """The `#+ key: value` lines at the top of a query; `#+` lines starting with spaces continue the
    previous value. Plain `#` comments may be mixed in; the header ends at the first other line."""
    fields: dict[str, list[str]] = {}
    last: str | None = None
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.rstrip()
        if not stripped.startswith("#"):
            break
        if not stripped.startswith("#+"):
            last = None
            continue
        m = _HEADER_LINE.match(stripped)
        if not m:
            raise HeaderError(f"{name}:{number}: cannot read the header line {stripped!r}; write '#+ key: value'")
        if m.group("key"):
            key = m.group("key").lower()
            if key not in HEADER_KEYS:
                raise HeaderError(f"{name}:{number}: unknown header key {key!r}; use one of {', '.join(HEADER_KEYS)}")
            fields.setdefault(key, []).append(m.group("value").strip())
            last = key
        elif m.group("cont") is not None and m.group("cont").strip():
            if last is None:
                raise HeaderError(f"{name}:{number}: a continuation line needs a '#+ key:' line before it")
            fields[last][-1] = (fields[last][-1] + " " + m.group("cont").strip()).strip()
    return fields


def _parse_param(spec: str, name: str, prefixes: Mapping[str, str]) -> Param:
    parts = [p.strip() for p in spec.split("|")]
    if len(parts) != 4:
        raise HeaderError(f"{name}: parameter line {spec!r} needs four fields: name | type | default | description")
    pname, ptype, default, description = parts
    if not re.fullmatch(r"[A-Za-z_]\w*", pname):
        raise HeaderError(f"{name}: parameter name {pname!r} is not a SPARQL variable name")
    type_words = ptype.split()
    if not type_words or type_words[0] not in PARAM_TYPES:
        raise HeaderError(f"{name}: parameter {pname!r} has type {ptype!r}; use one of {', '.join(PARAM_TYPES)}")
    rdf_class = None
    if len(type_words) > 1:
        if type_words[0] != "iri" or len(type_words) > 2:
            raise HeaderError(f"{name}: only an iri parameter takes a class, as 'iri apsco:State'")
        rdf_class = _expand(type_words[1], prefixes)
        if rdf_class is None:
            raise HeaderError(f"{name}: cannot expand the class {type_words[1]!r} of parameter {pname!r}")
    return Param(pname, type_words[0], default or None, description, rdf_class)


def parse_saved_query(text: str, name: str, path: Path | None = None) -> SavedQuery:
    fields = parse_header(text, name)
    prefixes = {**KNOWN_PREFIXES, **_declared_prefix_map(text)}
    params = tuple(_parse_param(spec, name, prefixes) for spec in fields.get("param", []))
    names = [p.name for p in params]
    if len(set(names)) != len(names):
        raise HeaderError(f"{name}: a parameter is declared twice")
    questions: list[int] = []
    for q in fields.get("question", []):
        try:
            questions.extend(int(x) for x in re.split(r"[,\s]+", q) if x)
        except ValueError:
            raise HeaderError(f"{name}: '#+ question:' takes competency-question numbers, got {q!r}") from None
    tags = tuple(t for v in fields.get("tags", []) for t in re.split(r"[,\s]+", v) if t)
    return SavedQuery(
        name=name,
        text=text,
        title=" ".join(fields.get("title", [""])),
        description=" ".join(fields.get("description", [""])),
        params=params,
        row=" ".join(fields.get("row", [""])),
        questions=tuple(questions),
        tags=tags,
        path=path,
    )


def _declared_prefix_map(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    toks = list(_tokens(text))
    for i in range(len(toks) - 2):
        if toks[i].kind == "word" and toks[i].text.upper() == "PREFIX" and toks[i + 2].kind == "iri":
            found[toks[i + 1].text.split(":", 1)[0]] = toks[i + 2].text[1:-1]
    return found


def catalogue(settings: Settings | None = None) -> list[SavedQuery]:
    """Every saved query in queries/, sorted by name. A header that cannot be read is an error:
    the catalogue is code, and a broken entry should fail loudly rather than vanish."""
    settings = settings or Settings()
    folder = settings.queries_dir
    if not folder.is_dir():
        return []
    return [_load(path) for path in sorted(folder.glob("*.rq"))]


def _load(path: Path) -> SavedQuery:
    name = path.stem
    if not NAME_RE.match(name):
        raise HeaderError(f"{path}: a saved query's file name must be lower-case letters, digits and hyphens")
    text = path.read_text(encoding="utf-8")
    query = parse_saved_query(text, name, path)
    if not query.title or not query.description:
        raise HeaderError(f"{path}: a saved query needs '#+ title:' and '#+ description:' lines")
    return query


def get(name: str, settings: Settings | None = None) -> SavedQuery:
    settings = settings or Settings()
    if NAME_RE.match(name):
        path = settings.queries_dir / f"{name}.rq"
        if path.is_file():
            return _load(path)
    names = [q.name for q in catalogue(settings)]
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else "; `apsco-kg query list` shows them"
    raise UnknownQuery(f"no saved query named {name!r}{hint}")


def from_text(text: str, name: str = "query") -> SavedQuery:
    """A query of the user's own (a file or a string); its header, if any, declares parameters."""
    return parse_saved_query(text, name)


# --------------------------------------------------------------------------------------------
# Parameter values -> RDF terms
# --------------------------------------------------------------------------------------------
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
_TYPE_CHECKS: dict[str, tuple[re.Pattern[str], str]] = {
    "gYear": (re.compile(r"^-?\d{4,}$"), "a year such as 2003"),
    "gYearMonth": (re.compile(r"^-?\d{4,}-(0[1-9]|1[0-2])$"), "a year and month such as 2003-11"),
}


def _expand(value: str, prefixes: Mapping[str, str]) -> str | None:
    """A prefixed name with a known prefix -> its IRI; anything else -> None."""
    m = re.fullmatch(r"([A-Za-z][\w\-.]*)?:(\S*)", value)
    if m and (m.group(1) or "") in prefixes:
        return prefixes[m.group(1) or ""] + m.group(2)
    return None


def _named_node(value: str, param: str) -> ox.NamedNode:
    try:
        return ox.NamedNode(value)
    except ValueError as exc:
        raise ParameterError(f"parameter {param!r}: {value!r} is not a valid IRI ({exc})") from None


def to_term(
    param: Param,
    value: str,
    query: SavedQuery,
    resolve: "LabelResolver | None" = None,
) -> ox.NamedNode | ox.Literal:
    """Turn one `--param name=value` string into the RDF term it denotes, or raise ParameterError."""
    name, value = param.name, value.strip()
    if param.type == "iri":
        if value.startswith("<") and value.endswith(">"):
            return _named_node(value[1:-1], name)
        expanded = _expand(value, {**KNOWN_PREFIXES, **_declared_prefix_map(query.text)})
        if expanded is not None:
            return _named_node(expanded, name)
        if _SCHEME.match(value) and " " not in value:
            return _named_node(value, name)
        if resolve is None:
            raise ParameterError(f"parameter {name!r}: {value!r} is not an IRI or prefixed name")
        return resolve(param, value)
    if param.type == "string":
        return ox.Literal(value)
    if param.type == "integer":
        if not re.fullmatch(r"[+-]?\d+", value):
            raise ParameterError(f"parameter {name!r} expects an integer, got {value!r}")
        return ox.Literal(str(int(value)), datatype=ox.NamedNode(XSD + "integer"))
    if param.type == "decimal":
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise ParameterError(f"parameter {name!r} expects a decimal number, got {value!r}") from None
        if not number.is_finite():
            raise ParameterError(f"parameter {name!r} expects a finite decimal number, got {value!r}")
        return ox.Literal(format(number, "f"), datatype=ox.NamedNode(XSD + "decimal"))
    if param.type == "boolean":
        if value.lower() not in ("true", "false"):
            raise ParameterError(f"parameter {name!r} expects true or false, got {value!r}")
        return ox.Literal(value.lower(), datatype=ox.NamedNode(XSD + "boolean"))
    if param.type == "date":
        try:
            date.fromisoformat(value)
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                raise ValueError
        except ValueError:
            raise ParameterError(f"parameter {name!r} expects a date as YYYY-MM-DD, got {value!r}") from None
        return ox.Literal(value, datatype=ox.NamedNode(XSD + "date"))
    pattern, example = _TYPE_CHECKS[param.type]
    if not pattern.match(value):
        raise ParameterError(f"parameter {name!r} expects {example}, got {value!r}")
    return ox.Literal(value, datatype=ox.NamedNode(XSD + param.type))


class LabelResolver:
    """Resolves a plain label ("Thailand", "泰国", "APSCO") to the one entity that carries it."""

    def __init__(self, lookup: Callable[[str, str | None], list[tuple[str, bool]]]):
        # lookup(label, class IRI or None) -> [(entity IRI, whether the label is its prefLabel)]
        self._lookup = lookup

    def __call__(self, param: Param, label: str) -> ox.NamedNode:
        found = self._lookup(label, param.rdf_class)
        preferred = sorted({iri for iri, pref in found if pref})
        candidates = preferred or sorted({iri for iri, _ in found})
        of_class = f" of class {_compact(param.rdf_class)}" if param.rdf_class else ""
        if not candidates:
            raise ParameterError(
                f"parameter {param.name!r}: nothing{of_class} is labelled {label!r}; "
                "give an IRI, a prefixed name such as id:state/thailand, or an exact label"
            )
        if len(candidates) > 1:
            shown = ", ".join(_compact(c) for c in candidates[:6])
            raise ParameterError(f"parameter {param.name!r}: the label {label!r} names {len(candidates)} things ({shown}); give an IRI")
        return ox.NamedNode(candidates[0])


_LABEL_PROPERTIES = (
    "<http://www.w3.org/2004/02/skos/core#prefLabel>|<http://www.w3.org/2004/02/skos/core#altLabel>|"
    f"<{RDFS_LABEL}>|<https://w3id.org/apsco/ontology#abbreviation>"
)
_PREF = "<http://www.w3.org/2004/02/skos/core#prefLabel>"


def _local_label_lookup(kg: graph.KnowledgeGraph) -> LabelResolver:
    def lookup(label: str, rdf_class: str | None) -> list[tuple[str, bool]]:
        # Exact match on the label's text in any language; the label and the class are bound by
        # substitution, never written into the query.
        class_clause = "?entity a ?class ." if rdf_class else ""
        sparql = (
            f"SELECT DISTINCT ?entity ?name ?pref {'?class' if rdf_class else ''} WHERE {{ "
            f"?entity {_LABEL_PROPERTIES} ?l . FILTER(isIRI(?entity) && STR(?l) = ?name) {class_clause} "
            f"BIND(EXISTS {{ ?entity {_PREF} ?p FILTER(STR(?p) = ?name) }} AS ?pref) }}"
        )
        subs: dict[str, ox.NamedNode | ox.Literal] = {"name": ox.Literal(label)}
        if rdf_class:
            subs["class"] = ox.NamedNode(rdf_class)
        answer = kg.query(sparql, subs)
        assert isinstance(answer, ox.QuerySolutions)
        return [(str(plain(row["entity"])), plain(row["pref"]) is True) for row in answer]

    return LabelResolver(lookup)


def _remote_label_lookup(client: "_Remote") -> LabelResolver:
    def lookup(label: str, rdf_class: str | None) -> list[tuple[str, bool]]:
        # An endpoint may hold millions of labels: match the exact literals (untagged, @en, @zh)
        # through VALUES rather than a FILTER over every label.
        names = " ".join(str(t) for t in (ox.Literal(label), ox.Literal(label, language="en"), ox.Literal(label, language="zh")))
        class_clause = f"?entity a {ox.NamedNode(rdf_class)} ." if rdf_class else ""
        sparql = (
            f"SELECT DISTINCT ?entity ?pref WHERE {{ VALUES ?l {{ {names} }} ?entity {_LABEL_PROPERTIES} ?l . "
            f"FILTER(isIRI(?entity)) {class_clause} BIND(EXISTS {{ ?entity {_PREF} ?l }} AS ?pref) }}"
        )
        result = client.select(sparql)
        return [(plain(entity), plain(pref) is True) for entity, pref in result.terms if isinstance(entity, ox.NamedNode)]  # type: ignore[misc]

    return LabelResolver(lookup)


def label_resolver(kg: graph.KnowledgeGraph) -> LabelResolver:
    """Resolves labels against `kg`: pass it to `bind` to bind a saved query's label defaults."""
    return _local_label_lookup(kg)


def _as_text(value: object) -> str:
    # From a notebook, run(q, {"year": 1992}) is natural; the CLI always gives strings.
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


def bind(
    query: SavedQuery, params: Mapping[str, object] | None, resolve: LabelResolver | None
) -> dict[str, ox.NamedNode | ox.Literal]:
    """Defaults merged with the given values, each turned into a typed RDF term. Without
    `resolve`, a plain label (rather than an IRI) is a ParameterError."""
    given = {k: _as_text(v) for k, v in (params or {}).items()}
    for key in given:
        query.param(key)  # unknown parameter -> ParameterError naming it
    bound: dict[str, ox.NamedNode | ox.Literal] = {}
    for p in query.params:
        value = given.get(p.name, p.default)
        if value is None or (p.name in given and value == "" and p.default is None):
            continue
        bound[p.name] = to_term(p, value, query, resolve)
    return bound


def values_block(bound: Mapping[str, ox.NamedNode | ox.Literal]) -> str:
    """`VALUES (?a ?b) { (<…> "…") }`, each term written by pyoxigraph's N-Triples serialiser (so a
    quote, `>` or newline in a value is escaped or was already refused), on one line."""
    if not bound:
        return ""
    names = " ".join(f"?{k}" for k in bound)
    terms = " ".join(str(v) for v in bound.values())
    if "\n" in terms or "\r" in terms:  # impossible with N-Triples escaping; belt and braces
        raise ParameterError("a parameter value could not be written safely")
    return f"VALUES ({names}) {{ ({terms}) }}"


def with_values(text: str, bound: Mapping[str, ox.NamedNode | ox.Literal]) -> str:
    """The query text with the VALUES block at the start of its outermost WHERE group (same line,
    so the endpoint's error positions still match the file), or after the query when it has none."""
    block = values_block(bound)
    if not block:
        return text
    where = scan(text).where_open
    if where is None:
        return text.rstrip() + "\n" + block + "\n"
    return text[:where] + " " + block + " " + text[where:]


def with_prefixes(text: str) -> str:
    """Declare the project prefixes a query uses but does not declare (our local engine knows them;
    another endpoint does not), on the first line so line numbers are unchanged."""
    shape = scan(text)
    missing = sorted(p for p in shape.used_prefixes - shape.declared_prefixes if p in KNOWN_PREFIXES)
    if not missing:
        return text
    return "".join(f"PREFIX {p}: <{KNOWN_PREFIXES[p]}> " for p in missing) + text


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------
_INTEGER_TYPES = {
    XSD + t
    for t in (
        "integer", "int", "long", "short", "byte", "nonNegativeInteger", "positiveInteger",
        "nonPositiveInteger", "negativeInteger", "unsignedLong", "unsignedInt", "unsignedShort", "unsignedByte",
    )
}


def plain(term: Term | None) -> object:
    """An RDF term as a plain Python value: IRI -> str; blank node -> '_:id'; xsd:integer (and the
    integer types derived from it) -> int; xsd:decimal -> Decimal; xsd:boolean -> bool; any other
    literal -> its lexical form (language tag and datatype dropped); unbound -> None."""
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return term.value
    if isinstance(term, ox.BlankNode):
        return "_:" + term.value
    if isinstance(term, ox.Literal):
        dt = term.datatype.value
        try:
            if dt in _INTEGER_TYPES:
                return int(term.value)
            if dt == XSD + "decimal":
                return Decimal(term.value)
        except (ValueError, InvalidOperation):
            return term.value  # an ill-typed literal keeps its lexical form
        if dt == XSD + "boolean":
            return term.value in ("true", "1")
        return term.value
    return str(term)


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


# --------------------------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------------------------
@lru_cache(maxsize=4)
def _local_graph(settings: Settings) -> graph.KnowledgeGraph:
    return graph.load(settings)


_SYNTAX_POSITION = re.compile(r"^error at (\d+):(\d+):\s*(.*)$", re.DOTALL)


def syntax_error(exc: SyntaxError, source: str) -> QuerySyntaxError:
    msg = str(exc.msg if exc.msg else exc)
    m = _SYNTAX_POSITION.match(msg)
    if m:
        return QuerySyntaxError(m.group(3), int(m.group(1)), int(m.group(2)), source)
    line = exc.lineno if isinstance(exc.lineno, int) else None
    col = exc.offset if isinstance(exc.offset, int) else None
    return QuerySyntaxError(msg, line, col, source)


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


def run(
    query: SavedQuery | str,
    params: Mapping[str, object] | None = None,
    *,
    kg: graph.KnowledgeGraph | None = None,
    endpoint: str | None = None,
    settings: Settings | None = None,
    timeout: float = 30.0,
    method: str = "GET",
) -> QueryResult:
    """Run a saved query (or a name from the catalogue, or SPARQL text) with typed parameters.

    Without `endpoint` it runs on `kg` (default: the graph built from `settings`); with `endpoint`
    it sends the same query, parameters bound by VALUES, to that SPARQL 1.1 endpoint."""
    settings = settings or Settings()
    if isinstance(query, str):
        query = get(query, settings) if NAME_RE.match(query.strip()) else from_text(query)
    if not timeout or timeout <= 0:
        raise QueryError("the timeout must be a positive number of seconds")
    if endpoint:
        check_text(query, settings, local=False)
        client = _Remote(endpoint, timeout=timeout, method=method, settings=settings)
        bound = bind(query, params, _remote_label_lookup(client))
        return client.run(query, bound)
    check_text(query, settings, local=True)
    kg = kg if kg is not None else _local_graph(settings)
    bound = bind(query, params, _local_label_lookup(kg))
    return _run_local(kg, query, bound, timeout)


def _run_local(kg: graph.KnowledgeGraph, query: SavedQuery, bound: dict[str, ox.NamedNode | ox.Literal], timeout: float) -> QueryResult:
    # pyoxigraph cannot cancel a query, but it releases the GIL: evaluate in a daemon thread and
    # stop waiting after `timeout` (the CLI then exits, which ends the thread).
    box: dict[str, object] = {}

    def work() -> None:
        try:
            # kg.query's engine settings (union default graph) with the role: prefix added, so a
            # query of one's own may use every prefix that `with_prefixes` declares for endpoints.
            answer = kg.store.query(
                query.text,
                use_default_graph_as_union=True,
                substitutions={ox.Variable(k): v for k, v in bound.items()} or None,
                prefixes=KNOWN_PREFIXES,
            )
            box["result"] = _from_oxigraph(answer, query, bound)
        except BaseException as exc:  # handed to the caller's thread below
            box["error"] = exc

    worker = threading.Thread(target=work, daemon=True, name=f"query-{query.name}")
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise QueryTimeout(f"{query.name}: the query did not finish within {timeout:g} s")
    error = box.get("error")
    if isinstance(error, SyntaxError):
        raise syntax_error(error, str(query.path) if query.path else query.name)
    if isinstance(error, RuntimeError) and "SELECT projection" in str(error):
        raise ParameterError(f"{query.name}: a bound parameter must be a variable the query SELECTs ({error})")
    if isinstance(error, (ValueError, RuntimeError, OSError)):
        raise QueryError(f"{query.name}: {error}")
    if error is not None:
        raise error  # type: ignore[misc]
    return box["result"]  # type: ignore[return-value]


# --------------------------------------------------------------------------------------------
# Remote endpoints, through SPARQLWrapper
# --------------------------------------------------------------------------------------------
_RESULT_TYPES = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "application/xml": ox.QueryResultsFormat.XML,
    "text/xml": ox.QueryResultsFormat.XML,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
}
_GRAPH_TYPES = {
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "text/plain": ox.RdfFormat.N_TRIPLES,
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/x-turtle": ox.RdfFormat.TURTLE,
    "application/turtle": ox.RdfFormat.TURTLE,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
}
_ACCEPT_RESULTS = "application/sparql-results+json, application/sparql-results+xml;q=0.9, text/tab-separated-values;q=0.8"
_ACCEPT_GRAPH = "application/n-triples, text/turtle;q=0.9, application/rdf+xml;q=0.5"
USER_AGENT = "apsco-kg/0.1 (+https://w3id.org/apsco/; saved-query runner) SPARQLWrapper"


class _Remote:
    def __init__(self, endpoint: str, *, timeout: float, method: str, settings: Settings):
        if not re.match(r"^https?://", endpoint):
            raise QueryError(f"--endpoint must be an http(s) URL, got {endpoint!r}")
        method = method.upper()
        if method not in ("GET", "POST"):
            raise QueryError(f"--method must be GET or POST, got {method!r}")
        self.endpoint, self.timeout, self.method, self.settings = endpoint, timeout, method, settings

    def run(self, query: SavedQuery, bound: dict[str, ox.NamedNode | ox.Literal]) -> QueryResult:
        text = with_prefixes(with_values(strip_comments(query.text), bound))
        kind = query.kind
        body, content_type = self._send(text, kind)
        if kind == "graph":
            rdf_format = _GRAPH_TYPES.get(content_type)
            if rdf_format is None:
                raise self._not_a_result(content_type, body, "RDF (N-Triples, Turtle or RDF/XML)")
            if rdf_format == ox.RdfFormat.RDF_XML and re.search(rb"<!(DOCTYPE|ENTITY)", body, re.I):
                raise EndpointError(f"{self.endpoint}: the RDF/XML answer declares a DTD; refused")
            try:
                triples = [ox.Triple(q.subject, q.predicate, q.object) for q in ox.parse(body, format=rdf_format)]
            except (SyntaxError, ValueError) as exc:
                raise EndpointError(f"{self.endpoint}: the {content_type} answer cannot be parsed: {exc}") from None
            return QueryResult("graph", graph_terms=triples, query=query, bindings=bound)
        results_format = _RESULT_TYPES.get(content_type)
        if results_format is None:
            raise self._not_a_result(content_type, body, "a SPARQL result (JSON, XML or TSV)")
        try:
            answer = ox.parse_query_results(body, format=results_format)
            result = _from_oxigraph(answer, query, bound)
        except (SyntaxError, ValueError) as exc:
            raise EndpointError(f"{self.endpoint}: the {content_type} answer is not a valid SPARQL result: {exc}") from None
        if result.kind != kind:
            raise EndpointError(f"{self.endpoint}: asked a {kind.upper()} query but got a {result.kind} result")
        return result

    def select(self, sparql: str) -> QueryResult:
        return self.run(from_text(sparql, "label-lookup"), {})

    def _not_a_result(self, content_type: str, body: bytes, wanted: str) -> EndpointError:
        return EndpointError(
            f"{self.endpoint}: expected {wanted} but the endpoint sent {content_type or 'no content type'}: {_snippet(body)}"
        )

    def _send(self, text: str, kind: Kind) -> tuple[bytes, str]:
        from SPARQLWrapper import GET, JSON, N3, POST, URLENCODED

        wrapper = _wrapper_class()(self.endpoint, agent=USER_AGENT)
        wrapper.setQuery(text)
        # SPARQLWrapper routes update-looking text to a POST `update=` request on its own
        # (security-risks.md A3). The form was checked above; check SPARQLWrapper's view too.
        if wrapper.isSparqlUpdateRequest():
            raise QueryError("refusing to send an update through the query runner")
        wrapper.setMethod(POST if self.method == "POST" else GET)
        wrapper.setRequestMethod(URLENCODED)
        wrapper.setOnlyConneg(True)  # no `format=`/`output=` parameters: plain content negotiation
        wrapper.setReturnFormat(N3 if kind == "graph" else JSON)
        wrapper.addCustomHttpHeader("Accept", _ACCEPT_GRAPH if kind == "graph" else _ACCEPT_RESULTS)
        # setTimeout() truncates to int and 0 means "wait forever"; keep the float.
        wrapper.timeout = self.timeout
        response = wrapper.query().response
        content_type = (response.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        try:
            body = _read_capped(response, self.settings.max_input_bytes, self.endpoint)
        except TimeoutError:
            raise QueryTimeout(f"{self.endpoint}: no complete answer within {self.timeout:g} s") from None
        finally:
            response.close()
        return body, content_type


def _read_capped(response: HTTPResponse, cap: int, endpoint: str) -> bytes:
    body = response.read(cap + 1)
    if len(body) > cap:
        raise EndpointError(f"{endpoint}: the answer is larger than {cap:,} bytes; add a LIMIT")
    return body


def _snippet(body: bytes, size: int = 200) -> str:
    text = body[:size].decode("utf-8", "replace")
    text = " ".join(text.split())
    return repr(text + ("…" if len(body) > size else ""))


def _make_wrapper_class() -> type:
    from SPARQLWrapper import SPARQLWrapper

    class Wrapper(SPARQLWrapper):
        """SPARQLWrapper with one change: its `_query` maps HTTP failures to exceptions that keep
        the status and the body (the stock ones keep only a repr of the body, and not the status
        of codes it does not know), and refuses to send anything to the update endpoint."""

        def _query(self) -> tuple[HTTPResponse, str]:
            request = self._createRequest()
            data = request.data
            if self.isSparqlUpdateRequest() or (isinstance(data, bytes) and data.startswith(b"update=")):
                raise QueryError("refusing to send an update through the query runner")
            try:
                return urllib.request.urlopen(request, timeout=self.timeout), self.returnFormat
            except urllib.error.HTTPError as exc:
                body = exc.read(2048) if exc.fp is not None else b""
                if exc.code == 400:
                    raise QueryRejected(f"{self.endpoint} refused the query (HTTP 400): {_snippet(body, 400)}") from None
                raise EndpointError(f"{self.endpoint}: HTTP {exc.code} {exc.reason}: {_snippet(body)}") from None
            except urllib.error.URLError as exc:
                reason = exc.reason
                if isinstance(reason, TimeoutError):
                    raise QueryTimeout(f"{self.endpoint}: no answer within {self.timeout:g} s") from None
                raise EndpointError(f"{self.endpoint}: cannot reach the endpoint ({reason})") from None
            except TimeoutError:
                raise QueryTimeout(f"{self.endpoint}: no answer within {self.timeout:g} s") from None
            except (OSError, ValueError) as exc:
                raise EndpointError(f"{self.endpoint}: cannot reach the endpoint ({exc})") from None

    return Wrapper


@lru_cache(maxsize=1)
def _wrapper_class() -> type:
    """SPARQLWrapper is imported only when a remote query runs (it pulls in rdflib)."""
    return _make_wrapper_class()


def _compact(iri: str | None) -> str:
    if iri is None:
        return ""
    best = ""
    for prefix, ns in KNOWN_PREFIXES.items():
        if iri.startswith(ns) and len(ns) > len(KNOWN_PREFIXES.get(best, "")):
            best = prefix
    if best:
        return f"{best}:{iri[len(KNOWN_PREFIXES[best]):]}"
    return f"<{iri}>"


def compact(iri: str) -> str:
    """An IRI written with the project prefixes where one fits (id:state/thailand)."""
    return _compact(iri)
