"""The plain pipeline the issue compares against: rdflib parse -> pyshacl -> rdflib serialize.

Same inputs and the same work as `apsco-kg build`: parse ontology/ and every data file, add the
RDFS closure (subClassOf / subPropertyOf, as graph.rdfs_closure), validate the union with pyshacl
and our shapes (validate.run_pyshacl's options), then write the same dumps: apsco.ttl, apsco.nt,
apsco.jsonld (the curated union), apsco.trig, apsco.nq (the dataset) and ontology.ttl.

    .venv/bin/python -m bench.plain --data data --out /tmp/plain
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from apsco_kg.graph import transitive_closure

REPO = Path(__file__).resolve().parent.parent
BASE = "https://w3id.org/apsco/"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=REPO / "data")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    import pyshacl
    from rdflib import RDF, RDFS, Dataset, Graph, URIRef

    ds = Dataset(default_union=True)
    onto = ds.graph(URIRef(BASE + "graph/ontology"))
    for path in sorted((REPO / "ontology").glob("*.ttl")):
        if path.name != "shapes.ttl":
            onto.parse(data=path.read_bytes(), format="turtle")
    for path in sorted(args.data.rglob("*.trig")):
        ds.parse(data=path.read_bytes(), format="trig")
    t_parse = time.perf_counter()

    # The RDFS closure into graph:inferred, as graph.rdfs_closure computes it.
    inferred = ds.graph(URIRef(BASE + "graph/inferred"))
    sub_class: dict[Any, set[Any]] = defaultdict(set)
    sub_prop: dict[Any, set[Any]] = defaultdict(set)
    for s, _, o in ds.triples((None, RDFS.subClassOf, None)):
        sub_class[s].add(o)
    for s, _, o in ds.triples((None, RDFS.subPropertyOf, None)):
        sub_prop[s].add(o)

    supers, super_props = transitive_closure(sub_class), transitive_closure(sub_prop)
    data_graphs = [g for g in ds.graphs() if g.identifier not in (onto.identifier, inferred.identifier)]
    new: set[tuple[Any, Any, Any]] = set()
    for g in data_graphs:
        for s, p, o in g:
            for sp in super_props.get(p, ()):
                new.add((s, sp, o))
    typed: list[tuple[Any, Any]] = [(s, o) for g in data_graphs for s, _, o in g.triples((None, RDF.type, None))]
    typed += [(s, o) for s, p, o in new if p == RDF.type]
    for s, c in typed:
        for sup in supers.get(c, ()):
            new.add((s, RDF.type, sup))
    for t in new:
        if t not in ds:
            inferred.add(t)
    t_closure = time.perf_counter()

    union = Graph()
    for t in ds.triples((None, None, None)):
        union.add(t)
    shapes = Graph().parse(data=(REPO / "ontology" / "shapes.ttl").read_bytes(), format="turtle")
    conforms, _, _ = pyshacl.validate(union, shacl_graph=shapes, ont_graph=None, inference="none",
                                      abort_on_first=False, allow_infos=True, allow_warnings=True,
                                      meta_shacl=False, advanced=False, do_owl_imports=False, js=False)
    t_validate = time.perf_counter()

    args.out.mkdir(parents=True, exist_ok=True)
    curated = Graph()
    for g in data_graphs:
        for t in g:
            curated.add(t)
    context = json.loads((REPO / "ontology" / "context.jsonld").read_bytes())["@context"]
    curated.serialize(args.out / "apsco.ttl", format="turtle")
    curated.serialize(args.out / "apsco.nt", format="nt")
    curated.serialize(args.out / "apsco.jsonld", format="json-ld", context=context)
    ds.serialize(args.out / "apsco.trig", format="trig")
    ds.serialize(args.out / "apsco.nq", format="nquads")
    onto.serialize(args.out / "ontology.ttl", format="turtle")
    t_end = time.perf_counter()
    print(json.dumps({"conforms": bool(conforms), "parse_s": t_parse - t0, "closure_s": t_closure - t_parse,
                      "validate_s": t_validate - t_closure, "serialize_s": t_end - t_validate,
                      "triples": len(union)}))
    return 0 if conforms else 1


if __name__ == "__main__":
    sys.exit(main())
