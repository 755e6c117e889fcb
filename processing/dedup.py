"""Deduplicate across the whole index: exact copies by content hash, near copies by MinHash LSH.

Why LSH band keys live in Elasticsearch: a TASS story reprinted by RT or BelTA a
week later must be found among every indexed document, not only those of the
current batch, at a cost that does not grow with the index. Each document
stores ``minhash_bands`` (one keyword per LSH band); candidates are the
documents sharing a band (a ``term`` query per band, scored by how many bands
match) and are verified with the stored signature (``minhash``: shingle count +
MinHash values), so only true near copies join a group.

A group is named by its earliest member (``published_at``, then ``fetched_at``,
then id); the others are ``is_duplicate``. When a newly seen page is older than
a group's current root, the group is re-rooted and the members' documents are
returned for re-indexing. Duplicates stay indexed.

Grouping reads the index and then writes to it, so two batches grouped at the
same time would each miss the other's copies: ``GroupLock`` serialises the
lookup-to-refresh span across every process and host through one create-only
document in Elasticsearch (the store they all share).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import random
import re
import socket
import threading
import time
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import numpy as np
from datasketch import MinHash
from elasticsearch import ApiError, ConflictError, Elasticsearch, NotFoundError, TransportError

from mediamon.core.document import Document
from mediamon.core.errors import OperationFailed
from mediamon.core.esclient import for_search

log = logging.getLogger(__name__)

SHINGLE_WORDS = 4
NUM_PERM = 126
ROWS_PER_BAND = 3  # 42 bands: candidate probability 0.94 at Jaccard 0.4, 0.996 at 0.5
BANDS = NUM_PERM // ROWS_PER_BAND
SEED = 20211108
MIN_SHINGLES = 8  # fewer shingles than this: too short for near-duplicate statistics, exact match only
JACCARD_THRESHOLD = 0.4  # same-topic different stories measure < 0.2 (tests/processing/test_dedup.py)
CONTAINMENT_THRESHOLD = 0.85  # a truncated reprint contains (almost) all of its shingles in the original
CONTAINMENT_MIN_JACCARD = 0.25
MAX_CANDIDATES = 50
WORD_RE = re.compile(r"[^\W_]+", re.UNICODE)
FAR_FUTURE = datetime.max.replace(tzinfo=UTC)
_TEMPLATE = MinHash(num_perm=NUM_PERM, seed=SEED)  # permutations computed once per process


def normalised_words(text: str) -> list[str]:
    return WORD_RE.findall(unicodedata.normalize("NFKC", text).casefold().replace("ё", "е"))


def content_hash(text: str) -> str:
    """sha256 of the text's words: copies that differ only in spacing or case are exact duplicates."""
    return _words_hash(normalised_words(text))


