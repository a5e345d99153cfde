"""QuickStatements: V1 and CSV renderers, and a strict parser of both.

Syntax (shared/reference/wikidata.md §3, checked against the two reference implementations):
V1 is one command per line, TAB-separated; a statement line is `subject P value` followed by
qualifier pairs `P value` and reference pairs `S value` (`!S` opens a further reference block).
CSV has a header whose first cell is `qid` (empty cell = CREATE), `Len`/`Dzh`/`Aen` term
columns with raw values, `P…` statement columns in V1 value syntax, `qal…` qualifiers, `S…`
(a new reference block) and `s…` (a further snak of the same block).

The parser exists so the tests can read our own output back as commands and check every one:
each property known with its datatype, each time valid for its precision, each reference block
complete. It refuses what it does not understand instead of skipping it.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from .batches import Batch, Entry
from .model import (
    EXTERNAL_ID, ITEM, MONOLINGUAL, QID_RE, QUANTITY, STRING, TIME, URL, EntityRef, ExternalIdValue,
    ItemValue, MonolingualValue, QuantityValue, Reference, Snak, Statement, StringValue, TimeError,
    TimeValue, UrlValue, Value, pid_number,
)
from .vocab import P_IMPORTED_FROM, WD

# ------------------------------------------------------------------------------------------
# Rendering
# ------------------------------------------------------------------------------------------


class RenderError(ValueError):
    """A value QuickStatements cannot carry (a TAB, a newline, a '||' command separator)."""


def _text(text: str) -> str:
    if "\t" in text or "\n" in text or "\r" in text or "||" in text:
        raise RenderError(f"{text!r}: QuickStatements cannot carry a TAB, a newline or '||' in a value")
    return text


def _quantity(amount: Decimal) -> str:
    text = format(amount.normalize(), "f")
    return text


def value_v1(value: Value, last: EntityRef | None = None) -> str:
    """A value in V1 syntax (also the syntax of CSV statement cells)."""
    if isinstance(value, ItemValue):
        if value.ref.qid is None:
            if last is not None and value.ref == last:
                return "LAST"
            raise RenderError(f"{value.ref.iri} has no QID")
        return value.ref.qid
    if isinstance(value, TimeValue):
        return f"{value.time}/{value.precision}"
    if isinstance(value, (StringValue, ExternalIdValue)):
        return f'"{_text(value.text)}"'
    if isinstance(value, UrlValue):
        return f'"{_text(value.url)}"'
    if isinstance(value, MonolingualValue):
        return f'{value.language}:"{_text(value.text)}"'
    if isinstance(value, QuantityValue):
        return _quantity(value.amount) + (f"U{value.unit[1:]}" if value.unit else "")
    raise RenderError(f"unknown value {value!r}")


def _subject(entry: Entry) -> str:
    if entry.create:
        return "LAST"
    assert entry.item.ref.qid is not None
    return entry.item.ref.qid


def statement_v1(subject: str, st: Statement, summary: str | None = None) -> str:
    cells = [subject, st.property, value_v1(st.value)]
    for pid, val in st.qualifiers:
        cells += [pid, value_v1(val)]
    for i, ref in enumerate(st.references):
        for j, (pid, val) in enumerate(ref.snaks):
            cells += [("!S" if i and not j else "S") + pid[1:], value_v1(val)]
    line = "\t".join(cells)
    return line + (f"\t/* {_text(summary)} */" if summary else "")


def render_v1(batch: Batch) -> str:
    lines: list[str] = []
    for entry in batch.entries:
        subj = _subject(entry)
        if entry.create:
            lines.append("CREATE")
        for lang, text in sorted(entry.labels.items()):
            lines.append(f'{subj}\tL{lang}\t"{_text(text)}"')
        for lang, text in sorted(entry.descriptions.items()):
            lines.append(f'{subj}\tD{lang}\t"{_text(text)}"')
        for lang, texts in sorted(entry.aliases.items()):
            lines += [f'{subj}\tA{lang}\t"{_text(t)}"' for t in texts]
        lines += [statement_v1(subj, st) for st in entry.statements]
    return "".join(line + "\n" for line in lines)


def _shape(st: Statement) -> tuple[str, ...]:
    cols = [st.property] + ["qal" + p[1:] for p, _ in st.qualifiers]
    for ref in st.references:
        cols += [("S" if j == 0 else "s") + p[1:] for j, (p, _) in enumerate(ref.snaks)]
    return tuple(cols)


def render_csv(batch: Batch) -> str:
    """One row per item (an empty qid creates it, so a new item's commands must share one row)."""
    term_cols: list[str] = []
    for kind, attr in (("L", "labels"), ("D", "descriptions")):
        langs = sorted({lang for e in batch.entries for lang in getattr(e, attr)})
        term_cols += [kind + lang for lang in langs]
    alias_max = Counter[str]()
    for e in batch.entries:
        for lang, texts in e.aliases.items():
            alias_max[lang] = max(alias_max[lang], len(texts))
    for lang in sorted(alias_max):
        term_cols += ["A" + lang] * alias_max[lang]
    # Statement slots: each distinct column shape, as many times as one item needs it.
    slots = Counter[tuple[str, ...]]()
    for e in batch.entries:
        for shape, n in Counter(_shape(st) for st in e.statements).items():
            slots[shape] = max(slots[shape], n)
    slot_list = [shape for shape in sorted(slots, key=lambda s: (pid_number(s[0]), s)) for _ in range(slots[shape])]
    header = ["qid", *term_cols, *(c for shape in slot_list for c in shape)]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for e in batch.entries:
        row = ["" if e.create else _subject(e)]
        alias_seen = Counter[str]()
        for col in term_cols:
            kind, lang = col[0], col[1:]
            if kind == "L":
                row.append(_text(e.labels.get(lang, "")))
            elif kind == "D":
                row.append(_text(e.descriptions.get(lang, "")))
            else:
                texts = e.aliases.get(lang, [])
                i = alias_seen[lang]
                alias_seen[lang] += 1
                row.append(_text(texts[i]) if i < len(texts) else "")
        pending = list(e.statements)
        for shape in slot_list:
            st = next((s for s in pending if _shape(s) == shape), None)
            if st is None:
                row += [""] * len(shape)
                continue
            pending.remove(st)
            row.append(value_v1(st.value))
            row += [value_v1(val) for _, val in st.qualifiers]
            row += [value_v1(val) for ref in st.references for _, val in ref.snaks]
        writer.writerow(row)
    return out.getvalue()


# ------------------------------------------------------------------------------------------
# Strict parsing
# ------------------------------------------------------------------------------------------


class QSParseError(ValueError):
    def __init__(self, line: int, message: str):
        self.line = line
        super().__init__(f"line {line}: {message}")


@dataclass(frozen=True)
class Create:
    index: int  # the n-th CREATE of the batch; LAST after it is "CREATE#n"


@dataclass(frozen=True)
class Term:
    entity: str
    kind: str  # L, D, A
    language: str
    text: str


@dataclass(frozen=True)
class Claim:
    entity: str  # a QID, or "CREATE#n" for the item the n-th CREATE made
    property: str
    value: Value
    qualifiers: tuple[Snak, ...] = ()
    references: tuple[Reference, ...] = ()
    summary: str | None = None

    def key(self) -> tuple[object, ...]:
        """Order-free identity for golden comparisons: qualifiers and blocks as sets."""
        return (self.entity, self.property, self.value, frozenset(self.qualifiers),
                frozenset(frozenset(r.snaks) for r in self.references))


Command = Create | Term | Claim

_LANG = re.compile(r"^[a-z]{2,3}(-[a-z0-9]+)*$")
_TIME = re.compile(r"^([+-]\d{4,16}-\d{2}-\d{2}T00:00:00Z)/(\d{1,2})$")
_MONO = re.compile(r'^([a-z]{2,3}(?:-[a-z0-9]+)*):"(.*)"$', re.S)
_QUOTED = re.compile(r'^"(.*)"$', re.S)
_URL = re.compile(r"^https?://[^\s\"<>]+$")
_QUANTITY = re.compile(r"^([+-]?\d+(?:\.\d+)?)(?:U([1-9]\d*))?$")


@dataclass
class ParseOptions:
    datatypes: dict[str, str]  # every PID the batch may use → its datatype
    require_references: bool = True
    csv: bool = False


def parse_value(text: str, datatype: str, line: int, last: str | None) -> Value:
    """A V1 value of a datatype; anything else (an unquoted string, a time without /precision) is refused."""
    if datatype == ITEM:
        if text == "LAST":
            if last is None:
                raise QSParseError(line, "LAST used before any CREATE")
            return ItemValue(EntityRef(last, None))
        if not QID_RE.match(text):
            raise QSParseError(line, f"{text!r} is not an item ID")
        return ItemValue(EntityRef(WD + text, text))
    if datatype == TIME:
        m = _TIME.match(text)
        if not m:
            # Both tools default a missing /precision to year: never leave it to them.
            raise QSParseError(line, f"{text!r} is not +YYYY-MM-DDT00:00:00Z/precision")
        try:
            return TimeValue(m.group(1), int(m.group(2)))
        except TimeError as exc:
            raise QSParseError(line, str(exc)) from None
    if datatype == MONOLINGUAL:
        m = _MONO.match(text)
        if not m or '"' in m.group(2):
            raise QSParseError(line, f"{text!r} is not lang:\"text\"")
        return MonolingualValue(m.group(2), m.group(1))
    if datatype == QUANTITY:
        m = _QUANTITY.match(text)
        if not m:
            raise QSParseError(line, f"{text!r} is not a quantity")
        try:
            return QuantityValue(Decimal(m.group(1)), "Q" + m.group(2) if m.group(2) else None)
        except InvalidOperation:
            raise QSParseError(line, f"{text!r} is not a number") from None
    m = _QUOTED.match(text)
    if not m or not m.group(1):
        raise QSParseError(line, f"a {datatype} value must be double-quoted and non-empty, got {text!r}")
    inner = m.group(1)
    if datatype == URL:
        if not _URL.match(inner):
            raise QSParseError(line, f"{inner!r} is not an http(s) URL")
        return UrlValue(inner)
    if datatype == STRING:
        return StringValue(inner)
    if datatype == EXTERNAL_ID:
        return ExternalIdValue(inner)
    raise QSParseError(line, f"unknown datatype {datatype}")


def check_reference(ref: Reference, line: int) -> None:
    """A block is complete when it says where the statement comes from: an imported-from project
    (with nothing but its import URL beside it), or a work identified by URL, title or stated-in."""
    pids = [p for p, _ in ref.snaks]
    if len(set(pids)) != len(pids):
        raise QSParseError(line, f"reference block repeats a property: {pids}")
    if P_IMPORTED_FROM in pids:
        if set(pids) - {P_IMPORTED_FROM, "P4656", "P813"}:
            raise QSParseError(line, f"an imported-from block mixes in {pids}")
    elif not {"P854", "P1476", "P248"} & set(pids):
        raise QSParseError(line, f"reference block {pids} names no source (P143, P248, P854 or P1476)")


class _Parser:
    def __init__(self, options: ParseOptions):
        self.o = options
        self.commands: list[Command] = []
        self.creates = 0

    @property
    def last(self) -> str | None:
        return f"CREATE#{self.creates}" if self.creates else None

    def entity(self, text: str, line: int) -> str:
        if text == "LAST":
            if self.last is None:
                raise QSParseError(line, "LAST used before any CREATE")
            return self.last
        if not QID_RE.match(text):
            raise QSParseError(line, f"{text!r} is not an item ID or LAST")
        return text

    def datatype(self, pid: str, line: int) -> str:
        if pid not in self.o.datatypes:
            raise QSParseError(line, f"{pid} is not a property this export knows")
        return self.o.datatypes[pid]

    def create(self) -> None:
        self.creates += 1
        self.commands.append(Create(self.creates))

    def term(self, entity: str, head: str, text: str, line: int) -> None:
        kind, lang = head[0], head[1:]
        if not _LANG.match(lang):
            raise QSParseError(line, f"{lang!r} is not a language code")
        if not text or "\t" in text or "\n" in text:
            raise QSParseError(line, f"empty or multi-line {kind} text")
        if kind == "D" and len(text) > 250:
            raise QSParseError(line, "description longer than 250 characters")
        self.commands.append(Term(entity, kind, lang, text))

    def claim(self, entity: str, pid: str, value: str, pairs: list[tuple[str, str]], summary: str | None, line: int) -> None:
        main = parse_value(value, self.datatype(pid, line), line, self.last)
        quals: list[Snak] = []
        refs: list[list[Snak]] = []
        for key, text in pairs:
            m = re.match(r"^(qal|S|s)([1-9]\d*)$" if self.o.csv else r"^(P|S|!S)([1-9]\d*)$", key)
            if not m:
                raise QSParseError(line, f"{key!r} is not a qualifier or reference property")
            kind, spid = m.group(1), "P" + m.group(2)
            val = parse_value(text, self.datatype(spid, line), line, self.last)
            if kind in ("P", "qal"):
                if refs:
                    raise QSParseError(line, f"qualifier {spid} after the references")
                quals.append((spid, val))
            elif kind in ("!S",) or (kind == "S" and (self.o.csv or not refs)):
                refs.append([(spid, val)])
            else:
                if not refs:
                    raise QSParseError(line, f"reference snak {key} before any reference block")
                refs[-1].append((spid, val))
        references = tuple(Reference(tuple(r)) for r in refs)
        for r in references:
            check_reference(r, line)
        if self.o.require_references and not references:
            raise QSParseError(line, f"{entity} {pid} {value}: a statement without a reference")
        self.commands.append(Claim(entity, pid, main, tuple(quals), references, summary))


def parse_v1(text: str, options: ParseOptions) -> list[Command]:
    p = _Parser(options)
    for n, raw in enumerate(text.split("\n"), 1):
        if not raw.strip():
            continue
        if raw != raw.rstrip("\r"):
            raise QSParseError(n, "CR line ending")
        summary = None
        m = re.match(r"^(.*)\t/\* (.*) \*/$", raw)
        line = raw
        if m:
            line, summary = m.group(1), m.group(2)
        cells = line.split("\t")
        if cells == ["CREATE"]:
            p.create()
            continue
        if len(cells) < 3:
            raise QSParseError(n, f"expected entity, property and value, got {cells}")
        entity = p.entity(cells[0], n)
        head = cells[1]
        if re.match(r"^[LDA][a-z]", head):
            if len(cells) != 3:
                raise QSParseError(n, "a term line has exactly three fields")
            m2 = _QUOTED.match(cells[2])
            if not m2:
                raise QSParseError(n, f"term text must be double-quoted: {cells[2]!r}")
            p.term(entity, head, m2.group(1), n)
            continue
        if not re.match(r"^P[1-9]\d*$", head):
            raise QSParseError(n, f"{head!r} is not a property, label, description or alias")
        rest = cells[3:]
        if len(rest) % 2:
            raise QSParseError(n, "qualifiers and references come in property/value pairs")
        p.claim(entity, head, cells[2], list(zip(rest[::2], rest[1::2])), summary, n)
    return p.commands


def parse_csv(text: str, options: ParseOptions) -> list[Command]:
    options = ParseOptions(options.datatypes, options.require_references, csv=True)
    p = _Parser(options)
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows or rows[0][:1] != ["qid"]:
        raise QSParseError(1, "the CSV header must start with 'qid'")
    header = rows[0]
    for col in header[1:]:
        if not re.match(r"^([LDA][a-z]{2,3}(-[a-z0-9]+)*|P[1-9]\d*|qal[1-9]\d*|[Ss][1-9]\d*|#)$", col):
            raise QSParseError(1, f"unknown CSV column {col!r}")
    for n, row in enumerate(rows[1:], 2):
        if len(row) != len(header):
            raise QSParseError(n, f"{len(row)} cells for {len(header)} columns")
        if row[0]:
            entity = p.entity(row[0], n)
        else:
            p.create()
            entity = p.entity("LAST", n)
        i = 1
        while i < len(header):
            col, cell = header[i], row[i]
            if re.match(r"^(qal|[Ss])\d+$", col):
                if cell:
                    raise QSParseError(n, f"column {col} has a value but no statement before it")
                i += 1
                continue
            if col[0] in "LDA":
                if cell:
                    p.term(entity, col, cell, n)
                i += 1
                continue
            if col == "#":
                i += 1
                continue
            # A statement column and the qualifier/reference columns after it.
            j = i + 1
            while j < len(header) and re.match(r"^(qal|[Ss])\d+$", header[j]):
                j += 1
            if cell:
                pairs = [(header[k], row[k]) for k in range(i + 1, j) if row[k]]
                p.claim(entity, col, cell, pairs, None, n)
            elif any(row[k] for k in range(i + 1, j)):
                raise QSParseError(n, f"qualifiers or references for an empty {col} cell")
            i = j
    return p.commands


def claims_to_statements(commands: list[Command], created: dict[str, EntityRef]) -> list[Statement]:
    """Parsed claims as Statements, with CREATE#n replaced by the entity the caller knows it made."""

    def ref(entity: str) -> EntityRef:
        if entity.startswith("CREATE#"):
            return created[entity]
        return EntityRef(WD + entity, entity)

    def fix(v: Value) -> Value:
        if isinstance(v, ItemValue) and v.ref.iri.startswith("CREATE#"):
            return ItemValue(created[v.ref.iri])
        return v

    out: list[Statement] = []
    for c in commands:
        if isinstance(c, Claim):
            out.append(Statement(
                ref(c.entity), c.property, "", fix(c.value),
                tuple((p, fix(v)) for p, v in c.qualifiers),
                tuple(Reference(tuple((p, fix(v)) for p, v in r.snaks)) for r in c.references),
            ))
    return out


def parse(text: str, options: ParseOptions, fmt: str = "v1") -> list[Command]:
    return parse_csv(text, options) if fmt == "csv" else parse_v1(text, options)


@dataclass
class Report:
    """What a parsed batch holds, for a human: counts per command kind and property."""

    creates: int = 0
    terms: int = 0
    claims: Counter[str] = field(default_factory=Counter)


def summarize(commands: list[Command]) -> Report:
    r = Report()
    for c in commands:
        if isinstance(c, Create):
            r.creates += 1
        elif isinstance(c, Term):
            r.terms += 1
        else:
            r.claims[c.property] += 1
    return r
