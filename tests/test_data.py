"""Hygiene of the curated data itself: IRI shape, labels in both languages, Wikidata items only where confirmed."""

from __future__ import annotations

import re

import pyoxigraph as ox
import pytest

from apsco_kg import graph

BASE = "https://w3id.org/apsco/"
# Slugs only: readable, stable, and safe to write relative to @base in the dumps (rdflib reads a
# relative reference containing ':' as an absolute IRI, so no colon may follow the base).
IRI_SHAPE = re.compile(r"^https://w3id\.org/apsco/(id|graph)/[a-z0-9][a-z0-9/-]*$|^https://w3id\.org/apsco/ontology(#[A-Za-z]+)?$")


def test_every_iri_under_our_base_is_a_slug(kg: graph.KnowledgeGraph) -> None:
    iris = {t.value for q in kg.store for t in (q.subject, q.object, q.graph_name)
            if isinstance(t, ox.NamedNode) and t.value.startswith(BASE)}
    assert iris
    assert sorted(i for i in iris if not IRI_SHAPE.match(i)) == []


@pytest.mark.parametrize("cls", ["State", "City", "Person", "Organization", "IntergovernmentalOrganization", "Committee"])
def test_named_entities_have_english_and_chinese_labels(kg: graph.KnowledgeGraph, cls: str) -> None:
    rows = kg.query(f"""
        SELECT ?e (GROUP_CONCAT(DISTINCT LANG(?l)) AS ?langs) WHERE {{
          ?e a apsco:{cls} . OPTIONAL {{ ?e skos:prefLabel ?l }}
        }} GROUP BY ?e""")
    missing = {r["e"].value: r["langs"].value for r in rows if {"en", "zh"} - set(r["langs"].value.split())}
    assert missing == {}


def test_wikidata_items_are_only_the_confirmed_ones(kg: graph.KnowledgeGraph) -> None:
    # shared/reference/wikidata.md, entries marked CONFIRMED; BELIEVED and UNRESOLVED IDs are never used.
    confirmed = {"Q414", "Q408", "Q398", "Q902", "Q31", "Q148", "Q142", "Q252", "Q794", "Q833", "Q711", "Q843",
                 "Q419", "Q928", "Q159", "Q884", "Q854", "Q869", "Q43", "Q956", "Q1861", "Q1865", "Q90", "Q1741",
                 "Q239", "Q1065", "Q328", "Q30239"}
    used = {r["q"].value.rsplit("/", 1)[1] for r in kg.query("SELECT ?q WHERE { ?e apsco:wikidataItem ?q }")}
    assert used == confirmed


def test_every_entity_without_an_item_says_why(kg: graph.KnowledgeGraph) -> None:
    rows = kg.query("""
        SELECT ?e WHERE {
          { ?e a apsco:Agent } UNION { ?e a apsco:Place } UNION { ?e a apsco:Treaty } UNION { ?e a apsco:Event }
          UNION { ?e a apsco:MeetingSeries }
          FILTER NOT EXISTS { ?e apsco:wikidataItem ?q } FILTER NOT EXISTS { ?e apsco:reconciliation ?s }
        }""")
    assert sorted(r["e"].value for r in rows) == []
