"""The revisit queue: when each archived article is fetched again, to catch its edits and deletions.

State sources rewrite and remove what they published, mostly in the first hours
(a headline softened, a figure corrected, a comment pulled). Every article
archived by a crawl enters the queue; it is fetched again ``schedule[i]`` after
it was first archived (``sources.yaml`` ``revisits``; default +1h, +6h, +24h,
+3d, +14d) and leaves the queue after the last step — a page found gone is
still asked at its remaining steps, so a restored page is seen again. A crawl
that comes late skips the steps already past, so an article is never revisited
twice in a row for one missed schedule. A young article (``VANISH_WINDOW``) that
drops out of the discovery page it was found on — a feed's or a list's first page,
a sitemap listing articles — while that page still lists older ones, is revisited
at once and recorded with that evidence (``vanished_from``, ``vanished_via``): a
state outlet quietly unlisting a statement is the first sign of its removal.
"Older" is by the publication time the page gives; a page without dates is
compared by when we first archived what it lists. A page that lists nothing
older (truncated, emptied, or only the newest items) marks nothing.

Articles archived before the source had a queue (revisits introduced, or
enabled for the source, later) are added once, from the committed batches still
inside the schedule (``crawl_state.SourceRun.seed_revisits``): their steps count
from when they were archived, so only the young ones are asked again, and the
per-run cap spreads them over the next crawls.

The queue lives in ``<crawl-state>/<source>/revisits.json`` and is bounded
(``max_queue``, oldest first out, counted). Like the seen-store, it changes
only when the batch holding the revisit's answer is committed: a crash before
the commit repeats the revisit (processing recognises a version it has by its
content), a crash after it has the answer archived. Nothing here fetches: the
revisit spider does, within the source's politeness budget.
"""

from __future__ import annotations

import json
import logging
import os
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from mediamon.core.sources import Revisits

log = logging.getLogger(__name__)

QUEUE_FILE = "revisits.json"
SEEDED_FILE = "revisits.seeded"  # present once the articles archived before the queue existed were added
GONE_STATUSES = frozenset({404, 410})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
VANISH_WINDOW = timedelta(hours=48)  # an article older than this may leave a feed in the ordinary way


@dataclass
class QueueEntry:
    """One article waiting for its next revisit, with what the last archived answer was."""

    url: str  # the URL as archived: what is fetched again
    canonical: str
    first_seen: datetime
    step: int  # index in the schedule of the next revisit
    sha256: str | None  # of the last archived body: an identical answer is a revisit record, not a version
    fetched_at: datetime | None  # when that body was archived (WARC-Refers-To-Date)
    etag: str | None = None
    last_modified: str | None = None
    listed_on: str | None = None  # the discovery page it was found on
    published: str | None = None  # as that page gave it (ISO, UTC)
    vanished_from: str | None = None  # the page it dropped out of while young ...
    vanish_pending: bool = False  # ... and that revisit, sent at once, not made yet
    vanished_via: str | None = None  # the kind of that page: feed, sitemap or list (None before: feed)

    def due_at(self, schedule: list[timedelta]) -> datetime:
        return self.first_seen + schedule[self.step]

    def conditional_headers(self) -> dict[str, str]:
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("first_seen", "fetched_at"):
            data[key] = data[key].isoformat() if data[key] else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> QueueEntry:
        return cls(**{**data, "first_seen": datetime.fromisoformat(data["first_seen"]),
                      "fetched_at": datetime.fromisoformat(data["fetched_at"]) if data.get("fetched_at") else None})


