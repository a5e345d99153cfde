"""QuickStatements: the strict parser, golden batches compared command by command, V1 ≡ CSV, and the
round trip QuickStatements → statements → the Wikidata-shaped RDF view."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest

from apsco_kg import graph
from apsco_kg.settings import Settings
from apsco_kg.wikidata import batches, mapping, quickstatements as qs, view
from apsco_kg.wikidata.model import EntityRef, ItemValue, Status, StringValue, TimeValue

FIXTURES = Path(__file__).parent / "fixtures" / "wikidata"
MINI = FIXTURES / "mini"


@pytest.fixture(scope="module")
def mini_kg(settings: Settings) -> graph.KnowledgeGraph:
    return graph.load(settings.with_(data_dir=MINI))


@pytest.fixture(scope="module")
def reconciled() -> dict[str, str]:
    return mapping.read_qid_file(FIXTURES / "reconciled.tsv")


@pytest.fixture(scope="module")
def created() -> dict[str, str]:
    return mapping.read_qid_file(FIXTURES / "created.tsv")


def options(m: mapping.Mapping, require_references: bool = True) -> qs.ParseOptions:
    return qs.ParseOptions(m.ontology.datatypes(), require_references)


def keys(commands: list[qs.Command]) -> Counter[object]:
    """Commands as an order-free multiset; a claim's qualifiers and reference blocks as sets."""
    out: Counter[object] = Counter()
    for c in commands:
        out[c.key() if isinstance(c, qs.Claim) else c] += 1
    return out


def created_refs(batch: batches.Batch) -> dict[str, EntityRef]:
    """CREATE#n → the entity the n-th CREATE block of the batch stands for."""
    return {f"CREATE#{i}": e.item.ref for i, e in enumerate((e for e in batch.entries if e.create), 1)}


# ---- the strict parser --------------------------------------------------------------------

DATATYPES = {"P31": "wikibase-item", "P143": "wikibase-item", "P4656": "url", "P585": "time", "P571": "time",
             "P1545": "string", "P1813": "monolingualtext", "P854": "url", "P1476": "monolingualtext",
             "P813": "time", "P1132": "quantity", "P179": "wikibase-item"}
REF = "\tS143\tQ328"


@pytest.mark.parametrize("line, message", [
    ("Q1\tP1545\t9" + REF, "double-quoted"),                          # series ordinal is a string
    ("Q1\tP571\t+2005-10-28T00:00:00Z" + REF, "precision"),          # no /precision: tools default to year
    ("Q1\tP571\t+2005-10-00T00:00:00Z/9" + REF, "year precision"),    # month set under /9
    ("Q1\tP571\t+2005-00-00T00:00:00Z/10" + REF, "month precision"),  # /10 needs a month
    ("Q1\tP571\t+2005-10-00T00:00:00Z/11" + REF, "day precision"),    # /11 needs a day
    ("Q1\tP571\t+2005-02-30T00:00:00Z/11" + REF, "calendar date"),
    ("Q1\tP571\t+2005-10-28T00:00:00Z/12" + REF, "precision /12"),
    ("Q1\tP999\tQ2" + REF, "not a property this export knows"),
    ("Q1\tP31\tQ5", "without a reference"),
    ("Q1\tP31\tQ5\tS813\t+2024-12-10T00:00:00Z/11", "names no source"),
    ("Q1\tP31\tQ5\tS143\tQ328\tS143\tQ30239", "repeats a property"),
    ("Q1\tP31\tQ5\tS143\tQ328\tS1476\ten:\"x\"", "mixes in"),
    ("Q1\tP31\tQ5\tS143", "pairs"),
    ("Q1\tP31\t\"Q5\"" + REF, "not an item ID"),
    ("Q1\tP1813\t\"APSCO\"" + REF, "lang:"),
    ("Q1\tP854\t\"ftp://x\"" + REF, "http(s) URL"),
    ("Q1\tP1132\tfifteen" + REF, "quantity"),
    ("LAST\tP31\tQ5" + REF, "before any CREATE"),
    ("Q1\tLen\tAPSCO", "double-quoted"),
    ("Q1\tXen\t\"APSCO\"", "not a property"),
    ("Q1\tP31\tQ5" + REF + "\tP585\t+2005-00-00T00:00:00Z/9", "after the references"),
    ("Q1\tP31\tQ5\tqal585\t+2005-00-00T00:00:00Z/9" + REF, "not a qualifier or reference"),
])
def test_parser_refuses(line: str, message: str) -> None:
    with pytest.raises(qs.QSParseError, match=re.escape(message)):
        qs.parse_v1(line + "\n", qs.ParseOptions(DATATYPES))


