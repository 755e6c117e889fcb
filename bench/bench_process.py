"""Processing throughput, worker memory and near-duplicate lookup cost (issue 4).

Figures, all measured in the same run on the same machine:
- ``docs_per_s_stages_2w`` / ``docs_per_s_bare_trafilatura_1w``: every per-record
  stage (decode, extract with selectors + metadata + dates, clean, language,
  translations, enrich, MinHash) in the runner's 2-worker process pool, versus
  bare ``trafilatura.extract`` on one worker, over the same >= 1,000 pages
  (goal: ratio >= 1.0). ``docs_per_s_runner_2w`` adds everything else the runner
  does: reading the WARC archive, near-duplicate grouping against the index,
  bulk indexing, the batch mark.
- ``peak_rss_mb_per_worker``: highest resident memory of each pool process.
- near-duplicate lookup cost per document (one msearch per batch of 50, as the
  runner does) with 1k, 10k and 100k documents in the index (goal: growth from
  1k to 100k <= 1.5x).

Pages: every article page the mirror renders (the real sites' markup for 14
sources, utf-8/windows-1251/koi8-r) plus the real saved pages in
../shared/fixtures/real when present, cycled to 1,200 records; every copy is
made distinct (a sentence of another story in the page's language opens its
first paragraph).
"""

from __future__ import annotations

import random
import shutil
import statistics
import threading
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import psutil
import trafilatura
from elasticsearch import helpers

from mediamon.core.archive import BatchWriter, ManifestRecord
from mediamon.core.document import Document, doc_id
from mediamon.core.esclient import make_client
from mediamon.core.settings import load_settings
from mediamon.devtools.mirror.corpus import load_corpus
from mediamon.devtools.mirror.server import MirrorServer
from processing.dedup import content_hash, find_candidates, fingerprint_document, signature
from processing.record import RecordInput
from processing.runner import _init_worker, _process_in_worker, process_pending
from processing.store.indexsetup import setup
from tests.support.es import drop_prefix
from tests.support.paths import REAL_FIXTURES, REPO

N_PAGES = 1200
LOOKUP_SIZES = (1_000, 10_000, 100_000)
PROBES = 200
LOOKUP_ROUNDS = 7


def _pages() -> list[tuple[str, str, bytes, str | None]]:
    """(url, source id, body, content type) for every distinct article page, cycled to N_PAGES."""
    with MirrorServer(faults=True) as mirror:
        distinct = []
        for article in mirror.expected:
            parts = urlsplit(article.url)
            resource = mirror.catalog.resources.get((parts.hostname or "", parts.path))
            if article.outcome == "archived" and article.body:
                distinct.append((article.url, article.source, article.body,
                                 resource.content_type if resource else "text/html; charset=utf-8"))
    if REAL_FIXTURES.is_dir():
        import gzip

        for path, url, source in [
            ("kremlin/news-77428.html", "http://kremlin.ru/events/president/news/77428", "kremlin-ru"),
            ("kremlin/news-77329.html", "http://kremlin.ru/events/president/news/77329", "kremlin-ru")]:
            distinct.append((url, source, (REAL_FIXTURES / path).read_bytes(), "text/html; charset=utf-8"))
        for site, source in (("rt", "rt-en"), ("sputnik", "sputnik-en")):
            page = next((REAL_FIXTURES / site).glob("*.html.gz"))
            distinct.append((f"https://{site}.example/{page.name}", source, gzip.decompress(page.read_bytes()),
                             "text/html; charset=utf-8"))
    rng = random.Random(1108)
    corpus = load_corpus()
    lang_of = {source: items[0].lang for source, items in corpus.items() if items}
    sentences: dict[str, list[str]] = {}
    for items in corpus.values():
        for item in items:
            sentences.setdefault(item.lang, []).extend(p.split(". ")[0] + "." for p in item.body)
    pages = []
    for n in range(N_PAGES):
        url, source, body, ctype = distinct[n % len(distinct)]
        if n >= len(distinct):  # a distinct copy: another story's sentence opens the first paragraph
            charset = (ctype or "").partition("charset=")[2] or "utf-8"
            # in the page's own language: the real pages are monolingual, and a sentence in another
            # language would make a bilingual page that only langdetect's slow path can decide
            lang = lang_of.get(source) or source.rpartition("-")[2]
            lead = rng.choice(sentences.get(lang) or sentences["ru"]).encode(charset, errors="ignore") + b" "
            body = body.replace(b"<p>", b"<p>" + lead, 1)
            url = f"{url}?copy={n}"
        pages.append((url, source, body, ctype))
    return pages


