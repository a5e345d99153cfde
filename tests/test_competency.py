"""The competency questions (shared/competency-questions.md), answered by the saved queries cq01…cq20
over the built graph, checked against what the two articles say.

Expectations are written from the articles, not from the data files. Results are compared as sets
of values, column-agnostic: for "which states" questions the set of state IRIs in the answer must
equal the expected set exactly; for the others the expected values must all be present.
"""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from apsco_kg import queries

ID = "https://w3id.org/apsco/id/"
EN = ID + "source/enwiki"
ZH = ID + "source/zhwiki"


def state(slug: str) -> str:
    return f"{ID}state/{slug}"


def run_cq(number: int, params: dict[str, str] | None = None, kg: object = None) -> queries.QueryResult:
    matches = [q for q in queries.catalogue() if q.name.startswith(f"cq{number:02d}")]
    assert matches, f"no saved query for competency question {number} (queries/cq{number:02d}-*.rq)"
    result = queries.run(matches[0], params or {}, kg=kg)
    assert result.kind != "select" or result.rows, f"{matches[0].name} answered nothing"
    return result


def values(result: queries.QueryResult) -> set[str]:
    return {str(v) for row in result.rows for v in row.values() if v is not None}


def states_in(result: queries.QueryResult) -> set[str]:
    return {v for v in values(result) if v.startswith(ID + "state/")}


def assert_contains(found: set[str], expected: Iterable[str], question: int) -> None:
    missing = set(expected) - found
    assert not missing, f"CQ{question}: missing {sorted(missing)}"


MEMBERS = {state(s) for s in ("bangladesh", "china", "iran", "mongolia", "pakistan", "peru", "thailand", "turkey")}
SIGNATORIES_2005 = {state(s) for s in ("bangladesh", "indonesia", "iran", "mongolia", "pakistan", "peru", "thailand", "china")}
PREPCOM = {state(s) for s in ("australia", "bangladesh", "china", "indonesia", "south-korea", "mongolia",
                              "pakistan", "russia", "sri-lanka", "thailand")}


def test_cq01_kind_headquarters_state(kg: object) -> None:
    found = values(run_cq(1, kg=kg))
    assert_contains(found, {"https://w3id.org/apsco/ontology#IntergovernmentalOrganization",
                            ID + "place/beijing", state("china")}, 1)


def test_cq02_names_including_predecessor(kg: object) -> None:
    found = values(run_cq(2, kg=kg))
    assert_contains(found, {"Asia-Pacific Space Cooperation Organization", "APSCO", "亚太空间合作组织",
                            "亚太太空合作组织", "亚太空间合作机构", "亚太空间技术应用多边合作会议",
                            "Asia-Pacific Conference on Multilateral Cooperation in Space Technology and Applications"}, 2)


def test_cq03_establishment_act_and_operations(kg: object) -> None:
    found = values(run_cq(3, kg=kg))
    # EN: established 2005 (category) and signed in 2005; ZH: 2005-10-28 signing marks the establishment;
    # EN ref 8: "starts operation", retrieved 2010-02-09, bounds the start of operations.
    assert_contains(found, {"2005", "2005-10-28", ID + "treaty/apsco-convention", "2010-02-09"}, 3)


def test_cq04_secretary_general_and_source(kg: object) -> None:
    found = values(run_cq(4, kg=kg))
    assert_contains(found, {ID + "person/li-xinjun", ZH}, 4)
    assert EN not in found, "only the Chinese article names the Secretary-General"


def test_cq05_member_of_iaf_since_2021(kg: object) -> None:
    found = values(run_cq(5, kg=kg))
    assert_contains(found, {ID + "org/iaf", "2021"}, 5)


def test_cq06_objectives_and_areas(kg: object) -> None:
    found = values(run_cq(6, kg=kg))
    assert_contains(found, {f"{ID}concept/objective/{n}" for n in range(1, 6)}, 6)
    assert_contains(found, {ID + "concept/area/" + a for a in (
        "earth-observation", "disaster-management", "environmental-protection", "satellite-communication",
        "satellite-navigation-and-positioning", "space-science-research", "space-science-and-technology-education",
        "training")}, 6)


def test_cq07_projects_as_of_2010(kg: object) -> None:
    found = values(run_cq(7, kg=kg))
    assert_contains(found, {"2010"} | {ID + "concept/satellite-kind/" + k for k in (
        "light", "middle-class", "research", "remote-sensing", "telecommunications")}, 7)
    assert "10" in found or 10 in {v for r in run_cq(7, kg=kg).rows for v in r.values()}


def test_cq08_full_members_as_of_october_2024(kg: object) -> None:
    result = run_cq(8, kg=kg)
    assert states_in(result) == MEMBERS
    assert "2024-10" in values(result)