def test_parser_reads_qualifiers_and_reference_blocks() -> None:
    text = ('CREATE\nLAST\tLzh\t"亚太空间合作组织"\n'
            'LAST\tP179\tQ2\tP1545\t"3"\tP585\t+1996-05-00T00:00:00Z/10\tS143\tQ30239\t!S854\t"https://a.example/x"\tS813\t+2024-12-10T00:00:00Z/11'
            '\t/* a summary */\n')
    create, term, claim = qs.parse_v1(text, qs.ParseOptions(DATATYPES))
    assert create == qs.Create(1) and term == qs.Term("CREATE#1", "L", "zh", "亚太空间合作组织")
    assert isinstance(claim, qs.Claim)
    assert claim.qualifiers == (("P1545", StringValue("3")), ("P585", TimeValue("+1996-05-00T00:00:00Z", 10)))
    assert [r.properties for r in claim.references] == [("P143",), ("P854", "P813")]
    assert claim.summary == "a summary"


def test_csv_parser_refuses_orphan_and_misaligned_cells() -> None:
    o = qs.ParseOptions(DATATYPES)
    with pytest.raises(qs.QSParseError, match="must start with 'qid'"):
        qs.parse_csv("id,P31\nQ1,Q5\n", o)
    with pytest.raises(qs.QSParseError, match="cells for"):
        qs.parse_csv("qid,P31,S143\nQ1,Q5\n", o)
    with pytest.raises(qs.QSParseError, match="for an empty P31 cell"):
        qs.parse_csv("qid,P31,S143\nQ1,,Q328\n", o)
    with pytest.raises(qs.QSParseError, match="unknown CSV column"):
        qs.parse_csv("qid,X31\nQ1,Q5\n", o)


# ---- our own output, parsed back --------------------------------------------------------------


def test_real_batch_1_parses_strictly_in_both_formats(kg: graph.KnowledgeGraph) -> None:
    m = mapping.build(kg)
    batch = batches.select(m)
    v1 = qs.parse_v1(qs.render_v1(batch), options(m))
    csv = qs.parse_csv(qs.render_csv(batch), options(m))
    assert keys(v1) == keys(csv)
    claims = [c for c in v1 if isinstance(c, qs.Claim)]
    assert len(claims) == len(batch.statements)
    assert sum(isinstance(c, qs.Create) for c in v1) == sum(e.create for e in batch.entries)
    # Every label and description present in both languages where the graph has them.
    terms = {(c.entity, c.kind, c.language) for c in v1 if isinstance(c, qs.Term)}
    for i, e in enumerate((e for e in batch.entries if e.create), 1):
        for lang in e.item.labels:
            assert (f"CREATE#{i}", "L", lang) in terms


def test_real_batches_1_and_2_write_every_statement_once(kg: graph.KnowledgeGraph, tmp_path: Path) -> None:
    """Reconcile APSCO, run batch 1, feed its created QIDs to batch 2: every statement whose items
    all exist by then is written exactly once, and batch 2 writes no CREATE."""
    apsco = "https://w3id.org/apsco/id/org/apsco"
    m1 = mapping.build(kg, {apsco: "Q900000001"})
    b1 = batches.select(m1)
    made = {e.item.ref.iri: f"Q90000{n:04d}" for n, e in enumerate((e for e in b1.entries if e.create), 100)}
    m2 = mapping.build(kg, {apsco: "Q900000001"}, made)
    b2 = batches.select(m2)
    assert not any(e.create for e in b2.entries)
    parsed2 = qs.parse_v1(qs.render_v1(b2), options(m2))
    assert not any(isinstance(c, qs.Create) for c in parsed2)
    written = {mapping.statement_key(s) for s in b1.statements} | {mapping.statement_key(s) for s in b2.statements}
    assert len(b1.statements) + len(b2.statements) == len(written)  # nothing written twice
    writable = [s for s in m2.statements if all(r.qid is not None for r in s.refs())]
    assert {(s.subject.iri, s.property, str(s.value)) for s in writable} == \
        {(s.subject.iri, s.property, str(s.value)) for s in b1.statements + b2.statements}
    # The links between new items are batch 2's: the conferences' series with their ordinals.
    series = [c for c in parsed2 if isinstance(c, qs.Claim) and c.property == "P179"]
    assert sorted(dict(c.qualifiers)["P1545"].text for c in series) == ["1", "2", "3", "4", "5", "6"]  # type: ignore[attr-defined]