def _words_hash(words: list[str]) -> str:
    return hashlib.sha256(" ".join(words).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Signature:
    size: int  # number of distinct shingles
    values: np.ndarray  # NUM_PERM uint32 MinHash values

    def encode(self) -> str:
        return f"{self.size}:" + base64.b64encode(self.values.astype("<u4").tobytes()).decode("ascii")

    @classmethod
    def decode(cls, value: str) -> Signature:
        size, blob = value.split(":", 1)
        return cls(int(size), np.frombuffer(base64.b64decode(blob), dtype="<u4").astype(np.uint64))

    def bands(self) -> list[str]:
        """LSH band keys: band number + a short hash of that band's rows."""
        keys = []
        for band in range(BANDS):
            rows = self.values[band * ROWS_PER_BAND:(band + 1) * ROWS_PER_BAND].astype("<u4").tobytes()
            keys.append(f"{band:02d}{hashlib.blake2b(rows, digest_size=8).hexdigest()}")
        return keys


def signature(text: str) -> Signature | None:
    """MinHash over word 4-gram shingles; None when the text is too short to compare."""
    return _words_signature(normalised_words(text))


def _words_signature(words: list[str]) -> Signature | None:
    shingles = {" ".join(words[i:i + SHINGLE_WORDS]) for i in range(len(words) - SHINGLE_WORDS + 1)}
    if len(shingles) < MIN_SHINGLES:
        return None
    mh = MinHash(num_perm=NUM_PERM, seed=SEED, permutations=_TEMPLATE.permutations, scheme=_TEMPLATE.scheme)
    mh.update_batch([s.encode("utf-8") for s in shingles])
    return Signature(len(shingles), mh.hashvalues.astype(np.uint64))


def similarity(a: Signature, b: Signature) -> tuple[float, float]:
    """(estimated Jaccard, estimated containment of the smaller set in the larger)."""
    jaccard = float(np.mean(a.values == b.values))
    intersection = jaccard * (a.size + b.size) / (1 + jaccard)
    return jaccard, min(1.0, intersection / max(1, min(a.size, b.size)))


def is_near_duplicate(a: Signature, b: Signature) -> bool:
    jaccard, containment = similarity(a, b)
    return jaccard >= JACCARD_THRESHOLD or (
        containment >= CONTAINMENT_THRESHOLD and jaccard >= CONTAINMENT_MIN_JACCARD)


def fingerprint_document(doc: Document) -> Document:
    """Fill content_hash, minhash and minhash_bands from the cleaned text (runs in the workers)."""
    words = normalised_words(doc.text)  # once for both: normalising a long text is not free
    sig = _words_signature(words)
    doc.content_hash = _words_hash(words)
    doc.minhash = sig.encode() if sig else None
    doc.minhash_bands = sig.bands() if sig else []
    return doc


@dataclass
class Member:
    """What dedup needs to know about one document, indexed or pending."""

    id: str
    published_at: datetime | None
    fetched_at: datetime | None
    content_hash: str | None
    minhash: Signature | None
    dup_group: str | None

    @property
    def order(self) -> tuple[datetime, datetime, str]:
        return (self.published_at or FAR_FUTURE, self.fetched_at or FAR_FUTURE, self.id)

    @classmethod
    def of(cls, doc: Document) -> Member:
        return cls(doc.id, doc.published_at, doc.fetched_at, doc.content_hash,
                   Signature.decode(doc.minhash) if doc.minhash else None, doc.dup_group)

    @classmethod
    def from_hit(cls, hit: dict[str, Any]) -> Member:
        src = hit.get("_source") or {}
        return cls(hit["_id"], _dt(src.get("published_at")), _dt(src.get("fetched_at")), src.get("content_hash"),
                   Signature.decode(src["minhash"]) if src.get("minhash") else None, src.get("dup_group"))

    def matches(self, other: Member) -> bool:
        if self.content_hash and self.content_hash == other.content_hash:
            return True
        return bool(self.minhash is not None and other.minhash is not None
                    and is_near_duplicate(self.minhash, other.minhash))


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


MEMBER_FIELDS = ["published_at", "fetched_at", "content_hash", "minhash", "dup_group"]


def candidate_query(doc: Document) -> dict[str, Any]:
    """Indexed documents sharing the content hash or any LSH band with ``doc`` (itself excluded)."""
    should: list[dict[str, Any]] = [{"term": {"minhash_bands": band}} for band in doc.minhash_bands]
    if doc.content_hash:
        should.append({"term": {"content_hash": {"value": doc.content_hash, "boost": float(BANDS)}}})
    return {"bool": {"should": should, "minimum_should_match": 1, "must_not": [{"ids": {"values": [doc.id]}}]}}


def find_candidates(es: Elasticsearch, alias: str, docs: list[Document]) -> dict[str, list[Member]]:
    """Per document, the indexed documents worth verifying (one msearch round trip per call)."""
    if not docs or not es.indices.exists_alias(name=alias):
        return {d.id: [] for d in docs}
    searches: list[dict[str, Any]] = []
    for doc in docs:
        searches.append({"index": alias})
        # no total count: counting every band match would grow with the index, the top hits do not need it
        searches.append({"query": candidate_query(doc), "size": MAX_CANDIDATES, "_source": MEMBER_FIELDS,
                         "track_total_hits": False})
    responses = for_search(es).msearch(searches=searches)["responses"]
    found: dict[str, list[Member]] = {}
    for doc, resp in zip(docs, responses, strict=True):
        if "error" in resp:
            raise RuntimeError(f"near-duplicate lookup failed for {doc.url}: {resp['error']}")
        found[doc.id] = [Member.from_hit(h) for h in resp["hits"]["hits"]]
    return found


@dataclass
class DedupResult:
    exact: int = 0
    near: int = 0
    regrouped: list[dict[str, Any]] = field(default_factory=list)  # indexed members to re-index


def assign_groups(es: Elasticsearch, alias: str, docs: list[Document]) -> DedupResult:
    """Set ``dup_group``/``is_duplicate`` on ``docs`` against the index and each other.

    Documents are taken oldest first so that within a batch the earliest copy
    roots the group, as it would had they been indexed one by one.
    """
    result = DedupResult()
    docs.sort(key=lambda d: Member.of(d).order)
    candidates = find_candidates(es, alias, docs)
    pending: dict[str, Member] = {}
    by_band: dict[str, list[str]] = {}
    by_hash: dict[str, list[str]] = {}
    root_of: dict[str, Member] = {}  # group id -> its root member, as known so far
    rerooted: dict[str, str] = {}  # old group id -> new group id
    for doc in docs:
        me = Member.of(doc)
        near_ids = {i for b in doc.minhash_bands for i in by_band.get(b, [])}
        near_ids |= set(by_hash.get(me.content_hash or "", []))
        pool = [pending[i] for i in near_ids if i != me.id] + [c for c in candidates[doc.id] if c.id not in pending]
        matched = [m for m in pool if me.matches(m)]
        groups = {_resolve(m.dup_group or m.id, rerooted) for m in matched}
        members = [me, *matched, *(root_of[g] for g in groups if g in root_of)]
        members += _fetch_roots(es, alias, [g for g in groups if g not in root_of and g not in {m.id for m in members}])
        root = min(members, key=lambda m: m.order)
        for group in groups - {root.id}:
            rerooted[group] = root.id
        root_of[root.id] = root
        doc.dup_group = root.id
        doc.is_duplicate = root.id != doc.id
        me.dup_group = root.id
        if doc.is_duplicate:
            exact = any(m.content_hash == me.content_hash for m in matched)
            result.exact += exact
            result.near += not exact
        pending[me.id] = me
        for band in doc.minhash_bands:
            by_band.setdefault(band, []).append(me.id)
        by_hash.setdefault(me.content_hash or "", []).append(me.id)
    for doc in docs:  # a later member of this batch may have re-rooted an earlier one's group
        group = _resolve(doc.dup_group or doc.id, rerooted)
        doc.dup_group, doc.is_duplicate = group, group != doc.id
    if rerooted:
        result.regrouped = _regroup_indexed(es, alias, rerooted, {d.id for d in docs})
    return result


def _resolve(group: str, rerooted: dict[str, str]) -> str:
    while group in rerooted:
        group = rerooted[group]
    return group


def _fetch_roots(es: Elasticsearch, alias: str, ids: list[str]) -> list[Member]:
    if not ids:
        return []
    resp = for_search(es).search(index=alias, query={"ids": {"values": ids}}, size=len(ids), _source=MEMBER_FIELDS)
    return [Member.from_hit(h) for h in resp["hits"]["hits"]]


def _regroup_indexed(es: Elasticsearch, alias: str, rerooted: dict[str, str], skip: set[str]
                     ) -> list[dict[str, Any]]:
    """Indexed documents of re-rooted groups, with their new group, ready for re-indexing."""
    resp = for_search(es).search(index=alias, query={"terms": {"dup_group": list(rerooted)}}, size=10_000)
    out = []
    for hit in resp["hits"]["hits"]:
        if hit["_id"] in skip:
            continue
        source = dict(hit["_source"])
        source.pop("fingerprint", None)
        source.pop("indexed_at", None)
        source["dup_group"] = _resolve(source["dup_group"], rerooted)
        source["is_duplicate"] = source["dup_group"] != hit["_id"]
        out.append(source)
    return out


# --- one grouping at a time, across hosts ----------------------------------------

LOCK_ID = "lock:dedup-groups"
LOCK_TTL_S = 15.0  # a holder renews every third of this; a lock left unrenewed this long is taken over
LOCK_WAIT_S = 600.0


class GroupLockTimeout(OperationFailed):
    """Another run held the grouping lock (and kept renewing it) for longer than a batch may wait."""


class GroupLockLost(OperationFailed):
    """This run's grouping lock was taken over (it went unrenewed too long); the batch must be redone."""


class GroupLock:
    """Hold the grouping lock: a document created with create-only semantics in ``index``, renewed while held.

    Staleness is judged without comparing clocks across hosts: a waiter takes the
    lock over (compare-and-set on its sequence number) only after seeing the same
    version for ``ttl_s`` of its own monotonic time — the holder died or hung.
    """

    def __init__(self, es: Elasticsearch, index: str, ttl_s: float = LOCK_TTL_S, wait_s: float = LOCK_WAIT_S) -> None:
        self.es, self.index, self.ttl_s, self.wait_s = es, index, ttl_s, wait_s
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._version: tuple[int, int] | None = None  # (seq_no, primary_term) of our lock document
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None
        self.lost = False

    def __enter__(self) -> GroupLock:
        self._version = self._acquire()
        self._renewer = threading.Thread(target=self._renew, name="dedup-lock-renewer", daemon=True)
        self._renewer.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join()
        if not self.lost and self._version is not None:
            try:
                self.es.delete(index=self.index, id=LOCK_ID, if_seq_no=self._version[0],
                               if_primary_term=self._version[1])
            except (ConflictError, NotFoundError):
                self.lost = True
            except (ApiError, TransportError) as error:  # never hide the error that ended the work (ES went away)
                log.warning("cannot release the grouping lock, it is taken over in %.0f s: %s", self.ttl_s, error)
        if self.lost and exc is None:
            raise GroupLockLost(f"the grouping lock in {self.index} was taken over while {self.owner} held it")

    def _document(self) -> dict[str, Any]:
        return {"owner": self.owner, "renewed_at": datetime.now(UTC).isoformat()}  # for people; never compared

    def _acquire(self) -> tuple[int, int]:
        deadline = time.monotonic() + self.wait_s
        seen: tuple[int, int] | None = None
        seen_since = time.monotonic()
        while True:
            try:
                resp = self.es.create(index=self.index, id=LOCK_ID, document=self._document())
                return resp["_seq_no"], resp["_primary_term"]
            except ConflictError:
                pass
            try:
                held = self.es.get(index=self.index, id=LOCK_ID)
            except NotFoundError:
                continue  # released between the two calls
            version = (held["_seq_no"], held["_primary_term"])
            if version != seen:
                seen, seen_since = version, time.monotonic()
            elif time.monotonic() - seen_since > self.ttl_s:
                try:
                    resp = self.es.index(index=self.index, id=LOCK_ID, document=self._document(),
                                         if_seq_no=version[0], if_primary_term=version[1])
                except ConflictError:
                    continue  # another waiter took it over first
                log.warning("took over the grouping lock of %s: not renewed for %.0f s",
                            held["_source"].get("owner"), self.ttl_s)
                return resp["_seq_no"], resp["_primary_term"]
            if time.monotonic() > deadline:
                raise GroupLockTimeout(f"duplicate grouping in {self.index} has been locked by "
                                       f"{held['_source'].get('owner')} for over {self.wait_s:.0f} s")
            time.sleep(random.uniform(0.02, 0.1))  # jitter: waiters do not poll in step

    def _renew(self) -> None:
        while not self._stop.wait(self.ttl_s / 3):
            assert self._version is not None
            try:
                resp = self.es.index(index=self.index, id=LOCK_ID, document=self._document(),
                                     if_seq_no=self._version[0], if_primary_term=self._version[1])
            except ConflictError:
                self.lost = True
                return
            except (ApiError, TransportError) as exc:  # a blip: the next renewal may succeed, the TTL has slack
                log.warning("cannot renew the grouping lock: %s", exc)
                continue
            self._version = resp["_seq_no"], resp["_primary_term"]
