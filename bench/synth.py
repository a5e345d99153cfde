"""A synthetic data folder shaped like data/*.trig, at any size: `bench/synth.py --triples N --out DIR`.

The real graph describes one organization from two Wikipedia articles. The synthetic graph describes
many organizations the same way: each has an English and a Chinese "article" (an
apsco:WikipediaArticle in graph:sources), numbered citations of cited works, and one named graph per
(article, citation set), described in graph:sources with prov:wasDerivedFrom (docs/model.md,
"Provenance"). Its facts use the same n-ary pattern as the real data: memberships (org:member /
org:organization / org:role), treaty signatures (apsco:Signature), meeting series whose meetings have
a host apsco:Participation, tallies and post holdings; every entity has exactly one skos:prefLabel
in English and one in Chinese.

Why it is written the way it is:
* Deterministic: every organization draws from its own random.Random seeded with "seed:index"
  (string seeds hash with SHA-512, stable across runs and Python versions), so output is
  byte-identical for a seed and does not depend on how much was generated before.
* Streaming: entities are written as they are drawn, one file per kind rolled over every
  CHUNK_TRIPLES triples, so 10M triples need no more memory than 10k (only the pools of states and
  cities live in memory) and no single file exceeds the loader's 64 MiB input limit.
* Text, not a library serializer: writing TriG lines directly is ~10x faster than building terms,
  and we control that every IRI and literal is valid (escaped quotes, no blank nodes).
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

ID = "https://w3id.org/apsco/id/"
GRAPH = "https://w3id.org/apsco/graph/"
# Below the loader's 64 MiB per-file limit with a wide margin (~110 bytes per triple here).
CHUNK_TRIPLES = 200_000
KINDS = ("states", "organizations", "memberships", "treaties", "meetings", "people", "sources", "curation")

PREFIXES = """@prefix apsco: <https://w3id.org/apsco/ontology#> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix org: <http://www.w3.org/ns/org#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix wd: <http://www.wikidata.org/entity/> .
@prefix role: <https://w3id.org/apsco/id/role/> .