# ---- golden batches ---------------------------------------------------------------------------


def test_golden_batch_1(mini_kg: graph.KnowledgeGraph, reconciled: dict[str, str]) -> None:
    m = mapping.build(mini_kg, reconciled)
    batch = batches.select(m)
    golden = qs.parse_v1((FIXTURES / "mini-batch1.v1.qs").read_text(encoding="utf-8"), options(m))
    ours = qs.parse_v1(qs.render_v1(batch), options(m))
    assert keys(ours) == keys(golden)
    assert keys(qs.parse_csv(qs.render_csv(batch), options(m))) == keys(golden)


def test_golden_batch_2(mini_kg: graph.KnowledgeGraph, reconciled: dict[str, str], created: dict[str, str]) -> None:
    m = mapping.build(mini_kg, reconciled, created)
    batch = batches.select(m)
    golden = qs.parse_v1((FIXTURES / "mini-batch2.v1.qs").read_text(encoding="utf-8"), options(m))
    assert keys(qs.parse_v1(qs.render_v1(batch), options(m))) == keys(golden)
    assert {(c.entity, c.property) for c in golden if isinstance(c, qs.Claim)} == {
        ("Q900000011", "P179"), ("Q900000001", "P457"), ("Q900000001", "P1037")}


def test_golden_batch_1_says_what_issue_5_asks(mini_kg: graph.KnowledgeGraph, reconciled: dict[str, str]) -> None:
    """Read the golden file itself: the statements a Wikidata editor would check by eye."""
    m = mapping.build(mini_kg, reconciled)
    golden = qs.parse_v1((FIXTURES / "mini-batch1.v1.qs").read_text(encoding="utf-8"), options(m))
    claims = {(c.entity, c.property, str(c.value)): c for c in golden if isinstance(c, qs.Claim)}
    turkey = next(c for c in golden if isinstance(c, qs.Claim) and c.property == "P1891"
                  and isinstance(c.value, ItemValue) and c.value.ref.qid == "Q43")
    assert dict(turkey.qualifiers)["P1545"] == StringValue("9")
    hq = next(c for (e, p, _), c in claims.items() if e == "Q900000001" and p == "P159")
    projects = {dict(r.snaks)["P143"].ref.qid for r in hq.references if "P143" in dict(r.snaks)}  # type: ignore[union-attr]
    assert projects == {"Q328", "Q30239"}
    assert any("P854" in dict(r.snaks) and "P813" in dict(r.snaks) and "P1476" in dict(r.snaks) for r in hq.references)
    # APSCO exists already: aliases are added, its labels and description are never overwritten.
    apsco_terms = {(t.kind, t.language, t.text) for t in golden if isinstance(t, qs.Term) and t.entity == "Q900000001"}
    assert apsco_terms == {("A", "en", "APSCO"), ("A", "zh", "亚太太空合作组织")}
    assert sum(isinstance(c, qs.Create) for c in golden) == 4  # session, person, series, convention


# ---- round trip: QuickStatements → statements → the Wikidata-shaped view -----------------------


@pytest.mark.parametrize("fmt", ["v1", "csv"])
def test_round_trip_through_the_view(mini_kg: graph.KnowledgeGraph, reconciled: dict[str, str], fmt: str) -> None:
    m = mapping.build(mini_kg, reconciled)
    batch = batches.select(m)
    text = qs.render_csv(batch) if fmt == "csv" else qs.render_v1(batch)
    parsed = qs.claims_to_statements(qs.parse(text, options(m), fmt), created_refs(batch))
    store = ox.Store()
    store.load(view.turtle(m).encode("utf-8"), format=ox.RdfFormat.TURTLE)
    in_view = set(view.statements_in(store))
    assert view.statement_keys(parsed) == view.statement_keys(batch.statements)
    assert view.statement_keys(parsed) <= in_view
    # The view holds every statement of the mapping, written or held back.
    assert view.statement_keys(m.statements) == in_view


