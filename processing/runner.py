"""The batch runner: every unprocessed raw batch -> documents in Elasticsearch, counts that add up.

Per batch: records are read from the WARC into a process pool running the
per-record stages (``processing.record``); the parent then, holding the
grouping lock (``dedup.GroupLock``, a document in Elasticsearch, so batches
processed at once on any hosts never race on a group), groups near-duplicates
against the whole index, bulk-indexes and refreshes so the next batch sees
these documents, and only then marks the batch done in ``<prefix>-batches``.
A crash anywhere before that mark leaves the batch to be redone; document ids
are sha256(canonical URL) and the quarantine file is rewritten, so a redo
creates no duplicates. Memory is bounded by one batch.

A damaged batch loses nothing silently. A manifest entry the WARC cannot give
back intact is quarantined (``archive_record_missing``/``archive_record_corrupt``)
and a WARC response no manifest line lists is too (``manifest_record_missing``).
A manifest with a line that is not a record cannot be trusted: the whole batch
is quarantined (``manifest_unreadable``: every record its readable lines or its
WARC still name), counted in ``batches_damaged`` and marked done with the error,
so it is not retried forever while the other batches proceed; once the manifest
is repaired, ``mediamon reprocess`` processes it again.

Revisits (``processing.changes``): a revisit's answer that is no page (304, the
same bytes, 404/410, a redirect, a soft-404) is a ``revisit_answer`` — recorded
in the versions index when it says the page is gone — and a document older than
the newest version of its article is ``superseded`` (not indexed over it).

records_archived (what the batch's files list) = records_in = created + updated
+ unchanged + failed (dead letters) + quarantined + revisit_answers + superseded,
always.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from elasticsearch import Elasticsearch
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from mediamon.core.archive import (
    MANIFEST_RECORD_MISSING,
    MANIFEST_UNREADABLE,
    ArchivedRecord,
    ManifestError,
    ManifestRecord,
    MissingRecord,
    count_records,
    iter_batches,
    iter_records,
    read_manifest,
    salvage_manifest,
)
from mediamon.core.document import Document
from mediamon.core.esclient import make_client
from mediamon.core.settings import Settings
from mediamon.core.sources import Source, load_sources, sources_by_id
from processing import language
from processing.changes.config import ChangeRules, load_change_rules
from processing.changes.versions import Answer, VersionStage, split_answers
from processing.changes.versions import ensure_index as ensure_versions_index
from processing.dedup import GroupLock, assign_groups
from processing.quarantine import QuarantineEntry, write_batch
from processing.record import Outcome, RecordInput, build_document
from processing.rules import ProcessingRules, load_processing_rules
from processing.store import ledger
from processing.store.bulk import DeadLetter, index_documents
from processing.store.indexsetup import add_new_fields, setup
from processing.stories import names, storyindex
from processing.stories.assign import assign_stories, features_key
from processing.stories.features import StoryFeatures
from processing.stories.lexicon import Lexicon, load_lexicon

log = logging.getLogger(__name__)
CHUNKSIZE = 4


@dataclass
class ProcessReport:
    """What a run did; ``adds_up()`` is the invariant tests and the CLI check."""

    batches_done: int = 0
    batches_skipped: int = 0
    batches_damaged: int = 0  # manifest unreadable: every record it still names quarantined
    records_archived: int = 0  # what the batches' manifests list, plus WARC responses they lack
    records_in: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0  # rejected by Elasticsearch, dead-lettered for replay
    duplicates_exact: int = 0
    duplicates_near: int = 0
    regrouped: int = 0  # already indexed documents whose duplicate group changed
    stories_joined: int = 0  # documents linked into an existing story (processing.stories)
    stories_founded: int = 0  # documents that began a story
    stories_kept: int = 0  # already in a story (reprocessing keeps it)
    stories_undated: int = 0  # no published or fetched time: no story window to place them in
    dates_rejected: int = 0
    dates_feed_disagrees: int = 0  # documents whose page time contradicts the feed's (the page's wins)
    boilerplate_lines_removed: int = 0
    quarantined: Counter[str] = field(default_factory=Counter)
    revisit_answers: int = 0  # 304 / same bytes / gone: no document to build
    superseded: int = 0  # older than the newest version of the article: not indexed over it
    versions_new: int = 0  # substantive changes found (new versions)
    versions_cosmetic: int = 0  # revisits that differed only cosmetically (no version)
    deletions: int = 0  # revisits that found the page gone (404/410, redirect away, soft-404)

    @property
    def documents(self) -> int:
        return self.created + self.updated + self.unchanged

    @property
    def duplicates(self) -> int:
        return self.duplicates_exact + self.duplicates_near

    def adds_up(self) -> bool:
        return self.records_archived == self.records_in == (
            self.documents + self.failed + sum(self.quarantined.values()) + self.revisit_answers + self.superseded)

    def add(self, other: ProcessReport) -> None:
        for name, value in asdict(other).items():
            if name != "quarantined":
                setattr(self, name, getattr(self, name) + value)
        self.quarantined.update(other.quarantined)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["quarantined"] = dict(self.quarantined)
        out["adds_up"] = self.adds_up()
        return out


# --- worker side ----------------------------------------------------------------

# Per worker process: rules and source metadata are loaded once by the pool
# initializer instead of being pickled with every record. Nothing is shared
# between processes or hosts through it.
_worker_context: tuple[dict[str, Source], ProcessingRules, Lexicon | None] | None = None


def _init_worker(config_dir: Path, sources_file: Path, stories: bool = False) -> None:
    global _worker_context
    _worker_context = (sources_by_id(load_sources(sources_file)), load_processing_rules(config_dir),
                       load_lexicon(config_dir) if stories else None)
    language.warm_up()


def _process_in_worker(record: RecordInput) -> Outcome:
    assert _worker_context is not None, "worker not initialised"
    return process_record(record, *_worker_context)


def process_record(record: RecordInput, sources: dict[str, Source], rules: ProcessingRules,
                   lexicon: Lexicon | None = None) -> Outcome:
    """The per-record stages; an unexpected error quarantines the record instead of stopping the batch.

    With ``lexicon`` (stories on) the document's story features are computed here too: they are most of
    a story assignment's cost, and here they run in the worker pool instead of serially in the parent.
    """
    try:
        return build_document(record, sources, rules, lexicon)
    except Exception as exc:  # a bug or a pathological page must not cost the other records
        log.exception("processing failed for %s", record.manifest.url)
        return Outcome(reason="processing_error", detail=f"{type(exc).__name__}: {exc}"[:2000])


def record_input(record: ArchivedRecord) -> RecordInput:
    return RecordInput(manifest=record.manifest, body=record.body, content_type=record.content_type)


# --- parent side ----------------------------------------------------------------


@dataclass
class RunContext:
    settings: Settings
    es: Elasticsearch
    sources: dict[str, Source]
    rules: ProcessingRules
    pool: ProcessPoolExecutor | None
    change_rules: ChangeRules
    lexicon: Lexicon | None = None  # None: MEDIAMON_STORIES=false
    on_record: Callable[[int], None] = lambda n: None


def _outcomes(ctx: RunContext, records: Iterable[ArchivedRecord]) -> Iterator[tuple[ManifestRecord, Outcome]]:
    """The records' outcomes in manifest order; with a pool, every record is handed to the workers now."""
    inputs = [record_input(r) for r in records]
    if ctx.pool is None:
        return _in_process(ctx, inputs)
    # map() submits at once and keeps manifest order: the workers start while the caller finishes other work
    return _as_answered(ctx, inputs, ctx.pool.map(_process_in_worker, inputs, chunksize=CHUNKSIZE))


