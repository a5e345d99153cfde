"""Into Wikidata-style tools (issue 5): the mapping from the graph to Wikidata statements, and its
renderings — QuickStatements (V1, CSV), Wikibase JSON, a Wikidata-shaped RDF view — and a diff
against a Wikidata-style SPARQL endpoint. See docs/wikidata.md.

Modules: model (values, statements, items) · vocab (annotation IRIs, Wikidata's own PIDs) ·
mapping (graph → statements) · batches (batch 1 / batch 2) · quickstatements (render, strict
parse) · wikibase_json (WikibaseIntegrator, offline) · view (Wikidata RDF) · diff (SPARQLWrapper).
"""