def test_view_answers_the_same_sparql_as_wikidata(mini_kg: graph.KnowledgeGraph, reconciled: dict[str, str]) -> None:
    m = mapping.build(mini_kg, reconciled)
    store = ox.Store()
    store.load(view.turtle(m).encode("utf-8"), format=ox.RdfFormat.TURTLE)
    q = """PREFIX wd: <http://www.wikidata.org/entity/> PREFIX wdt: <http://www.wikidata.org/prop/direct/>
    PREFIX p: <http://www.wikidata.org/prop/> PREFIX ps: <http://www.wikidata.org/prop/statement/>
    PREFIX pq: <http://www.wikidata.org/prop/qualifier/> PREFIX pr: <http://www.wikidata.org/prop/reference/>
    PREFIX prov: <http://www.w3.org/ns/prov#> PREFIX wikibase: <http://wikiba.se/ontology#>
    SELECT ?state ?asOf ?project WHERE {
      ?state wdt:P463 wd:Q900000001 ; p:P463 ?st . ?st ps:P463 wd:Q900000001 ; pq:P585 ?asOf ;
        wikibase:rank wikibase:NormalRank ; prov:wasDerivedFrom ?ref . ?ref pr:P143 ?project }"""
    rows = [(r["state"].value, r["asOf"].value, r["project"].value) for r in store.query(q)]  # type: ignore[union-attr]
    assert rows == [("http://www.wikidata.org/entity/Q869", "2024-10-01T00:00:00Z", "http://www.wikidata.org/entity/Q328")]
    precision = store.query("""PREFIX psv: <http://www.wikidata.org/prop/statement/value/> PREFIX wikibase: <http://wikiba.se/ontology#>
        SELECT ?p WHERE { ?st psv:P571 ?v . ?v wikibase:timePrecision ?p }""")
    assert sorted(int(r["p"].value) for r in precision) == [9, 11]  # type: ignore[union-attr]
    assert not any(isinstance(q.subject, ox.BlankNode) or isinstance(q.object, ox.BlankNode) for q in store)


def test_values_quoted_right(mini_kg: graph.KnowledgeGraph, reconciled: dict[str, str]) -> None:
    text = qs.render_v1(batches.select(mapping.build(mini_kg, reconciled)))
    assert '\tP1545\t"9"' in text                     # string ordinal, quoted
    assert '\tP1813\ten:"APSCO"' in text               # monolingual
    assert '\tS854\t"https://www.un-spider.org/' in text  # url, quoted
    assert "\tP585\t+2024-10-00T00:00:00Z/10" in text  # month precision with day 00
    assert "\tP571\t+2005-00-00T00:00:00Z/9" in text   # year precision


def test_renderer_refuses_what_quickstatements_cannot_carry() -> None:
    with pytest.raises(qs.RenderError):
        qs.value_v1(StringValue("a\tb"))
    with pytest.raises(qs.RenderError):
        qs.value_v1(StringValue("a || b"))
    with pytest.raises(qs.RenderError):
        qs.value_v1(ItemValue(EntityRef("https://w3id.org/apsco/id/org/apsco", None, Status.NEEDS_RECONCILIATION)))


def test_batch_2_does_not_repeat_the_terms_of_created_items(kg: graph.KnowledgeGraph) -> None:
    apsco = "https://w3id.org/apsco/id/org/apsco"
    b1 = batches.select(mapping.build(kg, {apsco: "Q900000001"}))
    convention = next(e for e in b1.entries if e.item.ref.iri.endswith("treaty/apsco-convention"))
    assert convention.create and convention.aliases == {"en": ["APSCO convention"]}
    made = {e.item.ref.iri: f"Q90000{n:04d}" for n, e in enumerate((e for e in b1.entries if e.create), 100)}
    m2 = mapping.build(kg, {apsco: "Q900000001"}, made)
    terms = [c for c in qs.parse_v1(qs.render_v1(batches.select(m2)), options(m2)) if isinstance(c, qs.Term)]
    assert terms == []
