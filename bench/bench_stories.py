"""Story assignment cost as the index grows, and processing throughput with stories on vs off (issue 17).

Figures, measured in the same run on the same machine:
- ``assign_ms_per_doc``: ``assign_stories`` (candidate query, linking, writing the
  stories) per arriving document with 1k, 10k and 100k documents already in
  stories (goal: growth from 1k to 100k <= 1.5x). The indexed stories span time
  in proportion to their number (200 reports a day, three reports a story, keys
  drawn from the lexicon and a pool of names and numbers), as an archive grows
  by days, not by a denser day; probes are real documents built from the sample
  corpus, placed at random times inside the span. Sizes are measured in
  interleaved rounds and the median kept.
- ``runner_docs_per_s_stories_on`` / ``_off``: the whole runner (bench_process's
  1,200 pages of the mirror's markup) with ``MEDIAMON_STORIES`` on and off, in
  five pairs alternating which goes first, the median of the pairs' ratios
  (goal: ratio >= 0.8); and the runner's CPU per document (its process and its
  worker pool, not Elasticsearch's), which a shared machine's load disturbs less
  than wall-clock time.
"""

from __future__ import annotations

import random
import resource
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta

from elasticsearch import helpers

from bench.bench_process import _pages, _runner_throughput
from mediamon.core.document import Document
from mediamon.core.esclient import make_client
from mediamon.core.settings import load_settings
from mediamon.devtools.mirror.corpus import load_corpus
from processing.lemmas import lemma_text
from processing.store.indexsetup import setup
from processing.stories import storyindex
from processing.stories.assign import assign_stories
from processing.stories.features import StoryFeatures
from processing.stories.lexicon import load_lexicon
from processing.stories.story import Member, Story, story_id_of
from tests.support.es import drop_prefix
from tests.support.paths import REPO

SIZES = (1_000, 10_000, 100_000)
PER_DAY = 200
PER_STORY = 3
PROBES = 100
ROUNDS = 5
PAIRS = 5  # on/off runs: single pairs on this two-core machine range 0.6-1.0, a median of three swung 0.70-0.89
START = datetime(2015, 1, 1, tzinfo=UTC)


