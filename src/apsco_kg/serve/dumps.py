"""The build's dumps as the server sees them: which files, their sizes and SHA-256 checksums.

The dumps are written by `apsco_kg.export` into settings.out_dir (dist/). The server never writes
them itself except by calling that function when the folder is missing, so a served dump is byte for
byte the file `apsco-kg build` makes, and its checksum is the one in SHA256SUMS.
"""

from __future__ import annotations

import base64
import hashlib
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from .. import graph
from ..settings import Settings

# Media types by file name ending; anything else in dist/ is served as octet-stream.
MEDIA_TYPES: dict[str, str] = {
    ".ttl": "text/turtle; charset=utf-8",
    ".nt": "application/n-triples",
    ".nq": "application/n-quads",
    ".trig": "application/trig",
    ".jsonld": "application/ld+json",
    ".rdf": "application/rdf+xml",
    ".gz": "application/gzip",
    ".json": "application/json",
    ".csv": "text/csv; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}
SUMS = "SHA256SUMS"
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True)
class Dump:
    name: str
    path: Path
    size: int
    sha256: str

    @property
    def media_type(self) -> str:
        if self.name == SUMS:
            return "text/plain; charset=utf-8"
        for ending, media in MEDIA_TYPES.items():
            if self.name.endswith(ending):
                return media
        return "application/octet-stream"

    @property
    def etag(self) -> str:
        return f'"sha256-{self.sha256}"'

    @property
    def digest_b64(self) -> str:
        return base64.b64encode(bytes.fromhex(self.sha256)).decode("ascii")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_sums(folder: Path) -> dict[str, str]:
    """SHA256SUMS in `sha256sum` format ("<hex>  <name>" or "<hex> *<name>")."""
    sums: dict[str, str] = {}
    path = folder / SUMS
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            m = re.match(r"^([0-9a-fA-F]{64}) [ *](.+)$", line.strip())
            if m:
                sums[m[2].strip()] = m[1].lower()
    return sums


class DumpCatalogue:
    """The files of the dump folder, built on first use (by export.py) and cached until they change."""

    def __init__(self, settings: Settings, kg: graph.KnowledgeGraph):
        self.settings = settings
        self.kg = kg
        self._lock = threading.Lock()
        self._cache: tuple[tuple[tuple[str, float, int], ...], list[Dump]] | None = None
        self.build_error: str | None = None

    @property
    def folder(self) -> Path:
        return self.settings.out_dir

    def ensure_built(self) -> None:
        with self._lock:
            if self.folder.is_dir() and any(self.folder.iterdir()):
                return
            try:
                build_dumps(self.settings, self.kg)
                self.build_error = None
            except Exception as exc:  # a missing dump must not take the pages down; the landing page says why
                self.build_error = f"{type(exc).__name__}: {exc}"

    def list(self) -> list[Dump]:
        self.ensure_built()
        if not self.folder.is_dir():
            return []
        files = sorted(p for p in self.folder.iterdir() if p.is_file() and _SAFE_NAME.match(p.name))
        stamp = tuple((p.name, p.stat().st_mtime, p.stat().st_size) for p in files)
        if self._cache and self._cache[0] == stamp:
            return self._cache[1]
        # Hash the bytes we serve rather than trust SHA256SUMS: a stale SHA256SUMS must not make the
        # ETag and Digest headers lie. (The test suite checks that the two agree.)
        dumps = [Dump(p.name, p, p.stat().st_size, sha256_file(p)) for p in files]
        self._cache = (stamp, dumps)
        return dumps

    def get(self, name: str) -> Dump | None:
        if not _SAFE_NAME.match(name):
            return None
        return next((d for d in self.list() if d.name == name), None)


def build_dumps(settings: Settings, kg: graph.KnowledgeGraph) -> None:
    """Have export.py write the dumps of the graph being served into settings.out_dir.

    `write_dumps`, not `build`: the files must hold exactly what the server serves (the graph is
    already loaded), and `apsco-kg build` remains the validating route that CI and releases use.
    """
    from .. import export  # imported late: the pages work without it, minus the dumps

    export.write_dumps(kg, settings, settings.out_dir)
