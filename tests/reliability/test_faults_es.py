"""Elasticsearch stopped in the middle of a processing batch, then restarted: nothing lost, nothing twice.

The fault is real: a second local node (never the main one, other tests use
it) is stopped by SIGTERM between two bulk chunks of a batch, through the
indexer's ``on_chunk`` hook, and started again in the same directory.
"""

from __future__ import annotations

import functools
import uuid

import pytest
from elasticsearch import ConnectionError as ESConnectionError

from mediamon.core.esclient import make_client
from mediamon.core.settings import load_settings
from mediamon.devtools import localnode
from processing import runner
from processing.store import ledger
from processing.store.bulk import DeadLetter, IndexerConfig, IndexingUnavailable, read_deadletter
from processing.store.replay import replay_deadletters
from tests.support.es import drop_prefix
from tests.support.invariant import check_invariant, story_batches
from tests.support.paths import CONFIG


def connected(node, tmp_path, prefix: str):
    """Settings and client for the second node as it runs now (its port may change on restart)."""
    settings = load_settings(local_es_dir=node.local_es_dir).model_copy(
        update={"index_prefix": prefix, "data_dir": tmp_path / "data", "config_dir": CONFIG})
    return settings, make_client(settings, max_retries=1, timeout=10)


@pytest.mark.slow  # two node starts: minutes on a busy machine
def test_es_stopped_mid_batch_then_restarted_loses_nothing(second_es_node, tmp_path, monkeypatch) -> None:
    second_node, prefix = second_es_node, f"faults{uuid.uuid4().hex[:8]}"
    localnode.start(second_node, heap="256m")
    settings, es = connected(second_node, tmp_path, prefix)
    made = story_batches(settings, n_batches=2, per_batch=20)
    names = [b.name for b in made]

    stopped = []

    def stop_after_first_chunk(_counts) -> None:
        if not stopped:
            stopped.append(localnode.stop(second_node))

    real = runner.index_documents
    fast = IndexerConfig(chunk_size=5, max_retries=1, initial_backoff=0.1, max_backoff=0.2)
    monkeypatch.setattr(runner, "index_documents", functools.partial(real, config=fast,
                                                                     on_chunk=stop_after_first_chunk))
    with pytest.raises((IndexingUnavailable, ESConnectionError)):
        runner.process_pending(settings, es, workers=1, progress=False)
    assert stopped == [True]
    monkeypatch.setattr(runner, "index_documents", real)
    unavailable = list(read_deadletter(DeadLetter(settings.deadletter_dir).files()))
    assert unavailable and {e["kind"] for e in unavailable} == {"unavailable"}

    localnode.start(second_node, heap="256m")
    settings, es = connected(second_node, tmp_path, prefix)
    try:
        resumed(settings, es, names, unavailable)
    finally:
        drop_prefix(es, prefix)


def resumed(settings, es, names, unavailable) -> None:
    """The next run on the restarted node: the batches complete, nothing twice, nothing missing."""
    assert ledger.done_batches(es, settings, names) == set(), "the failed run marked a batch done"
    report = runner.process_pending(settings, es, workers=1, progress=False)
    assert report.adds_up() and report.batches_done == 2
    assert report.unchanged == 5 and report.created == 36 - 5  # the chunk acknowledged before the stop
    assert ledger.done_batches(es, settings, names) == set(names)
    result = check_invariant(es, settings)
    assert (result.records, result.documents, result.quarantined) == (40, 36, 4)

    # the documents dead-lettered while the node was down are already in: replaying them duplicates nothing
    replayed = replay_deadletters(es, settings)
    assert (replayed.created, replayed.failed, replayed.unchanged) == (0, 0, len(unavailable))
    assert not DeadLetter(settings.deadletter_dir).files()
    assert check_invariant(es, settings).documents == 36
