"""A damaged raw batch (truncated or corrupted WARC or manifest) loses no record silently, stops nothing else.

Against the real archive files and the real node: every record the batch was
written with ends as a document or in quarantine with a reason, the runner's
counts reconcile against what the manifest lists (not against what could be
read), and a batch with an unreadable manifest is quarantined whole while the
other batches proceed. The property tests damage a random byte range of either
file: first on the archive reader alone (many examples, no node), then through
the runner against the node (a few).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import uuid
from datetime import timedelta
from hashlib import sha256
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mediamon.core.archive import (
    ARCHIVE_RECORD_CORRUPT,
    ARCHIVE_RECORD_MISSING,
    MANIFEST_NAME,
    MANIFEST_RECORD_MISSING,
    MANIFEST_UNREADABLE,
    WARC_NAME,
    ArchivedRecord,
    ManifestError,
    iter_records,
    read_manifest,
    salvage_manifest,
)
from processing.quarantine import iter_quarantined
from processing.reports.health import check_archive_vs_index
from processing.runner import process_batch, process_pending
from processing.store import ledger
from tests.support.batches import page, write_batch
from tests.support.invariant import all_documents, check_invariant, paragraphs, story_batches
from tests.support.paths import CONFIG, REPO

pytestmark = pytest.mark.timeout(300)
LOST = {ARCHIVE_RECORD_MISSING, ARCHIVE_RECORD_CORRUPT}


@pytest.fixture
def cfg(es_settings):
    return es_settings.model_copy(update={"config_dir": CONFIG})


def truncate(path: Path, size: int) -> None:
    with open(path, "r+b") as fh:
        fh.truncate(size)


def test_a_truncated_warc_quarantines_every_record_it_lost(cfg, es_admin) -> None:
    batch = story_batches(cfg, n_batches=1, per_batch=6, broken_every=0)[0]
    offsets = [e.offset for e in read_manifest(batch)]
    truncate(batch / WARC_NAME, offsets[3] + 200)  # inside the fourth record's gzip member
    report = process_pending(cfg, es_admin, workers=1, progress=False)
    assert report.adds_up() and (report.records_archived, report.records_in) == (6, 6)
    assert report.documents == 3 and sum(report.quarantined[r] for r in LOST) == 3
    lost = {q["raw_ref"]["offset"]: q for q in iter_quarantined(cfg.data_dir)}
    assert set(lost) == set(offsets[3:]) and all(q["reason"] in LOST and q["detail"] for q in lost.values())
    assert ledger.done_batches(es_admin, cfg, [batch.name]) == {batch.name}
    assert check_invariant(es_admin, cfg).records == 6


def test_damage_inside_the_warc_costs_only_the_damaged_record(cfg, es_admin) -> None:
    batch = story_batches(cfg, n_batches=1, per_batch=6, broken_every=0)[0]
    offsets = [e.offset for e in read_manifest(batch)]
    data = bytearray((batch / WARC_NAME).read_bytes())
    data[offsets[1] + 60:offsets[1] + 90] = bytes(30)  # zeros over the second record's compressed bytes
    (batch / WARC_NAME).write_bytes(bytes(data))
    report = process_pending(cfg, es_admin, workers=1, progress=False)
    assert report.adds_up() and report.records_in == 6
    assert report.documents == 5 and sum(report.quarantined[r] for r in LOST) == 1  # the later ones re-read
    assert [q["raw_ref"]["offset"] for q in iter_quarantined(cfg.data_dir)] == [offsets[1]]
    check_invariant(es_admin, cfg)


def test_records_the_manifest_lost_are_quarantined_from_the_warc(cfg, es_admin) -> None:
    batch = story_batches(cfg, n_batches=1, per_batch=5, broken_every=0)[0]
    lines = (batch / MANIFEST_NAME).read_text().splitlines(keepends=True)
    (batch / MANIFEST_NAME).write_text("".join(lines[:2]))  # cut at a line end: still a valid manifest
    report = process_batch(cfg, batch, es=es_admin)
    assert report.adds_up() and (report.records_archived, report.documents) == (5, 2)
    assert report.quarantined == {MANIFEST_RECORD_MISSING: 3}
    lost = [q for q in iter_quarantined(cfg.data_dir)]
    assert sorted(q["url"] for q in lost) == sorted(json.loads(line)["url"] for line in lines[2:])
    assert all(q["source"] == "tass-ru" and q["raw_ref"]["sha256"] for q in lost)


def cli_env(settings) -> dict[str, str]:
    return {**os.environ, "MEDIAMON_INDEX_PREFIX": settings.index_prefix, "MEDIAMON_DATA_DIR": str(settings.data_dir),
            "MEDIAMON_CONFIG_DIR": str(settings.config_dir), "MEDIAMON_LOCAL_ES_DIR": str(settings.local_es_dir)}


@pytest.mark.parametrize("damage", [b'{"batch": "x", "url": \n', b"\xff\xfe not utf-8\n"], ids=["json", "bytes"])
def test_a_malformed_manifest_quarantines_its_batch_and_the_others_proceed(cfg, es_admin, damage) -> None:
    first, broken, last = story_batches(cfg, n_batches=3, per_batch=4, broken_every=0)
    lines = (broken / MANIFEST_NAME).read_bytes().splitlines(keepends=True)
    (broken / MANIFEST_NAME).write_bytes(lines[0] + damage + b"".join(lines[2:]))
    run = subprocess.run([sys.executable, "-m", "mediamon", "process", "--json", "--no-progress", "--workers", "1"],
                         cwd=REPO, env=cli_env(cfg), capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stderr[-2000:]
    report = json.loads(run.stdout)
    assert report["adds_up"] and (report["batches_done"], report["batches_damaged"]) == (3, 1)
    assert report["quarantined"] == {MANIFEST_UNREADABLE: 4} and report["created"] == 8
    assert ledger.done_batches(es_admin, cfg, [first.name, broken.name, last.name]) == {
        first.name, broken.name, last.name}  # handled: not retried by every run
    marked = es_admin.get(index=ledger.batches_index(cfg), id=broken.name)["_source"]
    assert f"{MANIFEST_NAME}:2" in marked["damaged"]
    quarantined = [q for q in iter_quarantined(cfg.data_dir)]
    assert len(quarantined) == 4 and all(q["reason"] == MANIFEST_UNREADABLE and ":2:" in q["detail"]
                                         for q in quarantined)
    again = process_pending(cfg, es_admin, workers=1, progress=False)
    assert (again.batches_done, again.batches_skipped) == (0, 3)
    rows = check_archive_vs_index(cfg, es_admin, now=None, grace=timedelta(hours=-1))
    assert [(r["archived"], r["indexed"], r["quarantined"], r["missing"]) for r in rows] == [(12, 8, 4, 0)]


# --- the property: any damage to either file, no record lost silently ----------------------------

DAMAGE = st.tuples(st.sampled_from([WARC_NAME, MANIFEST_NAME]), st.sampled_from(["truncate", "overwrite", "flip"]),
                   st.floats(0, 1, exclude_max=True), st.binary(min_size=1, max_size=40))
BOUNDED = settings(max_examples=150, deadline=None,
                   suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def damage_file(path: Path, how: str, where: float, junk: bytes) -> None:
    data = bytearray(path.read_bytes())
    at = int(where * len(data))
    if how == "truncate":
        data = data[:at]
    elif how == "overwrite":
        data[at:at + len(junk)] = junk
    else:
        data[at] ^= junk[0] or 1
    path.write_bytes(bytes(data))


def read_back(batch: Path) -> list:
    """What the runner reads of a batch: every record, or every record a damaged manifest still names."""
    try:
        return list(iter_records(batch, read_manifest(batch)))
    except ManifestError:
        return salvage_manifest(batch)[0]


def assert_nothing_lost_silently(written: dict[int, str], items: list) -> None:
    seen = {}
    for item in items:
        manifest = getattr(item, "manifest", item)
        seen.setdefault(manifest.offset, []).append(item)
    assert set(written) <= set(seen), f"records gone without a trace: {sorted(set(written) - set(seen))}"
    for offset, found in seen.items():
        for item in found:  # what reads as a record is exactly what was archived there
            assert not isinstance(item, ArchivedRecord) or sha256(item.body).hexdigest() == written.get(offset)


def fresh_batch(settings, tag: str, n: int = 4) -> Path:
    """A real batch of ``n`` distinct stories whose URLs no other batch of the test uses."""
    rng = random.Random(tag)
    pool = paragraphs()
    return write_batch(settings, "tass-ru", [
        {"url": f"https://tass.ru/politika/{tag}-{i}",
         "body": page(f"Новость {tag} {i}", rng.sample(pool, 4), "2021-11-05T10:00:00+03:00")} for i in range(n)])


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> tuple[Path, dict[int, str]]:
    """One real batch written by the archive writer; each example damages a copy of it."""
    batch = fresh_batch(SimpleNamespace(data_dir=tmp_path_factory.mktemp("pristine")), "pristine", n=5)
    return batch, {e.offset: e.sha256 for e in read_manifest(batch)}


@BOUNDED
@given(damage=DAMAGE)
def test_damaging_either_file_never_loses_a_record_silently(pristine, damage) -> None:
    batch, written = pristine
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(shutil.copytree(batch, Path(tmp) / batch.name))
        name, how, where, junk = damage
        damage_file(copy / name, how, where, junk)
        assert_nothing_lost_silently(written, read_back(copy))


@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(damage=DAMAGE)
def test_the_runner_accounts_for_every_record_of_a_damaged_batch(cfg, es_admin, damage) -> None:
    name, how, where, junk = damage
    # Unique per call: hypothesis may run an example twice (replay, shrinking) against the same index,
    # and a second batch of the same URLs would meet the first one's documents.
    batch = fresh_batch(cfg, f"{how}-{name[:3]}-{where:.6f}-{junk.hex()[:8]}-{uuid.uuid4().hex[:6]}")
    written = {e.offset for e in read_manifest(batch)}
    damage_file(batch / name, how, where, junk)
    report = process_batch(cfg, batch, es=es_admin)
    assert report.adds_up() and report.records_in >= len(written)
    found = offsets_of(batch, all_documents(es_admin, cfg).values()) | offsets_of(batch, iter_quarantined(cfg.data_dir))
    assert written <= found, f"lost without a trace: {sorted(written - found)}"
    check_invariant(es_admin, cfg)


def offsets_of(batch: Path, rows) -> set[int]:
    """The WARC offsets of ``batch`` that documents or quarantine entries point to."""
    return {row["raw_ref"]["offset"] for row in rows if (row.get("raw_ref") or {}).get("batch") == batch.name}