"""

# Name material. English names are pseudo-words from syllables; Chinese names from transliteration
# characters. Both are derived from the entity's index in mixed radix, so every name is unique.
SYLLABLES = ("ka", "ra", "ti", "lo", "men", "sa", "vi", "do", "ne", "sul", "ba", "ri", "tan", "mo", "ze", "qu",
             "ha", "li", "por", "nu", "ga", "el", "shi", "ko", "ver", "da", "ni", "us", "ton", "ma", "ar", "ju")
ZH_CHARS = "阿巴卡达尼亚斯坦利马拉特诺维尔哥伦比加纳里莫桑克索泰图乌西萨基兰多米塔文苏德弗赫"
REGION_EN = ("Asia-Pacific", "Northern", "Southern", "Eastern", "Western", "Central", "Indo-Pacific", "Trans-Oceanic",
             "Equatorial", "Polar", "Coastal", "Continental")
REGION_ZH = ("亚太", "北方", "南方", "东方", "西方", "中部", "印太", "跨洋", "赤道", "极地", "沿海", "大陆")
FIELD_EN = ("Space", "Satellite", "Remote Sensing", "Earth Observation", "Navigation", "Space Science",
            "Launch", "Telecommunications", "Space Law", "Space Debris")
FIELD_ZH = ("空间", "卫星", "遥感", "对地观测", "导航", "空间科学", "发射", "通信", "空间法", "空间碎片")
KIND_EN = ("Cooperation Organization", "Agency", "Council", "Forum", "Consortium", "Union")
KIND_ZH = ("合作组织", "机构", "理事会", "论坛", "联合体", "联盟")
PUBLISHERS = ("Xinhua", "Reuters", "Space News", "Acta Astronautica", "Government Gazette", "Kyodo", "ANTARA",
              "Bernama", "The Hindu", "Dawn")


def _digits(n: int, base: int, width: int) -> list[int]:
    """At least `width` digits, more when n needs them, so names never wrap round and collide."""
    out: list[int] = []
    while len(out) < width or n:
        n, d = divmod(n, base)
        out.append(d)
    return out


def en_word(i: int, salt: int = 0) -> str:
    syl = [SYLLABLES[(d + salt) % len(SYLLABLES)] for d in _digits(i, len(SYLLABLES), 3)]
    return "".join(syl).capitalize()


def zh_word(i: int, salt: int = 0) -> str:
    return "".join(ZH_CHARS[(d + salt) % len(ZH_CHARS)] for d in _digits(i, len(ZH_CHARS), 3))


def slug(text: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in text.lower()).split())


def lit(text: str, lang: str | None = None) -> str:
    esc = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{esc}"@{lang}' if lang else f'"{esc}"'


def typed(value: str, datatype: str) -> str:
    return f'"{value}"^^xsd:{datatype}'


def iri(kind: str, *parts: str) -> str:
    return "<" + ID + kind + "/" + "/".join(parts) + ">"


def graph_iri(name: str) -> str:
    return "<" + GRAPH + name + ">"


def date_value(rng: random.Random, lo: int, hi: int) -> str:
    """A date at a realistic precision: mostly full dates, some year-months, some bare years."""
    year = rng.randint(lo, max(lo, hi))
    r = rng.random()
    month, day = rng.randint(1, 12), rng.randint(1, 28)
    if r < 0.55:
        return typed(f"{year:04d}-{month:02d}-{day:02d}", "date")
    if r < 0.8:
        return typed(f"{year:04d}-{month:02d}", "gYearMonth")
    return typed(f"{year:04d}", "gYear")


class KindWriter:
    """One kind's TriG files, rolled over every CHUNK_TRIPLES triples so each file stays small."""

    def __init__(self, out: Path, kind: str, chunk: int) -> None:
        self.out, self.kind, self.chunk = out, kind, chunk
        self.part = 0
        self.in_file = 0
        self.total = 0
        self.fh: TextIO | None = None

    def _open(self) -> TextIO:
        if self.fh is None or self.in_file >= self.chunk:
            if self.fh is not None:
                self.fh.close()
            self.part += 1
            self.in_file = 0
            path = self.out / f"{self.kind}-{self.part:04d}.trig"
            self.fh = path.open("w", encoding="utf-8", newline="\n")
            self.fh.write(f"# Synthetic APSCO-shaped data ({self.kind}), written by bench/synth.py.\n")
            self.fh.write(PREFIXES)
        return self.fh

    def block(self, graph: str, subject: str, pairs: Iterable[tuple[str, str]]) -> int:
        """Write `GRAPH g { s p o ; … }` and return the number of triples written."""
        pairs = list(pairs)
        if not pairs:
            return 0
        fh = self._open()
        body = " ;\n    ".join(f"{p} {o}" for p, o in pairs)
        fh.write(f"GRAPH {graph} {{\n  {subject} {body} .\n}}\n")
        self.in_file += len(pairs)
        self.total += len(pairs)
        return len(pairs)

    def close(self) -> None:
        if self.fh is not None:
            self.fh.close()
            self.fh = None


@dataclass(frozen=True)
class State:
    iri: str
    en: str
    zh: str


@dataclass(frozen=True)
class City:
    iri: str
    en: str
    zh: str
    state: State


