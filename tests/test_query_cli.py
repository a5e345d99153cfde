"""`apsco-kg query list|show|run`: outputs parsed back and compared, exit codes, one-line errors."""

from __future__ import annotations

import csv
import re
import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from click.testing import CliRunner, Result

from apsco_kg import graph, queries, results
from apsco_kg.cli import main

ID = "https://w3id.org/apsco/id/"
STATES_1992 = {ID + "state/china", ID + "state/thailand", ID + "state/pakistan"}


def cli(*args: str) -> Result:
    return CliRunner().invoke(main, ["query", *args], catch_exceptions=False)


def solutions(out: bytes, fmt: ox.QueryResultsFormat) -> ox.QuerySolutions:
    parsed = ox.parse_query_results(out, format=fmt)
    assert isinstance(parsed, ox.QuerySolutions)
    return parsed


def one_line_error(result: Result, code: int) -> str:
    assert result.exit_code == code, result.output
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "Traceback" not in result.output
    return lines[0]


# ---- list and show --------------------------------------------------------------------------------
def test_list_shows_every_query_with_title_and_parameters() -> None:
    result = cli("list")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    names = {ln.split()[0] for ln in lines[2:] if ln.strip() and not ln.startswith("(")}
    assert names == {q.name for q in queries.catalogue()} and len(names) >= 25
    row = next(ln for ln in lines if ln.startswith("cq14-roles-of-a-state "))
    assert "Every role a state has held" in row and "state=Thailand" in row


def test_list_as_json() -> None:
    doc = json.loads(cli("list", "--format", "json").stdout)
    cq07 = next(d for d in doc if d["name"] == "cq07-satellite-projects")
    assert cq07["questions"] == [7] and cq07["kind"] == "select"
    assert {(p["name"], p["type"], p["default"]) for p in cq07["params"]} == {("org", "iri", "id:org/apsco"), ("year", "integer", "2010")}
    assert all(d["description"] for d in doc)


def test_show_prints_the_file() -> None:
    result = cli("show", "cq14-roles-of-a-state")
    assert result.exit_code == 0
    assert result.stdout == queries.get("cq14-roles-of-a-state").text


def test_show_unknown_name() -> None:
    line = one_line_error(cli("show", "cq99-nothing"), 2)
    assert "no saved query named 'cq99-nothing'" in line


# ---- run: formats --------------------------------------------------------------------------------
def test_json_is_sparql_results_json(kg: graph.KnowledgeGraph) -> None:
    out = cli("run", "cq13-initiators", "--format", "json").stdout_bytes
    parsed = solutions(out, ox.QueryResultsFormat.JSON)
    rows = list(parsed)
    assert {r["state"].value for r in rows} == STATES_1992
    assert [v.value for v in parsed.variables] == queries.run("cq13-initiators", kg=kg).variables
    assert "中国".encode() in out  # not \\u-escaped


def test_xml_is_sparql_results_xml() -> None:
    out = cli("run", "cq13-initiators", "-f", "xml").stdout_bytes
    ET.fromstring(out)  # well-formed
    rows = list(solutions(out, ox.QueryResultsFormat.XML))
    assert {r["state"].value for r in rows} == STATES_1992
    assert {r["stateZh"] for r in rows} >= {ox.Literal("中国", language="zh")}


def test_tsv_round_trips_the_terms(kg: graph.KnowledgeGraph) -> None:
    out = cli("run", "cq16-conferences", "-f", "tsv").stdout_bytes
    rows = list(solutions(out, ox.QueryResultsFormat.TSV))
    local = queries.run("cq16-conferences", kg=kg)
    assert [tuple(r[v] for v in local.variables) for r in rows] == local.terms


