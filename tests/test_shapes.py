"""Every shape in ontology/shapes.ttl: a minimal valid example and a minimal invalid one.

The valid example is tests/fixtures/shapes/valid.trig, which has at least one target for every
shape (checked below) and conforms. Each invalid example breaks it by one fact (added and/or
removed triples) and must fail with that shape's own message.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.namespace import RDF, SH

from apsco_kg import graph
from apsco_kg.settings import Settings
from apsco_kg.validate import Report, validate_files

FIXTURES = Path(__file__).parent / "fixtures" / "shapes"
VALID = FIXTURES / "valid.trig"
APSH = "https://w3id.org/apsco/shapes#"
HEADER = """
@base <https://w3id.org/apsco/id/> .
@prefix apsco: <https://w3id.org/apsco/ontology#> .
@prefix rdfs:  <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd:   <http://www.w3.org/2001/XMLSchema#> .
@prefix skos:  <http://www.w3.org/2004/02/skos/core#> .
@prefix org:   <http://www.w3.org/ns/org#> .
@prefix prov:  <http://www.w3.org/ns/prov#> .
@prefix g:     <https://w3id.org/apsco/graph/> .
@prefix role:  <https://w3id.org/apsco/id/role/> .
@prefix wd:    <http://www.wikidata.org/entity/> .
"""
GT = ox.NamedNode("https://w3id.org/apsco/graph/t")


@dataclass(frozen=True)
class Case:
    shape: str  # local name in apsh:
    message: str  # a part of the shape's sh:message
    add: str = ""  # Turtle, added to graph:t
    remove: str = ""  # Turtle; each triple must exist in the valid example (in any graph)


CASES: list[Case] = [
    Case("LabelShape", "other than English (@en) or Chinese", add='<state/s> skos:prefLabel "Staat"@de .'),
    Case("LabelShape", "two different preferred names", add='<state/s> skos:prefLabel "Another state"@en .'),
    Case("LabelShape", "needs a language tag", add='<scheme/x> skos:prefLabel "untagged" .'),
    Case("AltLabelShape", "an abbreviation needs a language tag", add='<org/o> apsco:abbreviation "ORG" .'),
    Case("AltLabelShape", "another name (skos:altLabel) needs a language tag", add='<org/o> skos:altLabel "Org" .'),
    Case("EnglishLabelShape", "has no English name",
         add='<place/region> skos:prefLabel "地区"@zh .', remove='<place/region> skos:prefLabel "Region"@en .'),
    Case("WikidataShape", "must be an IRI of the form",
         add="<state/s2> apsco:wikidataItem <https://www.wikidata.org/wiki/Q148> .",
         remove="<state/s2> apsco:reconciliation apsco:NoItemKnown ."),
    Case("WikidataShape", "has both a confirmed Wikidata item and a reconciliation status",
         add="<state/s> apsco:reconciliation apsco:NoItemKnown ."),
    Case("WikidataShape", "more than one Wikidata item", add="<state/s> apsco:wikidataItem wd:Q149 ."),
    Case("AgentShape", "Wikipedia article link", add="<org/o> apsco:wikipediaArticle <http://example.org/o> ."),
    Case("OrganizationShape", "the headquarters must be a city", add="<org/o> apsco:headquarters <place/region> ."),
    Case("OrganizationShape", "the inception date must be", add='<org/o> apsco:inception "28 October 2005" .'),
    Case("IntergovernmentalOrganizationShape", "who may be a member", add='<org/o> apsco:memberEligibility "states" .'),
    Case("CommitteeShape", "the secretariat location must be a city",
         add="<org/committee> apsco:secretariatLocation <state/s> ."),
    Case("PlaceShape", "the country of a place must be a state", add="<place/city> apsco:country <place/region> ."),
    Case("CityShape", "a city needs its Wikidata item", remove="<place/city> apsco:wikidataItem wd:Q956 ."),
    Case("RegionShape", "a region is larger than one state", add="<place/region> apsco:country <state/s> ."),
    Case("StateShape", "a state needs its Wikidata item", remove="<state/s2> apsco:reconciliation apsco:NoItemKnown ."),
    Case("PersonShape", "an honorific", add='<person/p> apsco:honorificPrefix "Dr." .'),
    Case("TreatyShape", "the signing date must be",
         add='<treaty/t> apsco:signingDate "2005-10-28T10:00:00"^^xsd:dateTime .'),
    Case("TreatyShape", "one title per language", add='<treaty/t> apsco:title "The Treaty"@en .'),
    Case("EventShape", "the date must be a year", add='<event/ceremony> apsco:date "2005-10-28" .'),
    Case("EventShape", "the location must be a place", add="<event/ceremony> apsco:location <person/p> ."),
    Case("MeetingShape", "number of participating states", add="<event/conf-1> apsco:participantCount -1 ."),
    Case("ConferenceShape", "needs its number in the series", remove="<event/conf-1> apsco:ordinal 1 ."),
    Case("ConferenceShape", "is a session of a series", remove="<event/conf-1> apsco:inSeries <series/s> ."),
    Case("DraftingMeetingShape", "held in one place", add="<event/drafting> apsco:location <place/region> ."),
    Case("CeremonyShape", "a ceremony is not a numbered session", add="<event/ceremony> apsco:inSeries <series/s> ."),
    Case("InitiativeShape", "an initiative is not a numbered session", add="<event/initiative> apsco:inSeries <series/s> ."),
    Case("MeetingSeriesShape", "a frequency rule must be", add="<series/s> apsco:frequencyRule <state/s> ."),
    Case("FrequencyRuleShape", "exactly one interval", remove='<rule/s-1> apsco:interval "P1Y"^^xsd:duration .'),
    Case("RoleShape", "exactly one Wikidata property",
         add="role:observer a apsco:Role ; skos:inScheme <scheme/roles> ; skos:prefLabel \"observer\"@en ; "
             "apsco:wikidataDirection apsco:AgentToContext ."),
    Case("PostShape", "the role of a post", add="<post/sg> org:role <state/s> ."),
    Case("InvolvementShape", "exactly one agent", remove="<signature/t/s> apsco:agent <state/s> ."),
    Case("InvolvementShape", "starts after it ends",
         add='<membership/o/s> apsco:startDate "2005-11"^^xsd:gYearMonth .'),
    Case("InvolvementShape", "starts after it ends",
         add='<participation/initiative/s> apsco:startDate "2001"^^xsd:gYear ; apsco:endDate "2000-12-31Z"^^xsd:date .'),
    Case("MembershipShape", "exactly one member with org:member", remove="<membership/o/s> org:member <state/s> ."),
    Case("MembershipShape", "must be an apsco:Organization",
         add="<membership/o/s> org:organization <state/s2> .", remove="<membership/o/s> org:organization <org/o> ."),
    Case("SignatureShape", "role is role:signatory",
         add="<signature/t/s> apsco:role role:attendee .", remove="<signature/t/s> apsco:role role:signatory ."),
    Case("ParticipationShape", "role:initiator, role:host or role:attendee",
         add="<participation/initiative/s> apsco:role role:signatory .",
         remove="<participation/initiative/s> apsco:role role:initiator ."),
    Case("PostHoldingShape", "held by a person",
         add="<post-holding/sg/p> apsco:agent <state/s> .", remove="<post-holding/sg/p> apsco:agent <person/p> ."),
    Case("TallyShape", "exactly one count", remove="<tally/t> apsco:count 8 ."),
    Case("EntryIntoForceConditionShape", "1 or more",
         add="<condition/c> apsco:minimumStates 0 .", remove="<condition/c> apsco:minimumStates 5 ."),
    Case("ProjectPortfolioShape", "a kind of satellite must be", add="<portfolio/p> apsco:satelliteKind <concept/area/a> ."),
    Case("ConceptShape", "belongs to a concept scheme", remove="<concept/objective/1> skos:inScheme <scheme/x> ."),
    Case("SatelliteKindShape", "larger than the maximum",
         add="<concept/satellite-kind/m> apsco:minimumMassKg 700 .",
         remove="<concept/satellite-kind/m> apsco:minimumMassKg 500 ."),
    Case("ObjectiveShape", "wording (skos:definition) needs a language tag",
         add='<concept/objective/1> skos:definition "To cooperate." .'),
    Case("CooperationAreaShape", "broader cooperation area", add="<concept/area/a> skos:broader <concept/objective/1> ."),
    Case("OrganizationKindShape", "broader kind of organization",
         add="<concept/org-kind/k> skos:broader <concept/area/b> ."),
    Case("InstrumentKindShape", "broader kind of instrument",
         add="<concept/instrument/r> skos:broader <concept/area/b> ."),
    Case("SourceDocumentShape", "needs an English title",
         add='<work/page> apsco:title "网页"@zh .', remove='<work/page> apsco:title "A page"@en .'),
    Case("SourceDocumentShape", "a URL must be an http(s) IRI", add="<work/page> apsco:url <ftp://example.org/page> ."),
    Case("WikipediaArticleShape", "exactly one language", remove='<source/a> apsco:inLanguage "en" .'),
    Case("WebPageShape", "the website name is plain text", add='<work/page> apsco:website "example.org"@en .'),
    Case("ScholarlyArticleShape", "the SSRN ID is digits only", add='<work/paper> apsco:ssrnId "SSRN-1" .'),
    Case("CitationShape", "exactly one Wikipedia article", remove="<citation/a/1> apsco:citedIn <source/a> ."),
    Case("ProvenanceGraphShape", "derived from exactly one Wikipedia article",
         add="g:t prov:wasDerivedFrom <work/page> ."),
    Case("ProvenanceGraphShape", "cites a reference of the other article",
         add="g:t apsco:citesReference <citation/b/1> ."),
    Case("ReconciliationStatusShape", "needs an English rdfs:label",
         add='apsco:Unsure a apsco:ReconciliationStatus ; rdfs:label "不确定"@zh .'),
]

# Valid edge cases: mixed precision that cannot be ordered is accepted, not flagged.
VALID_VARIANTS: list[str] = [
    '<membership/o/s> apsco:startDate "2005-10"^^xsd:gYearMonth .',  # 2005-10 vs 2005-10-28: equal at month
    '<participation/initiative/s> apsco:startDate "1992"^^xsd:gYear ; apsco:endDate "1992-01-01"^^xsd:date .',
    '<participation/initiative/s> apsco:startDate "1992-05-01"^^xsd:date ; apsco:endDate "1993"^^xsd:gYear .',
    '<concept/area/b> skos:prefLabel "广泛领域"@zh-Hans .',  # a zh subtag is Chinese
]


def _triples(turtle: str) -> set[ox.Triple]:
    return {ox.Triple(q.subject, q.predicate, q.object)
            for q in ox.parse((HEADER + turtle).encode(), format=ox.RdfFormat.TURTLE)}


def variant(tmp_path: Path, add: str = "", remove: str = "") -> Path:
    """valid.trig with `remove` taken out and `add` put into graph:t, written as N-Quads."""
    quads = list(ox.parse(VALID.read_bytes(), format=ox.RdfFormat.TRIG))
    gone = _triples(remove)
    kept = [q for q in quads if ox.Triple(q.subject, q.predicate, q.object) not in gone]
    present = {ox.Triple(q.subject, q.predicate, q.object) for q in quads}
    assert gone <= present, f"the removal names triples the valid example does not have: {gone - present}"
    kept += [ox.Quad(t.subject, t.predicate, t.object, GT) for t in _triples(add)]
    path = tmp_path / "variant.nq"
    path.write_bytes(ox.serialize(kept, format=ox.RdfFormat.N_QUADS))
    return path


def shapes_graph(settings: Settings) -> rdflib.Graph:
    g = rdflib.Graph()
    g.parse(data=settings.shapes_file.read_bytes(), format="turtle")
    return g


def node_shapes(settings: Settings) -> set[str]:
    return {str(s)[len(APSH):] for s in shapes_graph(settings).subjects(RDF.type, SH.NodeShape)
            if str(s).startswith(APSH)}


@pytest.fixture(scope="module")
def valid_report(settings: Settings) -> Report:
    return validate_files(settings, [VALID])


def test_the_valid_example_conforms(valid_report: Report) -> None:
    assert valid_report.entries == ()
    assert valid_report.conforms


def test_every_shape_has_targets_in_the_valid_example(settings: Settings) -> None:
    """So 'the valid example conforms' is a valid example for every shape, not a vacuous pass."""
    kg = graph.load(settings, extra_files=[VALID], data=False)
    shapes = shapes_graph(settings)
    untargeted = []
    for shape in shapes.subjects(RDF.type, SH.NodeShape):
        if not str(shape).startswith(APSH):
            continue
        targets = 0
        for cls in shapes.objects(shape, SH.targetClass):
            targets += sum(1 for _ in kg.store.quads_for_pattern(None, graph.RDF_TYPE, ox.NamedNode(str(cls)), None))
        for prop in shapes.objects(shape, SH.targetSubjectsOf):
            targets += sum(1 for _ in kg.store.quads_for_pattern(None, ox.NamedNode(str(prop)), None, None))
        if targets == 0:
            untargeted.append(str(shape))
    assert untargeted == []


def test_every_shape_has_an_invalid_example(settings: Settings) -> None:
    assert node_shapes(settings) == {c.shape for c in CASES}


def test_every_constraint_has_a_message(settings: Settings) -> None:
    """A curator sees sh:message, never pyshacl's generated text: every shape and property shape has one."""
    shapes = shapes_graph(settings)
    missing = []
    for shape in shapes.subjects(RDF.type, SH.NodeShape):
        for prop in shapes.objects(shape, SH.property):
            if shapes.value(prop, SH.message) is None:
                missing.append(f"{shape} {shapes.value(prop, SH.path)}")
        node_level = {SH["or"], SH["and"], SH["not"], SH.xone, SH.sparql}
        if any(shapes.value(shape, p) is not None for p in node_level - {SH.sparql}) and shapes.value(shape, SH.message) is None:
            missing.append(str(shape))
        for sparql in shapes.objects(shape, SH.sparql):
            if shapes.value(sparql, SH.message) is None:
                missing.append(f"{shape} sparql")
    assert missing == []


@pytest.mark.parametrize("case", CASES, ids=[f"{c.shape}:{c.message[:30]}" for c in CASES])
def test_invalid_example_fails_with_the_shapes_message(case: Case, settings: Settings, tmp_path: Path) -> None:
    report = validate_files(settings, [variant(tmp_path, case.add, case.remove)])
    assert not report.conforms
    hits = [e for e in report.entries if e.shape == APSH + case.shape and case.message in e.message]
    assert hits, f"expected {case.shape}: {case.message!r}; got {[(e.shape, e.message) for e in report.entries]}"
    assert all(e.severity == "Violation" for e in hits)
    # The report says where the offending entity came from.
    assert all(e.files == (str(tmp_path / "variant.nq"),) or e.files == ("ontology/",) for e in hits)


@pytest.mark.parametrize("add", VALID_VARIANTS)
def test_valid_variants_conform(add: str, settings: Settings, tmp_path: Path) -> None:
    report = validate_files(settings, [variant(tmp_path, add)])
    assert [(e.shape, e.message) for e in report.entries] == []
