"""The Wikidata-side data model every exporter shares: entity references, values, statements, items.

The mapping (mapping.py) derives these from the graph; the renderers (QuickStatements, Wikibase
JSON, the Wikidata-shaped RDF view) and the diff only ever read them, so the four outputs cannot
disagree about what a statement is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum

# Wikibase datatypes as the ontology's apsco:wikidataDatatype spells them.
ITEM = "wikibase-item"
TIME = "time"
STRING = "string"
MONOLINGUAL = "monolingualtext"
QUANTITY = "quantity"
URL = "url"
EXTERNAL_ID = "external-id"
DATATYPES = frozenset({ITEM, TIME, STRING, MONOLINGUAL, QUANTITY, URL, EXTERNAL_ID})

WD_ENTITY = "http://www.wikidata.org/entity/"
QID_RE = re.compile(r"^Q[1-9][0-9]*$")
PID_RE = re.compile(r"^P[1-9][0-9]*$")


class Status(Enum):
    """Where an entity stands with respect to its Wikidata item (docs/model.md, 'Entities')."""

    CONFIRMED = "confirmed"  # apsco:wikidataItem, checked against shared/reference/wikidata.md
    NEEDS_RECONCILIATION = "needs-reconciliation"  # an item exists, its QID is unknown: never CREATE
    NO_ITEM_KNOWN = "no-item-known"  # no item known: batch 1 creates one


@dataclass(frozen=True, order=True)
class EntityRef:
    """One of our entities as a Wikidata item: its IRI, and its QID when one is known."""

    iri: str
    qid: str | None = None
    status: Status = Status.CONFIRMED

    @property
    def resolved(self) -> bool:
        return self.qid is not None


@dataclass(frozen=True, order=True)
class ItemValue:
    ref: EntityRef


@dataclass(frozen=True, order=True)
class TimeValue:
    """A Wikibase time: '+YYYY-MM-DDT00:00:00Z' with month/day 00 below their precision."""

    time: str
    precision: int  # 9 year, 10 month, 11 day

    def __post_init__(self) -> None:
        check_time(self.time, self.precision)


@dataclass(frozen=True, order=True)
class StringValue:
    text: str


@dataclass(frozen=True, order=True)
class UrlValue:
    url: str


@dataclass(frozen=True, order=True)
class ExternalIdValue:
    text: str


@dataclass(frozen=True, order=True)
class MonolingualValue:
    text: str
    language: str


@dataclass(frozen=True, order=True)
class QuantityValue:
    amount: Decimal
    unit: str | None = None  # a QID, or None for a unitless quantity


Value = ItemValue | TimeValue | StringValue | UrlValue | ExternalIdValue | MonolingualValue | QuantityValue

# Which value class each datatype takes: the renderers and the strict parser check against this.
VALUE_CLASS: dict[str, type] = {
    ITEM: ItemValue,
    TIME: TimeValue,
    STRING: StringValue,
    MONOLINGUAL: MonolingualValue,
    QUANTITY: QuantityValue,
    URL: UrlValue,
    EXTERNAL_ID: ExternalIdValue,
}

_TIME_RE = re.compile(r"^([+-])(\d{4,16})-(\d{2})-(\d{2})T00:00:00Z$")
_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


class TimeError(ValueError):
    """A time value that does not fit its precision."""


def check_time(time: str, precision: int) -> None:
    """Reject a time whose month/day do not match its precision (/9 year, /10 month, /11 day).

    Wikibase accepts '+2005-00-00T00:00:00Z/9' and '+1994-01-00T00:00:00Z/10'; a day beyond the
    month, or a month/day set below the precision, is the 'Malformed input' the API answers.
    """
    m = _TIME_RE.match(time)
    if not m:
        raise TimeError(f"time {time!r} is not of the form +YYYY-MM-DDT00:00:00Z")
    year, month, day = int(m.group(2)), int(m.group(3)), int(m.group(4))
    if precision == 9:
        if month or day:
            raise TimeError(f"time {time!r} has year precision (/9) but a month or day; write +{year:04d}-00-00")
    elif precision == 10:
        if not 1 <= month <= 12 or day:
            raise TimeError(f"time {time!r} has month precision (/10): month 01–12 and day 00")
    elif precision == 11:
        if not 1 <= month <= 12 or not 1 <= day <= _DAYS[month - 1]:
            raise TimeError(f"time {time!r} has day precision (/11) but is not a calendar date")
        if month == 2 and day == 29 and not (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)):
            raise TimeError(f"time {time!r}: {year} is not a leap year")
    else:
        raise TimeError(f"time precision /{precision} is not one this export writes (9, 10 or 11)")


Snak = tuple[str, Value]  # (PID, value)


@dataclass(frozen=True, order=True)
class Reference:
    """One reference block: its snaks in the order they are written."""

    snaks: tuple[Snak, ...]

    @property
    def properties(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p for p, _ in self.snaks))


@dataclass(frozen=True, order=True)
class Statement:
    subject: EntityRef
    property: str
    datatype: str
    value: Value
    qualifiers: tuple[Snak, ...] = ()
    references: tuple[Reference, ...] = ()

    def refs(self) -> set[EntityRef]:
        """Every entity this statement needs a QID for: subject, value, item qualifiers, item reference snaks."""
        out = {self.subject}
        for v in [self.value, *(v for _, v in self.qualifiers), *(v for r in self.references for _, v in r.snaks)]:
            if isinstance(v, ItemValue):
                out.add(v.ref)
        return out


@dataclass
class Item:
    """An entity as one Wikidata item: its terms and statements."""

    ref: EntityRef
    labels: dict[str, str] = field(default_factory=dict)
    descriptions: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, list[str]] = field(default_factory=dict)
    statements: list[Statement] = field(default_factory=list)
    sitelink: tuple[str, str] | None = None  # (site, title) used to reconcile, never written
    articles: list[str] = field(default_factory=list)  # Wikipedia article IRIs (schema:about sitelinks)


def qid_number(qid: str) -> int:
    return int(qid[1:])


def pid_number(pid: str) -> int:
    return int(pid[1:])