def test_csv_has_the_values() -> None:
    out = cli("run", "cq16-conferences", "-f", "csv").stdout
    table = list(csv.DictReader(io.StringIO(out)))
    assert [(r["ordinal"], r["date"], r["hostEn"]) for r in table] == [
        ("1", "1994-01", "Thailand"), ("2", "1995-04", "Pakistan"), ("3", "1996-05", "South Korea"),
        ("4", "1997-12", "Bahrain"), ("5", "1999-12", "Iran"), ("6", "2001-09", "China")]


def test_csv_neutralises_formulas(tmp_path: Path) -> None:
    rq = tmp_path / "evil.rq"
    rq.write_text('SELECT ?cell WHERE { VALUES ?cell { "=HYPERLINK(\\"http://evil\\")" "+1" "-2" "@SUM(A1)" "safe" } }', encoding="utf-8")
    cells = [r["cell"] for r in csv.DictReader(io.StringIO(cli("run", "--file", str(rq), "-f", "csv").stdout))]
    assert cells == ["'=HYPERLINK(\"http://evil\")", "'+1", "'-2", "'@SUM(A1)", "safe"]


def test_markdown_table() -> None:
    lines = cli("run", "cq13-initiators", "-f", "md").stdout.splitlines()
    assert lines[0].startswith("| year | initiative |") and lines[1].startswith("|---|")
    assert len(lines) == 2 + 3


def test_table_aligns_chinese_by_display_width() -> None:
    out = cli("run", "cq13-initiators").stdout
    lines = out.splitlines()
    header, rows = lines[0], [ln for ln in lines[2:] if ln.startswith("1992")]
    assert len(rows) == 3 and any("中国" in r for r in rows) and lines[-1] == "(3 rows)"
    # Every row's article column starts at the same display column as the header's.
    col = results.width(header[: header.index("article")])
    for r in rows:
        assert results.width(r[: r.index("id:source/zhwiki")]) == col


def test_ask_prints_a_boolean() -> None:
    assert cli("run", "ask-full-member").stdout.split()[-1] == "true"
    assert json.loads(cli("run", "ask-full-member", "-p", "state=Indonesia", "-f", "json").stdout) == {"head": {}, "boolean": False}


@pytest.mark.parametrize("fmt, rdf", [("ttl", ox.RdfFormat.TURTLE), ("nt", ox.RdfFormat.N_TRIPLES), ("jsonld", ox.RdfFormat.JSON_LD)])
def test_construct_formats_parse_back(fmt: str, rdf: ox.RdfFormat, kg: graph.KnowledgeGraph) -> None:
    out = cli("run", "describe-entity", "-p", "entity=Turkey", "-f", fmt).stdout_bytes
    triples = {(q.subject, q.predicate, q.object) for q in ox.parse(out, format=rdf)}
    expected = {(t.subject, t.predicate, t.object) for t in queries.run("describe-entity", {"entity": "Turkey"}, kg=kg).graph_terms}
    assert triples == expected and len(triples) > 5


def test_a_construct_cannot_be_written_as_csv() -> None:
    line = one_line_error(cli("run", "describe-entity", "-f", "csv"), 2)
    assert "CONSTRUCT/DESCRIBE result is written as ttl, nt, jsonld" in line


# ---- run: parameters, files, errors --------------------------------------------------------------
def test_a_parameter_changes_the_answer() -> None:
    turkey = json.loads(cli("run", "cq14-roles-of-a-state", "-p", "state=土耳其", "-f", "json").stdout)
    roles = {b["role"]["value"] for b in turkey["results"]["bindings"]}
    assert roles == {ID + "role/signatory", ID + "role/full-member"}


@pytest.mark.parametrize(
    "args, message",
    [
        (["-p", "year=MCMXCII"], "parameter 'year' expects an integer, got 'MCMXCII'"),
        (["-p", "colour=red"], "has no parameter 'colour'"),
        (["-p", "year"], "--param takes NAME=VALUE"),
    ],
)
def test_bad_parameters_exit_2_with_one_line(args: list[str], message: str) -> None:
    assert message in one_line_error(cli("run", "cq13-initiators", *args), 2)


