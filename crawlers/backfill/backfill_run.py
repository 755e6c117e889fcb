"""One source's backfill in this process: its claims per phase, its counts per path, its progress log.

A ``SourceRun`` (the source's lock, seen-store and batches, as in a crawl) whose
claims are reset between phases: an article a live path failed to fetch (a
challenge page, a 404 for an article the site deleted) can still come from an
archive in a later phase, while one a live path archived is *already held* there.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from crawlers.backfill.progress import PathStats, ProgressLog
from crawlers.backfill.window import DateWindow
from crawlers.canonical import canonical_url
from crawlers.crawl_state import SourceRun
from mediamon.core.archive import ArchiveError
from mediamon.core.sources import Source


class BackfillRun(SourceRun):
    def __init__(self, source: Source, state_root: Path, archive_dir: Path, batch_size: int, window: DateWindow,
                 paths: list[str]) -> None:
        super().__init__(source, state_root, archive_dir, batch_size, page_budget=None)
        self.window = window
        self.paths = {path: PathStats() for path in paths}
        self.progress: ProgressLog | None = None
        self.phase_claims: set[str] = set()
        self.links: dict[str, set[str]] = {path: set() for path in paths}  # each path counts a URL once
        self.stopped = False
        self.from_archives: set[str] = set()  # canonical URLs archived from a capture in this run
        self.phase_paths: set[str] = set()  # the paths of the phase running (progress display)

    def open(self) -> bool:
        if not super().open():
            return False
        self.progress = ProgressLog(self.state.dir, f"{self.window.since}", f"{self.window.until}")
        return True

    def new_phase(self) -> None:
        """Publish what the last phase fetched (the next one sees it as held), and forget its claims."""
        self.commit()
        self.phase_claims = set()
        self.pages_claimed = set()

    def claim_link(self, path: str, url: str, day: date | None, bound: date | None) -> str | None:
        """The canonical URL to fetch for a link ``path`` found, or None, counting why not.

        ``day`` is the publication day when the link gave it, ``bound`` a day it was
        published on or before (a capture's time).
        """
        stats = self.paths[path]
        try:
            key = self.source.article_url(canonical_url(url))  # an archive's http:// capture: the https article
        except ValueError:  # an unparseable link: not an article URL
            key = None
        if key is None:
            stats.skipped_links += 1
            return None
        if key in self.links[path]:
            stats.duplicate_links += 1
            return None
        self.links[path].add(key)
        stats.found += 1
        assert self.progress is not None  # opened
        if ((day is not None and not self.window.contains(day))
                or (day is None and bound is not None and bound < self.window.since)
                or key in self.progress.ruled_out):
            stats.out_of_range += 1
        elif key in self.state.seen:
            stats.already_held += 1
        elif key in self.phase_claims:
            stats.claimed_elsewhere += 1
        else:
            self.phase_claims.add(key)
            return key
        return None

    def ruled_out(self, path: str, canonical: str, day: date) -> None:
        """A fetched article whose page dates it outside the range: counted, and never fetched again for it."""
        self.paths[path].out_of_range += 1
        assert self.progress is not None
        self.progress.record_ruled_out(canonical, f"{day}")

    def archive(self, item: dict[str, Any]) -> None:
        stats = self.paths[item["backfill_path"]]
        if item.get("provenance"):
            self.from_archives.add(item["canonical_url"])
        try:
            super().archive(item)
        except ArchiveError:
            stats.failed["archive_error"] += 1
            raise
        stats.fetched += 1
        stats.undated += bool(item.get("undated"))

    def commit(self) -> None:
        """Archive captures do not join the revisit queue: revisiting their live URL would refetch what the
        live site no longer gives (or never gave us); live-fetched articles do, as in a crawl."""
        self._pending_queue = [(change, args) for change, args in self._pending_queue
                               if not (change == "enqueue" and args["canonical"] in self.from_archives)]
        super().commit()

    def spider_closed(self, reason: str) -> None:
        """Unlike a crawl, the last spider of a phase does not end the run: the next phase starts."""
        self.open_spiders -= 1
        if reason != "finished":
            self.clean = False

    def interrupt(self) -> None:
        self.stopped = True
        super().interrupt()

    def finish(self) -> None:
        if self.finished:
            return
        super().finish()
        for stats in self.paths.values():  # requests a shutdown left unanswered
            if stats.in_flight > 0:
                stats.failed["interrupted"] += stats.in_flight

    def report(self) -> dict[str, Any]:
        paths = {name: stats.as_dict() for name, stats in self.paths.items()}
        pages = sum(s.pages_fetched + s.pages_resumed for s in self.paths.values())
        failed = self.stats.fatal is not None or (pages == 0 and bool(self.paths))
        return {
            "source": self.source.id, "since": f"{self.window.since}", "until": f"{self.window.until}",
            "paths": paths, "fatal": self.stats.fatal, "failed": failed,
            "adds_up": all(p["adds_up"] for p in paths.values()),
            # the totals a crawl report has, so the same log line and tools read both
            "pages_fetched": sum(s.pages_fetched for s in self.paths.values()),
            "found": len(set().union(*self.links.values())) if self.links else 0,
            "archived": sum(s.fetched for s in self.paths.values()),
            "already_seen": sum(s.already_held for s in self.paths.values()),
            "page_errors": _summed(s.page_errors for s in self.paths.values()),
            "errors": _summed(s.failed for s in self.paths.values()),
            "browser_requests": self.stats.browser_requests, "browser_aborted": dict(self.stats.browser_aborted),
        }


def _summed(counters: Any) -> dict[str, int]:
    total: dict[str, int] = {}
    for counter in counters:
        for reason, n in counter.items():
            total[reason] = total.get(reason, 0) + n
    return total
