"""Wikibase JSON (wbeditentity form), built with WikibaseIntegrator with the network blocked."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest

from apsco_kg import graph
from apsco_kg.settings import Settings
from apsco_kg.wikidata import batches, mapping, wikibase_json

FIXTURES = Path(__file__).parent / "fixtures" / "wikidata"
DATAVALUE_TYPE = {"wikibase-item": "wikibase-entityid", "time": "time", "string": "string", "url": "string",
                  "external-id": "string", "monolingualtext": "monolingualtext", "quantity": "quantity"}


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any socket connection fails loudly: proves the JSON is built offline."""
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("network access attempted")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def check_snak(snak: dict[str, Any], pid: str, datatypes: dict[str, str]) -> None:
    assert snak["snaktype"] == "value" and snak["property"] == pid
    assert snak["datatype"] == datatypes[pid], pid
    dv = snak["datavalue"]
    assert dv["type"] == DATAVALUE_TYPE[snak["datatype"]]
    value = dv["value"]
    if dv["type"] == "wikibase-entityid":
        assert value["entity-type"] == "item" and value["id"] == f"Q{value['numeric-id']}"
    elif dv["type"] == "time":
        assert value["calendarmodel"] == "http://www.wikidata.org/entity/Q1985727"
        assert value["precision"] in (9, 10, 11) and value["timezone"] == 0
        date = value["time"][1:11]
        if value["precision"] == 9:
            assert date.endswith("-00-00")
        elif value["precision"] == 10:
            assert date.endswith("-00") and date[5:7] != "00"
    elif dv["type"] == "monolingualtext":
        assert set(value) == {"text", "language"}
    elif dv["type"] == "string":
        assert isinstance(value, str) and value


def check_entity(e: dict[str, Any], datatypes: dict[str, str]) -> int:
    assert e["type"] == "item"
    for lang, label in e["labels"].items():
        assert label == {"language": lang, "value": label["value"]}
    n = 0
    for pid, claims in e["claims"].items():
        for c in claims:
            n += 1
            assert c["type"] == "statement" and c["rank"] == "normal" and "id" not in c
            check_snak(c["mainsnak"], pid, datatypes)
            quals = c.get("qualifiers", {})
            assert c.get("qualifiers-order", []) == list(quals)  # every qualifier property, in order
            assert all(quals.values())
            for qpid, snaks in quals.items():
                for s in snaks:
                    check_snak(s, qpid, datatypes)
            assert c["references"], f"{pid} without a reference"
            for ref in c["references"]:
                assert ref["snaks-order"] == list(ref["snaks"]) and ref["snaks-order"]
                for rpid, snaks in ref["snaks"].items():
                    for s in snaks:
                        check_snak(s, rpid, datatypes)
    return n


def test_real_graph_entities(kg: graph.KnowledgeGraph, no_network: None) -> None:
    m = mapping.build(kg)
    batch = batches.select(m)
    data = json.loads(json.dumps(wikibase_json.entities(batch), ensure_ascii=False))
    assert len(data) == len(batch.entries)
    datatypes = m.ontology.datatypes()
    assert sum(check_entity(e, datatypes) for e in data) == len(batch.statements)
    new = [e for e in data if "id" not in e]
    assert len(new) == sum(entry.create for entry in batch.entries)
    convention = next(e for e in new if e["labels"].get("en", {}).get("value") == "Convention of the Asia-Pacific Space Cooperation Organization")
    assert convention["labels"]["zh"]["value"] == "亚太空间合作组织公约"
    signatories = convention["claims"]["P1891"]
    assert len(signatories) == 9  # FORCE_APPEND: WBI's default would keep one per property
    turkey = next(c for c in signatories if c["mainsnak"]["datavalue"]["value"]["id"] == "Q43")
    assert turkey["qualifiers-order"] == ["P276", "P585", "P1545"]
    assert turkey["qualifiers"]["P1545"][0]["datavalue"] == {"value": "9", "type": "string"}
    assert turkey["qualifiers"]["P585"][0]["datavalue"]["value"]["time"] == "+2006-06-01T00:00:00Z"


def test_existing_items_carry_their_id_and_add_aliases(settings: Settings, no_network: None) -> None:
    kg = graph.load(settings.with_(data_dir=FIXTURES / "mini"))
    m = mapping.build(kg, mapping.read_qid_file(FIXTURES / "reconciled.tsv"))
    data = wikibase_json.entities(batches.select(m))
    apsco = next(e for e in data if e.get("id") == "Q900000001")
    assert apsco["labels"] == {} and apsco["descriptions"] == {}  # never overwrite an existing item's terms
    assert apsco["aliases"]["en"] == [{"language": "en", "value": "APSCO", "add": ""}]
    hq = apsco["claims"]["P159"][0]
    assert [r["snaks-order"] for r in hq["references"]] == [["P143", "P4656"], ["P813", "P854", "P1476"], ["P143"]]
    assert hq["references"][0]["snaks"]["P4656"][0]["datavalue"]["value"].endswith("oldid=1303076264")
    membership = next(e for e in data if e.get("id") == "Q869")["claims"]["P463"][0]
    assert membership["qualifiers"]["P585"][0]["datavalue"]["value"]["precision"] == 10
    assert membership["qualifiers"]["P585"][0]["datavalue"]["value"]["time"] == "+2024-10-00T00:00:00Z"
