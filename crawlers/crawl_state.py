"""Crawl state of one source: the seen-store, feed validators, a lock, and the in-crawl coordinator.

Files under ``<data_dir>/crawl-state/<source>/``:

- ``seen.jsonl``: canonical URLs already archived, one JSON string per line;
- ``batches.txt``: ids of committed batches whose URLs are in ``seen.jsonl``;
- ``validators.json``: ETag / Last-Modified per discovery page, for conditional GET;
- ``revisits.json``: the articles waiting to be fetched again (``crawlers.revisit``);
- ``revisits.seeded``: present once the articles archived before the queue existed were added to it;
- ``lock``: held (flock) while a crawl of the source runs.

A URL enters the seen-store only after the batch holding it is committed, so
a crash never loses an article. After a kill -9, the next crawl discards the
dead crawl's uncommitted batch (its URLs were never marked seen, so they are
fetched again) and absorbs any batch committed just before the kill but not
yet recorded here: every article ends up archived exactly once. Validators
are saved only at the end of a clean crawl, and never for a page whose
articles failed transiently, so a 304 can never hide an article not archived.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from crawlers.canonical import canonical_url
from crawlers.revisit import GONE_STATUSES, SEEDED_FILE, QueueEntry, RevisitQueue
from crawlers.stats import TRANSIENT_REASONS, SourceStats
from mediamon.core.archive import (
    INCOMING,
    ArchiveError,
    BatchWriter,
    ManifestError,
    iter_batches,
    read_manifest,
    salvage_manifest,
)
from mediamon.core.errors import OperationFailed
from mediamon.core.sources import Source

log = logging.getLogger(__name__)
# Where an item fetched from a web archive came from (ManifestRecord fields; a live fetch has none of them).
ARCHIVE_CAPTURE_KEYS = ("provenance", "archive_url", "captured_at", "archive_range")


class StateBusy(OperationFailed):
    """Another crawl of the same source holds its lock."""


def _append_lines(path: Path, lines: list[str]) -> None:
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("".join(line + "\n" for line in lines))
        fh.flush()
        os.fsync(fh.fileno())


class CrawlState:
    """The persistent files of one source."""

    def __init__(self, state_root: Path, archive_dir: Path, source_id: str) -> None:
        self.dir = state_root / source_id
        self.archive_dir = archive_dir
        self.source_id = source_id
        self.dir.mkdir(parents=True, exist_ok=True)
        self._lock_fh: Any = None
        self.seen: set[str] = set()
        self.absorbed: set[str] = set()

    def lock(self) -> None:
        self._lock_fh = open(self.dir / "lock", "w")  # noqa: SIM115 - held for the crawl
        try:
            fcntl.flock(self._lock_fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            self._lock_fh.close()
            self._lock_fh = None
            raise StateBusy(f"another crawl of {self.source_id} is running") from exc

    def unlock(self) -> None:
        if self._lock_fh is not None:
            fcntl.flock(self._lock_fh, fcntl.LOCK_UN)
            self._lock_fh.close()
            self._lock_fh = None

    def owns(self, batch_id: str) -> bool:
        """Whether ``batch_id`` is a batch of this source (its id names the source)."""
        return re.fullmatch(rf"\d{{8}}T\d{{6}}Z-{re.escape(self.source_id)}-[0-9a-f]{{8}}", batch_id) is not None

    def load_and_recover(self) -> tuple[int, int]:
        """Load seen URLs; discard a dead crawl's uncommitted batches; absorb unrecorded committed ones."""
        seen_file, batches_file = self.dir / "seen.jsonl", self.dir / "batches.txt"
        if seen_file.exists():
            for line in seen_file.read_text(encoding="utf-8").splitlines():
                try:
                    self.seen.add(json.loads(line))
                except json.JSONDecodeError:
                    continue  # a line cut by a crash; its batch is re-absorbed below
        if batches_file.exists():
            self.absorbed = set(batches_file.read_text(encoding="utf-8").split())
        discarded = 0
        incoming = self.archive_dir / INCOMING
        if incoming.is_dir():
            for batch in incoming.iterdir():
                if self.owns(batch.name):  # we hold the lock: its writer is dead
                    shutil.rmtree(batch, ignore_errors=True)
                    discarded += 1
        absorbed = 0
        for batch in iter_batches(self.archive_dir):
            if self.owns(batch.name) and batch.name not in self.absorbed:
                self.absorb(batch.name, _batch_keys(batch))
                absorbed += 1
        if discarded or absorbed:
            log.warning("%s: recovered from an interrupted crawl (%d uncommitted batch(es) discarded, "
                        "%d committed batch(es) recorded)", self.source_id, discarded, absorbed)
        return discarded, absorbed

    def absorb(self, batch_id: str, keys: list[str]) -> None:
        _append_lines(self.dir / "seen.jsonl", [json.dumps(k, ensure_ascii=False) for k in keys])
        _append_lines(self.dir / "batches.txt", [batch_id])
        self.seen.update(keys)
        self.absorbed.add(batch_id)

    def load_validators(self) -> dict[str, dict[str, str]]:
        path = self.dir / "validators.json"
        try:
            return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        except json.JSONDecodeError:
            return {}

    def save_validators(self, validators: dict[str, dict[str, str]]) -> None:
        tmp = self.dir / "validators.json.tmp"
        tmp.write_text(json.dumps(validators, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.dir / "validators.json")


def _validators(headers: list[tuple[str, str]]) -> dict[str, str | None]:
    """The ETag and Last-Modified of an archived answer: the next revisit asks with them."""
    found = {k.lower(): v for k, v in headers}
    return {"etag": found.get("etag"), "last_modified": found.get("last-modified")}


def _batch_keys(batch: Path) -> list[str]:
    """The URLs a committed batch holds; a damaged manifest gives what it still tells, never a stuck crawl."""
    try:
        entries = read_manifest(batch)
    except ManifestError as exc:
        log.warning("batch %s: %s; recording the URLs it still names", batch.name, exc)
        entries = salvage_manifest(batch)[0]
    keys: list[str] = []
    for entry in entries:
        keys.append(entry.canonical_url)
        if entry.discovered_canonical:
            keys.append(entry.discovered_canonical)
    return keys


class SourceRun:
    """One source's crawl in this process, shared by the spiders of its discovery methods.

    Owns the counts, the in-crawl claims (an article found by a feed and a
    sitemap is fetched once, a discovery page read once), the discovery page
    budget, the open batch and its rotation.
    """

    def __init__(self, source: Source, state_root: Path, archive_dir: Path, batch_size: int,
                 page_budget: int | None = None, clock: datetime | None = None) -> None:
        self.source = source
        self.state = CrawlState(state_root, archive_dir, source.id)
        self.archive_dir = archive_dir
        self.batch_size = batch_size
        self.stats = SourceStats(source.id)
        self.claimed: set[str] = set()
        self.page_budget = page_budget  # discovery pages per crawl; None: no limit (spiders driven by tests)
        self.pages_claimed: set[str] = set()
        self.validators: dict[str, dict[str, str]] = {}
        self.new_validators: dict[str, dict[str, str]] = {}
        self.tainted: set[str] = set()
        self.new_batches: list[Path] = []
        self.open_spiders = 0
        self.clean = True
        self.finished = False
        self._writer: BatchWriter | None = None
        self._pending_keys: list[str] = []
        # revisits: the queue, the crawl's clock for its schedule, and its changes waiting for the batch commit
        self.revisits = RevisitQueue(self.state.dir, source.revisits)
        self.clock = clock
        self._pending_queue: list[tuple[str, dict[str, Any]]] = []
        self.spider_count = 0  # spiders started for this source (the revisit spider waits for the others)
        self.closed_spiders = 0
        self.stopping = False

    def open(self) -> bool:
        try:
            self.state.lock()
        except StateBusy as exc:
            self.stats.fatal = str(exc)
            return False
        self.state.load_and_recover()
        self.validators = self.state.load_validators()
        self.revisits.load()
        self.seed_revisits()
        return True

    def seed_revisits(self) -> None:
        """Once per source: the articles archived before it had a revisit queue join it.

        Only live fetches archived within the schedule (``now`` minus its last step) are added, with their
        archive time as first seen: an older one has no step left. Read from the committed batches'
        manifests (the seen-store keeps URLs only); the marker is written after the queue, so a crash in
        between seeds again, and ``enqueue`` skips what is queued already.
        """
        mark = self.state.dir / SEEDED_FILE
        if not self.source.revisits.enabled or mark.exists():
            return
        horizon = self.now() - max(self.source.revisits.schedule)
        # batch ids start with the UTC time the batch was opened; a day's margin for one open long
        oldest = f"{horizon - timedelta(days=1):%Y%m%dT%H%M%SZ}"
        for batch in iter_batches(self.archive_dir):
            if not self.state.owns(batch.name) or batch.name < oldest:
                continue
            try:
                entries = read_manifest(batch)
            except ManifestError:
                entries = salvage_manifest(batch)[0]
            for e in entries:
                if (e.kind == "article" and not e.revisit and e.provenance == "live" and e.status == 200
                        and e.fetched_at is not None and e.fetched_at >= horizon):
                    self.revisits.enqueue(e.url, e.canonical_url, e.fetched_at, e.sha256, None, None,
                                          count="seeded")
        self.revisits.save()
        mark.write_text(f"{self.now().isoformat()}\n", encoding="utf-8")

    # --- discovery ------------------------------------------------------------------

    def claim(self, url: str) -> str | None:
        """The canonical URL to fetch, or None when it is not an article, already seen or already claimed."""
        try:  # patterns match the canonical form: an AMP or utm variant of an article is that article
            key = canonical_url(url)
            key = key if self.source.is_article(key) else None
        except ValueError:  # unparseable link (port out of range, bad IDNA): not an article URL
            key = None
        if key is None:
            self.stats.skipped_links += 1
            return None
        if key in self.claimed:
            self.stats.duplicate_links += 1
            return None
        self.claimed.add(key)
        self.stats.found += 1
        if key in self.state.seen:
            self.stats.already_seen += 1
            return None
        return key

    def claim_page(self, url: str) -> bool:
        """True when discovery page ``url`` is to be fetched: not read yet in this crawl, and within the budget.

        A sitemap index listing itself, or pages linking to each other, would
        otherwise be fetched forever; each refusal is counted.
        """
        if url in self.pages_claimed:
            self.stats.page_warnings["discovery_repeat"] += 1
            return False
        if self.page_budget is not None and len(self.pages_claimed) >= self.page_budget:
            if not self.stats.page_errors["discovery_budget"]:
                log.warning("%s: discovery page budget (%d) spent; further pages are not fetched",
                            self.source.id, self.page_budget)
            self.stats.page_errors["discovery_budget"] += 1
            return False
        self.pages_claimed.add(url)
        return True

    def outcome(self, reason: str, page_url: str | None) -> None:
        self.stats.outcome(reason)
        if reason in TRANSIENT_REASONS and page_url:
            self.tainted.add(page_url)

    def conditional_headers(self, url: str) -> dict[str, str]:
        known = self.validators.get(url, {})
        headers = {}
        if known.get("etag"):
            headers["If-None-Match"] = known["etag"]
        if known.get("last_modified"):
            headers["If-Modified-Since"] = known["last_modified"]
        return headers

    def remember_validators(self, url: str, etag: str | None, last_modified: str | None) -> None:
        if etag or last_modified:
            self.new_validators[url] = {k: v for k, v in (("etag", etag), ("last_modified", last_modified)) if v}

    # --- archiving ------------------------------------------------------------------

    def archive(self, item: dict[str, Any]) -> None:
        """Add ``item`` to the open batch, committing it when full.

        On ``ArchiveError`` the item has been counted exactly once, as an
        ``archive_error``: either its own write failed, or the commit of the batch
        it completed did (and every item of that batch moved from archived to
        errors). Counting it again in the caller broke the crawl's arithmetic
        whenever the disk filled up at a commit rather than at a write.
        """
        revisit: QueueEntry | None = item.get("revisit")
        extra = {k: item[k] for k in ("encoding", "encoding_declared", "discovered_canonical", "rendered",
                                      *ARCHIVE_CAPTURE_KEYS) if item.get(k) is not None}
        extra |= item.get("manifest", {})  # more manifest fields (an import's file and record)
        sha256 = hashlib.sha256(item["body"]).hexdigest()
        if revisit is not None and revisit.vanish_pending:
            extra |= {"vanished_from": revisit.vanished_from, "vanished_via": revisit.vanished_via}
        try:
            if self._writer is None:
                self._writer = BatchWriter(self.archive_dir, self.source.id)
            if revisit is not None and revisit.sha256 and (item["status"] == 304 or sha256 == revisit.sha256):
                self._writer.add_revisit(url=item["url"], canonical_url=item["canonical_url"],
                                         fetched_url=item["fetched_url"], status=item["status"],
                                         http_headers=item["http_headers"], request_headers=item["request_headers"],
                                         payload_sha256=revisit.sha256, refers_to_date=revisit.fetched_at,
                                         extra={k: v for k, v in extra.items() if k.startswith("vanished_")})
            else:
                if revisit is not None:
                    extra.update(revisit=True, revisit_of=revisit.sha256)
                self._writer.add(url=item["url"], canonical_url=item["canonical_url"],
                                 fetched_url=item["fetched_url"], status=item["status"],
                                 http_headers=item["http_headers"], body=item["body"],
                                 request_headers=item.get("request_headers"), kind=item["kind"],
                                 feed=item.get("feed"), extra=extra, screenshot=item.get("screenshot"))
        except ArchiveError:
            if revisit is not None:
                self.stats.revisit_errors["archive_error"] += 1
            else:
                self.stats.errors["archive_error"] += 1
            raise
        if revisit is not None:
            self._revisit_archived(item, revisit, sha256)
        else:
            self._pending_keys.append(item["canonical_url"])
            if item.get("discovered_canonical"):
                self._pending_keys.append(item["discovered_canonical"])
            self.stats.archived += 1
            if item["kind"] == "article":
                self._pending_queue.append(("enqueue", {
                    "url": item["url"], "canonical": item["canonical_url"], "fetched_at": self.now(),
                    "sha256": sha256, "listed_on": item.get("listed_on"), "published": item.get("listed_published"),
                    **_validators(item["http_headers"])}))
        if self._writer.count >= self.batch_size:
            self.commit()

    def _revisit_archived(self, item: dict[str, Any], entry: QueueEntry, sha256: str) -> None:
        status = item["status"]
        if status == 304:
            answer = "not_modified"
        elif status in GONE_STATUSES:
            answer = "gone"
        elif 300 <= status < 400:
            answer = "redirected"
        else:
            answer = "same_bytes" if sha256 == entry.sha256 else "changed"
        self.stats.revisits[answer] += 1
        self._pending_queue.append(("revisited", {"canonical": entry.canonical, "at": self.now(), "status": status,
                                                  "sha256": sha256, **_validators(item["http_headers"])}))

    # --- revisits ---------------------------------------------------------------------

    def now(self) -> datetime:
        return self.clock or datetime.now(UTC)

    @property
    def discovering(self) -> bool:
        """Whether another spider of this source is still running (revisits wait for new articles)."""
        return self.closed_spiders < self.spider_count - 1

    def listing_read(self, page_url: str, via: str, links: list[tuple[str, str | None]]) -> None:
        """A discovery page was read whole (a feed's or a list's first page, a sitemap of articles): its links
        (absolute) and their publication times (ISO, UTC).

        Canonical forms cost ~0.1 ms a link (a sitemap lists up to 50,000), so they are computed only when
        an article this page is watched for is not among its links as archived."""
        watched = self.revisits.watching(page_url, self.now())
        raw = {url for url, _ in links}
        if all(e.url in raw or e.canonical in raw for e in watched):  # none dropped (or none watched)
            return
        listed: dict[str, str | None] = {}
        for url, published in links:
            with contextlib.suppress(ValueError):  # an unparseable link lists nothing of ours
                key = canonical_url(url)
                listed[key] = max(filter(None, (listed.get(key), published)), default=None)
        self.revisits.listing_read(page_url, via, listed, self.now())

    def revisits_due(self) -> list[QueueEntry]:
        due, deferred = self.revisits.due(self.now())
        self.stats.revisits.update(due=len(due) + deferred, deferred=deferred)
        self.stats.revisits += Counter()  # drops zero counts: the report lists what happened
        return due

    def revisit_sent(self) -> None:
        self.stats.revisits["sent"] += 1

    def revisit_failed(self, reason: str) -> None:
        self.stats.revisit_errors[reason] += 1

    def commit(self) -> None:
        """Publish the open batch, then mark its URLs seen and move the revisit queue (in that order: see the
        module docstring)."""
        writer, keys, queue_changes = self._writer, self._pending_keys, self._pending_queue
        self._writer, self._pending_keys, self._pending_queue = None, [], []
        if writer is None:
            return
        try:
            final = writer.commit()
        except ArchiveError:
            writer.abort()
            self.stats.archived -= writer.count
            self.stats.errors["archive_error"] += writer.count
            raise
        if final is not None:
            self.state.absorb(writer.batch_id, keys)
            self.new_batches.append(final)
            for change, args in queue_changes:
                getattr(self.revisits, change)(**args)
            if queue_changes:
                self.revisits.save()

    # --- lifecycle ------------------------------------------------------------------

    def spider_opened(self) -> None:
        self.open_spiders += 1

    def spider_closed(self, reason: str) -> None:
        self.open_spiders -= 1
        self.closed_spiders += 1
        if reason != "finished":
            self.clean = False
        if self.open_spiders == 0:
            self.finish()

    def interrupt(self) -> None:
        """A stop was asked for (SIGTERM, a time limit): publish the open batch now.

        Closing the spiders waits for the requests in flight (up to
        DOWNLOAD_TIMEOUT), and whoever asked may kill us before that ends.
        """
        self.clean = False
        self.stopping = True
        self._commit_or_fail()

    def _commit_or_fail(self) -> None:
        try:
            self.commit()
        except ArchiveError as exc:
            self.stats.fatal = str(exc)
            self.clean = False
            log.error("%s: %s", self.source.id, exc)

    def finish(self) -> None:
        """Commit, count what a shutdown left unanswered, keep a clean crawl's validators, unlock; once."""
        if self.finished:
            return
        self.finished = True
        self._commit_or_fail()
        if self.stats.in_flight > 0:  # requests a shutdown left unanswered
            self.stats.errors["interrupted"] += self.stats.in_flight
        self.stats.revisit_queue.update(self.revisits.counts)
        if self.stats.revisits_in_flight > 0:  # not archived: still due next crawl
            self.stats.revisit_errors["interrupted"] += self.stats.revisits_in_flight
        r = self.stats.revisits
        if r["due"] > r["sent"] + r["deferred"]:  # a stop came before they were sent: still due next crawl
            r["stopped"] = r["due"] - r["sent"] - r["deferred"]
        if self.clean:
            merged = {**self.validators,
                      **{u: v for u, v in self.new_validators.items() if u not in self.tainted}}
            for url in self.tainted:
                merged.pop(url, None)
            self.state.save_validators(merged)
        self.state.unlock()
