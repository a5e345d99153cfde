"""The loader's query semantics."""

from __future__ import annotations

import pyoxigraph as ox

from apsco_kg import graph


def test_union_default_graph_is_a_set_not_a_multiset(kg: graph.KnowledgeGraph) -> None:
    # Both articles state the headquarters, so the triple sits in three graphs (enwiki, its
    # cite-1-4 graph and zhwiki); a plain query must still answer it once.
    apsco, hq = ox.NamedNode(graph.ID + "org/apsco"), ox.NamedNode(graph.ONTOLOGY + "headquarters")
    holders = {q.graph_name for q in kg.store.quads_for_pattern(apsco, hq, None, None)}
    assert len(holders) >= 2
    rows = list(kg.query("SELECT ?city WHERE { id:org\\/apsco apsco:headquarters ?city }"))
    assert [r["city"].value for r in rows] == [graph.ID + "place/beijing"]
    assert len({r["g"] for r in kg.query("SELECT ?g WHERE { GRAPH ?g { id:org\\/apsco apsco:headquarters ?c } }")}) == len(holders)


def test_every_triple_answers_once(kg: graph.KnowledgeGraph) -> None:
    total = len(list(kg.query("SELECT * WHERE { ?s ?p ?o }")))
    distinct = len(list(kg.query("SELECT DISTINCT * WHERE { ?s ?p ?o }")))
    assert total == distinct
