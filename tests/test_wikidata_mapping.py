"""The Wikidata mapping on the real graph: what issue 5's "done when" asks for, statement by statement."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pyoxigraph as ox
import pytest

from apsco_kg import graph
from apsco_kg.settings import Settings
from apsco_kg.wikidata import batches, mapping
from apsco_kg.wikidata.model import (
    ItemValue, MonolingualValue, QuantityValue, Statement, Status, StringValue, TimeValue, UrlValue,
)

ID = "https://w3id.org/apsco/id/"
FIXTURES = Path(__file__).parent / "fixtures" / "wikidata"
ENWIKI_REVISION = "https://en.wikipedia.org/w/index.php?title=Asia-Pacific_Space_Cooperation_Organization&oldid=1303076264"
APSCO = ID + "org/apsco"
MEMBERS = {"bangladesh": "Q902", "china": "Q148", "iran": "Q794", "mongolia": "Q711", "pakistan": "Q843",
           "peru": "Q419", "thailand": "Q869", "turkey": "Q43"}
SIGNATORIES_2005 = {"bangladesh": "Q902", "indonesia": "Q252", "iran": "Q794", "mongolia": "Q711",
                    "pakistan": "Q843", "peru": "Q419", "thailand": "Q869", "china": "Q148"}
# Each AP-MCSTA session: (month, host QID), as the Chinese article lists them.
CONFERENCES = {1: ("+1994-01-00T00:00:00Z", "Q869"), 2: ("+1995-04-00T00:00:00Z", "Q843"),
               3: ("+1996-05-00T00:00:00Z", "Q884"), 4: ("+1997-12-00T00:00:00Z", "Q398"),
               5: ("+1999-12-00T00:00:00Z", "Q794"), 6: ("+2001-09-00T00:00:00Z", "Q148")}


@pytest.fixture(scope="module")
def m(kg: graph.KnowledgeGraph) -> mapping.Mapping:
    return mapping.build(kg)


def stmts(m: mapping.Mapping, subject: str, pid: str) -> list[Statement]:
    return [s for s in m.statements if s.subject.iri == subject and s.property == pid]


def item_iri(v: object) -> str:
    assert isinstance(v, ItemValue)
    return v.ref.iri


def item_qid(v: object) -> str | None:
    assert isinstance(v, ItemValue)
    return v.ref.qid


def has_wikipedia_ref(st: Statement, project: str, revision: bool) -> bool:
    for r in st.references:
        snaks = dict(r.snaks)
        if isinstance(snaks.get("P143"), ItemValue) and snaks["P143"].ref.qid == project:
            return (snaks.get("P4656") == UrlValue(ENWIKI_REVISION)) if revision else "P4656" not in snaks
    return False


def test_every_statement_has_a_reference(m: mapping.Mapping) -> None:
    assert m.statements
    assert all(st.references for st in m.statements)


def test_every_full_member_is_a_member_as_of_october_2024_with_both_kinds_of_reference(m: mapping.Mapping) -> None:
    for slug, qid in MEMBERS.items():
        [st] = [s for s in stmts(m, ID + "state/" + slug, "P463") if item_iri(s.value) == APSCO]
        assert st.subject.qid == qid
        assert st.qualifiers == (("P585", TimeValue("+2024-10-00T00:00:00Z", 10)),)
        assert has_wikipedia_ref(st, "Q328", revision=True)
        # Reference 5 (the archived member list) is a second block: its title and archive date.
        web = [dict(r.snaks) for r in st.references if "P143" not in dict(r.snaks)]
        assert web and web[0]["P1476"] == MonolingualValue("Member states", "en")
        assert web[0]["P2960"] == TimeValue("+2020-12-04T00:00:00Z", 11)


def test_indonesia_signed_but_is_not_a_full_member(m: mapping.Mapping) -> None:
    indonesia = ID + "state/indonesia"
    assert not [s for s in stmts(m, indonesia, "P463") if item_iri(s.value) == APSCO]
    convention = ID + "treaty/apsco-convention"
    assert [s for s in stmts(m, convention, "P1891") if item_iri(s.value) == indonesia]


def test_every_signatory_with_its_signing_date(m: mapping.Mapping) -> None:
    convention = ID + "treaty/apsco-convention"
    by_state = {item_qid(s.value): s for s in stmts(m, convention, "P1891")}
    assert set(by_state) == set(SIGNATORIES_2005.values()) | {"Q43"}
    for qid in SIGNATORIES_2005.values():
        assert by_state[qid].qualifiers == (("P585", TimeValue("+2005-10-28T00:00:00Z", 11)),)
        assert has_wikipedia_ref(by_state[qid], "Q30239", revision=False)
    turkey = dict(by_state["Q43"].qualifiers)
    assert turkey["P585"] == TimeValue("+2006-06-01T00:00:00Z", 11)
    assert item_qid(turkey["P276"]) == "Q956"  # signed in Beijing
    assert turkey["P1545"] == StringValue("9")  # the ninth signatory, as a string


def test_each_conference_with_its_date_ordinal_and_host(m: mapping.Mapping) -> None:
    for n, (month, host) in CONFERENCES.items():
        event = ID + f"event/ap-mcsta-{n}"
        [date] = stmts(m, event, "P585")
        assert date.value == TimeValue(month, 10)
        [country] = stmts(m, event, "P17")
        assert item_qid(country.value) == host
        [series] = stmts(m, event, "P179")
        assert item_iri(series.value) == ID + "series/ap-mcsta"
        assert series.qualifiers == (("P1545", StringValue(str(n))),)
        [cls] = stmts(m, event, "P31")
        assert item_qid(cls.value) == "Q625994"
        assert all(has_wikipedia_ref(s, "Q30239", revision=False) for s in (date, country, series, cls))
    [bangkok] = stmts(m, ID + "event/ap-mcsta-1", "P276")
    assert item_qid(bangkok.value) == "Q1861"


def test_headquarters_is_backed_by_both_articles_and_the_cited_pages(m: mapping.Mapping) -> None:
    [hq] = stmts(m, APSCO, "P159")
    assert item_qid(hq.value) == "Q956"
    assert has_wikipedia_ref(hq, "Q328", revision=True)
    assert has_wikipedia_ref(hq, "Q30239", revision=False)
    titles = {dict(r.snaks)["P1476"] for r in hq.references if "P1476" in dict(r.snaks)}
    assert MonolingualValue("Asia Pacific Space Cooperation Organisation (APSCO) | UN-SPIDER Knowledge Portal", "en") in titles
    assert MonolingualValue("Asia-Pacific Space Cooperation Organization (APSCO)", "en") in titles  # UIA, ref 4
    for r in hq.references:
        if "P1476" in dict(r.snaks):
            assert "P813" in dict(r.snaks)  # each cited page with its retrieval date


def test_inception_keeps_each_articles_precision(m: mapping.Mapping) -> None:
    by_value = {s.value: s for s in stmts(m, APSCO, "P571")}
    assert set(by_value) == {TimeValue("+2005-00-00T00:00:00Z", 9), TimeValue("+2005-10-28T00:00:00Z", 11)}
    assert has_wikipedia_ref(by_value[TimeValue("+2005-00-00T00:00:00Z", 9)], "Q328", revision=True)
    assert has_wikipedia_ref(by_value[TimeValue("+2005-10-28T00:00:00Z", 11)], "Q30239", revision=False)


def test_secretary_general(m: mapping.Mapping) -> None:
    [sg] = stmts(m, APSCO, "P1037")
    assert item_iri(sg.value) == ID + "person/li-xinjun"
    assert sg.value.ref.status is Status.NO_ITEM_KNOWN  # type: ignore[union-attr]
    assert has_wikipedia_ref(sg, "Q30239", revision=False)
    [human] = stmts(m, ID + "person/li-xinjun", "P31")
    assert item_qid(human.value) == "Q5"


def test_attendees_are_participants_not_members(m: mapping.Mapping) -> None:
    ceremony = ID + "event/2005-founding-ceremony"
    attendees = {item_qid(s.value) for s in stmts(m, ceremony, "P710")}
    assert attendees == {"Q414", "Q833", "Q928", "Q159", "Q854"}
    for qid in attendees:
        assert not [s for s in m.statements if s.subject.qid == qid and s.property == "P463"
                    and item_iri(s.value) == APSCO]


def test_apsco_is_reconciled_never_created(m: mapping.Mapping) -> None:
    apsco = m.items[APSCO]
    assert apsco.ref.status is Status.NEEDS_RECONCILIATION and apsco.ref.qid is None
    assert apsco.sitelink == ("enwiki", "Asia-Pacific Space Cooperation Organization")
    batch = batches.select(m)
    assert APSCO not in {e.item.ref.iri for e in batch.entries if e.create}
    assert any(APSCO in note and "refusing to CREATE" in note for note in batch.notes)
    # Its statements wait for a QID rather than being written against a guess.
    assert not [s for s in batch.statements if APSCO in {r.iri for r in s.refs()}]


def test_qids_come_only_from_the_graph(m: mapping.Mapping, kg: graph.KnowledgeGraph) -> None:
    confirmed = {q.subject.value: q.object.value.rsplit("/", 1)[-1]
                 for q in kg.store.quads_for_pattern(None, ox.NamedNode("https://w3id.org/apsco/ontology#wikidataItem"), None, None)}
    for iri, item in m.items.items():
        if item.ref.status is Status.CONFIRMED:
            assert item.ref.qid == confirmed[iri]
        else:
            assert item.ref.qid is None


def test_mapping_follows_the_ontology_annotations(settings: Settings) -> None:
    """Change an annotation and the export changes: nothing is hard-coded."""
    kg = graph.load(settings)
    role = ox.NamedNode(ID + "role/signatory")
    prop = ox.NamedNode("https://w3id.org/apsco/ontology#wikidataProperty")
    [annotation] = list(kg.store.quads_for_pattern(role, prop, None, graph.ONTOLOGY_GRAPH))
    kg.store.remove(annotation)
    kg.store.add(ox.Quad(role, prop, ox.NamedNode("http://www.wikidata.org/entity/P710"), graph.ONTOLOGY_GRAPH))
    m = mapping.build(kg)
    convention = ID + "treaty/apsco-convention"
    assert not stmts(m, convention, "P1891")
    assert len(stmts(m, convention, "P710")) == 9


def test_reconciliation_file_supplies_the_qid(kg: graph.KnowledgeGraph, tmp_path: Path) -> None:
    tsv = tmp_path / "reconciled.tsv"
    tsv.write_text(f"{APSCO}\tQ900000001\n", encoding="utf-8")
    m = mapping.build(kg, mapping.read_qid_file(tsv))
    assert m.items[APSCO].ref.qid == "Q900000001"
    batch = batches.select(m)
    written = [s for s in batch.statements if s.subject.iri == APSCO]
    assert {s.property for s in written} >= {"P31", "P159", "P571"}
    members = [s for s in batch.statements if s.property == "P463" and item_qid(s.value) == "Q900000001"]
    assert len(members) == len(MEMBERS)


@pytest.mark.parametrize("line", [
    "https://w3id.org/apsco/id/org/apsco Q1",  # a space, not a TAB
    "https://w3id.org/apsco/id/org/apsco\tP31",
    "org/apsco\tQ12",
    "https://w3id.org/apsco/id/org/apsco\tQ012",
])
def test_qid_files_are_read_strictly(tmp_path: Path, line: str) -> None:
    tsv = tmp_path / "bad.tsv"
    tsv.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match="bad.tsv:1"):
        mapping.read_qid_file(tsv)


def test_member_count_from_the_full_member_tally_only(m: mapping.Mapping) -> None:
    [count] = stmts(m, APSCO, "P2124")
    assert count.value == QuantityValue(Decimal(8))
    assert count.qualifiers == (("P585", TimeValue("+2024-10-00T00:00:00Z", 10)),)
    assert has_wikipedia_ref(count, "Q328", revision=True)
    # Signatory and committee tallies are not member counts: their roles name no count property.
    assert not [s for s in m.statements if s.property == "P2124" and s.subject.iri != APSCO]
