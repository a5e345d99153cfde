"""The `apsco-kg export …` and `apsco-kg wikidata unmapped` commands, as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph as ox
from click.testing import CliRunner

from apsco_kg.cli import main
from apsco_kg.wikidata import quickstatements as qs

FIXTURES = Path(__file__).parent / "fixtures" / "wikidata"
MINI = FIXTURES / "mini"
ID = "https://w3id.org/apsco/id/"


def run(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, list(args))
    return r.exit_code, r.stdout, r.stderr


def test_quickstatements_to_stdout_and_file(tmp_path: Path) -> None:
    code, out, err = run("export", "quickstatements")
    assert code == 0, err
    assert out.startswith("CREATE\n") and "\tP1891\tQ43\t" in out
    assert f"{ID}org/apsco: its Wikidata item exists but is not confirmed; refusing to CREATE it" in err
    assert "held back:" in err and "batch 1:" in err
    target = tmp_path / "batch1.qs"
    code, out2, _ = run("export", "quickstatements", "--out", str(target))
    assert code == 0 and out2 == "" and target.read_text(encoding="utf-8") == out


def test_csv_format() -> None:
    code, out, err = run("export", "quickstatements", "--format", "csv", "--data", str(MINI),
                         "--reconciled", str(FIXTURES / "reconciled.tsv"))
    assert code == 0, err
    header = out.splitlines()[0].split(",")
    assert header[0] == "qid" and "Len" in header and "qal585" in header and "s4656" in header
    datatypes = {"P17": "wikibase-item", "P31": "wikibase-item", "P143": "wikibase-item", "P4656": "url",
                 "P276": "wikibase-item", "P585": "time", "P571": "time", "P159": "wikibase-item",
                 "P1813": "monolingualtext", "P813": "time", "P854": "url", "P1476": "monolingualtext",
                 "P463": "wikibase-item", "P1891": "wikibase-item", "P1545": "string"}
    commands = qs.parse_csv(out, qs.ParseOptions(datatypes))
    assert sum(isinstance(c, qs.Create) for c in commands) == 4


def test_created_file_switches_to_batch_2() -> None:
    code, out, err = run("export", "quickstatements", "--data", str(MINI), "--reconciled", str(FIXTURES / "reconciled.tsv"),
                         "--created", str(FIXTURES / "created.tsv"))
    assert code == 0, err
    assert "CREATE" not in out and "batch 2: 0 CREATE, 3 statements" in err


def test_bad_qid_file_is_an_error(tmp_path: Path) -> None:
    bad = tmp_path / "created.tsv"
    bad.write_text("https://w3id.org/apsco/id/series/ap-mcsta Q5\n", encoding="utf-8")
    code, _, err = run("export", "quickstatements", "--created", str(bad))
    assert code == 1 and "created.tsv:1: expected '<entity IRI><TAB>Q…'" in err


def test_wikibase_json_file(tmp_path: Path) -> None:
    target = tmp_path / "entities.json"
    code, _, err = run("export", "wikibase-json", "--out", str(target))
    assert code == 0, err
    data = json.loads(target.read_text(encoding="utf-8"))
    assert isinstance(data, list) and data and all(e["type"] == "item" for e in data)


def test_wikidata_rdf_view() -> None:
    code, out, err = run("export", "wikidata-rdf")
    assert code == 0, err
    store = ox.Store()
    store.load(out.encode("utf-8"), format=ox.RdfFormat.TURTLE)
    signatories = store.query("""PREFIX wdt: <http://www.wikidata.org/prop/direct/>
        SELECT (COUNT(*) AS ?n) WHERE { <https://w3id.org/apsco/id/treaty/apsco-convention> wdt:P1891 ?state }""")
    assert int(next(iter(signatories))["n"].value) == 9  # type: ignore[call-overload]


def test_unmapped_lists_statuses_and_unmapped_terms() -> None:
    code, out, err = run("wikidata", "unmapped")
    assert code == 0, err
    lines = out.splitlines()
    assert f"needs-reconciliation\t{ID}org/apsco\tAsia-Pacific Space Cooperation Organization\tsitelink enwiki:Asia-Pacific Space Cooperation Organization" in lines
    assert any(line.startswith(f"no-item-known\t{ID}person/li-xinjun\t") for line in lines)
    assert any(line.startswith(f"no-status\t{ID}concept/objective/1\t") for line in lines)
    assert "property\thttps://w3id.org/apsco/ontology#legalStatus" in lines
    assert "class\thttps://w3id.org/apsco/ontology#State" in lines
    assert not any(f"\t{ID}state/china\t" in line for line in lines)  # confirmed: Q148


def test_created_template_lists_the_creates_in_order(tmp_path: Path) -> None:
    template = tmp_path / "created.tsv"
    code, out, err = run("export", "quickstatements", "--data", str(MINI), "--created-template", str(template))
    assert code == 0, err
    rows = [line.rstrip("\t") for line in template.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    assert rows == [ID + "event/ap-mcsta-1", ID + "person/li-xinjun", ID + "series/ap-mcsta", ID + "treaty/apsco-convention"]
    assert out.count("CREATE\n") == len(rows)
    # Unfilled, it is refused rather than read as "no QIDs".
    code, _, err = run("export", "quickstatements", "--data", str(MINI), "--created", str(template))
    assert code == 1 and "expected '<entity IRI><TAB>Q…'" in err
