"""Wikibase JSON entities (the `data=` of wbeditentity), built offline with WikibaseIntegrator.

WBI builds the snaks, datavalues and statements; it never touches the network for this (the tests
block sockets to prove it). Two things are filled in after it, because WBI 0.12 leaves them empty
(shared/reference/wikidata.md §4.2): `qualifiers-order` and each reference's `snaks-order`.
Claims go in with FORCE_APPEND: WBI's default (REPLACE_ALL) would keep one statement per property
and silently drop the other eight signatories.
"""

from __future__ import annotations

from typing import Any

from wikibaseintegrator import WikibaseIntegrator, datatypes
from wikibaseintegrator.models import Qualifiers, Reference as WbiReference, References
from wikibaseintegrator.wbi_enums import ActionIfExists

from .batches import Batch, Entry
from .model import (
    ExternalIdValue, ItemValue, MonolingualValue, QuantityValue, Statement, StringValue, TimeValue,
    UrlValue, Value,
)
from .vocab import GREGORIAN


def _snak(pid: str, value: Value, **kw: Any) -> datatypes.BaseDataType:
    if isinstance(value, ItemValue):
        if value.ref.qid is None:
            raise ValueError(f"{value.ref.iri} has no QID; batches.select should have held this back")
        return datatypes.Item(prop_nr=pid, value=value.ref.qid, **kw)
    if isinstance(value, TimeValue):
        return datatypes.Time(prop_nr=pid, time=value.time, precision=value.precision, calendarmodel=GREGORIAN, **kw)
    if isinstance(value, StringValue):
        return datatypes.String(prop_nr=pid, value=value.text, **kw)
    if isinstance(value, ExternalIdValue):
        return datatypes.ExternalID(prop_nr=pid, value=value.text, **kw)
    if isinstance(value, UrlValue):
        return datatypes.URL(prop_nr=pid, value=value.url, **kw)
    if isinstance(value, MonolingualValue):
        return datatypes.MonolingualText(prop_nr=pid, text=value.text, language=value.language, **kw)
    if isinstance(value, QuantityValue):
        unit = value.unit or "1"
        return datatypes.Quantity(prop_nr=pid, amount=str(value.amount), unit=unit, **kw)
    raise ValueError(f"unknown value {value!r}")


def _claim(st: Statement) -> datatypes.BaseDataType:
    quals = Qualifiers()
    for pid, val in st.qualifiers:
        quals.add(_snak(pid, val))
    refs = References()
    for block in st.references:
        r = WbiReference()
        for pid, val in block.snaks:
            r.add(_snak(pid, val))
        refs.add(r)
    return _snak(st.property, st.value, qualifiers=quals, references=refs)


def _orders(claims_json: dict[str, list[dict[str, Any]]], statements: list[Statement]) -> None:
    """Fill qualifiers-order and snaks-order in the order our statements give them."""
    by_prop: dict[str, list[Statement]] = {}
    for st in statements:
        by_prop.setdefault(st.property, []).append(st)
    for pid, claims in claims_json.items():
        for claim, st in zip(claims, by_prop[pid], strict=True):
            if st.qualifiers:
                claim["qualifiers-order"] = list(dict.fromkeys(p for p, _ in st.qualifiers))
            else:
                claim.pop("qualifiers", None)
                claim.pop("qualifiers-order", None)
            for ref_json, block in zip(claim.get("references", []), st.references, strict=True):
                ref_json["snaks-order"] = list(block.properties)


def entity(entry: Entry) -> dict[str, Any]:
    item = WikibaseIntegrator().item.new()
    if not entry.create:
        item.id = entry.item.ref.qid
    for lang, text in entry.labels.items():
        item.labels.set(lang, text)
    for lang, text in entry.descriptions.items():
        item.descriptions.set(lang, text)
    for lang, texts in entry.aliases.items():
        for text in texts:
            item.aliases.set(lang, text)
    for st in entry.statements:
        item.claims.add(_claim(st), action_if_exists=ActionIfExists.FORCE_APPEND)
    data: dict[str, Any] = item.get_json()
    _orders(data.get("claims", {}), entry.statements)
    if not entry.create:
        data["id"] = entry.item.ref.qid
        # On an existing item wbeditentity would *replace* a language's aliases; "add" appends.
        for aliases in data.get("aliases", {}).values():
            for alias in aliases:
                alias["add"] = ""
    return data


def entities(batch: Batch) -> list[dict[str, Any]]:
    return [entity(e) for e in batch.entries]
