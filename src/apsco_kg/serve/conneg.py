"""Content negotiation for documents that exist in several representations (docs/linked-data.md).

Pure functions, no web framework: parse an `Accept` header (RFC 9110 §12.5.1), pick the best of the
representations we offer, and map file suffixes and `?format=` values to the same representations.

Rules, chosen so real clients get what they mean:

* the most specific media range that matches an offer decides its q (`text/html;q=0, */*` excludes
  HTML and accepts everything else);
* q=0 means "not acceptable";
* among offers with the same q, the server's order decides: for the RDF documents that order is
  Turtle, JSON-LD, N-Triples, RDF/XML, HTML, so `*/*` (curl) and `text/*` get Turtle, while
  browsers, which list `text/html` explicitly at q=1 and `*/*` at q=0.8, get HTML;
* an absent or empty `Accept` header is `*/*`; entries that cannot be parsed are ignored;
* well-known aliases are accepted for each representation (application/xhtml+xml → HTML,
  application/json → JSON-LD, text/plain → N-Triples, application/xml and text/xml → RDF/XML,
  application/x-turtle → Turtle), but only when named exactly (wildcards match canonical types),
  and the response always carries the canonical media type.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox


@dataclass(frozen=True)
class Representation:
    """One way to serve a document: its canonical media type, aliases, suffix and format names."""

    key: str
    media_type: str
    aliases: tuple[str, ...]
    suffix: str
    names: tuple[str, ...]
    rdf_format: ox.RdfFormat | None
    label: str

    @property
    def content_type(self) -> str:
        # Text types get an explicit charset: our output is always UTF-8.
        if self.media_type.startswith("text/"):
            return self.media_type + "; charset=utf-8"
        return self.media_type

    @property
    def all_types(self) -> tuple[str, ...]:
        return (self.media_type, *self.aliases)


TURTLE = Representation("ttl", "text/turtle", ("application/x-turtle",), ".ttl", ("ttl", "turtle"),
                        ox.RdfFormat.TURTLE, "Turtle")
JSONLD = Representation("jsonld", "application/ld+json", ("application/json",), ".jsonld",
                        ("jsonld", "json-ld", "json"), ox.RdfFormat.JSON_LD, "JSON-LD")
NTRIPLES = Representation("nt", "application/n-triples", ("text/plain",), ".nt", ("nt", "ntriples", "n-triples"),
                          ox.RdfFormat.N_TRIPLES, "N-Triples")
RDFXML = Representation("rdf", "application/rdf+xml", ("application/xml", "text/xml"), ".rdf",
                        ("rdf", "rdfxml", "rdf+xml", "xml"), ox.RdfFormat.RDF_XML, "RDF/XML")
HTML = Representation("html", "text/html", ("application/xhtml+xml",), ".html", ("html", "htm"), None, "HTML")

# Server preference on ties (see module docstring): data first, HTML last.
RDF_REPRESENTATIONS: tuple[Representation, ...] = (TURTLE, JSONLD, NTRIPLES, RDFXML)
DOCUMENT_REPRESENTATIONS: tuple[Representation, ...] = (*RDF_REPRESENTATIONS, HTML)

BY_SUFFIX: dict[str, Representation] = {r.suffix: r for r in DOCUMENT_REPRESENTATIONS}


@dataclass(frozen=True)
class MediaRange:
    type: str
    subtype: str
    q: float

    @property
    def specificity(self) -> int:
        return 0 if self.type == "*" else 1 if self.subtype == "*" else 2

    def matches(self, media_type: str) -> bool:
        t, _, s = media_type.partition("/")
        return (self.type in ("*", t)) and (self.subtype in ("*", s))


def parse_accept(header: str | None) -> list[MediaRange]:
    """The media ranges of an Accept header; malformed entries are dropped, not fatal."""
    ranges: list[MediaRange] = []
    for part in (header or "").split(","):
        fields = [f.strip() for f in part.split(";")]
        media = fields[0].lower()
        t, slash, s = media.partition("/")
        if not slash or not t or not s or (t == "*" and s != "*") or any(c.isspace() for c in media):
            continue
        q = 1.0
        for param in fields[1:]:
            name, eq, value = param.partition("=")
            if eq and name.strip().lower() == "q":
                try:
                    q = float(value.strip().strip('"'))
                except ValueError:
                    q = -1.0
                break  # parameters after q are accept-extensions, not media-type parameters
        if not 0.0 <= q <= 1.0:
            continue
        ranges.append(MediaRange(t, s, q))
    return ranges or [MediaRange("*", "*", 1.0)]


def quality(ranges: list[MediaRange], rep: Representation) -> float:
    """The q a client gives a representation: the most specific range matching any of its types."""
    best: tuple[int, float] | None = None
    for media_type in rep.all_types:
        for r in ranges:
            # Aliases count only when named exactly: `application/*` means "some application type",
            # not "Turtle because of application/x-turtle".
            if media_type != rep.media_type and r.specificity < 2:
                continue
            if r.matches(media_type):
                # Higher specificity wins; for equal specificity (e.g. an alias listed twice) take max q.
                key = (r.specificity, r.q)
                if best is None or key > best:
                    best = key
    return 0.0 if best is None else best[1]


def negotiate(accept: str | None, offers: tuple[Representation, ...] = DOCUMENT_REPRESENTATIONS) -> Representation | None:
    """The best acceptable offer for this Accept header, or None (→ 406)."""
    ranges = parse_accept(accept)
    best: Representation | None = None
    best_q = 0.0
    for rep in offers:  # offers are in server preference order, so `>` keeps the first on ties
        q = quality(ranges, rep)
        if q > best_q:
            best, best_q = rep, q
    return best


def by_format_name(name: str, offers: tuple[Representation, ...] = DOCUMENT_REPRESENTATIONS) -> Representation | None:
    """`?format=ttl` / `?format=text/turtle`: a short name, a suffix or a media type (or alias)."""
    value = name.strip().lower()
    for rep in offers:
        if value in rep.names or value == rep.suffix or value in rep.all_types:
            return rep
    return None


def split_suffix(path: str) -> tuple[str, Representation | None]:
    """`id/state/thailand.ttl` → (`id/state/thailand`, TURTLE). Slugs never contain dots (docs/model.md)."""
    for suffix, rep in BY_SUFFIX.items():
        if path.endswith(suffix):
            return path[: -len(suffix)], rep
    return path, None


def not_acceptable_text(offers: tuple[Representation, ...] = DOCUMENT_REPRESENTATIONS) -> str:
    lines = ["406 Not Acceptable: none of the media types in your Accept header is available here.",
             "Available:"]
    for rep in offers:
        lines.append(f"  {rep.media_type:<22} suffix {rep.suffix:<8} ?format={rep.names[0]}")
    return "\n".join(lines) + "\n"
