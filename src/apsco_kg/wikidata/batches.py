"""Which items and statements go into an import, in two batches.

QuickStatements' LAST only names the most recently created item, so a link between two items
that do not exist yet cannot be written in the batch that creates them. Hence:

* **batch 1** (no created-QIDs file): CREATE every item with no known Wikidata item
  (apsco:NoItemKnown), with its terms and every statement whose other items already have QIDs;
  plus the statements on existing items (confirmed, or reconciled by the reconciliation file)
  whose items all have QIDs;
* **batch 2** (`--created QIDS.tsv`, the QIDs batch 1 produced): exactly the statements batch 1
  could not write and that every QID is now known for.

An item whose Wikidata item exists but is not confirmed (apsco:NeedsReconciliation, APSCO itself)
is never created: until a reconciliation (or created) file gives its QID, its statements are held
back and the reason is reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .mapping import Mapping
from .model import EntityRef, Item, Statement, Status


@dataclass
class Entry:
    """One item as it appears in a batch."""

    item: Item
    create: bool  # a CREATE block (statements then apply to LAST)
    labels: dict[str, str] = field(default_factory=dict)
    descriptions: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, list[str]] = field(default_factory=dict)
    statements: list[Statement] = field(default_factory=list)


@dataclass
class Batch:
    entries: list[Entry]
    second: bool
    held_back: list[tuple[Statement, str]]  # statements not written, and why
    notes: list[str]

    @property
    def statements(self) -> list[Statement]:
        return [s for e in self.entries for s in e.statements]


def _known_before(ref: EntityRef, created: frozenset[str]) -> bool:
    """Had a QID before batch 1 ran: confirmed, or supplied by reconciliation (not by batch 1)."""
    return ref.qid is not None and ref.iri not in created


def in_first_batch(st: Statement, created: frozenset[str]) -> bool:
    others = st.refs() - {st.subject}
    subject_ok = _known_before(st.subject, created) or st.subject.status is Status.NO_ITEM_KNOWN
    return subject_ok and all(_known_before(r, created) for r in others)


def _why(st: Statement, create: bool = False) -> str:
    """Why a statement waits: the items it names that have no QID, and what gives them one."""
    reasons = []
    for ref in sorted(st.refs(), key=lambda r: r.iri):
        if ref.qid is not None or (create and ref == st.subject):
            continue
        if ref.status is Status.NO_ITEM_KNOWN:
            reasons.append(f"{ref.iri} (new item: batch 2, --created)")
        else:
            reasons.append(f"{ref.iri} (existing item to reconcile: --reconciled)")
    return "no QID yet for " + ", ".join(reasons)


def select(mapping: Mapping) -> Batch:
    created = mapping.created
    second = bool(created)
    entries: list[Entry] = []
    held: list[tuple[Statement, str]] = []
    notes: list[str] = []
    # Items other statements point at: a new item is worth creating if it says something or is needed.
    needed = {r.iri for st in mapping.statements for r in st.refs() - {st.subject}}
    for iri in sorted(mapping.items):
        item = mapping.items[iri]
        ref = item.ref
        create = not second and ref.status is Status.NO_ITEM_KNOWN and ref.qid is None
        if create and not (item.labels and (item.statements or iri in needed)):
            create = False  # an item with no label, or with nothing to say and nobody linking it
            if item.statements or iri in needed:
                notes.append(f"{iri}: no label in en or zh; not created")
        if ref.status is Status.NEEDS_RECONCILIATION and ref.qid is None:
            notes.append(
                f"{iri}: its Wikidata item exists but is not confirmed; refusing to CREATE it. Reconcile it "
                f"(sitelink {item.sitelink[0]}:{item.sitelink[1]!r}) and pass the QID with --reconciled"
                if item.sitelink else f"{iri}: needs reconciliation; refusing to CREATE it; pass its QID with --reconciled"
            )
        if second and ref.status is Status.NO_ITEM_KNOWN and ref.qid is None:
            notes.append(f"{iri}: not in the created-QIDs file; its statements wait until it is")
        entry = Entry(item, create)
        # Terms: all of them on a new item; only aliases on an existing one (adding an alias never
        # overwrites, a label or description would), and only in the batch that first knows its QID.
        first_known = create or (ref.status is Status.NEEDS_RECONCILIATION and ref.qid is not None
                                 and (ref.iri in created) == second)
        if first_known:
            if create:
                entry.labels, entry.descriptions = dict(item.labels), dict(item.descriptions)
            entry.aliases = {k: list(a) for k, a in item.aliases.items()}
        for st in item.statements:
            first = in_first_batch(st, created)
            resolved = all(r.qid is not None for r in st.refs() - ({st.subject} if create else set()))
            if second:
                if not first and resolved:
                    entry.statements.append(st)
                elif not resolved:
                    held.append((st, _why(st)))
            elif first and (resolved or create):
                entry.statements.append(st)
            else:
                held.append((st, _why(st, create) if not resolved or not first else "links items created in batch 1: batch 2"))
        if entry.create or entry.statements or entry.aliases:
            entries.append(entry)
    return Batch(entries, second, held, notes)