def _in_process(ctx: RunContext, inputs: list[RecordInput]) -> Iterator[tuple[ManifestRecord, Outcome]]:
    for item in inputs:
        yield item.manifest, process_record(item, ctx.sources, ctx.rules, ctx.lexicon)
        ctx.on_record(1)


def _as_answered(ctx: RunContext, inputs: list[RecordInput],
                 outcomes: Iterator[Outcome]) -> Iterator[tuple[ManifestRecord, Outcome]]:
    for item, outcome in zip(inputs, outcomes, strict=True):
        yield item.manifest, outcome
        ctx.on_record(1)


@dataclass
class _StartedBatch:
    """A batch read from the archive, its records on their way through the workers (``_start_batch``)."""

    batch_id: str
    only_sources: set[str] | None
    report: ProcessReport
    entries: list[ManifestRecord]
    damage: str | None
    quarantined: list[QuarantineEntry]
    answers: list[Answer]
    outcomes: Iterator[tuple[ManifestRecord, Outcome]]


def _run_batch(ctx: RunContext, batch_dir: Path, only_sources: set[str] | None = None) -> ProcessReport:
    return _finish_batch(ctx, _start_batch(ctx, batch_dir, only_sources))


def _start_batch(ctx: RunContext, batch_dir: Path, only_sources: set[str] | None) -> _StartedBatch:
    """Read a batch and hand its records to the workers; ``_finish_batch`` groups, indexes and records it."""
    report = ProcessReport()
    batch_id = batch_dir.name

    def wanted(entry: ManifestRecord) -> bool:
        return not only_sources or entry.source in only_sources

    try:
        listed = read_manifest(batch_dir)
        entries = [e for e in listed if wanted(e)]
        items = [i for i in iter_records(batch_dir, listed) if wanted(i.manifest)]
        damage = None
    except ManifestError:
        entries, errors = salvage_manifest(batch_dir)
        entries = [e for e in entries if wanted(e)]
        damage = "; ".join(errors[:3]) + (f" (and {len(errors) - 3} more)" if len(errors) > 3 else "")
        log.error("batch %s is damaged, its %d records are quarantined: %s", batch_id, len(entries), damage)
        items = [MissingRecord(e, MANIFEST_UNREADABLE, damage) for e in entries]
        report.batches_damaged = 1
    readable, answers = split_answers([i for i in items if isinstance(i, ArchivedRecord)], ctx.sources,
                                      ctx.change_rules)
    quarantined = [QuarantineEntry(i.reason, i.detail, i.manifest) for i in items if isinstance(i, MissingRecord)]
    report.quarantined.update(q.reason for q in quarantined)
    report.revisit_answers = len(answers)
    report.records_in = len(quarantined) + len(answers)
    # independent of what was read: the manifest's own count (and the WARC's unlisted responses)
    report.records_archived = len(entries) + (report.quarantined[MANIFEST_RECORD_MISSING] if damage is None else 0)
    ctx.on_record(len(quarantined) + len(answers))
    return _StartedBatch(batch_id, only_sources, report, entries, damage, quarantined, answers,
                         _outcomes(ctx, readable))


