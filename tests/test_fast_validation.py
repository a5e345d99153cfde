"""The fast SHACL engine gives pyshacl's report: on the real data, every invalid example, and fuzz.

pyshacl is the reference semantics (validate.run_pyshacl). The fast engine (apsco_kg.fastshacl)
is what validate.run_shacl uses when it can. Each test compares the two engines' complete result
lists (focus, path, message, severity, value, shape), so it also proves the set of
(focus, path, constraint component) the issue asks for; components are compared separately on
the engines' raw results.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest

from apsco_kg import fastshacl, graph, validate
from apsco_kg.settings import Settings

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_shapes import CASES, VALID, Case, variant  # noqa: E402  (the invalid examples, one per shape rule)

REPO = Path(__file__).resolve().parent.parent


def _both(kg: graph.KnowledgeGraph, settings: Settings) -> tuple[set[validate.ShaclResult], set[validate.ShaclResult]]:
    fast = set(fastshacl.shacl_results(kg, settings))
    reference = set(validate.run_pyshacl(kg, settings))
    return fast, reference


def _component_keys_pyshacl(kg: graph.KnowledgeGraph, settings: Settings) -> set[tuple[str, str | None, str]]:
    """(focus, path, component) straight from pyshacl's results graph."""
    import pyshacl
    from rdflib import RDF, SH, Graph, URIRef

    data = Graph().parse(data=validate.union_ntriples(kg), format="nt")
    shapes = Graph().parse(data=settings.shapes_file.read_bytes(), format="turtle")
    _, results, _ = pyshacl.validate(data, shacl_graph=shapes, inference="none", advanced=False, do_owl_imports=False)
    keys = set()
    for report in results.subjects(RDF.type, SH.ValidationReport):
        for r in results.objects(report, SH.result):  # top-level results only (not sh:detail)
            path = results.value(r, SH.resultPath)
            keys.add((f"<{results.value(r, SH.focusNode)}>",
                      f"<{path}>" if isinstance(path, URIRef) else None,
                      str(results.value(r, SH.sourceConstraintComponent))))
    return keys


def _component_keys_fast(kg: graph.KnowledgeGraph, settings: Settings) -> set[tuple[str, str | None, str]]:
    return {r.key for r in fastshacl.run(fastshacl.load_shapes(settings.shapes_file), kg.store)}


def test_the_shapes_are_all_supported(settings: Settings) -> None:
    """If this fails, validation silently falls back to pyshacl: teach fastshacl the new feature."""
    fastshacl.load_shapes(settings.shapes_file)


def test_real_data_same_report(kg: graph.KnowledgeGraph, settings: Settings) -> None:
    fast, reference = _both(kg, settings)
    assert fast == reference
    assert _component_keys_fast(kg, settings) == _component_keys_pyshacl(kg, settings)


def test_validate_report_on_real_data_is_pyshacls(kg: graph.KnowledgeGraph, settings: Settings,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole curator-facing report (labels, files, order) is the same with either engine."""
    fast_report = validate.validate(kg, settings)
    monkeypatch.setattr(validate, "run_shacl", validate.run_pyshacl)
    assert validate.validate(kg, settings) == fast_report


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.shape}:{c.message[:30]}")
def test_invalid_example_same_report(case: Case, settings: Settings, tmp_path: Path) -> None:
    kg = graph.load(settings, extra_files=[variant(tmp_path, case.add, case.remove)], data=False)
    fast, reference = _both(kg, settings)
    assert reference, "the invalid example should fail under pyshacl"
    assert fast == reference
    assert _component_keys_fast(kg, settings) == _component_keys_pyshacl(kg, settings)


def _corrupt(quads: list[ox.Quad], rng: random.Random, n: int) -> list[ox.Quad]:
    """n random edits of the kinds curators make: drop a fact, retag or retype a literal, swap an object."""
    out = list(quads)
    g = ox.NamedNode("https://w3id.org/apsco/graph/t")
    xsd = "http://www.w3.org/2001/XMLSchema#"
    for _ in range(n):
        i = rng.randrange(len(out))
        q = out[i]
        kind = rng.choice(["drop", "lang", "type", "swap", "dup", "plain"])
        o = q.object
        if kind == "drop":
            out.pop(i)
        elif kind == "lang" and isinstance(o, ox.Literal) and o.language:
            out[i] = ox.Quad(q.subject, q.predicate, ox.Literal(o.value, language=rng.choice(["de", "zh-hans", "EN"])), q.graph_name)
        elif kind == "type" and isinstance(o, ox.Literal):
            dt = rng.choice(["gYear", "date", "dateTime", "integer", "positiveInteger", "string", "decimal"])
            out[i] = ox.Quad(q.subject, q.predicate, ox.Literal(o.value, datatype=ox.NamedNode(xsd + dt)), q.graph_name)
        elif kind == "swap":
            other = out[rng.randrange(len(out))].object
            out[i] = ox.Quad(q.subject, q.predicate, other, q.graph_name)
        elif kind == "dup":
            other = out[rng.randrange(len(out))]
            out.append(ox.Quad(q.subject, other.predicate, other.object, g))
        elif kind == "plain" and isinstance(o, ox.Literal):
            out[i] = ox.Quad(q.subject, q.predicate, ox.Literal(o.value), q.graph_name)
    return out


@pytest.mark.parametrize("seed", range(8))
def test_random_corruptions_same_report(seed: int, settings: Settings, tmp_path: Path) -> None:
    """Seeded fuzz over the valid example: every kind of constraint fails somewhere, in combination."""
    rng = random.Random(seed)
    quads = list(ox.parse(VALID.read_bytes(), format=ox.RdfFormat.TRIG))
    path = tmp_path / "corrupt.nq"
    path.write_bytes(ox.serialize(_corrupt(quads, rng, 25), format=ox.RdfFormat.N_QUADS))
    kg = graph.load(settings, extra_files=[path], data=False)
    fast, reference = _both(kg, settings)
    assert len(reference) >= 5, "the corruption should break several constraints"
    assert fast == reference
    assert _component_keys_fast(kg, settings) == _component_keys_pyshacl(kg, settings)


def test_synthetic_graph_same_report(settings: Settings, tmp_path: Path) -> None:
    """A small synthetic data folder (bench/synth.py), corrupted, has the same report too."""
    sys.path.insert(0, str(REPO))
    from bench.synth import generate

    folder = tmp_path / "synth"
    generate(folder, 3_000, seed=7)
    quads = [q for p in sorted(folder.glob("*.trig")) for q in ox.parse(p.read_bytes(), format=ox.RdfFormat.TRIG)]
    path = tmp_path / "synth.nq"
    path.write_bytes(ox.serialize(_corrupt(quads, random.Random(11), 40), format=ox.RdfFormat.N_QUADS))
    kg = graph.load(settings, extra_files=[path], data=False)
    fast, reference = _both(kg, settings)
    assert reference
    assert fast == reference


def test_unsupported_shapes_fall_back_to_pyshacl(settings: Settings, tmp_path: Path) -> None:
    """A feature the engine lacks is refused up front, never skipped."""
    shapes = tmp_path / "shapes.ttl"
    shapes.write_text(settings.shapes_file.read_text(encoding="utf-8") + """
<urn:x:S> a <http://www.w3.org/ns/shacl#NodeShape> ;
    <http://www.w3.org/ns/shacl#target> <urn:x:custom-target> .
""", encoding="utf-8")
    with pytest.raises(fastshacl.Unsupported):
        fastshacl.ShapesGraph.from_file(shapes)
