"""The build's fast writers against plain references (issue 6: the dumps were rewritten for speed).

* The JSON-LD writer reads N-Triples lines as text; its output must be byte for byte what
  json.dumps of Compactor.node gives (the writer it replaced), on a kitchen-sink graph: escapes,
  every control character, quotes, backslashes, non-BMP characters, language tags, datatypes with
  and without the context's coercion, blank nodes, rdf:type with a blank object, IRIs no prefix
  fits, an IRI that would compact into "prefix://…".
* Compactor.compact (cached per IRI folder) equals the plain scan of the prefixes.
* The build's counts (Report.triples, void:triples) equal the counts pyoxigraph gives.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest

from apsco_kg import export, graph, validate
from apsco_kg.settings import Settings

XSD = "http://www.w3.org/2001/XMLSchema#"
CONTEXT: dict[str, Any] = {
    "ex": "http://e/",
    "exs": "http://e/sub/",
    "apsco": "https://w3id.org/apsco/ontology#",
    "xsd": XSD,
    "name": {"@id": "ex:name"},
    "born": {"@id": "ex:born", "@type": "xsd:date"},
    "link": {"@id": "ex:link", "@type": "@id"},
    "plain": "ex:plain",
}


def kitchen_sink() -> list[ox.Triple]:
    e = lambda local: ox.NamedNode("http://e/" + local)  # noqa: E731
    s, t, b = e("s"), e("sub/t"), ox.BlankNode("b1")
    every_control = "".join(chr(i) for i in range(0x20)) + '"\\\x7f\u2028'
    out = [
        ox.Triple(s, graph.RDF_TYPE, e("Thing")),
        ox.Triple(s, graph.RDF_TYPE, ox.NamedNode("http://other.example/Class")),
        ox.Triple(s, graph.RDF_TYPE, b),
        ox.Triple(s, e("name"), ox.Literal("plain ASCII")),
        ox.Triple(s, e("name"), ox.Literal("亚太空间合作组织", language="zh")),
        ox.Triple(s, e("name"), ox.Literal("quote \" and backslash \\ and tab \t", language="en")),
        ox.Triple(s, e("name"), ox.Literal(every_control)),
        ox.Triple(s, e("name"), ox.Literal("emoji \U0001F680 and é")),
        ox.Triple(s, e("born"), ox.Literal("2005-10-28", datatype=ox.NamedNode(XSD + "date"))),
        ox.Triple(s, e("born"), ox.Literal("2005", datatype=ox.NamedNode(XSD + "gYear"))),
        ox.Triple(s, e("born"), ox.Literal("no type")),
        ox.Triple(s, e("link"), t),
        ox.Triple(s, e("link"), b),
        ox.Triple(s, e("link"), ox.Literal("1", datatype=ox.NamedNode(XSD + "integer"))),
        ox.Triple(s, e("plain"), t),
        ox.Triple(s, e("plain"), ox.Literal("x", datatype=ox.NamedNode(XSD + "string"))),
        ox.Triple(s, ox.NamedNode("http://unprefixed.example/p"), ox.Literal("3.5", datatype=ox.NamedNode(XSD + "decimal"))),
        ox.Triple(s, e("other"), ox.NamedNode("http://e///x")),  # ex:… would read as an absolute IRI
        ox.Triple(s, e("other"), ox.NamedNode("http://e/")),  # empty local name
        ox.Triple(t, e("name"), ox.Literal("line\nbreak")),
        ox.Triple(b, e("name"), ox.Literal("a blank subject")),
        ox.Triple(ox.NamedNode("https://w3id.org/apsco/id/state/x"), e("name"), ox.Literal("an entity")),
    ]
    return out


def sorted_lines(triples: list[ox.Triple]) -> list[bytes]:
    data = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""
    return sorted(set(data.splitlines(keepends=True)))


def reference_jsonld(lines: list[bytes], context: dict[str, Any]) -> bytes:
    """The writer the build had before: terms parsed by pyoxigraph, nodes built by Compactor.node."""
    compactor = export.Compactor(context)

    def dumps(obj: Any) -> bytes:
        return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")

    out = io.BytesIO()
    out.write(b'{"@context":' + dumps(context) + b',\n"@graph":[')
    groups: list[list[ox.Quad]] = []
    for q in ox.parse(b"".join(lines), format=ox.RdfFormat.N_TRIPLES):
        if groups and groups[-1][0].subject == q.subject:
            groups[-1].append(q)
        else:
            groups.append([q])
    for i, group in enumerate(groups):
        out.write((b"\n" if i == 0 else b",\n") + dumps(compactor.node(group[0].subject, group)))  # type: ignore[arg-type]
    out.write(b"\n]}\n")
    return out.getvalue()


def test_jsonld_writer_equals_the_reference_byte_for_byte() -> None:
    lines = sorted_lines(kitchen_sink())
    out = io.BytesIO()
    stats = export.write_jsonld(lines, CONTEXT, out)
    expected = reference_jsonld(lines, CONTEXT)
    assert out.getvalue().decode() == expected.decode()
    assert stats.subjects == 4 and stats.entities == 1
    json.loads(out.getvalue())  # and it is JSON


def test_jsonld_writer_on_the_real_context_and_data(tmp_path: Path) -> None:
    settings = Settings()
    kg = graph.load(settings)
    walk = export.DatasetPass(kg)
    for _ in walk.quads(io.BytesIO()):
        pass
    lines = walk.curated()
    context = export.load_context(settings)
    out = io.BytesIO()
    export.write_jsonld(lines, context, out)
    assert out.getvalue() == reference_jsonld(lines, context)


@pytest.mark.parametrize("iri", [
    "http://e/a", "http://e/sub/a", "http://e/sub/deeper/a", "http://e/", "http://e///x", "http://e/sub//x",
    "http://other.example/a", "https://w3id.org/apsco/ontology#State", "https://w3id.org/apsco/ontology#",
    "http://www.w3.org/2001/XMLSchema#date", "http://e/a#frag", "urn:x:y",
])
def test_compact_by_folder_equals_the_plain_scan(iri: str) -> None:
    c = export.Compactor(CONTEXT)
    assert c.compact(iri) == c._compact(iri)
    assert c.compact(iri) == c.compact(iri)  # and the cached answer stays the same


def test_build_counts_equal_pyoxigraphs(tmp_path: Path) -> None:
    settings = Settings()
    result = export.build(settings, tmp_path / "out")
    kg = graph.load(settings)
    assert result.published
    assert result.report.triples == validate.distinct_triples(kg)
    void = ox.Store()
    void.load((tmp_path / "out" / "void.ttl").read_bytes(), format=ox.RdfFormat.TURTLE)
    rows = list(void.query("SELECT ?n ?s WHERE { <https://w3id.org/apsco/dataset> <http://rdfs.org/ns/void#triples> ?n ; "
                           "<http://rdfs.org/ns/void#distinctSubjects> ?s }"))
    curated = ox.Store()
    curated.load((tmp_path / "out" / "apsco.nt").read_bytes(), format=ox.RdfFormat.N_TRIPLES)
    subjects = {q.subject for q in curated}
    assert [(int(r[0].value), int(r[1].value)) for r in rows] == [(len(curated), len(subjects))]  # type: ignore[union-attr]
