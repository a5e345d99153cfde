"""The one settings object. Every knob lives here; environment variables APSCO_KG_* override defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

# Stable IRI scheme (docs/model.md): terms under ONTOLOGY, entities under ID, named graphs under GRAPH.
BASE = "https://w3id.org/apsco/"
ONTOLOGY = BASE + "ontology#"
ID = BASE + "id/"
GRAPH = BASE + "graph/"


def resources_root() -> Path:
    """The folder holding ontology/, data/ and queries/.

    In a checkout (or an editable install) that is the repository root; in a wheel the build copies
    them into the package as resources/ (see setup.py), so the installed package works anywhere.
    """
    here = Path(__file__).resolve().parent
    checkout = here.parent.parent
    if (checkout / "ontology" / "apsco.ttl").is_file() and (checkout / "data").is_dir():
        return checkout
    return here / "resources"


def _env(name: str, default: str) -> str:
    return os.environ.get("APSCO_KG_" + name, default)


@dataclass(frozen=True)
class Settings:
    root: Path = field(default_factory=resources_root)
    data_dir: Path | None = None
    out_dir: Path = Path("dist")
    base_iri: str = BASE
    # Where the server is reached (`serve --base-url`): IRIs under base_iri are linked there in HTML and
    # Content-Location. Empty = root-relative links (/id/…), right both locally and behind w3id.org.
    base_url: str = ""
    # Untrusted input: refuse before any parser sees it.
    max_input_bytes: int = 64 * 1024 * 1024
    # SPARQL endpoint limits (security-risks.md §2 "suggested targets").
    query_timeout_s: float = 30.0
    row_cap: int = 10_000
    max_query_chars: int = 100_000
    max_query_depth: int = 64
    max_body_bytes: int = 1024 * 1024
    max_concurrent_per_client: int = 2
    # Query worker processes (serve/worker.py): each holds the store and is killed on timeout.
    sparql_workers: int = 4
    # How long a client's query waits for one of its max_concurrent_per_client slots before 429.
    client_wait_s: float = 1.0
    # Take the client address from the last X-Forwarded-For hop (only behind a trusted proxy).
    trust_forwarded_for: bool = False

    @property
    def ontology_dir(self) -> Path:
        return self.root / "ontology"

    @property
    def data(self) -> Path:
        return self.data_dir if self.data_dir is not None else self.root / "data"

    @property
    def queries_dir(self) -> Path:
        return self.root / "queries"

    @property
    def shapes_file(self) -> Path:
        return self.ontology_dir / "shapes.ttl"

    @property
    def context_file(self) -> Path:
        return self.ontology_dir / "context.jsonld"

    def with_(self, **changes: object) -> "Settings":
        return replace(self, **changes)  # type: ignore[arg-type]

    @classmethod
    def from_env(cls) -> "Settings":
        s = cls()
        return s.with_(
            query_timeout_s=float(_env("QUERY_TIMEOUT_S", str(s.query_timeout_s))),
            row_cap=int(_env("ROW_CAP", str(s.row_cap))),
            base_iri=_env("BASE_IRI", s.base_iri),
            base_url=_env("BASE_URL", s.base_url),
        )
