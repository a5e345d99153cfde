"""`apsco-kg validate`: exit codes and messages, the report, and untrusted contributions.

Hostile inputs (security-risks.md B1–B7, C1–C3) are checked for outcomes: the exit code, the one
clear line on stderr, and — with a canary HTTP server on 127.0.0.1 that records every request —
zero fetches. Inputs that might crash a native parser run in a subprocess, so a crash would show
as a negative return code instead of killing the test run.
"""

from __future__ import annotations

import http.server
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from apsco_kg import graph
from apsco_kg import validate as validation
from apsco_kg.cli import main
from apsco_kg.graph import InputError
from apsco_kg.settings import Settings

FIXTURES = Path(__file__).parent / "fixtures"
VALID = FIXTURES / "shapes" / "valid.trig"
CONFORMS = FIXTURES / "validate" / "conforms.trig"
ONE_VIOLATION = FIXTURES / "validate" / "one-violation.trig"
SYNTAX_ERROR = FIXTURES / "validate" / "syntax-error.trig"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["validate", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def run_subprocess(*args: str) -> subprocess.CompletedProcess[str]:
    code = "import sys; from apsco_kg.cli import main; sys.exit(main())"
    return subprocess.run([sys.executable, "-c", code, "validate", *args], capture_output=True, text=True, timeout=600)


# ---------------------------------------------------------------------------------------------
# Exit codes and messages
# ---------------------------------------------------------------------------------------------
def test_conforming_file_exits_0() -> None:
    code, out, err = run(str(CONFORMS))
    assert code == 0
    assert out.startswith("conforms:") and "no violations" in out
    assert err == ""


def test_violation_exits_1_with_a_readable_report() -> None:
    code, out, _ = run(str(ONE_VIOLATION))
    assert code == 1
    lines = out.splitlines()
    # entity (with its English name), property, what is wrong, the file it came from
    assert lines[0] == "VIOLATION: id:state/thailand (Kingdom of Thailand)  skos:prefLabel"
    assert "two different preferred names" in lines[1]
    assert lines[2] == f"    from: {ONE_VIOLATION}"
    assert lines[-1].startswith("does not conform: 1 violation(s)")


def test_json_report() -> None:
    code, out, _ = run("--json", str(ONE_VIOLATION))
    assert code == 1
    report = json.loads(out)
    assert report["conforms"] is False and report["violations"] == 1
    (entry,) = report["results"]
    assert entry["focus"] == "https://w3id.org/apsco/id/state/thailand"
    assert entry["path"] == "http://www.w3.org/2004/02/skos/core#prefLabel"
    assert entry["shape"] == "https://w3id.org/apsco/shapes#LabelShape"
    assert entry["files"] == [str(ONE_VIOLATION)]
    assert entry["severity"] == "Violation"


def test_syntax_error_exits_2_with_file_line_column() -> None:
    code, out, err = run(str(SYNTAX_ERROR))
    assert code == 2
    assert out == ""
    assert err == f"error: {SYNTAX_ERROR}:5:26: syntax error: . is not a valid RDF object\n"


@pytest.mark.parametrize(("name", "content", "expected"), [
    ("empty.trig", b"", "the file is empty"),
    ("blank.ttl", b"  \n\n", "the file is empty"),
    ("image.ttl", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not UTF-8"),
    ("utf16.ttl", "<http://e/a> <http://e/b> <http://e/c> .".encode("utf-16"), "not UTF-8"),
    ("latin1.trig", 'GRAPH <http://e/g> { <http://e/a> <http://e/b> "caf\xe9" . }'.encode("latin-1"), "not UTF-8"),
    ("prose.ttl", b"This is not RDF at all.\n", "syntax error"),
    ("notes.txt", b"<http://e/a> <http://e/b> <http://e/c> .", "cannot tell the RDF format from the extension '.txt'"),
    ("data.json", b"[1, 2", "syntax error"),
])
def test_bad_input_exits_2_with_one_clear_line(tmp_path: Path, name: str, content: bytes, expected: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    code, out, err = run(str(path))
    assert code == 2
    assert out == ""
    assert err.startswith(f"error: {path}") and expected in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_too_large_exits_2_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.nt"
    with path.open("wb") as f:  # sparse: 65 MiB on paper, nothing on disk
        f.truncate(Settings().max_input_bytes + 1)
    code, _, err = run(str(path))
    assert code == 2
    assert "above the limit of 67,108,864" in err and "split it" in err


def test_missing_file_and_folder_exit_2(tmp_path: Path) -> None:
    code, _, err = run(str(tmp_path / "nope.trig"))
    assert (code, err) == (2, f"error: {tmp_path / 'nope.trig'}: no such file\n")
    code, _, err = run("--data", str(tmp_path / "nodata"))
    assert (code, err) == (2, f"error: {tmp_path / 'nodata'}: no such data folder\n")


def test_usage_errors_exit_2() -> None:
    code, _, err = run("--format", "xml", str(CONFORMS))
    assert code == 2 and "Invalid value for '--format'" in err
    code, _, err = run("--data", "data", str(CONFORMS))
    assert (code, err) == (2, "error: give either FILEs or --data, not both\n")


def test_explicit_format_overrides_the_extension(tmp_path: Path) -> None:
    path = tmp_path / "contribution.txt"
    path.write_bytes(CONFORMS.read_bytes())
    assert run("--format", "trig", str(path))[0] == 0


def test_data_folder_option(tmp_path: Path) -> None:
    (tmp_path / "a.trig").write_bytes(CONFORMS.read_bytes())
    assert run("--data", str(tmp_path))[0] == 0
    (tmp_path / "b.trig").write_bytes(ONE_VIOLATION.read_bytes())
    code, out, _ = run("--data", str(tmp_path))
    assert code == 1 and str(tmp_path / "b.trig") in out


def test_help_documents_the_exit_codes() -> None:
    out = CliRunner().invoke(main, ["validate", "--help"]).stdout
    assert "0  the data conforms" in out and "1  violations" in out and "2  error" in out


def test_loader_rules_are_violations(tmp_path: Path) -> None:
    """No triple outside a GRAPH block, no blank node, every graph described: exit 1, not 2."""
    path = tmp_path / "rules.trig"
    path.write_text(
        "<http://e/a> <http://e/b> <http://e/c> .\n"
        "GRAPH <https://w3id.org/apsco/graph/undescribed> { <http://e/a> <http://e/b> [ <http://e/c> <http://e/d> ] . }\n"
    )
    report = validation.validate_files(Settings(), [path])
    messages = [e.message for e in report.entries]
    assert any("outside any GRAPH block" in m for m in messages)
    assert any("blank node" in m for m in messages)
    undescribed = [e for e in report.entries if e.focus == "https://w3id.org/apsco/graph/undescribed"]
    assert len(undescribed) == 1 and "source is not declared" in undescribed[0].message
    assert undescribed[0].files == (str(path),)
    assert run(str(path))[0] == 1


def test_contribution_is_not_merged_with_data(tmp_path: Path) -> None:
    """FILEs are validated with the ontology only: the report counts the file's triples, not data/'s."""
    with_data = validation.validate_files(Settings()).triples
    alone = validation.validate_files(Settings(), [CONFORMS]).triples
    assert alone == validation.distinct_triples(graph.load(Settings(), extra_files=[CONFORMS], data=False))
    assert alone < with_data


# ---------------------------------------------------------------------------------------------
# Untrusted contributions: nothing is fetched
# ---------------------------------------------------------------------------------------------
class Canary:
    """An HTTP server on 127.0.0.1 that answers every request and records it."""

    def __init__(self) -> None:
        hits: list[str] = []
        self.hits = hits

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                hits.append(self.path)
                body = b'{"@context": {"p": "http://canary/p"}}'
                self.send_response(200)
                self.send_header("Content-Type", "application/ld+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_GET  # noqa: N815

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)


@pytest.fixture()
def canary() -> Iterator[Canary]:
    c = Canary()
    c.thread.start()
    try:
        yield c
    finally:
        c.server.shutdown()
        c.server.server_close()


def test_the_canary_records_hits(canary: Canary) -> None:
    """The canary works, so '0 hits' below means nothing was fetched."""
    import urllib.request

    with urllib.request.urlopen(canary.url + "/probe", timeout=10) as response:
        assert response.status == 200
    assert canary.hits == ["/probe"]


@pytest.mark.parametrize("context", [
    '"{url}/context.jsonld"',
    '["{url}/a.jsonld", "{url}/b.jsonld"]',
    '{{"@import": "{url}/import.jsonld"}}',
    '"file:///etc/passwd"',
    '"/etc/passwd"',
])
def test_remote_jsonld_context_is_refused_without_fetching(tmp_path: Path, canary: Canary, context: str) -> None:
    path = tmp_path / "contribution.jsonld"
    path.write_text('{"@context": ' + context.format(url=canary.url) + ', "@id": "http://e/a", "p": "x"}')
    code, out, err = run(str(path))
    assert code == 2 and out == ""
    assert "contexts are never fetched" in err or "remote context" in err
    assert canary.hits == []


def test_rdfxml_external_entity_is_refused_without_fetching(tmp_path: Path, canary: Canary) -> None:
    path = tmp_path / "xxe.rdf"
    path.write_text(
        f'<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [<!ENTITY x SYSTEM "{canary.url}/xxe">]>\n'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:e="http://e/">'
        '<rdf:Description rdf:about="http://e/a"><e:p>&x;</e:p></rdf:Description></rdf:RDF>\n'
    )
    code, _, err = run(str(path))
    assert code == 2 and f"{path}:2:1: DOCTYPE and ENTITY declarations are refused" in err
    assert canary.hits == []


def test_embedded_shapes_are_ignored(tmp_path: Path, canary: Canary) -> None:
    """A contribution carrying its own shapes (which would reject everything and fetch the canary
    through sh:select … FROM, and owl:imports) is judged by our shapes alone: it conforms."""
    embedded = f"""
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
GRAPH <https://w3id.org/apsco/graph/t> {{
  <http://e/shapes> a owl:Ontology ; owl:imports <{canary.url}/imports.ttl> .
  <http://e/Evil> a sh:NodeShape ;
      sh:targetClass <https://w3id.org/apsco/ontology#State> ;
      sh:property <http://e/EvilProperty> ;
      sh:sparql <http://e/EvilSparql> .
  <http://e/EvilProperty> sh:path <http://www.w3.org/2004/02/skos/core#prefLabel> ; sh:maxCount 0 .
  <http://e/EvilSparql> sh:select "SELECT $this FROM <{canary.url}/from> WHERE {{ ?s ?p ?o }}" .
}}
"""
    path = tmp_path / "carrying-shapes.trig"
    path.write_bytes(VALID.read_bytes() + embedded.encode())
    code, out, _ = run(str(path))
    assert code == 0, out
    # The reference engine too (run_shacl may answer with the fast engine alone).
    kg = graph.load(Settings(), extra_files=[path], data=False)
    assert validation.run_pyshacl(kg, Settings()) == []
    assert canary.hits == []


def test_pyshacl_gets_bytes_never_a_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The rdflib data graph is parsed from N-Triples bytes with an explicit format (B7)."""
    import rdflib

    calls: list[tuple[object, object]] = []
    real = rdflib.Graph.parse

    def spy(self: rdflib.Graph, source: object = None, *args: object, **kwargs: object) -> rdflib.Graph:
        calls.append((source, kwargs.get("format")))
        assert source is None and isinstance(kwargs.get("data"), (bytes, str)), "parse() was given a source"
        return real(self, source, *args, **kwargs)  # type: ignore[arg-type]

    kg = graph.load(Settings(), extra_files=[CONFORMS], data=False)
    monkeypatch.setattr(rdflib.Graph, "parse", spy)
    assert validation.run_pyshacl(kg, Settings()) == []
    assert [fmt for _, fmt in calls] == ["nt", "turtle"]  # the data, then our shapes file's bytes


def test_pyshacl_is_called_safely(monkeypatch: pytest.MonkeyPatch) -> None:
    import pyshacl

    seen: dict[str, object] = {}
    real = pyshacl.validate

    def spy(data_graph: object, *args: object, **kwargs: object) -> object:
        seen.update(kwargs)
        return real(data_graph, *args, **kwargs)

    kg = graph.load(Settings(), extra_files=[CONFORMS], data=False)
    monkeypatch.setattr(pyshacl, "validate", spy)
    validation.run_pyshacl(kg, Settings())
    assert seen["inference"] == "none" and seen["do_owl_imports"] is False and seen["advanced"] is False
    assert seen["shacl_graph"] is not None and seen["ont_graph"] is None


# ---------------------------------------------------------------------------------------------
# Untrusted contributions: nothing runs away (outcomes, never timings)
# ---------------------------------------------------------------------------------------------
def test_billion_laughs_is_refused(tmp_path: Path) -> None:
    entities = '<!ENTITY lol0 "lol">' + "".join(
        f'<!ENTITY lol{i} "{"&lol%d;" % (i - 1) * 10}">' for i in range(1, 10))
    path = tmp_path / "bomb.rdf"
    path.write_text(
        f'<?xml version="1.0"?><!DOCTYPE rdf:RDF [{entities}]>'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:e="http://e/">'
        '<rdf:Description rdf:about="http://e/a"><e:p>&lol9;</e:p></rdf:Description></rdf:RDF>'
    )
    result = run_subprocess(str(path))
    assert result.returncode == 2
    assert "DOCTYPE and ENTITY declarations are refused" in result.stderr


@pytest.mark.parametrize(("name", "body", "expected"), [
    ("escapes.trig", b'GRAPH <https://w3id.org/apsco/graph/t> { <http://e/a> <http://e/p> "' + b"\\u0041" * 400_000 + b'" . }',
     "above the limit of 32,768"),
    ("newlines.trig", b'GRAPH <https://w3id.org/apsco/graph/t> { <http://e/a> <http://e/p> """' + b"\n" * 1_000_000 + b'""" . }',
     "above the limit of 32,768"),
    ("amp.rdf", b'<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:e="http://e/">'
     b'<rdf:Description rdf:about="http://e/a"><e:p>' + b"&amp;" * 800_000 + b"</e:p></rdf:Description></rdf:RDF>",
     "above the limit of 32,768"),
    ("deep.jsonld", b'{"@id": "http://e/a", "http://e/p": ' + b'{"http://e/p": ' * 100_000 + b'"x"' + b"}" * 100_000 + b"}",
     "Max stack size"),
])
def test_escape_heavy_and_deep_inputs_end_with_a_clear_error(tmp_path: Path, name: str, body: bytes, expected: str) -> None:
    path = tmp_path / name
    path.write_bytes(body)
    result = run_subprocess(str(path))
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"error: {path}") and expected in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("opening,closing", [(b"[ <http://e/p> ", b" ]"), (b"( ", b" )")])
def test_deep_turtle_nesting_ends_with_a_verdict(tmp_path: Path, opening: bytes, closing: bytes) -> None:
    """10,000 nested blank nodes or collections parse (pyoxigraph is not recursive) and are
    rejected by the no-blank-node rule: exit 1, a capped text report, the process alive."""
    depth = 10_000
    path = tmp_path / "deep.trig"
    path.write_bytes(b"GRAPH <https://w3id.org/apsco/graph/t> { <http://e/a> <http://e/p> "
                     + opening * depth + b"<http://e/o>" + closing * depth + b" . }\n")
    result = run_subprocess(str(path))
    assert result.returncode == 1, result.stderr
    assert "blank node" in result.stdout
    assert "more (use --json to see all)" in result.stdout
    assert result.stdout.count("\nVIOLATION") < 250


def test_explain_rewords_remote_context_errors() -> None:
    err = validation.explain(InputError("x.jsonld", "syntax error: No LoadDocumentCallback has been set to load remote contexts"))
    assert str(err) == ("x.jsonld: the JSON-LD @context refers to a remote or local document; contexts are never "
                        "fetched: put the context object inline in the file")
    other = InputError("x.ttl", "syntax error: boom", 1, 2)
    assert validation.explain(other) is other


# ---------------------------------------------------------------------------------------------
# The real data
# ---------------------------------------------------------------------------------------------
def test_real_data_conforms() -> None:
    """data/ validates with exit 0. If this fails, the report names each fact and shape."""
    code, out, err = run()
    assert (code, err) == (0, ""), out
    assert out.startswith("conforms:")