class RevisitQueue:
    """The persistent queue of one source; ``counts`` says what happened to it in this crawl."""

    def __init__(self, state_dir: Path, config: Revisits) -> None:
        self.path = state_dir / QUEUE_FILE
        self.config = config
        self.entries: dict[str, QueueEntry] = {}
        self.counts: Counter[str] = Counter()

    def load(self) -> RevisitQueue:
        if not self.path.exists():
            return self
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            self.entries = {e["canonical"]: QueueEntry.from_json(e) for e in raw}
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            # written atomically, so this is damage from outside: say so and start an empty queue
            log.error("%s is unreadable (%s); revisits start again from an empty queue", self.path, exc)
            self.counts["queue_unreadable"] += 1
        return self

    def save(self) -> None:
        tmp = self.path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps([e.as_json() for e in self.entries.values()], ensure_ascii=False),
                       encoding="utf-8")
        os.replace(tmp, self.path)

    def due(self, now: datetime) -> tuple[list[QueueEntry], int]:
        """The entries to revisit in this run (oldest due first, at most ``max_per_run``) and how many wait."""
        if not self.config.enabled:
            return [], 0
        ready = sorted((e for e in self.entries.values() if e.vanish_pending or e.due_at(self.config.schedule) <= now),
                       key=lambda e: (not e.vanish_pending, e.due_at(self.config.schedule)))
        chosen = ready[: self.config.max_per_run]
        return chosen, len(ready) - len(chosen)

    # --- applied when the batch holding the answer is committed ---------------------------

    def watching(self, page_url: str, now: datetime) -> list[QueueEntry]:
        """The young articles found on ``page_url`` not yet marked vanished: those its reading may mark."""
        return [e for e in self.entries.values() if e.listed_on == page_url and not e.vanished_from
                and now - e.first_seen <= VANISH_WINDOW]

    def listing_read(self, page_url: str, via: str, listed: dict[str, str | None], now: datetime) -> None:
        """``page_url`` (a ``via`` discovery page: feed, sitemap or list) lists ``listed`` (canonical URL ->
        publication time, ISO UTC): young articles found there that it dropped while it still lists older
        ones have vanished from it."""
        if not listed:
            return
        dates = [p for p in listed.values() if p]
        oldest_published = min(dates) if dates else None
        seen_listed = [e.first_seen for e in self.entries.values()
                       if e.listed_on == page_url and e.canonical in listed]
        oldest_seen = min(seen_listed) if seen_listed else None
        for entry in self.watching(page_url, now):
            if entry.canonical in listed:
                continue
            if entry.published and oldest_published:
                older_listed = entry.published > oldest_published
            else:  # no dates to compare: something we archived before it is still there
                older_listed = oldest_seen is not None and entry.first_seen > oldest_seen
            if older_listed:
                entry.vanished_from, entry.vanished_via, entry.vanish_pending = page_url, via, True
                self.counts["vanished"] += 1

    def enqueue(self, url: str, canonical: str, fetched_at: datetime, sha256: str | None, etag: str | None,
                last_modified: str | None, listed_on: str | None = None, published: str | None = None,
                count: str = "queued") -> None:
        """An archived article: its first revisit is ``schedule[0]`` after ``fetched_at``."""
        if not self.config.enabled or canonical in self.entries:
            return
        self.entries[canonical] = QueueEntry(url, canonical, fetched_at, 0, sha256, fetched_at, etag, last_modified,
                                             listed_on, published)
        self.counts[count] += 1
        excess = len(self.entries) - self.config.max_queue
        if excess > 0:
            for old in sorted(self.entries.values(), key=lambda e: e.first_seen)[:excess]:
                del self.entries[old.canonical]
            self.counts["dropped_queue_full"] += excess

    def revisited(self, canonical: str, at: datetime, status: int, sha256: str | None = None,
                  etag: str | None = None, last_modified: str | None = None) -> None:
        """An archived revisit answer: advance past every step already due (retired after the last)."""
        entry = self.entries.get(canonical)
        if entry is None:
            return
        if status != 304 and sha256:  # a 404 too: a page restored later differs from it, a new version
            entry.sha256, entry.fetched_at = sha256, at
            entry.etag, entry.last_modified = etag, last_modified
        if entry.vanish_pending:  # the revisit its vanishing asked for: a step only if one was due anyway
            entry.vanish_pending = False
            if entry.due_at(self.config.schedule) > at:
                return
        schedule = self.config.schedule
        entry.step += 1
        while entry.step < len(schedule) and entry.first_seen + schedule[entry.step] <= at:
            entry.step += 1
            self.counts["steps_skipped"] += 1
        if entry.step >= len(schedule):
            del self.entries[canonical]
            self.counts["retired_done"] += 1


def now_setting(value: str | None) -> datetime:
    """The crawl's clock for the schedule: ``MEDIAMON_REVISIT_NOW`` (tests, replays) or the real time."""
    if not value:
        return datetime.now(UTC)
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