class Synth:
    def __init__(self, out: Path, triples: int, seed: int, chunk: int = CHUNK_TRIPLES) -> None:
        self.out, self.target, self.seed = out, triples, seed
        self.writers = {k: KindWriter(out, k, chunk) for k in KINDS}
        # Pools grow slowly with size (a world has a few hundred states, not a million).
        self.n_states = int(min(1500, 40 + 12 * math.sqrt(max(triples, 1) / 100)))
        self.states: list[State] = []
        self.cities: list[City] = []
        self.areas: list[str] = []

    @property
    def written(self) -> int:
        return sum(w.total for w in self.writers.values())

    # -- shared pools ---------------------------------------------------------------------------
    def write_pools(self) -> None:
        rng = random.Random(f"{self.seed}:pools")
        w, cur = self.writers["states"], self.writers["curation"]
        src = self.writers["sources"]
        # The pools are not claimed by any one article: their identification is curation (model.md).
        for i in range(self.n_states):
            en, zh = en_word(i) + "ia", zh_word(i) + "国"
            s = State(iri("state", slug(en)), en, zh)
            self.states.append(s)
            pairs = [("a", "apsco:State"), ("skos:prefLabel", lit(en, "en")), ("skos:prefLabel", lit(zh, "zh"))]
            w.block(graph_iri("curation"), s.iri, pairs)
            if rng.random() < 0.8:
                cur.block(graph_iri("curation"), s.iri, [("apsco:wikidataItem", f"wd:Q{100000 + i}")])
            else:
                cur.block(graph_iri("curation"), s.iri, [("apsco:reconciliation", "apsco:NoItemKnown")])
            for j in range(1 + (rng.random() < 0.4)):
                cen, czh = en_word(i * 2 + j, salt=7) + (" City" if j else "pur"), zh_word(i * 2 + j, salt=5) + "市"
                c = City(iri("place", slug(cen)), cen, czh, s)
                self.cities.append(c)
                w.block(graph_iri("curation"), c.iri, [
                    ("a", "apsco:City"), ("skos:prefLabel", lit(cen, "en")), ("skos:prefLabel", lit(czh, "zh")),
                    ("apsco:country", s.iri)])
                cur.block(graph_iri("curation"), c.iri, [("apsco:wikidataItem", f"wd:Q{2_000_000 + i * 2 + j}")]
                          if rng.random() < 0.7 else [("apsco:reconciliation", "apsco:NeedsReconciliation")])
        # The cooperation areas: one SKOS scheme shared by every organization, as in data/organization.trig.
        # Own IRIs (…/synthetic-…), so a synthetic folder can be built together with the real data/.
        scheme = "<" + ID + "scheme/synthetic-cooperation-areas>"
        cur.block(graph_iri("curation"), scheme, [("a", "skos:ConceptScheme"), ("skos:prefLabel", lit("Cooperation areas", "en")),
                                                  ("skos:prefLabel", lit("合作领域", "zh"))])
        for en, zh in zip(FIELD_EN, FIELD_ZH):
            self.areas.append(iri("concept", "area", "synthetic-" + slug(en)))
            cur.block(graph_iri("curation"), self.areas[-1], [
                ("a", "apsco:CooperationArea"), ("skos:inScheme", scheme), ("skos:prefLabel", lit(en.lower(), "en")),
                ("skos:prefLabel", lit(zh, "zh"))])
        # As in data/sources.trig: graph:curation is derived from the curation notes, which are a source
        # document described (with its labels) in graph:curation.
        src.block(graph_iri("sources"), graph_iri("curation"), [("prov:wasDerivedFrom", iri("source", "curation-notes"))])
        cur.block(graph_iri("curation"), iri("source", "curation-notes"), [
            ("a", "apsco:SourceDocument"), ("skos:prefLabel", lit("apsco-kg curation notes", "en")),
            ("skos:prefLabel", lit("apsco-kg 整理说明", "zh"))])

    # -- one organization, its two articles and everything they state ----------------------------
    def write_org(self, i: int) -> None:
        rng = random.Random(f"{self.seed}:{i}")
        W = self.writers
        region, fld, kind = rng.randrange(len(REGION_EN)), rng.randrange(len(FIELD_EN)), rng.randrange(len(KIND_EN))
        name_en = f"{REGION_EN[region]} {FIELD_EN[fld]} {KIND_EN[kind]} {en_word(i, salt=3)}"
        name_zh = f"{REGION_ZH[region]}{FIELD_ZH[fld]}{KIND_ZH[kind]}{zh_word(i, salt=3)}"
        s = slug(name_en)
        org = iri("org", s)
        abbr = "".join(w[0] for w in name_en.replace("-", " ").split()).upper()
        inception = rng.randint(1960, 2020)

        # Sources: an English and a Chinese article, numbered citations of cited works.
        en_src, zh_src = f"enwiki-{s}", f"zhwiki-{s}"
        n_cites = max(2, min(60, int(rng.lognormvariate(2.2, 0.6))))
        src = W["sources"]
        sources_g = graph_iri("sources")
        # graph:sources holds what the articles' reference lists say, so it is derived from both articles.
        src.block(sources_g, sources_g, [("prov:wasDerivedFrom", iri("source", en_src)),
                                         ("prov:wasDerivedFrom", iri("source", zh_src))])
        for source, lang, title in ((en_src, "en", name_en), (zh_src, "zh", name_zh)):
            src.block(sources_g, iri("source", source), [
                ("a", "apsco:WikipediaArticle"),
                ("skos:prefLabel", lit(f"{title} (Wikipedia)", "en")),
                ("skos:prefLabel", lit(f"{name_zh}（维基百科）", "zh")),
                ("apsco:inLanguage", lit(lang)),
                ("apsco:url", f"<https://{lang}.wikipedia.org/wiki/{s}>"),
                ("apsco:revision", lit(str(rng.randint(10**8, 2 * 10**9)))),
                ("apsco:lastEdited", typed(f"{rng.randint(2022, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00Z", "dateTime")),
            ])
        for n in range(1, n_cites + 1):
            work = iri("work", f"{s}-{n}")
            scholarly = rng.random() < 0.2
            wp = [("a", "apsco:ScholarlyArticle" if scholarly else "apsco:WebPage"),
                  ("apsco:title", lit(f"{FIELD_EN[rng.randrange(len(FIELD_EN))]} cooperation report {n} on {abbr}", "en")),
                  ("apsco:url", f"<https://example.org/{s}/{n}>"),
                  ("apsco:publicationDate", date_value(rng, inception, 2024))]
            if rng.random() < 0.6:
                wp.append(("apsco:authorName", lit(f"{en_word(i * 61 + n, 11)} {en_word(n, 13)}")))
            src.block(sources_g, work, wp)
            cit = iri("citation", en_src, str(n))
            cp = [("a", "apsco:Citation"), ("apsco:citedIn", iri("source", en_src)),
                  ("apsco:referenceNumber", str(n)), ("apsco:citedWork", work)]
            if rng.random() < 0.7:
                cp.append(("apsco:retrieved", typed(f"{rng.randint(2015, 2024)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}", "date")))
            src.block(sources_g, cit, cp)
        zh_refs = [iri("citation", zh_src, str(n)) for n in (1, 2)]
        for n, cit in enumerate(zh_refs, 1):
            src.block(sources_g, cit, [("a", "apsco:Citation"), ("apsco:citedIn", iri("source", zh_src)),
                                       ("apsco:referenceNumber", str(n)),
                                       ("apsco:citedWork", iri("work", f"{s}-{n}"))])

        # Provenance graphs: the English article's citation groups, its uncited statements, the Chinese article.
        groups: list[str] = [graph_iri(en_src)]
        src.block(sources_g, groups[0], [("a", "apsco:ProvenanceGraph"), ("prov:wasDerivedFrom", iri("source", en_src))])
        n_groups = max(1, min(12, n_cites // 2))
        for _ in range(n_groups):
            cited = sorted(rng.sample(range(1, n_cites + 1), k=min(n_cites, rng.choice((1, 1, 1, 2, 2, 3)))))
            g = graph_iri(f"{en_src}/cite-" + "-".join(map(str, cited)))
            if g in groups:
                continue
            groups.append(g)
            src.block(sources_g, g, [("a", "apsco:ProvenanceGraph"), ("prov:wasDerivedFrom", iri("source", en_src))]
                      + [("apsco:citesReference", iri("citation", en_src, str(c))) for c in cited])
        zh_g = graph_iri(zh_src)
        src.block(sources_g, zh_g, [("a", "apsco:ProvenanceGraph"), ("prov:wasDerivedFrom", iri("source", zh_src))]
                  + [("apsco:generalReference", c) for c in zh_refs])

        def en_graph() -> str:
            # Uncited statements are rarer than cited ones in an article (lead vs body).
            return groups[0] if rng.random() < 0.15 or len(groups) == 1 else rng.choice(groups[1:])

        def state_both(writer: KindWriter, subject: str, pairs: list[tuple[str, str]], p_zh: float = 0.3) -> None:
            """English statement; the Chinese article restates some facts (same triples, its own graph)."""
            writer.block(en_graph(), subject, pairs)
            if rng.random() < p_zh:
                writer.block(zh_g, subject, pairs)

        # The organization.
        hq = rng.choice(self.cities)
        ow = W["organizations"]
        ow.block(en_graph(), org, [("a", "apsco:IntergovernmentalOrganization"), ("skos:prefLabel", lit(name_en, "en")),
                                   ("apsco:abbreviation", lit(abbr, "en"))])
        ow.block(zh_g, org, [("a", "apsco:IntergovernmentalOrganization"), ("skos:prefLabel", lit(name_zh, "zh"))])
        state_both(ow, org, [("apsco:inception", date_value(rng, inception, inception)), ("apsco:headquarters", hq.iri)], 0.6)
        state_both(ow, org, [("apsco:description", lit(f"An intergovernmental organization for {FIELD_EN[fld].lower()} cooperation in the {REGION_EN[region]} region.", "en"))], 0.0)
        ow.block(zh_g, org, [("apsco:description", lit(f"{REGION_ZH[region]}地区{FIELD_ZH[fld]}合作的政府间组织。", "zh"))]
                 + [("apsco:cooperationArea", a) for a in rng.sample(self.areas, rng.randint(1, 5))])
        if rng.random() < 0.5:
            W["curation"].block(graph_iri("curation"), org, [("apsco:reconciliation", "apsco:NeedsReconciliation"),
                                                             ("apsco:wikipediaArticle", f"<https://en.wikipedia.org/wiki/{s}>")])
        else:
            W["curation"].block(graph_iri("curation"), org, [("apsco:wikidataItem", f"wd:Q{5_000_000 + i}")])

        # Members: a heavy-tailed count (most bodies are small, a few are large).
        n_members = max(2, min(len(self.states), int(rng.lognormvariate(2.1, 0.7))))
        members = rng.sample(self.states, n_members)
        as_of = typed(f"{rng.randint(2019, 2024)}-{rng.randint(1, 12):02d}", "gYearMonth")
        mw = W["memberships"]
        for st in members:
            ss = st.iri[len(ID) + len("state/") + 1:-1]
            m = iri("membership", s, ss)
            pairs = [("a", "apsco:Membership"), ("org:member", st.iri), ("org:organization", org),
                     ("org:role", "role:full-member" if rng.random() < 0.9 else "role:committee-member")]
            # Current members are stated "as of" a date; others with the date they joined (model.md, "Dates").
            pairs.append(("apsco:asOf", as_of) if rng.random() < 0.5 else ("apsco:startDate", date_value(rng, inception, 2024)))
            state_both(mw, m, pairs, 0.3)
        tw = W["treaties"]
        tal = iri("tally", s, "full-member")
        state_both(tw, tal, [("a", "apsco:Tally"), ("apsco:count", str(n_members)),
                             ("apsco:countOfRole", "role:full-member"), ("apsco:tallyContext", org), ("apsco:asOf", as_of)], 0.5)

        # The founding treaty and its signatures.
        t_en, t_zh = f"Convention of the {name_en}", f"{name_zh}公约"
        treaty = iri("treaty", slug(t_en))
        place = rng.choice(self.cities)
        signing = typed(f"{inception}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}", "date")
        tw.block(en_graph(), treaty, [("a", "apsco:Treaty"), ("skos:prefLabel", lit(t_en, "en")),
                                      ("apsco:signingDate", signing), ("apsco:signingLocation", place.iri),
                                      ("apsco:depositary", rng.choice(members).iri)])
        tw.block(zh_g, treaty, [("a", "apsco:Treaty"), ("skos:prefLabel", lit(t_zh, "zh"))])
        ow.block(en_graph(), org, [("apsco:foundingCharter", treaty)])
        signers = members[: max(1, int(len(members) * rng.uniform(0.5, 1.0)))]
        for k, st in enumerate(signers, 1):
            ss = st.iri[len(ID) + len("state/") + 1:-1]
            sig = iri("signature", slug(t_en), ss)
            pairs = [("a", "apsco:Signature"), ("apsco:agent", st.iri), ("apsco:context", treaty),
                     ("apsco:role", "role:signatory"), ("apsco:ordinal", str(k))]
            pairs.append(("apsco:date", signing if k <= 3 else date_value(rng, inception, min(2024, inception + 6))))
            if k <= 3:
                pairs.append(("apsco:location", place.iri))
            state_both(tw, sig, pairs, 0.2)

        # A meeting series with numbered meetings, each with its host (and some attendees).
        ser_en, ser_zh = f"Council of the {name_en}", f"{name_zh}理事会"
        series = iri("series", slug(ser_en))
        ew = W["meetings"]
        ew.block(en_graph(), series, [("a", "apsco:MeetingSeries"), ("skos:prefLabel", lit(ser_en, "en")),
                                      ("apsco:organizer", org)])
        ew.block(zh_g, series, [("a", "apsco:MeetingSeries"), ("skos:prefLabel", lit(ser_zh, "zh"))])
        n_meet = max(1, min(40, int(rng.lognormvariate(1.8, 0.8))))
        for k in range(1, n_meet + 1):
            ev = iri("event", f"{slug(ser_en)}-{k}")
            year = min(2024, inception + k)
            city = rng.choice(self.cities)
            ew.block(en_graph(), ev, [("a", "apsco:Conference"), ("skos:prefLabel", lit(f"{_ordinal(k)} {ser_en}", "en")),
                                      ("apsco:inSeries", series), ("apsco:ordinal", str(k)),
                                      ("apsco:date", date_value(rng, year, year)), ("apsco:location", city.iri),
                                      ("apsco:meetingOf", org)])
            ew.block(zh_g, ev, [("a", "apsco:Conference"), ("skos:prefLabel", lit(f"第{k}届{ser_zh}会议", "zh"))])
            host = iri("participation", f"{slug(ser_en)}-{k}", slug(city.state.en))
            state_both(ew, host, [("a", "apsco:Participation"), ("apsco:agent", city.state.iri),
                                  ("apsco:context", ev), ("apsco:role", "role:host")], 0.3)
            if rng.random() < 0.3:
                ew.block(en_graph(), ev, [("apsco:participantCount", str(rng.randint(3, 60)))])
            for st in rng.sample(members, min(len(members), rng.choice((0, 0, 1, 2, 4)))):
                if st == city.state:
                    continue
                ss = st.iri[len(ID) + len("state/") + 1:-1]
                state_both(ew, iri("participation", f"{slug(ser_en)}-{k}", ss), [
                    ("a", "apsco:Participation"), ("apsco:agent", st.iri), ("apsco:context", ev),
                    ("apsco:role", "role:attendee")], 0.1)

        # Secretaries-general: people holding the post.
        pw = W["people"]
        post = iri("post", s, "secretary-general")
        pw.block(en_graph(), post, [("a", "apsco:Post"), ("skos:prefLabel", lit(f"Secretary-General of the {abbr}", "en"))])
        pw.block(zh_g, post, [("a", "apsco:Post"), ("skos:prefLabel", lit(f"{name_zh}秘书长", "zh"))])
        for k in range(rng.choice((1, 1, 2, 3))):
            pen = f"{en_word(i * 7 + k, 17)} {en_word(i * 13 + k, 19)}"
            person = iri("person", slug(pen))
            pw.block(en_graph(), person, [("a", "apsco:Person"), ("skos:prefLabel", lit(pen, "en")),
                                          ("apsco:honorificPrefix", lit("Dr.", "en"))])
            W["curation"].block(graph_iri("curation"), person, [("skos:prefLabel", lit(zh_word(i * 7 + k, 23) + "·" + zh_word(i * 13 + k, 29), "zh")),
                                                                ("apsco:reconciliation", "apsco:NoItemKnown")])
            ph = iri("post-holding", s, slug(pen))
            pairs = [("a", "apsco:PostHolding"), ("apsco:agent", person), ("apsco:context", org),
                     ("apsco:role", "role:secretary-general"), ("apsco:post", post),
                     ("apsco:startDate", date_value(rng, inception + 4 * k, inception + 4 * k + 3))]
            if k == 0:
                pairs.append(("apsco:statedAsCurrent", "true"))
            state_both(pw, ph, pairs, 0.2)

    def run(self) -> int:
        self.out.mkdir(parents=True, exist_ok=True)
        for old in self.out.glob("*.trig"):
            old.unlink()  # a stale chunk from a bigger run would silently add triples
        self.write_pools()
        i = 0
        while self.written < self.target:
            self.write_org(i)
            i += 1
        for w in self.writers.values():
            w.close()
        return i


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def generate(out: Path, triples: int, seed: int = 0, chunk: int = CHUNK_TRIPLES) -> dict[str, int]:
    """Write a synthetic data folder of about `triples` triples (a little over: whole organizations)."""
    synth = Synth(out, triples, seed, chunk)
    orgs = synth.run()
    return {"triples": synth.written, "organizations": orgs, "states": synth.n_states,
            "files": sum(w.part for w in synth.writers.values())}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--triples", type=_size, required=True, help="target size, e.g. 10000, 100k, 1M, 10M")
    ap.add_argument("--out", type=Path, required=True, help="data folder to write (its *.trig are replaced)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    info = generate(args.out, args.triples, args.seed)
    print(f"wrote {info['triples']:,} triples ({info['organizations']:,} organizations, {info['states']} states, "
          f"{info['files']} files) to {args.out} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return 0


def _size(text: str) -> int:
    text = text.strip().lower().replace("_", "")
    mult = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text[:-1] if mult > 1 else text) * mult)


if __name__ == "__main__":
    sys.exit(main())