def _records(pages) -> list[RecordInput]:
    fetched = datetime(2021, 11, 20, tzinfo=UTC)
    return [RecordInput(ManifestRecord(batch="bench", url=u, canonical_url=u, source=s, offset=0, fetched_at=fetched,
                                       kind="telegram_post" if s.startswith("telegram") else "article"), body, ctype)
            for u, s, body, ctype in pages]


class _WorkerMemory:
    """Samples the resident memory of this process's children (the pool workers) while running."""

    def __init__(self) -> None:
        self.peak: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            for child in me.children(recursive=True):
                try:
                    self.peak[child.pid] = max(self.peak.get(child.pid, 0), child.memory_info().rss)
                except psutil.Error:
                    continue
            time.sleep(0.05)

    def __enter__(self) -> _WorkerMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _stage_throughput(records: list[RecordInput], config_dir: Path) -> tuple[float, list[float], int]:
    with _WorkerMemory() as memory, ProcessPoolExecutor(2, initializer=_init_worker,
                                                        initargs=(config_dir, config_dir / "sources.yaml")) as pool:
        list(pool.map(_process_in_worker, records[:20]))  # warm-up: rules, dictionaries, imports
        started = time.perf_counter()
        outcomes = list(pool.map(_process_in_worker, records, chunksize=4))
        elapsed = time.perf_counter() - started
    documents = sum(o.document is not None for o in outcomes)
    return len(records) / elapsed, sorted(v / 2**20 for v in memory.peak.values()), documents


def _bare_trafilatura(pages) -> float:
    trafilatura.extract(pages[0][2])  # warm-up
    started = time.perf_counter()
    for _url, _source, body, _ctype in pages:
        trafilatura.extract(body)
    return len(pages) / (time.perf_counter() - started)


def _runner_throughput(pages, settings, es) -> tuple[float, bool]:
    prefixed = settings.model_copy(update={"index_prefix": f"bench{uuid.uuid4().hex[:8]}",
                                           "data_dir": settings.data_dir / f"bench-{uuid.uuid4().hex[:8]}"})
    setup(es, prefixed, with_roles=False)
    try:
        for start in range(0, len(pages), 200):  # batches of a crawl's size
            writer = BatchWriter(prefixed.data_dir / "archive", "bench")
            for url, source, body, ctype in pages[start:start + 200]:
                writer.add(url=url, canonical_url=url, fetched_url=url, status=200,
                           http_headers=[("Content-Type", ctype or "text/html")], body=body,
                           kind="telegram_post" if source.startswith("telegram") else "article",
                           extra={"source": source})
            writer.commit()
        started = time.perf_counter()
        report = process_pending(prefixed, es, workers=2, progress=False)
        return report.records_in / (time.perf_counter() - started), report.adds_up()
    finally:
        drop_prefix(es, prefixed.index_prefix)
        shutil.rmtree(prefixed.data_dir, ignore_errors=True)


def _vocabulary() -> list[str]:
    words: list[str] = []
    for items in load_corpus().values():
        for item in items:
            words += " ".join(item.body).split()
    return words


def _synthetic(rng: random.Random, vocabulary: list[str], n_words: int = 220) -> str:
    # Words drawn from the corpus with its own frequencies: realistic word statistics without
    # the whole-sentence overlap that only reprints have.
    return " ".join(rng.choice(vocabulary) for _ in range(n_words))


def _index_minhash_docs(es, alias: str, rng, vocabulary, count: int) -> list[str]:
    texts: list[str] = []

    def actions():
        for i in range(count):
            text = _synthetic(rng, vocabulary)
            texts.append(text)
            sig = signature(text)
            url = f"https://bench.example/{i}"
            yield {"_index": alias, "_id": doc_id(url), "_source": {
                "url": url, "canonical_url": url, "domain": "bench.example", "source": "bench", "text": "",
                "published_at": (datetime(2021, 11, 1, tzinfo=UTC) + timedelta(minutes=i)).isoformat(),
                "content_hash": content_hash(text), "minhash": sig.encode(), "minhash_bands": sig.bands(),
                "dup_group": doc_id(url), "is_duplicate": False}}
    helpers.bulk(es, actions(), chunk_size=2000, request_timeout=120)
    es.indices.refresh(index=alias)
    return texts


