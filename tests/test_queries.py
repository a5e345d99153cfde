"""The saved-query catalogue, parameter binding, and result values: golden answers for every saved
query on the real graph, typed parameters, injection attempts, and the plain-value conversion.

Goldens live in tests/golden/queries/NAME.json and are compared as multisets of rows (order and
column order do not matter). To regenerate them after a deliberate data change, run
`APSCO_KG_UPDATE_GOLDENS=1 .venv/bin/pytest tests/test_queries.py -k golden` and review the diff.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest

from apsco_kg import graph, queries
from apsco_kg.settings import Settings

GOLDEN = Path(__file__).parent / "golden" / "queries"
ID = "https://w3id.org/apsco/id/"
XSD = "http://www.w3.org/2001/XMLSchema#"
CATALOGUE = queries.catalogue(Settings())
NAMES = [q.name for q in CATALOGUE]


# ---- golden files ---------------------------------------------------------------------------
def encode(value: object) -> object:
    """A plain value as JSON: Decimal is the one type JSON has no exact form for."""
    return {"decimal": str(value)} if isinstance(value, Decimal) else value


def decode(value: object) -> object:
    return Decimal(value["decimal"]) if isinstance(value, dict) and "decimal" in value else value


def frozen(row: dict[str, object]) -> tuple[tuple[str, str], ...]:
    # json.dumps keeps 1 and True and "1" apart, which a plain str() would not.
    return tuple(sorted((k, json.dumps(encode(v), ensure_ascii=False)) for k, v in row.items()))


def snapshot(result: queries.QueryResult) -> dict[str, Any]:
    doc: dict[str, Any] = {"kind": result.kind}
    if result.kind == "select":
        doc["variables"] = result.variables
        doc["rows"] = sorted(
            ({k: encode(v) for k, v in row.items()} for row in result.rows),
            key=lambda r: json.dumps(r, ensure_ascii=False, sort_keys=True),
        )
    elif result.kind == "ask":
        doc["boolean"] = result.boolean
    else:
        doc["triples"] = sorted([list(map(encode, t)) for t in result.triples], key=json.dumps)
    return doc


def compare(name: str, expected: dict[str, Any], result: queries.QueryResult) -> None:
    assert result.kind == expected["kind"], f"{name}: kind {result.kind}, golden says {expected['kind']}"
    if result.kind == "ask":
        assert result.boolean == expected["boolean"], f"{name}: ASK answered {result.boolean}, golden says {expected['boolean']}"
        return
    want: Counter[tuple[Any, ...]]
    got: Counter[tuple[Any, ...]]
    if result.kind == "graph":
        want = Counter(tuple(json.dumps(x) for x in t) for t in expected["triples"])
        got = Counter(tuple(json.dumps(encode(x)) for x in t) for t in result.triples)
    else:
        assert result.variables == expected["variables"], f"{name}: columns {result.variables} != golden {expected['variables']}"
        want = Counter(frozen({k: decode(v) for k, v in row.items()}) for row in expected["rows"])
        got = Counter(frozen(row) for row in result.rows)
    missing, extra = want - got, got - want
    assert not missing and not extra, (
        f"saved query {name!r} no longer gives its golden answer "
        f"(tests/golden/queries/{name}.json):\n  missing rows: {sorted(missing.elements())[:10]}"
        f"\n  extra rows: {sorted(extra.elements())[:10]}"
    )


@pytest.mark.parametrize("name", NAMES)
def test_golden(name: str, kg: graph.KnowledgeGraph) -> None:
    result = queries.run(queries.get(name), kg=kg)
    # A saved query that answers nothing on the real graph is a bug, not a golden.
    if result.kind == "select":
        assert result.rows, f"{name} returns no rows on the built graph"
    elif result.kind == "graph":
        assert result.triples, f"{name} constructs no triples on the built graph"
    path = GOLDEN / f"{name}.json"
    if os.environ.get("APSCO_KG_UPDATE_GOLDENS") == "1":
        GOLDEN.mkdir(parents=True, exist_ok=True)
        doc = {"query": name, "params": {}, **snapshot(result)}
        path.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    assert path.is_file(), f"no golden answer for {name}: write tests/golden/queries/{name}.json"
    compare(name, json.loads(path.read_text(encoding="utf-8")), result)


def test_every_golden_has_a_query() -> None:
    orphans = sorted(p.stem for p in GOLDEN.glob("*.json")) if GOLDEN.is_dir() else []
    assert set(orphans) <= set(NAMES), f"goldens without a saved query: {sorted(set(orphans) - set(NAMES))}"


def test_golden_comparison_fails_and_names_the_query(kg: graph.KnowledgeGraph) -> None:
    result = queries.run("cq13-initiators", kg=kg)
    doctored = snapshot(result)
    doctored["rows"] = doctored["rows"][1:] + [{**doctored["rows"][0], "stateEn": "Atlantis"}]  # type: ignore[index]
    with pytest.raises(AssertionError, match=r"(?s)'cq13-initiators'.*missing rows: .*Atlantis.*extra rows: .*China"):
        compare("cq13-initiators", doctored, result)


# ---- the catalogue --------------------------------------------------------------------------
def test_catalogue_is_large_and_described() -> None:
    assert len(CATALOGUE) >= 25
    for q in CATALOGUE:
        assert q.title and q.description and q.row, f"{q.name}: title, description and row are required"
        assert q.kind in ("select", "ask", "graph")


@pytest.mark.parametrize("number", range(1, 21))
def test_one_query_per_competency_question(number: int) -> None:
    named = [q for q in CATALOGUE if q.name.startswith(f"cq{number:02d}-")]
    assert len(named) == 1 and number in named[0].questions


@pytest.mark.parametrize("name", NAMES)
def test_saved_queries_declare_their_prefixes(name: str) -> None:
    """So the text runs as it is on any endpoint (and pasted into Fuseki or the WDQS UI)."""
    shape = queries.scan(queries.get(name).text)
    assert shape.used_prefixes <= shape.declared_prefixes, f"{name} uses undeclared prefixes"
    assert shape.form in ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")


def test_cq14_parameter_defaults_to_thailand_by_label() -> None:
    q = queries.get("cq14-roles-of-a-state")
    state = q.param("state")
    assert (state.type, state.default, state.rdf_class) == ("iri", "Thailand", "https://w3id.org/apsco/ontology#State")


def test_unknown_query_suggests_close_names() -> None:
    with pytest.raises(queries.UnknownQuery, match="cq14-roles-of-a-state"):
        queries.get("cq14-roles-of-state")


def test_header_format() -> None:
    q = queries.parse_saved_query(
        "#+ title: T\n#+ description: first line\n#+   continued\n#+ param: n | integer | 3 | how many\n"
        "#+ param: who | iri apsco:State | | optional\n#+ row: a row\n#+ question: 4, 5\n# plain comment\n"
        "SELECT ?n ?who WHERE { }\n",
        "t",
    )
    assert q.description == "first line continued"
    assert [(p.name, p.type, p.default) for p in q.params] == [("n", "integer", "3"), ("who", "iri", None)]
    assert q.params[1].rdf_class == "https://w3id.org/apsco/ontology#State"
    assert q.questions == (4, 5)


@pytest.mark.parametrize(
    "header, message",
    [
        ("#+ titel: x\n", "unknown header key 'titel'"),
        ("#+ param: a | nope | 1 | d\n", "type 'nope'"),
        ("#+ param: a | integer | 1\n", "four fields"),
        ("#+ param: a b | integer | 1 | d\n", "not a SPARQL variable name"),
        ("#+ question: four\n", "competency-question numbers"),
    ],
)
def test_bad_headers_are_named(header: str, message: str) -> None:
    with pytest.raises(queries.HeaderError, match=message):
        queries.parse_saved_query(header + "SELECT * WHERE { }", "bad")


# ---- parameters -------------------------------------------------------------------------------
ROLES = queries.get("cq14-roles-of-a-state")


def roles_of(value: str, kg: graph.KnowledgeGraph) -> set[object]:
    return {row["role"] for row in queries.run(ROLES, {"state": value}, kg=kg).rows}


@pytest.mark.parametrize(
    "value", ["Thailand", "泰国", "id:state/thailand", ID + "state/thailand", f"<{ID}state/thailand>"]
)
def test_an_iri_parameter_takes_a_label_a_prefixed_name_or_an_iri(value: str, kg: graph.KnowledgeGraph) -> None:
    assert roles_of(value, kg) == {ID + "role/" + r for r in (
        "initiator", "committee-member", "host", "attendee", "signatory", "full-member")}


def test_a_label_that_names_nothing_is_an_error_naming_the_parameter(kg: graph.KnowledgeGraph) -> None:
    with pytest.raises(queries.ParameterError, match=r"parameter 'state'.*'Atlantis'"):
        queries.run(ROLES, {"state": "Atlantis"}, kg=kg)


def test_a_label_of_the_wrong_class_does_not_resolve(kg: graph.KnowledgeGraph) -> None:
    # "Beijing" is a city, not a state: the class in the header keeps it out.
    with pytest.raises(queries.ParameterError, match="of class apsco:State"):
        queries.run(ROLES, {"state": "Beijing"}, kg=kg)


def test_an_ambiguous_label_is_an_error_listing_the_candidates(kg: graph.KnowledgeGraph) -> None:
    # The preparatory body's short name is no one's preferred label; make two things share a label.
    q = queries.from_text("#+ title: t\n#+ description: d\n#+ param: x | iri | | x\nSELECT ?x WHERE { ?x ?p ?o }")
    store = ox.Store()
    store.bulk_extend(kg.store)
    for slug in ("a", "b"):
        store.add(ox.Quad(ox.NamedNode(ID + "test/" + slug), ox.NamedNode("http://www.w3.org/2004/02/skos/core#prefLabel"),
                          ox.Literal("Twin", language="en"), ox.NamedNode("https://w3id.org/apsco/graph/test")))
    with pytest.raises(queries.ParameterError, match=r"names 2 things.*id:test/a.*id:test/b"):
        queries.run(q, {"x": "Twin"}, kg=graph.KnowledgeGraph(store))


@pytest.mark.parametrize(
    "name, param, value, message",
    [
        ("cq13-initiators", "year", "nineteen92", "'year' expects an integer"),
        ("cq13-initiators", "year", "1992.5", "'year' expects an integer"),
        ("cq14-roles-of-a-state", "state", "http://bad iri>", "nothing of class apsco:State is labelled"),
        ("cq14-roles-of-a-state", "state", "https://example.org/a>b", "'state'.*not a valid IRI"),
        ("cq14-roles-of-a-state", "colour", "red", "has no parameter 'colour'"),
    ],
)
def test_wrong_parameters_are_clear_errors(name: str, param: str, value: str, message: str, kg: graph.KnowledgeGraph) -> None:
    with pytest.raises(queries.ParameterError, match=message):
        queries.run(name, {param: value}, kg=kg)


@pytest.mark.parametrize(
    "ptype, value, term",
    [
        ("integer", "+0042", ox.Literal("42", datatype=ox.NamedNode(XSD + "integer"))),
        ("decimal", "1.50", ox.Literal("1.50", datatype=ox.NamedNode(XSD + "decimal"))),
        ("boolean", "TRUE", ox.Literal("true", datatype=ox.NamedNode(XSD + "boolean"))),
        ("date", "2005-10-28", ox.Literal("2005-10-28", datatype=ox.NamedNode(XSD + "date"))),
        ("gYear", "2005", ox.Literal("2005", datatype=ox.NamedNode(XSD + "gYear"))),
        ("gYearMonth", "2024-10", ox.Literal("2024-10", datatype=ox.NamedNode(XSD + "gYearMonth"))),
        ("string", "泰国", ox.Literal("泰国")),
    ],
)
def test_typed_parameter_values(ptype: str, value: str, term: ox.Literal) -> None:
    param = queries.Param("x", ptype, None, "")
    assert queries.to_term(param, value, queries.from_text("SELECT ?x {}")) == term


@pytest.mark.parametrize(
    "ptype, value", [("date", "2005-13-01"), ("date", "2005"), ("gYear", "05"), ("gYearMonth", "2024-13"),
                     ("boolean", "yes"), ("decimal", "NaN"), ("decimal", "abc")],
)
def test_values_of_the_wrong_type_are_refused(ptype: str, value: str) -> None:
    with pytest.raises(queries.ParameterError, match="parameter 'x'"):
        queries.to_term(queries.Param("x", ptype, None, ""), value, queries.from_text("SELECT ?x {}"))


INJECTIONS = [
    'x" } ; DROP ALL ; SELECT * WHERE { ?s ?p ?o } #',
    "x' } UNION { ?s ?p ?o } #",
    'line one\n} ; DROP GRAPH <https://w3id.org/apsco/graph/zhwiki> ;\n"',
    "> } ; DROP",
    '\\" } ; \\u0022 ?x',
]
ECHO = queries.from_text(
    "#+ title: echo\n#+ description: d\n#+ param: text | string | | t\n"
    "SELECT ?text (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?text"
)


@pytest.mark.parametrize("value", INJECTIONS)
def test_injection_through_a_local_parameter_is_inert(value: str, kg: graph.KnowledgeGraph) -> None:
    before = len(kg.store)
    total = queries.run(queries.from_text("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"), kg=kg).rows[0]["n"]
    rows = queries.run(ECHO, {"text": value}, kg=kg).rows
    # The value comes back verbatim as one literal; the query counted the same triples; nothing changed.
    assert rows == [{"text": value, "n": total}]
    assert len(kg.store) == before


@pytest.mark.parametrize("value", INJECTIONS)
def test_injection_through_a_values_block_is_inert(value: str, kg: graph.KnowledgeGraph) -> None:
    """The remote path: the VALUES text built for an endpoint parses to exactly the one literal."""
    bound = queries.bind(ECHO, {"text": value}, None)
    text = queries.with_values(ECHO.text, bound)
    assert text.count("\n") == ECHO.text.count("\n"), "the VALUES block must not add lines"
    rows = list(kg.store.query(text, use_default_graph_as_union=True))
    assert len(rows) == 1 and rows[0]["text"] == ox.Literal(value)


def test_an_iri_parameter_cannot_close_the_iri(kg: graph.KnowledgeGraph) -> None:
    with pytest.raises(queries.ParameterError, match="not a valid IRI"):
        queries.bind(queries.get("cq14-roles-of-a-state"), {"state": "https://a.example/x>}DROP"}, None)
    # With spaces it is no IRI at all: it is looked up as a label (bound as a literal) and names nothing.
    with pytest.raises(queries.ParameterError, match="nothing of class apsco:State is labelled"):
        queries.run("cq14-roles-of-a-state", {"state": "https://a.example/x> } ; DROP ALL #"}, kg=kg)


def test_values_block_goes_into_the_outer_where_group() -> None:
    term = ox.NamedNode(ID + "state/thailand")
    construct = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"
    assert queries.with_values(construct, {"s": term}) == (
        f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ VALUES (?s) {{ (<{ID}state/thailand>) }}  ?s ?p ?o }}")
    short = "CONSTRUCT WHERE { ?s ?p ?o }"
    assert queries.with_values(short, {"s": term}).endswith(f"VALUES (?s) {{ (<{ID}state/thailand>) }}\n")
    tricky = '# a { in a comment\nSELECT ?s ("{" AS ?brace) WHERE { ?s ?p ?o }'
    assert queries.with_values(tricky, {"s": term}).endswith(f"WHERE {{ VALUES (?s) {{ (<{ID}state/thailand>) }}  ?s ?p ?o }}")


def test_with_prefixes_declares_only_what_is_missing_on_the_first_line() -> None:
    text = "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\nSELECT ?s WHERE { ?s skos:prefLabel ?l ; apsco:headquarters id:place\\/beijing }"
    out = queries.with_prefixes(text)
    first = out.splitlines()[0]
    assert "PREFIX apsco: <https://w3id.org/apsco/ontology#>" in first and "PREFIX id: <https://w3id.org/apsco/id/>" in first
    assert out.count("PREFIX skos:") == 1 and out.count("\n") == text.count("\n")


# ---- refusals and errors ------------------------------------------------------------------------
def test_a_malformed_query_reports_line_and_column(kg: graph.KnowledgeGraph) -> None:
    with pytest.raises(queries.QuerySyntaxError) as err:
        queries.run(queries.from_text("SELECT ?s WHERE {\n  ?s ?p ?o ?x .\n  ?s ?p ?o\n}", "mine"), kg=kg)
    # The position is pyoxigraph's (where its parser gave up), passed through as it reports it.
    assert (err.value.line, err.value.column) == (3, 4)
    assert str(err.value).startswith("mine:3:4: syntax error: expected")
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("text", ["INSERT DATA { <http://a> <http://b> <http://c> }", "DROP ALL",
                                  "PREFIX a: <http://a#>\nDELETE WHERE { ?s ?p ?o }"])
def test_updates_are_refused_before_any_engine_sees_them(text: str, kg: graph.KnowledgeGraph) -> None:
    before = len(kg.store)
    with pytest.raises(queries.QueryError, match="update"):
        queries.run(queries.from_text(text), kg=kg)
    with pytest.raises(queries.QueryError, match="update"):
        queries.run(queries.from_text(text), endpoint="http://127.0.0.1:9/sparql")
    assert len(kg.store) == before


def test_service_is_not_run_on_the_local_graph(kg: graph.KnowledgeGraph) -> None:
    with pytest.raises(queries.QueryError, match="SERVICE"):
        queries.run(queries.from_text("SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }"), kg=kg)


def test_deep_nesting_is_refused_before_the_parser(kg: graph.KnowledgeGraph) -> None:
    deep = "SELECT * WHERE { FILTER(" + "(" * 5000 + "1" + ")" * 5000 + ") }"
    with pytest.raises(queries.QueryError, match="nests brackets 5002 deep"):
        queries.run(queries.from_text(deep), kg=kg)


def test_a_local_query_that_runs_too_long_times_out(kg: graph.KnowledgeGraph) -> None:
    # About 2 s of work (so the abandoned worker thread ends soon after): a filtered 2-way product.
    slow = queries.from_text("SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f FILTER(STR(?c) != STR(?f)) }")
    with pytest.raises(queries.QueryTimeout, match="did not finish within 0.2 s"):
        queries.run(slow, kg=kg, timeout=0.2)


# ---- plain values -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "term, value",
    [
        (ox.NamedNode(ID + "state/china"), ID + "state/china"),
        (ox.Literal("42", datatype=ox.NamedNode(XSD + "integer")), 42),
        (ox.Literal("9", datatype=ox.NamedNode(XSD + "positiveInteger")), 9),
        (ox.Literal("500.5", datatype=ox.NamedNode(XSD + "decimal")), Decimal("500.5")),
        (ox.Literal("true", datatype=ox.NamedNode(XSD + "boolean")), True),
        (ox.Literal("0", datatype=ox.NamedNode(XSD + "boolean")), False),
        (ox.Literal("2024-10", datatype=ox.NamedNode(XSD + "gYearMonth")), "2024-10"),
        (ox.Literal("泰国", language="zh"), "泰国"),
        (ox.Literal("P4Y", datatype=ox.NamedNode(XSD + "duration")), "P4Y"),
        (ox.BlankNode("b0"), "_:b0"),
        (None, None),
    ],
)
def test_plain_values(term: queries.Term | None, value: object) -> None:
    got = queries.plain(term)
    assert got == value and type(got) is type(value)


def test_rows_have_every_variable_and_none_for_unbound(kg: graph.KnowledgeGraph) -> None:
    rows = queries.run("cq16-conferences", kg=kg).rows
    assert all(set(row) == {"series", "ordinal", "date", "host", "hostEn", "hostZh", "city", "cityEn", "conference"} for row in rows)
    assert [r["ordinal"] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert rows[0]["city"] == ID + "place/bangkok" and rows[1]["city"] is None


def test_run_accepts_a_name_or_sparql_text(kg: graph.KnowledgeGraph) -> None:
    assert queries.run("ask-full-member", {"state": "Indonesia"}, kg=kg).boolean is False
    result = queries.run("ASK { ?s ?p ?o }", kg=kg)
    assert (result.kind, result.boolean) == ("ask", True)


def test_construct_gives_triples(kg: graph.KnowledgeGraph) -> None:
    result = queries.run("describe-entity", {"entity": "id:state/turkey"}, kg=kg)
    assert result.kind == "graph"
    assert (ID + "signature/apsco-convention/turkey", "https://w3id.org/apsco/ontology#agent", ID + "state/turkey") in result.triples


def test_python_values_are_accepted_from_notebooks(kg: graph.KnowledgeGraph) -> None:
    by_int = queries.run("cq13-initiators", {"year": 1992}, kg=kg).rows
    assert by_int == queries.run("cq13-initiators", {"year": "1992"}, kg=kg).rows and len(by_int) == 3


def test_label_defaults_bind_with_a_resolver(kg: graph.KnowledgeGraph) -> None:
    q = queries.get("cq14-roles-of-a-state")
    with pytest.raises(queries.ParameterError, match="not an IRI or prefixed name"):
        queries.bind(q, None, None)
    assert queries.bind(q, None, queries.label_resolver(kg)) == {"state": ox.NamedNode(ID + "state/thailand")}


def test_the_docs_describe_every_saved_query() -> None:
    docs = (Path(__file__).parent.parent / "docs" / "queries.md").read_text(encoding="utf-8")
    assert f"There are {len(CATALOGUE)} queries" in docs
    undocumented = [q.name for q in CATALOGUE if not q.name.startswith("cq") and f"`{q.name}`" not in docs]
    assert not undocumented, f"docs/queries.md does not list {undocumented}"


@pytest.mark.parametrize(
    "text, form, where",
    [
        ("SELECT * { ?s ?p ?o }", "SELECT", "SELECT * {"),
        ("# INSERT DATA { } in a comment\nPREFIX drop: <http://x/>\nASK { ?s drop:p ?o }", "ASK", "ASK {"),
        ('SELECT ?s ("}{" AS ?x) WHERE { ?s ?p ?o FILTER(?o < ?s) }', "SELECT", 'WHERE {'),
        ("CONSTRUCT { ?s <http://x/p> ?o } WHERE { { SELECT ?s ?o { ?s ?q ?o } } }", "CONSTRUCT", "WHERE {"),
        ("DESCRIBE <http://x/a>", "DESCRIBE", None),
        ("PREFIX a: <http://x#>\nWITH <http://g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }", "WITH", None),
        ("SELECT ?s WHERE { ?s apsco:Service ?o }", "SELECT", "WHERE {"),
    ],
)
def test_the_scanner_is_not_fooled_by_strings_comments_and_names(text: str, form: str, where: str | None) -> None:
    shape = queries.scan(text)
    assert shape.form == form
    assert not shape.uses_service
    if where is None:
        assert shape.where_open is None
    else:
        assert text[: shape.where_open].endswith(where)


def test_strip_comments_keeps_strings_iris_and_line_numbers() -> None:
    text = '#+ title: adds things\n#+ row: a\nSELECT ?s WHERE { ?s <http://x/#frag> "# not a comment" } # end\n'
    out = queries.strip_comments(text)
    assert out == '\n\nSELECT ?s WHERE { ?s <http://x/#frag> "# not a comment" } \n'


def test_cq19_traces_one_statement_to_both_articles_and_their_references(kg: graph.KnowledgeGraph) -> None:
    rows = queries.run("cq19-statement-provenance", {"subject": "APSCO", "property": "apsco:headquarters"}, kg=kg).rows
    assert {r["value"] for r in rows} == {ID + "place/beijing"}
    assert {(r["source"], r["referenceNumber"], r["citationKind"]) for r in rows} == {
        (ID + "source/enwiki", None, None),  # the category "Organizations based in Beijing": no citation
        (ID + "source/enwiki", 1, "inline"), (ID + "source/enwiki", 4, "inline"),
        (ID + "source/zhwiki", 1, "general"), (ID + "source/zhwiki", 2, "general"),
    }
