"""Saved queries: the `#+` header format (docs/queries.md), the `Param` and `SavedQuery` it is read
into, and the catalogue of queries/*.rq that `apsco-kg query`, the competency tests and the query
page list.

A header that cannot be read is an error, never skipped: the catalogue is code.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..settings import Settings
from .errors import HeaderError, ParameterError, UnknownQuery
from .lexer import Shape, _declared_prefix_map, scan
from .terms import KNOWN_PREFIXES, Kind, _compact, _expand

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
PARAM_TYPES = ("iri", "string", "integer", "decimal", "boolean", "date", "gYearMonth", "gYear")
HEADER_KEYS = ("title", "description", "param", "row", "question", "tags")


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

