"""A wheel built from the repository carries the ontology, data and queries, and works outside the checkout."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(REPO)],
                   check=True, cwd=out)
    (whl,) = out.glob("apsco_kg-*.whl")
    return whl


def test_wheel_carries_resources(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for rel in ("ontology/apsco.ttl", "ontology/roles.ttl", "data/organization.trig", "data/sources.trig"):
        assert f"apsco_kg/resources/{rel}" in names, rel
    repo_queries = {p.name for p in (REPO / "queries").glob("*.rq")}
    packed = {Path(n).name for n in names if n.startswith("apsco_kg/resources/queries/")}
    assert repo_queries <= packed


def test_installed_wheel_loads_graph_outside_checkout(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)], check=True)
    code = (
        "import apsco_kg, apsco_kg.graph as g, apsco_kg.settings as s;"
        "print(apsco_kg.__file__); print(s.resources_root()); print(len(g.load()))"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=tmp_path, env=env)
    module_file, root, count = out.stdout.split()
    assert module_file.startswith(str(target)), "the installed copy, not the checkout, was imported"
    assert root.startswith(str(target))
    assert int(count) > 1000
