"""A backfill's counts per discovery path, and its persisted progress (what a resumed backfill skips).

Counts: every unique article URL a path finds ends in exactly one bucket —
``out_of_range`` (dated outside the range, before or after fetching), ``already_held``
(the archive holds it: an earlier crawl, backfill or phase), ``claimed_elsewhere``
(another path of the same phase fetches it), ``fetched`` (archived now) or
``failed`` by reason — so ``found`` equals their sum. ``undated`` counts fetched
articles no date could be found for (kept: the range cannot rule them out).

Progress: ``<data_dir>/crawl-state/<source>/backfill/<since>_<until>.jsonl``, one
JSON line per discovery page read (its article links and the pages it leads to)
and per article ruled out after fetching. A resumed backfill replays the log
instead of fetching those pages again; articles are re-checked against the
seen-store, so what a crash left unarchived is fetched and nothing is fetched twice.
A line is written (and fsynced) only once the page is fully read.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

PATHS = ("sitemap", "list", "wayback", "commoncrawl")


@dataclass
class PathStats:
    pages_fetched: int = 0
    pages_resumed: int = 0  # read from the progress log instead of fetched again
    pages_out_of_range: int = 0  # child sitemaps / index queries the range rules out, not fetched
    page_errors: Counter[str] = field(default_factory=Counter)
    found: int = 0
    out_of_range: int = 0
    already_held: int = 0
    claimed_elsewhere: int = 0
    fetched: int = 0
    failed: Counter[str] = field(default_factory=Counter)
    undated: int = 0
    duplicate_links: int = 0
    skipped_links: int = 0

    @property
    def in_range(self) -> int:
        return self.found - self.out_of_range

    @property
    def in_flight(self) -> int:
        return (self.found - self.out_of_range - self.already_held - self.claimed_elsewhere - self.fetched
                - sum(self.failed.values()))

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["page_errors"], data["failed"] = dict(self.page_errors), dict(self.failed)
        data["in_range"], data["adds_up"] = self.in_range, self.in_flight == 0
        return data


class ProgressLog:
    """The append-only log of one source's backfill of one range."""

    def __init__(self, state_dir: Path, since: str, until: str) -> None:
        self.path = state_dir / "backfill" / f"{since}_{until}.jsonl"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.pages: dict[tuple[str, str], dict[str, Any]] = {}
        self.ruled_out: set[str] = set()
        if self.path.exists():
            for line in self.path.read_text(encoding="utf-8").splitlines():
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:
                    continue  # the line a crash cut: that page is read again
                if "page" in entry:
                    self.pages[(entry["path"], entry["page"])] = entry
                elif "ruled_out" in entry:
                    self.ruled_out.add(entry["ruled_out"])

    def page(self, path: str, url: str) -> dict[str, Any] | None:
        """What page ``url`` of ``path`` gave when it was read before: ``links``, ``follow`` and ``skipped``."""
        return self.pages.get((path, url))

    def record_page(self, path: str, url: str, links: list[dict[str, Any]], follow: list[dict[str, Any]],
                    skipped: int) -> None:
        entry = {"path": path, "page": url, "links": links, "follow": follow, "skipped": skipped}
        self._append(entry)
        self.pages[(path, url)] = entry

    def record_ruled_out(self, canonical: str, day: str) -> None:
        self._append({"ruled_out": canonical, "published": day})
        self.ruled_out.add(canonical)

    def _append(self, entry: dict[str, Any]) -> None:
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