def _stories(rng: random.Random, lexicon, count: int):
    concepts = [f"concept:{key}" for key, _ in lexicon.concepts]
    names = [f"name:{rng.choice('bcdfghklmnprstvz')}{rng.choice('bcdfghklmnprstvz')}{rng.choice('bdgklmnrstv')}"
             for _ in range(400)]
    span = timedelta(days=count / PER_DAY)
    for n in range(count // PER_STORY):
        when = START + span * rng.random()
        keys = frozenset(rng.sample(concepts, 3) + rng.sample(names, 2) + [f"number:{rng.randrange(10, 5000)}"])
        members = [Member(StoryFeatures(
            doc_id=f"bench-{n}-{m}", source=f"src{m}", owner=f"owner{m}", kind="state_media", lang="ru",
            published_at=when + timedelta(minutes=40 * m), title=f"story {n}", url=f"https://b.example/{n}/{m}",
            keys=keys, terms=frozenset(f"term{rng.randrange(3000)}" for _ in range(60)), quote_grams=frozenset(),
            cognates=frozenset(), speakers=(), narratives=(), dup_group=None, translation_group=None),
            None if m == 0 else f"bench-{n}-0", None) for m in range(PER_STORY)]
        story = Story("", members)
        story.story_id = story_id_of(story)
        yield story


def _probe_documents() -> list[Document]:
    """The sample corpus as documents (text, lemmas, language): real news copy for the features."""
    docs = []
    for items in load_corpus().values():
        for item in items:
            text = "\n".join(item.body)
            url = f"https://{item.source}.example/{item.article_id}"
            docs.append(Document(url=url, canonical_url=url, domain=f"{item.source}.example", source=item.source,
                                 title=item.title, lead=item.lead, text=text, lang=item.lang,
                                 lemmas=lemma_text(f"{item.title} {item.lead} {text}")))
    return docs


def _settle(es, index: str) -> None:
    while es.indices.stats(index=index, metric="merge")["_all"]["total"]["merges"]["current"]:
        time.sleep(0.5)
    es.indices.refresh(index=index)


def _assign_cost(settings, es) -> dict[str, float]:
    rng = random.Random(1109)
    lexicon = load_lexicon(REPO / "config")
    probes = _probe_documents()[:PROBES]
    cases = {}
    prefixes = {size: f"bench{uuid.uuid4().hex[:8]}" for size in SIZES}
    try:
        for size, prefix in prefixes.items():
            prefixed = settings.model_copy(update={"index_prefix": prefix})
            setup(es, prefixed, with_roles=False)  # the docs alias renames re-label
            storyindex.ensure_index(es, prefixed)
            index = storyindex.stories_index(prefixed)
            helpers.bulk(es, ({"_index": index, "_id": s.story_id, "_source": storyindex.to_source(s)}
                              for s in _stories(rng, lexicon, size)), chunk_size=1000, request_timeout=300)
            _settle(es, index)
            cases[size] = (prefixed, timedelta(days=size / PER_DAY))
        rounds: dict[int, list[float]] = {size: [] for size in SIZES}
        for r in range(ROUNDS):
            for size, (prefixed, span) in cases.items():
                docs = [p.model_copy(update={"url": f"{p.url}?r={r}", "canonical_url": f"{p.canonical_url}?r={r}",
                                             "published_at": START + span * rng.random()}) for p in probes]
                started = time.perf_counter()
                for at in range(0, len(docs), 50):  # the runner's batches
                    assign_stories(es, prefixed, docs[at:at + 50], lexicon)
                rounds[size].append((time.perf_counter() - started) / len(docs) * 1000)
    finally:
        for prefix in prefixes.values():
            drop_prefix(es, prefix)
    return {f"{size // 1000}k": round(statistics.median(rounds[size]), 2) for size in SIZES}


def run(report: dict) -> None:
    settings = load_settings().model_copy(update={"config_dir": REPO / "config"})
    es = make_client(settings)
    cost = _assign_cost(settings, es)
    pages = _pages()
    runs: dict[bool, list[tuple[float, float]]] = {True: [], False: []}  # stories on? -> (docs/s, CPU ms/doc)
    all_ok = True
    for pair in range(PAIRS):
        for stories in ((True, False) if pair % 2 == 0 else (False, True)):
            cpu = _cpu_seconds()
            rate, ok = _runner_throughput(pages, settings.model_copy(update={"stories": stories}), es)
            runs[stories].append((rate, (_cpu_seconds() - cpu) * 1000 / len(pages)))
            all_ok = all_ok and ok
    ratios = [on[0] / off[0] for on, off in zip(runs[True], runs[False], strict=True)]
    on, off = (statistics.median(rate for rate, _ in runs[s]) for s in (True, False))
    cpu_on, cpu_off = (statistics.median(ms for _, ms in runs[s]) for s in (True, False))
    report["stories"] = {
        "assign_ms_per_doc": cost,
        "assign_growth_1k_to_100k": round(cost["100k"] / cost["1k"], 2),
        "goal_growth": "<= 1.5",
        "runner_docs_per_s_stories_on": round(on, 1),
        "runner_docs_per_s_stories_off": round(off, 1),
        "ratio_on_vs_off": round(statistics.median(ratios), 2),
        "ratios_per_pair": [round(r, 2) for r in ratios],
        "goal_ratio": ">= 0.8",
        "runner_cpu_ms_per_doc_stories_on": round(cpu_on, 1),
        "runner_cpu_ms_per_doc_stories_off": round(cpu_off, 1),
        "runner_counts_add_up": all_ok,
    }


def _cpu_seconds() -> float:
    """User + system CPU of this process and its reaped children (the runner's pool is shut down per run)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
