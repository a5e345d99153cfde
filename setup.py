"""Ships ontology/, data/ and queries/ inside the wheel as apsco_kg/resources/.

They live at the top of the repository (where curators edit them); a wheel must work outside the
checkout, so the build copies them into the package. Everything else is in pyproject.toml.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


class BuildPyWithResources(build_py):
    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "apsco_kg" / "resources"
        for name in ("ontology", "data", "queries"):
            if (ROOT / name).is_dir():
                shutil.copytree(ROOT / name, target / name, dirs_exist_ok=True)


setup(cmdclass={"build_py": BuildPyWithResources})
