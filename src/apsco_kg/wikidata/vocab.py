"""IRIs the Wikidata mapping reads, and the few PIDs that belong to Wikidata's own data model.

Facts and mappings live in ontology/ and data/. What is here is the *shape* of the target: P31 is
how Wikibase writes "instance of" (the ontology's apsco:wikidataClass says so in its comment),
P143 + P4656 are how Wikidata records that a statement was imported from a Wikipedia revision,
Q1985727 is the calendar model every time value carries. Each is CONFIRMED in
shared/reference/wikidata.md (P4656: see docs/wikidata.md for the evidence).
"""

from __future__ import annotations

import pyoxigraph as ox

from ..settings import ONTOLOGY

APSCO = ONTOLOGY
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
ORG = "http://www.w3.org/ns/org#"
PROV = "http://www.w3.org/ns/prov#"


# Any RDF term pyoxigraph hands back (its stubs have no common base class to name).
Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple


def value_of(term: Term) -> str:
    """The IRI, blank node id or lexical form of a term."""
    return str(term) if isinstance(term, ox.Triple) else term.value


def apsco(local: str) -> ox.NamedNode:
    return ox.NamedNode(APSCO + local)


# Ontology annotations the exports are derived from (ontology/apsco.ttl, ontology/roles.ttl).
WIKIDATA_PROPERTY = apsco("wikidataProperty")
WIKIDATA_DATATYPE = apsco("wikidataDatatype")
WIKIDATA_CLASS = apsco("wikidataClass")
WIKIDATA_DIRECTION = apsco("wikidataDirection")
WIKIDATA_REFERENCE_SNAK = apsco("wikidataReferenceSnak")
WIKIDATA_QUALIFIER_OF = apsco("wikidataQualifierOf")
WIKIDATA_COUNT_PROPERTY = apsco("wikidataCountProperty")
AGENT_TO_CONTEXT = apsco("AgentToContext")
CONTEXT_TO_AGENT = apsco("ContextToAgent")

# Entity-level identification (graph:curation).
WIKIDATA_ITEM = apsco("wikidataItem")
RECONCILIATION = apsco("reconciliation")
NEEDS_RECONCILIATION = apsco("NeedsReconciliation")
NO_ITEM_KNOWN = apsco("NoItemKnown")
WIKIPEDIA_ARTICLE = apsco("wikipediaArticle")

# Provenance (graph:sources).
PROVENANCE_GRAPH = apsco("ProvenanceGraph")
WAS_DERIVED_FROM = ox.NamedNode(PROV + "wasDerivedFrom")
CITES_REFERENCE = apsco("citesReference")
CITED_WORK = apsco("citedWork")
PUBLISHED_IN = apsco("publishedIn")
REVISION = apsco("revision")
URL_PROP = apsco("url")
TITLE = apsco("title")
IN_LANGUAGE = apsco("inLanguage")

# Involvements (docs/model.md, 'Roles'); apsco:agent/context/role are materialised by the closure.
AGENT = apsco("agent")
CONTEXT = apsco("context")
ROLE = apsco("role")

# Terms.
PREF_LABEL = ox.NamedNode(SKOS + "prefLabel")
ALT_LABEL = ox.NamedNode(SKOS + "altLabel")
ABBREVIATION = apsco("abbreviation")
DESCRIPTION = apsco("description")
RDF_TYPE = ox.NamedNode(RDF + "type")
OWL = "http://www.w3.org/2002/07/owl#"
OBJECT_PROPERTY = ox.NamedNode(OWL + "ObjectProperty")
DATATYPE_PROPERTY = ox.NamedNode(OWL + "DatatypeProperty")
OWL_CLASS = ox.NamedNode(OWL + "Class")

# Wikidata's data model.
WD = "http://www.wikidata.org/entity/"
P_INSTANCE_OF = "P31"  # instance of — the statement apsco:wikidataClass is exported as
P_IMPORTED_FROM = "P143"  # imported from Wikimedia project (reference)
P_WIKIMEDIA_IMPORT_URL = "P4656"  # Wikimedia import URL: the article revision (reference)
GREGORIAN = WD + "Q1985727"  # proleptic Gregorian calendar
LANGUAGES = ("en", "zh")  # the two languages the labels are written in
MAX_DESCRIPTION = 250  # Wikibase's limit on a description's length
