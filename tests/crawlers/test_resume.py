"""A crawl killed with SIGKILL loses nothing, and the next crawl archives each article exactly once."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from crawlers.crawl_state import CrawlState, StateBusy
from mediamon.core.archive import INCOMING, BatchWriter
from mediamon.devtools.mirror.server import MirrorServer
from tests.support.crawl import archived_entries, kill_after_batches, run_crawl

SOURCES = ["ria-ru", "tass-ru", "kremlin-ru", "belta-ru"]


def test_killed_crawl_resumes_and_archives_each_article_exactly_once(mirror: MirrorServer, tmp_path: Path) -> None:
    args = [a for s in SOURCES for a in ("--source", s)]
    slow = {"MEDIAMON_BATCH_SIZE": 2, "DOWNLOAD_DELAY": 0.25, "CONCURRENT_REQUESTS_PER_DOMAIN": 1}
    kill_after_batches(mirror, tmp_path, 3, *args, settings=slow)
    before = archived_entries(tmp_path)
    expected = {a.url for a in mirror.expected if a.source in SOURCES and a.outcome == "archived"}
    assert 0 < len(before) < len(expected)

    rc, report, stderr = run_crawl(mirror, tmp_path, *args)
    assert rc == 0, stderr[-2000:]
    after = archived_entries(tmp_path)
    counts = Counter(e["url"] for e in after)
    assert set(counts) == expected and set(counts.values()) == {1}
    assert report["archived"] == len(expected) - len(before)
    assert sum(report["sources"][s]["already_seen"] for s in SOURCES) == len(before)
    assert report["adds_up"]
    assert not any((tmp_path / "archive" / INCOMING).iterdir())  # the dead crawl's open batch is gone


def test_recovery_discards_uncommitted_and_records_unrecorded_batches(tmp_path: Path) -> None:
    archive, state_root = tmp_path / "archive", tmp_path / "crawl-state"
    committed = BatchWriter(archive, "tass-ru")
    committed.add(url="https://tass.ru/politika/1", canonical_url="https://tass.ru/politika/1",
                  fetched_url="http://127.0.0.1:1/tass.ru/politika/1", status=200, http_headers=[], body=b"<html/>")
    committed.commit()  # ... and the crawl died before recording it as seen
    orphan = BatchWriter(archive, "tass-ru")
    orphan.add(url="https://tass.ru/politika/2", canonical_url="https://tass.ru/politika/2",
               fetched_url="http://127.0.0.1:1/tass.ru/politika/2", status=200, http_headers=[], body=b"<html/>")
    other = BatchWriter(archive, "tass-en")  # another source's open batch is not ours to touch

    state = CrawlState(state_root, archive, "tass-ru")
    state.lock()
    assert state.load_and_recover() == (1, 1)
    assert state.seen == {"https://tass.ru/politika/1"}
    assert not orphan.work_dir.exists() and other.work_dir.exists()
    state.unlock()
    again = CrawlState(state_root, archive, "tass-ru")
    assert again.load_and_recover() == (0, 0) and again.seen == {"https://tass.ru/politika/1"}


def test_a_second_crawl_of_the_same_source_is_refused_while_one_runs(tmp_path: Path) -> None:
    first = CrawlState(tmp_path / "state", tmp_path / "archive", "ria-ru")
    first.lock()
    second = CrawlState(tmp_path / "state", tmp_path / "archive", "ria-ru")
    with pytest.raises(StateBusy, match="another crawl of ria-ru"):
        second.lock()
    first.unlock()
    second.lock()
    second.unlock()


def test_recovery_records_a_damaged_batch_from_what_it_still_names(tmp_path: Path) -> None:
    """A committed batch whose manifest has a broken line must not stop the source's next crawl from starting."""
    archive, state_root = tmp_path / "archive", tmp_path / "crawl-state"
    writer = BatchWriter(archive, "tass-ru")
    for n in (1, 2):
        writer.add(url=f"https://tass.ru/politika/{n}", canonical_url=f"https://tass.ru/politika/{n}",
                   fetched_url=f"http://127.0.0.1:1/tass.ru/politika/{n}", status=200, http_headers=[],
                   body=b"<html/>")
    batch = writer.commit()
    assert batch is not None
    manifest = batch / "manifest.jsonl"
    manifest.write_text(manifest.read_text().splitlines()[0] + "\n{not json\n")

    state = CrawlState(state_root, archive, "tass-ru")
    state.lock()
    assert state.load_and_recover() == (0, 1)
    assert state.seen == {"https://tass.ru/politika/1", "https://tass.ru/politika/2"}  # the second from the WARC
    state.unlock()
