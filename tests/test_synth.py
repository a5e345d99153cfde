"""bench/synth.py: deterministic, the requested size, our model's shape, and valid against our shapes."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest

from apsco_kg import graph, validate
from apsco_kg.settings import Settings

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from bench.synth import generate, main  # noqa: E402

SKOS_PREF = ox.NamedNode("http://www.w3.org/2004/02/skos/core#prefLabel")
APSCO = "https://w3id.org/apsco/ontology#"


def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.trig"))}


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("synth")
    generate(folder, 5_000, seed=3)
    return folder


def test_same_seed_same_bytes_other_seed_other_bytes(small: Path, tmp_path: Path) -> None:
    generate(tmp_path / "again", 5_000, seed=3)
    generate(tmp_path / "other", 5_000, seed=4)
    assert digest(tmp_path / "again") == digest(small)
    assert digest(tmp_path / "other") != digest(small)


def test_size_is_the_target_give_or_take_one_organization(tmp_path: Path) -> None:
    for n in (2_000, 20_000):
        info = generate(tmp_path / str(n), n, seed=0)
        quads = sum(len(list(ox.parse(p.read_bytes(), format=ox.RdfFormat.TRIG))) for p in (tmp_path / str(n)).glob("*.trig"))
        assert quads == info["triples"]
        assert n <= quads < n * 1.1 + 2_000


def test_files_are_split_by_kind_and_rolled_over(tmp_path: Path) -> None:
    generate(tmp_path, 20_000, seed=0, chunk=2_000)
    names = sorted(p.name for p in tmp_path.glob("*.trig"))
    kinds = {n.rsplit("-", 1)[0] for n in names}
    assert {"states", "organizations", "memberships", "treaties", "meetings", "sources", "curation"} <= kinds
    assert "meetings-0002.trig" in names  # a kind over the chunk size continues in a second file


def test_a_rerun_replaces_the_folder_contents(tmp_path: Path) -> None:
    generate(tmp_path, 20_000, seed=0, chunk=2_000)
    generate(tmp_path, 2_000, seed=0)
    assert not (tmp_path / "meetings-0002.trig").exists()


def test_loads_with_no_provenance_problem_and_conforms(small: Path) -> None:
    settings = Settings().with_(data_dir=small)
    kg = graph.load(settings)
    assert kg.problems == []
    assert graph.undescribed_graphs(kg) == []
    report = validate.validate(kg, settings)
    assert report.conforms, report.to_text()


def test_conforms_under_pyshacl_too(tmp_path: Path) -> None:
    folder = tmp_path / "tiny"
    generate(folder, 1_500, seed=1)
    settings = Settings().with_(data_dir=folder)
    kg = graph.load(settings)
    assert validate.run_pyshacl(kg, settings) == []


def test_builds_together_with_the_real_data(small: Path, tmp_path: Path) -> None:
    """The benchmark adds data/*.trig to each synthetic folder: no IRI may collide."""
    for p in (REPO / "data").glob("*.trig"):
        (tmp_path / f"real-{p.name}").write_bytes(p.read_bytes())
    for p in small.glob("*.trig"):
        (tmp_path / p.name).write_bytes(p.read_bytes())
    settings = Settings().with_(data_dir=tmp_path)
    assert validate.validate(graph.load(settings), settings).conforms


def test_shape_of_the_model(small: Path) -> None:
    kg = graph.load(Settings().with_(data_dir=small))

    def count(q: str) -> int:
        rows = list(kg.query(q))  # type: ignore[call-overload]
        return int(rows[0][0].value)

    # n-ary roles with the ORG properties and the apsco:agent/role/context pattern
    assert count("SELECT (COUNT(*) AS ?n) WHERE { ?m a apsco:Membership ; org:member ?s ; org:organization ?o ; org:role ?r }") > 50
    assert count("SELECT (COUNT(*) AS ?n) WHERE { ?x a apsco:Signature ; apsco:agent ?s ; apsco:context ?t ; apsco:role <https://w3id.org/apsco/id/role/signatory> }") > 20
    assert count("SELECT (COUNT(*) AS ?n) WHERE { ?p a apsco:Participation ; apsco:role <https://w3id.org/apsco/id/role/host> ; apsco:context ?e . ?e apsco:inSeries ?s }") > 5
    # dates at three precisions
    for dt in ("date", "gYearMonth", "gYear"):
        assert count(f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s ?p ?o FILTER(datatype(?o) = xsd:{dt}) }}") > 0
    # every organization has exactly one English and one Chinese preferred label
    assert count("SELECT (COUNT(*) AS ?n) WHERE { ?o a apsco:IntergovernmentalOrganization "
                 "FILTER NOT EXISTS { ?o skos:prefLabel ?l FILTER(lang(?l) = 'zh') } }") == 0
    # every statement sits in a graph described in graph:sources
    assert count("SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } "
                 "FILTER NOT EXISTS { GRAPH graph:sources { ?g prov:wasDerivedFrom ?a } } "
                 "FILTER(?g NOT IN (graph:ontology, graph:inferred, graph:sources)) }") == 0


def test_cli_accepts_sizes_with_suffixes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--triples", "3k", "--out", str(tmp_path), "--seed", "2"]) == 0
    assert "triples" in capsys.readouterr().err and any(tmp_path.glob("*.trig"))
