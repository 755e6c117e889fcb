"""`mediamon evidence URL... --out FILE.wacz`: the archived captures of some pages as one WACZ file.

WACZ (Web Archive Collection Zipped) is what ReplayWeb.page opens and what OSINT
researchers share captures in. The package holds, for every capture of each URL
in the raw archive, the exact WARC records the crawl wrote — the response, its
request and, for rendered pages, the screenshot ``resource`` record — copied
byte for byte (their digests stay verifiable), plus the CDX index, the pages
list and ``datapackage.json`` with every file's sha256, all written by the
``wacz`` package. Nothing is fetched again: evidence is what was archived.
"""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from wacz.main import main as wacz_main
from warcio.archiveiterator import ArchiveIterator

from crawlers.canonical import canonical_url
from mediamon.core.archive import ManifestRecord, iter_batches, read_manifest
from mediamon.core.errors import OperationFailed
from mediamon.core.settings import Settings


class EvidenceError(OperationFailed):
    """No capture of the asked URLs, or the WACZ could not be written."""


@dataclass
class EvidenceReport:
    out: Path
    captures: int = 0
    screenshots: int = 0
    records: int = 0
    missing: list[str] = field(default_factory=list)  # asked for, never archived

    def as_dict(self) -> dict[str, object]:
        return {"out": str(self.out), "captures": self.captures, "screenshots": self.screenshots,
                "records": self.records, "missing": self.missing}


def _key(url: str) -> str:
    try:
        return canonical_url(url)
    except ValueError:
        return url


def captures_of(archive_dir: Path, urls: list[str]) -> dict[Path, list[ManifestRecord]]:
    """Every archived capture of ``urls`` (by URL or canonical URL), grouped by batch, oldest batch first."""
    wanted = {_key(u) for u in urls} | set(urls)
    found: dict[Path, list[ManifestRecord]] = {}
    for batch in iter_batches(archive_dir):
        hits = [e for e in read_manifest(batch) if e.url in wanted or e.canonical_url in wanted]
        if hits:
            found[batch] = hits
    return found


def _copy_records(batch: Path, entries: list[ManifestRecord], out: io.BufferedWriter) -> int:
    """Copy, byte for byte, each entry's response, the request written after it and its screenshot record."""
    warc = batch / entries[0].warc_file
    wanted = {e.offset for e in entries} | {e.screenshot.offset for e in entries if e.screenshot}
    copied, take_next = 0, False
    with open(warc, "rb") as fh:
        iterator = ArchiveIterator(fh)
        spans = []
        for record in iterator:
            offset, length = iterator.get_record_offset(), iterator.get_record_length()
            if offset in wanted or (take_next and record.rec_type == "request"):
                spans.append((offset, length))
            take_next = offset in wanted and record.rec_type == "response"
        for offset, length in spans:
            fh.seek(offset)
            out.write(fh.read(length))
            copied += 1
    return copied


def _pages_list(entries: list[ManifestRecord]) -> str:
    """pages.jsonl: one page per URL (ReplayWeb.page lists them; every capture stays in the index)."""
    header = {"format": "json-pages-1.0", "id": "pages", "title": "Archived pages"}
    pages = {e.url: {"url": e.url, "title": str(e.feed.get("title") or e.url)} for e in entries}
    return "\n".join(json.dumps(line, ensure_ascii=False) for line in [header, *pages.values()]) + "\n"


def package(settings: Settings, urls: list[str], out: Path, title: str | None = None) -> EvidenceReport:
    """Write the WACZ of every capture of ``urls`` to ``out``; raises ``EvidenceError`` when none was archived."""
    batches = captures_of(settings.data_dir / "archive", urls)
    entries = [e for hits in batches.values() for e in hits]
    report = EvidenceReport(out, captures=len(entries), screenshots=sum(1 for e in entries if e.screenshot))
    archived = {e.url for e in entries} | {e.canonical_url for e in entries}
    report.missing = [u for u in urls if u not in archived and _key(u) not in archived]
    if not entries:
        raise EvidenceError(f"none of the {len(urls)} URL(s) is in the archive of {settings.data_dir}: "
                            f"{', '.join(urls)}")
    with tempfile.TemporaryDirectory(prefix="mediamon-evidence-") as work:
        warc = Path(work) / "evidence.warc.gz"
        with open(warc, "wb") as fh:
            for batch, hits in batches.items():
                report.records += _copy_records(batch, hits, fh)
        pages = Path(work) / "pages.jsonl"
        pages.write_text(_pages_list(entries), encoding="utf-8")
        out.parent.mkdir(parents=True, exist_ok=True)
        args = ["create", "-o", str(out), "--pages", str(pages), "--hash-type", "sha256",
                "--title", title or f"mediamon evidence: {len(entries)} capture(s)", str(warc)]
        log = io.StringIO()
        with contextlib.redirect_stdout(log):  # the package prints its progress; our report says what matters
            code = wacz_main(args)
        if code != 0 or not out.is_file():
            raise EvidenceError(f"the wacz package could not write {out} (exit {code}): {log.getvalue()[-500:]}")
    return report


def validate(path: Path) -> tuple[bool, str]:
    """Whether ``path`` is a valid WACZ (required files, frictionless package, every digest), and the verdict."""
    log = io.StringIO()
    with contextlib.redirect_stdout(log):
        code = wacz_main(["validate", "-f", str(path)])
    return code == 0, log.getvalue().strip().splitlines()[-1] if log.getvalue().strip() else ""