def test_run_a_file_of_ones_own_with_a_declared_parameter(tmp_path: Path) -> None:
    rq = tmp_path / "mine.rq"
    rq.write_text(
        "#+ title: Hosts\n#+ param: host | iri apsco:State | Pakistan | the host\n"
        "SELECT ?host ?conference WHERE { ?h apsco:role role:host ; apsco:agent ?host ; apsco:context ?conference }\n",
        encoding="utf-8",
    )
    out = json.loads(cli("run", "--file", str(rq), "-f", "json").stdout)
    assert [b["conference"]["value"] for b in out["results"]["bindings"]] == [ID + "event/ap-mcsta-2"]


def test_a_malformed_file_exits_2_with_position(tmp_path: Path) -> None:
    rq = tmp_path / "broken.rq"
    rq.write_text("# my query\nSELECT ?s WHERE {\n  ?s ?p ?o ?x .\n}\n", encoding="utf-8")
    line = one_line_error(cli("run", "--file", str(rq)), 2)
    assert re.match(rf"Error: {re.escape(str(rq))}:\d+:\d+: syntax error: expected ", line), line


def test_missing_file_and_no_name(tmp_path: Path) -> None:
    assert "cannot read the query" in one_line_error(cli("run", "--file", str(tmp_path / "nope.rq")), 2)
    assert "give either a saved query NAME or --file PATH" in one_line_error(cli("run"), 2)


def test_an_unreachable_endpoint_exits_1() -> None:
    from conftest import free_port

    line = one_line_error(cli("run", "cq13-initiators", "--endpoint", f"http://127.0.0.1:{free_port()}/sparql", "--timeout", "5"), 1)
    assert "cannot reach the endpoint" in line


def test_console_script_prints_utf8_whatever_the_locale(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    exe = Path(sys.executable).with_name("apsco-kg")
    env = {**os.environ, "LC_ALL": "C", "LANG": "C", "PYTHONIOENCODING": "ascii"}
    out = subprocess.run([str(exe), "query", "run", "cq13-initiators"], capture_output=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "巴基斯坦".encode() in out.stdout


@pytest.fixture(scope="module")
def endpoint(kg: graph.KnowledgeGraph, app_server: Any) -> Iterator[str]:
    from apsco_kg.serve import create_app
    from apsco_kg.settings import Settings

    with app_server(create_app(Settings(), kg)) as base:
        yield base + "/sparql"


@pytest.mark.parametrize("fmt", ["table", "csv", "md"])
def test_endpoint_output_is_the_local_output(fmt: str, endpoint: str) -> None:
    local = cli("run", "cq16-conferences", "-f", fmt)
    remote = cli("run", "cq16-conferences", "-f", fmt, "--endpoint", endpoint, "--method", "POST", "--timeout", "20")
    assert remote.exit_code == 0 and remote.stdout_bytes == local.stdout_bytes


def test_endpoint_with_a_label_parameter(endpoint: str) -> None:
    out = json.loads(cli("run", "cq14-roles-of-a-state", "-p", "state=土耳其", "-f", "json", "--endpoint", endpoint).stdout)
    assert {b["role"]["value"] for b in out["results"]["bindings"]} == {ID + "role/signatory", ID + "role/full-member"}
    line = one_line_error(cli("run", "cq14-roles-of-a-state", "-p", "state=Atlantis", "--endpoint", endpoint), 2)
    assert "parameter 'state': nothing of class apsco:State is labelled 'Atlantis'" in line


def test_endpoint_refusing_a_malformed_query_exits_2(endpoint: str, tmp_path: Path) -> None:
    rq = tmp_path / "broken.rq"
    rq.write_text("SELECT ?s WHERE {\n  ?s ?p ?o ?x .\n}\n", encoding="utf-8")
    line = one_line_error(cli("run", "--file", str(rq), "--endpoint", endpoint), 2)
    assert "refused the query (HTTP 400)" in line
