"""Import WARC and WACZ files written by other tools (wget --warc-file, Browsertrix/ArchiveWeb.page, CC-NEWS).

Each HTTP response whose URL is an article of a configured source becomes an
archived record of that source, exactly as if a crawl had fetched it: the same
batches, the same seen-store (so a second import of the same file, or a later
crawl, adds nothing), ``provenance: import`` in the manifest with the capture's
time and the file and record it came from. Every other record is counted by
reason, so the counts add up: responses read = imported + skipped.

A capture of a mirror or replay (a URL that ``MEDIAMON_URL_REWRITE`` rewrites
to) is imported under the real URL it stands for. This module reads files and
archives; processing the new batches is the caller's next step.
"""

from __future__ import annotations

import zipfile
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from warcio.archiveiterator import ArchiveIterator
from warcio.recordloader import ArcWarcRecord

from crawlers.crawl_state import SourceRun
from crawlers.rewrite import Rules, original
from mediamon.core.errors import OperationFailed
from mediamon.core.sources import Source, source_for_url, sources_by_id

HTML_TYPES = ("text/html", "application/xhtml+xml")
# Transfer details warcio undoes when it reads the body: archived as if they had never been applied.
DECODED_HEADERS = frozenset({"content-encoding", "transfer-encoding", "content-length"})


class ImportFailed(OperationFailed):
    """The import could not start (another crawl of a source holds its lock) or could not archive."""


@dataclass
class ImportReport:
    """What an import read and what became of it; ``responses == imported + sum(skipped)``."""

    files: int = 0
    responses: int = 0
    imported: Counter[str] = field(default_factory=Counter)  # by source
    skipped: Counter[str] = field(default_factory=Counter)  # by reason
    other_records: Counter[str] = field(default_factory=Counter)  # request, warcinfo, resource, ... by type
    unreadable: dict[str, str] = field(default_factory=dict)  # file -> why it could not be (fully) read
    new_batches: list[Path] = field(default_factory=list)

    def adds_up(self) -> bool:
        return self.responses == sum(self.imported.values()) + sum(self.skipped.values())

    def as_dict(self) -> dict[str, Any]:
        return {"files": self.files, "responses": self.responses, "imported": dict(self.imported),
                "skipped": dict(self.skipped), "other_records": dict(self.other_records),
                "unreadable": self.unreadable, "new_batches": [str(p) for p in self.new_batches],
                "adds_up": self.adds_up()}


def warc_streams(path: Path, stack: ExitStack) -> Iterator[tuple[str, IO[bytes]]]:
    """The WARC streams of ``path``: the file itself, or every ``archive/*.warc[.gz]`` member of a WACZ."""
    if zipfile.is_zipfile(path):
        wacz = stack.enter_context(zipfile.ZipFile(path))
        for name in sorted(wacz.namelist()):
            if name.startswith("archive/") and name.endswith((".warc", ".warc.gz")):
                yield f"{path.name}:{name}", stack.enter_context(wacz.open(name))
        return
    yield path.name, stack.enter_context(open(path, "rb"))  # noqa: SIM115 - the caller's stack closes it


class Importer:
    """One import run over several files, holding each touched source's crawl state until ``finish``."""

    def __init__(self, sources: list[Source], rules: Rules, state_root: Path, archive_dir: Path,
                 batch_size: int) -> None:
        self.sources = sources_by_id(sources)
        self.rules = rules
        self.state_root, self.archive_dir, self.batch_size = state_root, archive_dir, batch_size
        self.runs: dict[str, SourceRun] = {}
        self.report = ImportReport()

    def import_file(self, path: Path) -> None:
        self.report.files += 1
        records = 0
        with ExitStack() as stack:
            try:
                for name, stream in warc_streams(path, stack):
                    for record in ArchiveIterator(stream):
                        if record.format != "warc":  # warcio reads any text line as an ARC header
                            raise ValueError(f"{name}: not a WARC record ({record.format} or foreign bytes)")
                        records += 1
                        self._record(record, name)
            except Exception as exc:  # warcio raises whatever its parsers hit on damaged or foreign bytes
                self.report.unreadable[str(path)] = f"{type(exc).__name__}: {exc}"[:500]
        if records == 0 and str(path) not in self.report.unreadable:
            self.report.unreadable[str(path)] = "no WARC record in it"

    def _record(self, record: ArcWarcRecord, file_name: str) -> None:
        if record.rec_type not in ("response", "revisit"):
            self.report.other_records[record.rec_type] += 1
            return
        self.report.responses += 1
        reason = self._skip_reason(record) or self._archive(record, file_name)
        if reason:
            self.report.skipped[reason] += 1

    def _skip_reason(self, record: ArcWarcRecord) -> str | None:
        if record.rec_type == "revisit":  # a "same as before" marker: no body of its own
            return "revisit"
        if record.http_headers is None:
            return "not_http"
        status = int(record.http_headers.get_statuscode() or 0)
        if status != 200:
            return f"http_{status}"
        ctype = (record.http_headers.get_header("Content-Type") or "").split(";")[0].strip().lower()
        return None if ctype in HTML_TYPES else "not_html"

    def _archive(self, record: ArcWarcRecord, file_name: str) -> str | None:
        """Archive the response under its source; the skip reason when it is not a new article of one."""
        captured = (record.rec_headers.get_header("WARC-Target-URI") or "").strip("<>")  # some writers wrap it as <uri>
        url = original(captured, self.rules) or captured
        source = source_for_url(url, self.sources)
        if source is None:
            return "not_a_source"
        url = source.article_url(url) or url  # an http:// capture of an https article: that article, one document
        run = self._run(source)
        before = (run.stats.skipped_links, run.stats.duplicate_links, run.stats.already_seen)
        key = run.claim(url)
        if key is None:
            after = (run.stats.skipped_links, run.stats.duplicate_links, run.stats.already_seen)
            return next(why for why, b, a in zip(("not_article", "duplicate", "already_archived"), before, after,
                                                 strict=True) if a > b)
        captured_at = _warc_date(record.rec_headers.get_header("WARC-Date"))
        headers = [(k, v) for k, v in record.http_headers.headers if k.lower() not in DECODED_HEADERS]
        run.archive({"url": url, "canonical_url": key, "kind": "article", "body": record.content_stream().read(),
                     "fetched_url": captured, "status": 200, "http_headers": headers, "feed": {},
                     "manifest": {"provenance": "import", "captured_at": captured_at, "fetched_at": captured_at,
                                  "import_file": file_name,
                                  "import_record": record.rec_headers.get_header("WARC-Record-ID")}})
        self.report.imported[source.id] += 1
        return None

    def _run(self, source: Source) -> SourceRun:
        run = self.runs.get(source.id)
        if run is None:
            run = SourceRun(source, self.state_root, self.archive_dir, self.batch_size)
            if not run.open():
                raise ImportFailed(f"cannot import into {source.id}: {run.stats.fatal}")
            self.runs[source.id] = run
        return run

    def finish(self) -> ImportReport:
        """Commit every open batch and release the sources' crawl state."""
        for run in self.runs.values():
            run.finish()
            self.report.new_batches.extend(run.new_batches)
        return self.report


def _warc_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None