def _finish_batch(ctx: RunContext, started: _StartedBatch) -> ProcessReport:
    report, quarantined, answers, batch_id = started.report, started.quarantined, started.answers, started.batch_id
    docs: list[Document] = []
    revisits: set[str] = set()
    features: dict[tuple[str | None, ...], StoryFeatures] = {}  # computed by the workers (stories on)
    for record, outcome in started.outcomes:
        report.records_in += 1
        report.dates_rejected += len(outcome.dates_rejected)
        report.dates_feed_disagrees += bool(outcome.date_disagreements)
        report.boilerplate_lines_removed += outcome.removed_lines
        if outcome.document is None:
            quarantined.append(QuarantineEntry(outcome.reason or "unknown", outcome.detail or "", record))
            report.quarantined[outcome.reason or "unknown"] += 1
        else:
            docs.append(outcome.document)
            if outcome.story_features is not None:
                features[features_key(outcome.document)] = outcome.story_features
            if record.revisit:
                revisits.add(outcome.document.id)
    alias = ctx.settings.docs_alias
    deadletter = DeadLetter(ctx.settings.deadletter_dir)
    with GroupLock(ctx.es, ledger.batches_index(ctx.settings)):
        versions = VersionStage(ctx.es, ctx.settings, ctx.change_rules)
        indexed = versions.apply(docs, answers, revisits, alias)
        report.superseded = len(docs) - len(indexed)
        docs = indexed
        grouping = assign_groups(ctx.es, alias, docs)
        if ctx.lexicon is not None:
            stories = assign_stories(ctx.es, ctx.settings, docs, ctx.lexicon, features)
            report.stories_joined, report.stories_founded = stories.joined, stories.founded
            report.stories_kept, report.stories_undated = stories.kept, stories.undated
            for old in grouping.regrouped:  # sources read before the stories were renamed
                if old.get("story_id") in stories.renamed:
                    old["story_id"] = stories.renamed[old["story_id"]]
        counts = index_documents(ctx.es, alias, docs, deadletter)
        if grouping.regrouped:
            report.regrouped = index_documents(ctx.es, alias, grouping.regrouped, deadletter).sent
        ctx.es.indices.refresh(index=alias)  # the next batch's duplicate lookup must see these documents
    report.duplicates_exact, report.duplicates_near = grouping.exact, grouping.near
    report.versions_new, report.versions_cosmetic = versions.counts.changed, versions.counts.cosmetic
    report.deletions = versions.counts.deleted
    report.created, report.updated, report.unchanged, report.failed = (
        counts.created, counts.updated, counts.unchanged, counts.failed)
    write_batch(ctx.settings.data_dir, batch_id, quarantined)
    sources = sorted({entry.source for entry in started.entries})
    ledger.mark_done(ctx.es, ctx.settings, batch_id, {
        "source": sources, "records": report.records_in, "created": report.created, "updated": report.updated,
        "unchanged": report.unchanged, "failed": report.failed, "quarantined": dict(report.quarantined),
        "duplicates": report.duplicates, "versions": versions.counts.as_dict(),
        "reprocessed_sources": sorted(started.only_sources) if started.only_sources else None,
        "damaged": started.damage})
    if not report.adds_up():  # cannot happen unless a stage drops records: fail loudly, never silently
        raise RuntimeError(f"batch {batch_id}: counts do not add up: {report.as_dict()}")
    return report


