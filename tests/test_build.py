"""`apsco-kg build`: the dumps round-trip, are byte-stable, are written atomically, and invalid data
is never published. Graphs are compared as sets of triples/quads and with rdflib isomorphism."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from click.testing import CliRunner
from rdflib.compare import isomorphic

from apsco_kg import export, graph
from apsco_kg.cli import main
from apsco_kg.settings import Settings

FIXTURES = Path(__file__).parent / "fixtures"
VALID = FIXTURES / "shapes" / "valid.trig"
ONE_VIOLATION = FIXTURES / "validate" / "one-violation.trig"
DUMPS = ["apsco.ttl", "apsco.nt", "apsco.jsonld", "apsco.trig", "apsco.nq", "ontology.ttl", "void.ttl"]
ALL_FILES = sorted(DUMPS + ["SHA256SUMS"])
CURATED = {"apsco.ttl": ox.RdfFormat.TURTLE, "apsco.nt": ox.RdfFormat.N_TRIPLES, "apsco.jsonld": ox.RdfFormat.JSON_LD}
DATASET = {"apsco.trig": ox.RdfFormat.TRIG, "apsco.nq": ox.RdfFormat.N_QUADS}


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("data")
    shutil.copy(VALID, folder / "valid.trig")
    return folder


@pytest.fixture(scope="module")
def small(data_dir: Path) -> Settings:
    return Settings().with_(data_dir=data_dir)


@pytest.fixture(scope="module")
def built(small: Settings, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, graph.KnowledgeGraph]:
    out = tmp_path_factory.mktemp("dist")
    result = export.build(small, out)
    assert result.published and sorted(result.files) == ALL_FILES
    return out, graph.load(small)


def triples(quads: object) -> set[ox.Triple]:
    return {ox.Triple(q.subject, q.predicate, q.object) for q in quads}  # type: ignore[attr-defined]


def curated_of(kg: graph.KnowledgeGraph) -> set[ox.Triple]:
    return triples(kg.data_quads())


def rdflib_graph(items: set[ox.Triple]) -> rdflib.Graph:
    g = rdflib.Graph()
    g.parse(data=ox.serialize(sorted(items, key=str), format=ox.RdfFormat.N_TRIPLES), format="nt")
    return g


# ---------------------------------------------------------------------------------------------
# Round trips
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(CURATED))
def test_curated_dump_round_trips(built: tuple[Path, graph.KnowledgeGraph], name: str) -> None:
    out, kg = built
    expected = curated_of(kg)
    parsed = triples(ox.parse((out / name).read_bytes(), format=CURATED[name]))
    assert parsed == expected
    # An independent parser agrees, compared by graph isomorphism.
    g = rdflib.Graph()
    g.parse(data=(out / name).read_bytes(), format={"apsco.ttl": "turtle", "apsco.nt": "nt", "apsco.jsonld": "json-ld"}[name])
    assert isomorphic(g, rdflib_graph(expected))


def test_curated_dump_excludes_ontology_and_inferred(built: tuple[Path, graph.KnowledgeGraph]) -> None:
    out, kg = built
    parsed = triples(ox.parse((out / "apsco.nt").read_bytes(), format=ox.RdfFormat.N_TRIPLES))
    inferred_only = triples(kg.quads(graph.INFERRED_GRAPH)) - curated_of(kg)
    ontology_only = triples(kg.quads(graph.ONTOLOGY_GRAPH)) - curated_of(kg)
    assert inferred_only and ontology_only
    assert not (parsed & inferred_only) and not (parsed & ontology_only)


@pytest.mark.parametrize("name", sorted(DATASET))
def test_dataset_dump_round_trips_with_every_named_graph(built: tuple[Path, graph.KnowledgeGraph], name: str) -> None:
    out, kg = built
    parsed = set(ox.parse((out / name).read_bytes(), format=DATASET[name]))
    assert parsed == set(kg.store)
    graphs = {q.graph_name for q in parsed}
    assert {graph.ONTOLOGY_GRAPH, graph.INFERRED_GRAPH, graph.SOURCES_GRAPH,
            ox.NamedNode("https://w3id.org/apsco/graph/t")} <= graphs
    ds = rdflib.Dataset()
    ds.parse(data=(out / name).read_bytes(), format={"apsco.trig": "trig", "apsco.nq": "nquads"}[name])
    assert sum(1 for _ in ds.quads((None, None, None, None))) == len(kg.store)


def test_ontology_dump(built: tuple[Path, graph.KnowledgeGraph]) -> None:
    out, kg = built
    parsed = triples(ox.parse((out / "ontology.ttl").read_bytes(), format=ox.RdfFormat.TURTLE))
    assert parsed == triples(kg.quads(graph.ONTOLOGY_GRAPH))


def test_jsonld_expands_with_pyld_to_the_same_triples_without_loading_anything(built: tuple[Path, graph.KnowledgeGraph]) -> None:
    from pyld import jsonld

    out, kg = built
    loads: list[str] = []

    def refuse(url: str, options: object = None) -> dict[str, object]:
        loads.append(url)
        raise jsonld.JsonLdError("refused", "jsonld.LoadDocumentError", {"url": url}, code="loading document failed")

    doc = json.loads((out / "apsco.jsonld").read_bytes())
    nquads = jsonld.to_rdf(doc, {"format": "application/n-quads", "documentLoader": refuse})
    assert loads == []
    assert triples(ox.parse(nquads.encode(), format=ox.RdfFormat.N_QUADS)) == curated_of(kg)


def test_jsonld_embeds_the_shipped_context_and_uses_its_terms(built: tuple[Path, graph.KnowledgeGraph], small: Settings) -> None:
    out, _ = built
    doc = json.loads((out / "apsco.jsonld").read_bytes())
    assert doc["@context"] == json.loads(small.context_file.read_bytes())["@context"]
    nodes = {n["@id"]: n for n in doc["@graph"]}
    org = nodes["id:org/o"]
    assert org["@type"] == ["apsco:IntergovernmentalOrganization"]
    assert org["headquarters"] == ["id:place/city"]  # @id coercion: a bare compact IRI
    assert {"@language": "en", "@value": "Organization"} in org["prefLabel"]
    assert {"@type": "xsd:date", "@value": "2005-10-28"} in org["inception"]  # mixed precision: explicit types
    assert nodes["id:event/conf-1"]["ordinal"] == ["1"]  # xsd:integer coercion


def test_context_names_every_ontology_property(small: Settings) -> None:
    """Every apsco property has a readable term; object properties are @id-coerced."""
    ctx = export.load_context(small)
    kg = graph.load(small, data=False)
    rows = kg.query("SELECT ?p ?t WHERE { GRAPH graph:ontology { ?p a ?t "
                    "FILTER(?t IN (owl:ObjectProperty, owl:DatatypeProperty)) } }")
    missing = []
    for row in rows:  # type: ignore[union-attr]
        iri, kind = row[0].value, row[1].value
        term = iri.split("#")[-1]
        definition = ctx.get(term)
        target = definition if isinstance(definition, str) else (definition or {}).get("@id")
        if target != "apsco:" + term:
            missing.append(term)
        elif kind.endswith("ObjectProperty") and (not isinstance(definition, dict) or definition.get("@type") != "@id"):
            missing.append(term + " (not @id)")
    assert missing == []


def test_compactor_never_shortens_into_ambiguity() -> None:
    c = export.Compactor({"ex": "http://e/", "p": {"@id": "ex:p", "@type": "@id"}})
    assert c.compact("http://e/a") == "ex:a"
    assert c.compact("http://e/") == "http://e/"  # empty suffix
    assert c.compact("http://e///x") == "http://e///x"  # would read as ex://… (absolute)
    assert c.value(ox.NamedNode("http://e/a"), "@id") == "ex:a"
    assert c.value(ox.Literal("1", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")), "@id") == \
        {"@type": "http://www.w3.org/2001/XMLSchema#integer", "@value": "1"}


# ---------------------------------------------------------------------------------------------
# VoID, checksums
# ---------------------------------------------------------------------------------------------
def test_sha256sums_and_void_describe_the_files(built: tuple[Path, graph.KnowledgeGraph]) -> None:
    out, kg = built
    sums = dict(reversed(line.split("  ")) for line in (out / "SHA256SUMS").read_text().splitlines())
    assert sorted(sums) == sorted(DUMPS)
    for name, digest in sums.items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest

    store = ox.Store()
    store.load((out / "void.ttl").read_bytes(), format=ox.RdfFormat.TURTLE)
    rows = store.query("""
        PREFIX dcat: <http://www.w3.org/ns/dcat#> PREFIX spdx: <http://spdx.org/rdf/terms#>
        SELECT ?url ?size ?sum ?type WHERE {
          ?d a dcat:Distribution ; dcat:downloadURL ?url ; dcat:byteSize ?size ; dcat:mediaType ?type ;
             spdx:checksum [ spdx:algorithm spdx:checksumAlgorithm_sha256 ; spdx:checksumValue ?sum ] }""")
    described = {r["url"].value.rsplit("/", 1)[1]: (int(r["size"].value), r["sum"].value) for r in rows}  # type: ignore[union-attr]
    files = [n for n in DUMPS if n != "void.ttl"]
    assert described == {n: ((out / n).stat().st_size, sums[n]) for n in files}

    def one(query: str) -> int:
        return int(next(iter(store.query(query)))[0].value)  # type: ignore[call-overload]

    void = "PREFIX void: <http://rdfs.org/ns/void#> "
    assert one(void + "SELECT ?n { <https://w3id.org/apsco/dataset> void:triples ?n }") == len(curated_of(kg))
    subsets = {r[0].value for r in store.query(void + "SELECT ?g { <https://w3id.org/apsco/dataset> void:subset ?g }")}  # type: ignore[union-attr]
    assert subsets == {g.value for g in kg.store.named_graphs()}
    states = one(void + "SELECT ?n { ?p void:class <https://w3id.org/apsco/ontology#State> ; void:entities ?n }")
    assert states == 2


# ---------------------------------------------------------------------------------------------
# Byte-stability, atomicity, refusal
# ---------------------------------------------------------------------------------------------
def test_two_builds_are_byte_identical(small: Settings, tmp_path: Path) -> None:
    export.build(small, tmp_path / "a")
    export.build(small, tmp_path / "b")
    for name in ALL_FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ALL_FILES  # no temporaries left


def test_builds_in_two_processes_are_byte_identical(data_dir: Path, tmp_path: Path) -> None:
    """Hash seeds differ between processes; the output must not depend on them."""
    code = "import sys; from apsco_kg.cli import main; sys.exit(main())"
    for name in ("a", "b"):
        result = subprocess.run([sys.executable, "-c", code, "build", "--data", str(data_dir), "--out", str(tmp_path / name)],
                                capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stderr
    for name in ALL_FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_a_failure_mid_build_leaves_the_previous_dumps_intact(small: Settings, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "dist"
    export.build(small, out)
    before = snapshot(out)

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("simulated crash while writing the JSON-LD dump")

    # apsco.ttl and apsco.nt are already staged when the JSON-LD writer dies.
    monkeypatch.setattr(export, "write_jsonld", crash)
    with pytest.raises(RuntimeError, match="simulated crash"):
        export.build(small, out)
    assert snapshot(out) == before  # same files, same bytes, and no temporary left behind


def test_disk_error_exits_2_and_keeps_the_dumps(small: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                data_dir: Path) -> None:
    out = tmp_path / "dist"
    export.build(small, out)
    before = snapshot(out)
    real = export._HashingFile.write
    calls = {"n": 0}

    def full(self: export._HashingFile, data: bytes) -> int:
        calls["n"] += 1
        if calls["n"] > 3:
            raise OSError(28, "No space left on device")
        return real(self, data)

    monkeypatch.setattr(export._HashingFile, "write", full)
    result = CliRunner().invoke(main, ["build", "--data", str(data_dir), "--out", str(out)])
    assert result.exit_code == 2
    assert result.stderr == f"error: cannot write the dumps to {out}: No space left on device\n"
    assert snapshot(out) == before


def test_invalid_data_is_not_published(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(ONE_VIOLATION, data / "one-violation.trig")
    out = tmp_path / "dist"
    out.mkdir()
    (out / "apsco.ttl").write_bytes(b"# the previous dump\n")
    result = CliRunner().invoke(main, ["build", "--data", str(data), "--out", str(out)])
    assert result.exit_code == 1
    assert "two different preferred names" in result.stderr
    assert f"refused to publish: the data does not conform; {out} is unchanged" in result.stderr
    assert snapshot(out) == {"apsco.ttl": b"# the previous dump\n"}
    # A folder that did not exist is not even created.
    assert CliRunner().invoke(main, ["build", "--data", str(data), "--out", str(tmp_path / "new")]).exit_code == 1
    assert not (tmp_path / "new").exists()


def test_build_cli_reports_the_files(data_dir: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["build", "--data", str(data_dir), "--out", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert sorted(payload["files"]) == ALL_FILES
    for name, info in payload["files"].items():
        assert info["bytes"] == (tmp_path / name).stat().st_size
        assert info["sha256"] == hashlib.sha256((tmp_path / name).read_bytes()).hexdigest()


def test_build_cli_bad_input_exits_2(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "broken.trig").write_text("GRAPH <http://e/g> { <http://e/a> <http://e/b> . }\n")
    result = CliRunner().invoke(main, ["build", "--data", str(data), "--out", str(tmp_path / "dist")])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {data / 'broken.trig'}:1:") and "syntax error" in result.stderr


def test_real_data_builds(tmp_path: Path) -> None:
    """The real data/ builds, and its Turtle dump holds exactly its curated triples."""
    result = CliRunner().invoke(main, ["build", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.stderr
    kg = graph.load(Settings())
    for name, fmt in CURATED.items():
        assert triples(ox.parse((tmp_path / name).read_bytes(), format=fmt)) == curated_of(kg), name
    for name, fmt in DATASET.items():
        assert set(ox.parse((tmp_path / name).read_bytes(), format=fmt)) == set(kg.store), name


def test_leftover_temporaries_of_a_killed_build_are_removed(small: Settings, tmp_path: Path) -> None:
    tmp_path.joinpath(".apsco.ttl.abc123.tmp").write_bytes(b"half a dump")
    tmp_path.joinpath("notes.txt").write_bytes(b"not ours")
    export.build(small, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(ALL_FILES + ["notes.txt"])


def test_build_help_documents_the_exit_codes() -> None:
    out = CliRunner().invoke(main, ["build", "--help"]).stdout
    assert "0  the data conforms and the dumps are written" in out
    assert "1  violations, nothing written" in out
    assert "2  error:" in out and "the dumps cannot be written" in out
