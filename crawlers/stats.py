"""Crawl counts per source, with reasons, that add up.

Every unique article URL a crawl finds ends in exactly one bucket: already
seen (not fetched), archived, blocked (by reason) or an error (by reason).
Discovery pages (feeds, sitemaps, lists, Telegram pages) are counted apart, and
so are revisits of archived articles: every due revisit is sent or deferred
(per-run cap) or left by a stop, and every one sent ends in one answer bucket.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

EXIT_INTERRUPTED = 3  # python -m crawlers stopped by SIGTERM/SIGINT: its report says what it committed

# Outcomes that mean "the site refused us", as opposed to a broken page or network.
BLOCKED_REASONS = frozenset({"js_challenge", "http_403", "http_429", "http_451"})
# Outcomes worth trying again next crawl: the discovery page that listed them is re-read unconditionally.
TRANSIENT_REASONS = frozenset({"http_429", "http_500", "http_502", "http_503", "http_504", "timeout", "connection",
                               "dns", "js_challenge", "http_403", "interrupted"})

# What a sent revisit found: 304, the same bytes, a new version, gone (404/410), redirected elsewhere.
REVISIT_ANSWERS = ("not_modified", "same_bytes", "changed", "gone", "redirected")


@dataclass
class SourceStats:
    source: str
    pages_fetched: int = 0
    pages_not_modified: int = 0
    page_errors: Counter[str] = field(default_factory=Counter)
    page_warnings: Counter[str] = field(default_factory=Counter)
    found: int = 0
    already_seen: int = 0
    archived: int = 0
    blocked: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    duplicate_links: int = 0
    skipped_links: int = 0
    fatal: str | None = None
    revisits: Counter[str] = field(default_factory=Counter)
    revisit_errors: Counter[str] = field(default_factory=Counter)
    # how the revisit queue moved: queued, seeded, vanished, steps_skipped, retired_done, dropped_queue_full, ...
    revisit_queue: Counter[str] = field(default_factory=Counter)
    # Requests rendered pages made by themselves (navigations, scripts, images, XHR), and those aborted, by reason
    # (crawlers/subresources.py): the browser sent browser_requests - sum(browser_aborted).
    browser_requests: int = 0
    browser_aborted: Counter[str] = field(default_factory=Counter)

    def outcome(self, reason: str) -> None:
        (self.blocked if reason in BLOCKED_REASONS else self.errors)[reason] += 1

    @property
    def in_flight(self) -> int:
        return self.found - self.already_seen - self.archived - sum(self.blocked.values()) - sum(self.errors.values())

    @property
    def revisits_in_flight(self) -> int:
        r = self.revisits
        return r["sent"] - sum(r[k] for k in REVISIT_ANSWERS) - sum(self.revisit_errors.values())

    def adds_up(self) -> bool:
        r = self.revisits
        return (self.in_flight == 0 and self.revisits_in_flight == 0
                and r["due"] == r["sent"] + r["deferred"] + r["stopped"])

    @property
    def failed(self) -> bool:
        """Nothing at all could be read from the source this time."""
        return self.fatal is not None or (self.pages_fetched + self.pages_not_modified == 0)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("page_errors", "page_warnings", "blocked", "errors", "revisits", "revisit_errors",
                    "revisit_queue", "browser_aborted"):
            data[key] = dict(getattr(self, key))
        data["failed"] = self.failed
        data["adds_up"] = self.adds_up()
        return data


@dataclass
class CrawlReport:
    sources: dict[str, SourceStats] = field(default_factory=dict)
    new_batches: list[Path] = field(default_factory=list)
    interrupted: str | None = None  # the signal that stopped the crawl early (its batches are committed)

    @property
    def failed_sources(self) -> list[str]:
        return [s for s, stats in self.sources.items() if stats.failed]

    @property
    def archived(self) -> int:
        return sum(s.archived for s in self.sources.values())

    def adds_up(self) -> bool:
        return all(s.adds_up() for s in self.sources.values())

    def as_dict(self) -> dict[str, Any]:
        return {"sources": {k: v.as_dict() for k, v in self.sources.items()},
                "new_batches": [str(p) for p in self.new_batches], "failed_sources": self.failed_sources,
                "archived": self.archived, "adds_up": self.adds_up(), "interrupted": self.interrupted}