def _context(settings: Settings, es: Elasticsearch | None, workers: int) -> RunContext:
    sources_file = settings.sources_path
    ctx = RunContext(settings=settings, es=es or make_client(settings),
                     sources=sources_by_id(load_sources(sources_file)),
                     rules=load_processing_rules(settings.config_dir), pool=None,
                     change_rules=load_change_rules(settings.config_dir),
                     lexicon=load_lexicon(settings.config_dir) if settings.stories else None)
    if workers > 1:
        if ctx.lexicon is not None:  # the workers fork from this process: one NER model load, not one per worker
            names.warm_up()
        ctx.pool = ProcessPoolExecutor(max_workers=workers, initializer=_init_worker,
                                       initargs=(settings.config_dir, sources_file, settings.stories))
    if not ctx.es.indices.exists_alias(name=settings.docs_alias):
        setup(ctx.es, settings, with_roles=False)  # first run on a fresh cluster: template and write alias
    else:
        add_new_fields(ctx.es, settings)  # an upgrade's new Document fields, before its documents arrive
    ledger.ensure_index(ctx.es, settings)
    ensure_versions_index(ctx.es, settings)
    if ctx.lexicon is not None:
        storyindex.ensure_index(ctx.es, settings)
    return ctx


def _record_count(batch_dir: Path, only_sources: set[str] | None) -> int:
    """A progress total (a damaged manifest counts all its lines: the batch fails on its own, later)."""
    if not only_sources:
        return count_records(batch_dir)
    try:
        return sum(1 for m in read_manifest(batch_dir) if m.source in only_sources)
    except ManifestError:
        return count_records(batch_dir)


def _run(settings: Settings, es: Elasticsearch | None, workers: int, progress: bool,
         select: Callable[[RunContext, list[Path]], list[Path]], only_sources: set[str] | None) -> ProcessReport:
    ctx = _context(settings, es, workers)
    report = ProcessReport()
    try:
        all_batches = list(iter_batches(settings.data_dir / "archive"))
        todo = select(ctx, all_batches)
        report.batches_skipped = len(all_batches) - len(todo)
        with Progress(TextColumn("[bold]processing"), BarColumn(), MofNCompleteColumn(), TextColumn("records"),
                      TimeElapsedColumn(), disable=not progress, transient=False) as bar:
            task = bar.add_task("records", total=sum(_record_count(b, only_sources) for b in todo))
            ctx.on_record = lambda n: bar.advance(task, n)
            # One batch ahead: the workers extract batch k+1 while this process groups and indexes batch k
            # (the per-record stages need no index, so nothing of batch k is missing to them)
            ahead: _StartedBatch | None = None
            for batch_dir in [*todo, None]:
                started = _start_batch(ctx, batch_dir, only_sources) if batch_dir is not None else None
                if ahead is not None:
                    report.add(_finish_batch(ctx, ahead))
                    report.batches_done += 1
                ahead = started
    finally:
        if ctx.pool is not None:
            ctx.pool.shutdown(cancel_futures=True)
    return report


def process_pending(settings: Settings, es: Elasticsearch | None = None, workers: int = 2,
                    progress: bool = True) -> ProcessReport:
    """Process every committed batch not yet marked done, oldest first. Re-running is a no-op."""
    def pending(ctx: RunContext, found: list[Path]) -> list[Path]:
        done = ledger.done_batches(ctx.es, settings, [b.name for b in found])
        return [b for b in found if b.name not in done]

    return _run(settings, es, workers, progress, pending, None)


def process_batch(settings: Settings, batch_dir: Path, es: Elasticsearch | None = None) -> ProcessReport:
    """Process one batch in this process (done or not): what a test or a debugging session wants."""
    ctx = _context(settings, es, workers=1)
    report = _run_batch(ctx, batch_dir)
    report.batches_done = 1
    return report


def batch_started(batch_dir: Path) -> datetime | None:
    """When a batch was started, from its id (``YYYYmmddTHHMMSSZ-...``)."""
    try:
        return datetime.strptime(batch_dir.name[:16], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def reprocess(settings: Settings, since: datetime | None = None, sources: list[str] | None = None,
              es: Elasticsearch | None = None, workers: int = 2, progress: bool = True) -> ProcessReport:
    """Rebuild documents from the archive after a rule change; documents are updated in place."""
    def chosen(_ctx: RunContext, found: list[Path]) -> list[Path]:
        if since is None:
            return found
        return [b for b in found if (batch_started(b) or datetime.max.replace(tzinfo=UTC)) >= since]

    return _run(settings, es, workers, progress, chosen, set(sources) if sources else None)