def _settle(es, alias: str) -> int:
    """Wait for the merges the bulk load started, then refresh; the segments searches now see.

    Lookups are timed on an index at rest, as the runner leaves it after each
    batch: a 100k bulk load leaves minutes of merging that would otherwise take
    one of the two cores from the lookups, and a reader opened before those
    merges ended would keep searching the unmerged segments (the runner
    refreshes after every batch, so it never searches a stale reader).
    """
    while es.indices.stats(index=alias, metric="merge")["_all"]["total"]["merges"]["current"]:
        time.sleep(0.5)
    es.indices.refresh(index=alias)
    segments = es.cat.segments(index=alias, format="json", h="segment,searchable").body
    return sum(1 for s in segments if s["searchable"] == "true")


def _probes(rng, vocabulary, texts: list[str], size: int) -> list:
    probes = []
    for i in range(PROBES):  # half reprints of indexed stories (edited ending), half new stories
        text = (texts[rng.randrange(len(texts))][:-200] + " " + _synthetic(rng, vocabulary, 30)
                if i % 2 else _synthetic(rng, vocabulary))
        url = f"https://probe.example/{size}/{i}"
        probes.append(fingerprint_document(Document(url=url, canonical_url=url, domain="probe.example",
                                                    source="probe", text=text)))
    return probes


def _lookup_cost(settings, es) -> dict[str, dict]:
    """Lookup cost per document at each index size, one index per size.

    The sizes are measured in interleaved rounds (1k, 10k, 100k, 1k, ...) and
    the median round is kept, so a passing disturbance on the machine touches
    every size alike instead of skewing the growth ratio.
    """
    rng = random.Random(1108)
    vocabulary = _vocabulary()
    prefixes = {size: f"bench{uuid.uuid4().hex[:8]}" for size in LOOKUP_SIZES}
    cases = {}
    try:
        for size, prefix in prefixes.items():
            prefixed = settings.model_copy(update={"index_prefix": prefix})
            setup(es, prefixed, with_roles=False)
            alias = prefixed.docs_alias
            texts = _index_minhash_docs(es, alias, rng, vocabulary, size)
            cases[size] = (alias, _settle(es, alias), _probes(rng, vocabulary, texts, size))
            find_candidates(es, alias, cases[size][2][:50])  # warm caches for this index
        rounds: dict[int, list[float]] = {size: [] for size in LOOKUP_SIZES}
        for _ in range(LOOKUP_ROUNDS):
            for size, (alias, _segments, probes) in cases.items():
                started = time.perf_counter()
                for at in range(0, PROBES, 50):
                    find_candidates(es, alias, probes[at:at + 50])
                rounds[size].append((time.perf_counter() - started) / PROBES * 1000)
    finally:
        for prefix in prefixes.values():
            drop_prefix(es, prefix)
    return {f"{size // 1000}k": {"ms_per_doc": round(statistics.median(rounds[size]), 3), "segments": segments}
            for size, (_alias, segments, _probes) in cases.items()}


def run(report: dict) -> None:
    settings = load_settings()
    es = make_client(settings)
    config_dir = REPO / "config"
    settings = settings.model_copy(update={"config_dir": config_dir})
    pages = _pages()
    records = _records(pages)
    bare = _bare_trafilatura(pages)
    stages, worker_mb, documents = _stage_throughput(records, config_dir)
    runner, adds_up = _runner_throughput(pages, settings, es)
    lookup = _lookup_cost(settings, es)
    report["process"] = {
        "pages": len(pages),
        "distinct_pages": len({body for _u, _s, body, _c in pages}),
        "documents_from_stages": documents,
        "docs_per_s_bare_trafilatura_1w": round(bare, 1),
        "docs_per_s_stages_2w": round(stages, 1),
        "ratio_stages_2w_vs_bare_1w": round(stages / bare, 2),
        "goal_ratio": ">= 1.0",
        "docs_per_s_runner_2w": round(runner, 1),
        "ratio_runner_2w_vs_bare_1w": round(runner / bare, 2),
        "runner_counts_add_up": adds_up,
        "peak_rss_mb_per_worker": [round(m) for m in worker_mb],
        "near_dup_lookup_ms_per_doc": {size: case["ms_per_doc"] for size, case in lookup.items()},
        "near_dup_index_segments": {size: case["segments"] for size, case in lookup.items()},
        "near_dup_growth_1k_to_100k": round(lookup["100k"]["ms_per_doc"] / lookup["1k"]["ms_per_doc"], 2),
        "goal_growth": "<= 1.5",
    }
