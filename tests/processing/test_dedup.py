"""Near-duplicate detection quality on generated variant sets (no Elasticsearch: signatures and bands).

Stories are the sample corpus's article bodies: ~60 stories on ONE topic (the
November 2021 border crisis), so negatives are the hard case — different
stories quoting the same people about the same events. Each story gets three
variants a syndication chain produces:

- edited: a sentence in every third paragraph rewritten (another story's
  sentence swapped in) and three words changed in the first paragraph;
- truncated: the first 60% of the paragraphs (an agency's short version);
- re-headlined: same body under a new headline with a different boilerplate
  footer.

Required values and why:
- recall >= 0.95: with 42 bands of 3 rows the LSH candidate probability is
  0.94 at Jaccard 0.4 and >= 0.996 at 0.5; truncation to 60% keeps Jaccard
  ~0.6 and containment ~1.0; edited copies keep Jaccard ~0.5-0.8. A miss can
  only come from a short story where the edits touch most 4-word shingles.
- precision >= 0.99: verification needs Jaccard >= 0.4 (or containment >= 0.85
  with Jaccard >= 0.25) on 4-word shingles; different same-topic stories share
  quotes but measured Jaccard stays below 0.2, half the threshold. Pairs the corpus itself labels
  as reprints (``expect.near_duplicate_of``, transitively) are not negatives.
"""

from __future__ import annotations

import random
import re
from itertools import combinations

import pytest

from mediamon.devtools.mirror.corpus import load_corpus
from processing.dedup import Signature, content_hash, is_near_duplicate, signature

FOOTERS = ["Read more on our Telegram channel.", "Подписывайтесь на наш канал.", "© Sputnik 2021"]


@pytest.fixture(scope="module")
def stories() -> dict[str, list[str]]:
    items = [i for group in load_corpus().values() for i in group if len(" ".join(i.body).split()) >= 80]
    return {i.id: list(i.body) for i in items}


@pytest.fixture(scope="module")
def reprint_groups() -> dict[str, str]:
    items = {i.id: i for group in load_corpus().values() for i in group}
    parent = {k: k for k in items}

    def root(k: str) -> str:
        while parent[k] != k:
            k = parent[k]
        return k

    for k, item in items.items():
        if item.expect.get("near_duplicate_of"):
            parent[root(k)] = root(item.expect["near_duplicate_of"])
    return {k: root(k) for k in items}


def variants(story_id: str, paragraphs: list[str], others: list[list[str]], rng: random.Random) -> list[str]:
    edited = list(paragraphs)
    for _ in range(max(1, len(edited) // 3)):  # a sentence rewritten in every third paragraph
        at = rng.randrange(len(edited))
        sentences = re.split(r"(?<=[.!?])\s+", edited[at])
        replacement = re.split(r"(?<=[.!?])\s+", rng.choice(rng.choice(others)))[0]
        sentences[rng.randrange(len(sentences))] = replacement
        edited[at] = " ".join(sentences)
    words = edited[0].split()
    for _ in range(3):
        words[rng.randrange(len(words))] = rng.choice(["также", "also", "вновь", "again"])
    edited[0] = " ".join(words)
    truncated = paragraphs[: max(2, round(len(paragraphs) * 0.6))]
    reheadlined = ["НОВЫЙ ЗАГОЛОВОК: " + story_id, *paragraphs, rng.choice(FOOTERS)]
    return ["\n".join(v) for v in (edited, truncated, reheadlined)]


def detected(a: Signature | None, b: Signature | None) -> bool:
    """What the index lookup does: a shared LSH band makes a candidate, the signature verifies it."""
    if a is None or b is None:
        return False
    return bool(set(a.bands()) & set(b.bands())) and is_near_duplicate(a, b)


def test_near_duplicate_precision_and_recall(stories, reprint_groups):
    rng = random.Random(20211108)
    ids = sorted(stories)
    originals = {k: signature("\n".join(stories[k])) for k in ids}
    found = total = 0
    for k in ids:
        others = [stories[o] for o in ids if o != k]
        for text in variants(k, stories[k], others, rng):
            total += 1
            found += detected(originals[k], signature(text))
    recall = found / total
    false_pos = negatives = 0
    for a, b in combinations(ids, 2):
        if reprint_groups[a] == reprint_groups[b]:
            continue
        negatives += 1
        false_pos += detected(originals[a], originals[b])
    precision = found / (found + false_pos)
    assert total >= 150 and negatives >= 1000
    assert recall >= 0.95, f"recall {recall:.3f} ({found}/{total})"
    assert precision >= 0.99, f"precision {precision:.3f} ({false_pos} false positives of {negatives} pairs)"


def test_labelled_reprints_in_the_corpus_are_detected(stories, reprint_groups):
    items = {i.id: i for group in load_corpus().values() for i in group}
    pairs = [(k, i.expect["near_duplicate_of"]) for k, i in items.items() if i.expect.get("near_duplicate_of")]
    assert pairs
    for copy, original in pairs:
        assert detected(signature("\n".join(items[copy].body)), signature("\n".join(items[original].body))), copy


def test_exact_hash_ignores_case_and_spacing_only():
    assert content_hash("Лавров  заявил:\nМинск") == content_hash("лавров заявил минск")
    assert content_hash("Лавров заявил") != content_hash("Песков заявил")


def test_signature_round_trip_and_short_texts():
    sig = signature(" ".join(f"слово{i}" for i in range(50)))
    assert sig is not None and Signature.decode(sig.encode()).values.tolist() == sig.values.tolist()
    assert len(sig.bands()) == 42 and len(set(sig.bands())) == 42
    assert signature("слишком короткий текст") is None  # exact matching only