def test_cq09_signatories_dates_places(kg: object) -> None:
    result = run_cq(9, kg=kg)
    assert states_in(result) == SIGNATORIES_2005 | {state("turkey")}
    found = values(result)
    assert_contains(found, {"2005-10-28", "2006-06-01", ID + "place/beijing"}, 9)
    turkey = [r for r in result.rows if state("turkey") in {str(v) for v in r.values()}]
    assert turkey and all("2006-06-01" in {str(v) for v in r.values()} for r in turkey)


def test_cq10_signatories_not_full_members(kg: object) -> None:
    assert states_in(run_cq(10, kg=kg)) == {state("indonesia")}


def test_cq11_ceremony_attendees_without_signing(kg: object) -> None:
    expected = {state(s) for s in ("argentina", "malaysia", "philippines", "russia", "sri-lanka")}
    assert states_in(run_cq(11, kg=kg)) == expected


def test_cq12_preparatory_committee_and_secretariat(kg: object) -> None:
    result = run_cq(12, kg=kg)
    assert states_in(result) == PREPCOM
    assert ID + "place/beijing" in values(result)


def test_cq13_initiators_1992(kg: object) -> None:
    assert states_in(run_cq(13, kg=kg)) == {state("china"), state("thailand"), state("pakistan")}


def test_cq14_every_role_of_thailand(kg: object) -> None:
    found = values(run_cq(14, {"state": state("thailand")}, kg=kg))
    roles = {v for v in found if v.startswith(ID + "role/")}
    assert roles == {ID + "role/" + r for r in (
        "initiator", "committee-member", "host", "attendee", "signatory", "full-member")}


def test_cq14_roles_of_another_state(kg: object) -> None:
    found = values(run_cq(14, {"state": state("turkey")}, kg=kg))
    assert {v for v in found if v.startswith(ID + "role/")} == {ID + "role/signatory", ID + "role/full-member"}


def test_cq15_convention_title_signing_and_entry_into_force(kg: object) -> None:
    found = values(run_cq(15, kg=kg))
    assert_contains(found, {"亚太空间合作组织公约", "2005-10-28", ID + "place/beijing", "5",
                            ID + "concept/instrument/ratification", ID + "concept/instrument/acceptance",
                            ID + "org/host-government"}, 15)


def test_cq16_conferences_in_order(kg: object) -> None:
    result = run_cq(16, kg=kg)
    expected = [("1", "1994-01", "thailand"), ("2", "1995-04", "pakistan"), ("3", "1996-05", "south-korea"),
                ("4", "1997-12", "bahrain"), ("5", "1999-12", "iran"), ("6", "2001-09", "china")]
    rows = [{str(v) for v in r.values() if v is not None} for r in result.rows]
    assert len(rows) == 6, "six conferences, one row each"
    for row, (ordinal, date, host) in zip(rows, expected):
        assert {ordinal, date, state(host)} <= row, f"CQ16 row for conference {ordinal}: {sorted(row)}"
    assert ID + "place/bangkok" in rows[0]


def test_cq17_meetings_of_2003(kg: object) -> None:
    result = run_cq(17, kg=kg)
    found = values(result)
    assert_contains(found, {ID + "event/2003-kuala-lumpur-preparatory-meeting", ID + "event/2003-bangkok-drafting-group-1",
                            ID + "event/2003-beijing-drafting-group-2", ID + "place/kuala-lumpur",
                            ID + "place/bangkok", ID + "place/beijing", ID + "org/united-nations"}, 17)
    assert states_in(result) >= {state(s) for s in ("china", "south-korea", "iran", "malaysia", "philippines",
                                                       "russia", "thailand")}


def test_cq18_planned_frequency(kg: object) -> None:
    found = values(run_cq(18, kg=kg))
    assert_contains(found, {"P1Y", "P4Y", "P2Y"}, 18)


def test_cq19_provenance_of_a_statement(kg: object) -> None:
    found = values(run_cq(19, kg=kg))
    assert EN in found and ZH in found
    assert any(v.startswith(ID + "citation/enwiki/") for v in found)


def test_cq20_statements_of_one_article_only(kg: object) -> None:
    result = run_cq(20, kg=kg)
    found = values(result)
    assert EN in found and ZH in found
    # The IAF membership is English-only; the Secretary-General is Chinese-only.
    assert ID + "membership/iaf/apsco" in found or ID + "org/iaf" in found
    assert ID + "person/li-xinjun" in found or ID + "post-holding/apsco-secretary-general/li-xinjun" in found
    # The headquarters is stated by both articles, so no row may present it as single-sourced.
    for row in result.rows:
        vals = {str(v) for v in row.values()}
        assert not ({ID + "org/apsco", "https://w3id.org/apsco/ontology#headquarters"} <= vals), row


@pytest.mark.parametrize("number", range(1, 21))
def test_every_competency_question_has_a_saved_query(number: int) -> None:
    assert [q for q in queries.catalogue() if q.name.startswith(f"cq{number:02d}")]
