"""The ``<prefix>-versions`` index, and which version each processed record is.

One index document per version of an article that ever changed: when a
revisit's content differs from the last version kept (after the cosmetic rules)
it is the next version, with its change classes, score and diff lines against
it; a revisit that finds the page gone is a version marked ``deleted`` with its
evidence and the last good version. An article that never changed has no entry
(its document is version 1): its first version is written, from the indexed
document, when the first change is found — most articles never change, and they
cost no second copy. The document in ``<prefix>-docs`` says the page is gone
(``deleted_at``, ``deletion_how``) while its newest version is a deletion, so an
analyst filtering documents sees it; a later good version (a restored page)
indexes the document again without them. Full texts are stored (not indexed) so the next version is
compared without re-reading the archive; the archive stays the source of truth
(``record`` names the WARC record each version came from).

A version's id is the article id plus the archive position of the record it
came from, so processing a batch twice (a crash before the batch was marked
done, ``mediamon reprocess``) writes nothing twice, and a revisit crawled again
after a crash (a new record, same content) is no new version. A record older
than the newest version (a replay) is ``superseded``: the main document keeps
showing the newest. Runs under the runner's grouping lock, so two batches never
number versions at once.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from elasticsearch import Elasticsearch, helpers

from mediamon.core.archive import ArchivedRecord, ManifestRecord
from mediamon.core.document import Document, doc_id
from mediamon.core.esclient import REPLICATION
from mediamon.core.settings import Settings
from mediamon.core.sources import Source
from processing.changes.config import ChangeRules
from processing.changes.deletion import Deletion, deletion_of
from processing.changes.diff import VersionText, diff_versions

log = logging.getLogger(__name__)

KEYWORD = {"type": "keyword"}
DATE = {"type": "date"}
MAPPING = {"dynamic": "strict", "properties": {
    "doc_id": KEYWORD, "url": KEYWORD, "source": KEYWORD, "lang": KEYWORD, "version": {"type": "integer"},
    "fetched_at": DATE, "indexed_at": DATE, "published_at": DATE, "title": {"type": "text"},
    "lead": {"type": "text"}, "text": {"type": "text", "index": False}, "text_hash": KEYWORD,
    "content_hash": KEYWORD, "change_classes": KEYWORD, "change_score": {"type": "float"},
    "changed_fraction": {"type": "float"}, "changed_from": {"type": "integer"},
    "diff": {"type": "text", "index": False}, "deleted": {"type": "boolean"},
    "deletion": {"properties": {"how": KEYWORD, "status": {"type": "integer"}, "location": KEYWORD,
                                "marker": KEYWORD}},
    "last_good_version": {"type": "integer"}, "narratives": KEYWORD, "speakers": KEYWORD,
    "record": {"type": "object", "enabled": False}}}
META_FIELDS = [f for f in MAPPING["properties"] if f not in ("text", "diff")]
MAX_VERSIONS_READ = 10_000


def versions_index(settings: Settings) -> str:
    return f"{settings.index_prefix}-versions"


def versions_index_of(docs_alias: str) -> str:
    """The versions index beside a documents alias (``<prefix>-docs`` -> ``<prefix>-versions``)."""
    return docs_alias.removesuffix("-docs") + "-versions"


def ensure_index(es: Elasticsearch, settings: Settings) -> None:
    name = versions_index(settings)
    if not es.indices.exists(index=name):
        es.options(ignore_status=400).indices.create(  # 400: created meanwhile by another run
            index=name, mappings=MAPPING, settings={"number_of_shards": 1, **REPLICATION})


@dataclass
class VersionCounts:
    first: int = 0  # version 1 of a new article
    changed: int = 0  # a new version: a substantive change
    same: int = 0  # a revisit with the content of the last version (cosmetic differences included)
    cosmetic: int = 0  # of those, how many differed only cosmetically
    known: int = 0  # a record whose version is already kept (a batch processed again)
    superseded: int = 0  # a record older than the newest version: the document is not overwritten
    deleted: int = 0  # gone (404/410, redirect to a section or home, soft-404)
    moved: int = 0  # redirected to another article
    unchanged_answers: int = 0  # 304 / same bytes: a WARC revisit record, no document built

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass
class Answer:
    """A revisit answer that builds no document: the same bytes or 304, or the page gone."""

    manifest: ManifestRecord
    deletion: Deletion | None


def split_answers(records: list[ArchivedRecord], sources: dict[str, Source], rules: ChangeRules
                  ) -> tuple[list[ArchivedRecord], list[Answer]]:
    """Records to build documents from, and revisit answers that are not pages (nothing to extract)."""
    pages: list[ArchivedRecord] = []
    answers: list[Answer] = []
    for record in records:
        m = record.manifest
        if m.revisit and m.warc_type == "revisit":
            answers.append(Answer(m, deletion_of(record, sources.get(m.source), rules)))
            continue
        deletion = deletion_of(record, sources.get(m.source), rules) if m.revisit else None
        if deletion is not None:
            answers.append(Answer(m, deletion))
        else:
            pages.append(record)
    return pages, answers


@dataclass
class _History:
    """The versions of one article known so far, oldest first (metadata; the newest with its text)."""

    versions: list[dict[str, Any]] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)
    unwritten: dict[str, Any] | None = None  # version 1 read from the indexed document, written on a change

    @property
    def latest(self) -> dict[str, Any] | None:
        return self.versions[-1] if self.versions else None

    def last_good(self) -> dict[str, Any] | None:
        return next((v for v in reversed(self.versions) if not v.get("deleted")), None)

    def last_changed_at(self) -> str | None:
        changed = [v for v in self.versions if v["version"] > 1 and not v.get("deleted")]
        return changed[-1]["fetched_at"] if changed else None


class VersionStage:
    """Decides, for one batch's documents and answers, the versions they are; writes the new ones."""

    def __init__(self, es: Elasticsearch, settings: Settings, rules: ChangeRules) -> None:
        self.es, self.index, self.rules = es, versions_index(settings), rules
        self.counts = VersionCounts()
        self._new: list[dict[str, Any]] = []

    def apply(self, docs: list[Document], answers: list[Answer], revisits: set[str], alias: str) -> list[Document]:
        """The documents to index (each carrying ``versions`` / ``last_changed_at``); new versions written.

        ``revisits``: ids of the documents built from revisit records (the others are first fetches, or
        replays of one); ``alias``: the documents' index, where an article's first version is read."""
        histories = self._histories({d.id for d in docs} | {doc_id(a.manifest.canonical_url) for a in answers})
        compared = ({d.id for d in docs if d.id in revisits} | {doc_id(a.manifest.canonical_url) for a in answers})
        self._first_versions(alias, [i for i in compared if i not in histories], histories)
        items: list[tuple[datetime, int, Document | Answer]] = [
            (d.fetched_at or datetime.min.replace(tzinfo=UTC), n, d) for n, d in enumerate(docs)]
        items += [(a.manifest.fetched_at or datetime.min.replace(tzinfo=UTC), len(docs) + n, a)
                  for n, a in enumerate(answers)]
        keep: list[Document] = []
        for _, _, item in sorted(items, key=lambda t: (t[0], t[1])):
            if isinstance(item, Document):
                if self._document(item, histories.setdefault(item.id, _History())):
                    keep.append(item)
            else:
                self._answer(item, histories.setdefault(doc_id(item.manifest.canonical_url), _History()))
        self._write()
        for doc in keep:  # after every item: a deletion later in the batch than the page's version counts
            _stamp(doc, histories[doc.id])
        kept = {d.id for d in keep}
        self._mark_deleted(alias, {i: v for a in answers if (i := doc_id(a.manifest.canonical_url)) not in kept
                                   and (v := histories[i].latest) is not None and v.get("deleted")})
        return keep

    # --- decisions ------------------------------------------------------------------

    def _document(self, doc: Document, history: _History) -> bool:
        ref = doc.raw_ref
        vid = _version_id(doc.id, ref.batch if ref else "-", ref.offset if ref else 0)
        latest = history.latest
        if vid in history.ids:
            self.counts.known += 1
            if latest is None or latest["_id"] != vid:
                self.counts.superseded += 1
                return False
        elif latest is None:
            self.counts.first += 1
        elif doc.fetched_at and latest.get("fetched_at") and doc.fetched_at < _time(latest["fetched_at"]):
            self.counts.superseded += 1
            return False
        else:
            base = history.last_good()
            new_text = VersionText(doc.title, doc.lead, doc.text)
            old_text = VersionText(base.get("title"), base.get("lead"), base.get("text") or "") if base else None
            restored = bool(latest.get("deleted"))
            change = diff_versions(old_text, new_text, self.rules) if old_text else None
            if change is not None and not change.substantive and not restored:
                self.counts.same += 1
                self.counts.cosmetic += _text_hash(doc) != latest.get("text_hash")
            else:
                version = self._version(doc, vid, latest["version"] + 1)
                classes = (change.classes if change else []) + (["restored"] if restored else [])
                version.update(change_classes=classes, change_score=change.score if change else 1.0,
                               changed_fraction=change.changed_fraction if change else 1.0,
                               changed_from=base["version"] if base else None,
                               diff=change.lines[: self.rules.file.diff_lines] if change else [])
                self._materialise(history)
                self._add(history, version)
                self.counts.changed += 1
        return True

    def _answer(self, answer: Answer, history: _History) -> None:
        m = answer.manifest
        if answer.deletion is None:
            self.counts.unchanged_answers += 1
            return
        self.counts.deleted += answer.deletion.deleted
        self.counts.moved += not answer.deletion.deleted
        vid = _version_id(doc_id(m.canonical_url), m.batch, m.offset)
        latest = history.latest
        if vid in history.ids or (latest is not None and latest.get("deleted")):
            return  # recorded already (a batch processed again, or the page was gone before)
        self._materialise(history)
        base = history.last_good() or {}
        version = {
            "_id": vid, "doc_id": doc_id(m.canonical_url), "url": m.url, "source": m.source,
            "version": (latest["version"] + 1) if latest else 1,
            "fetched_at": (m.fetched_at or datetime.now(UTC)).isoformat(),
            "title": base.get("title"), "lead": base.get("lead"), "lang": base.get("lang"),
            "published_at": base.get("published_at"), "narratives": base.get("narratives", []),
            "speakers": base.get("speakers", []), "deleted": answer.deletion.deleted,
            "deletion": answer.deletion.as_json(), "last_good_version": base.get("version"),
            "change_classes": ["deleted" if answer.deletion.deleted else "moved"], "change_score": 1.0,
            "diff": [f"- page {_deletion_words(answer.deletion)}"],
            "record": {"batch": m.batch, "offset": m.offset, "status": m.status}}
        self._add(history, version)

    # --- storage ----------------------------------------------------------------------

    @staticmethod
    def _version(doc: Document, vid: str, number: int) -> dict[str, Any]:
        ref = doc.raw_ref
        return {"_id": vid, "doc_id": doc.id, "url": doc.url, "source": doc.source, "lang": doc.lang,
                "version": number, "fetched_at": doc.fetched_at.isoformat() if doc.fetched_at else None,
                "published_at": doc.published_at.isoformat() if doc.published_at else None,
                "title": doc.title, "lead": doc.lead, "text": doc.text, "text_hash": _text_hash(doc),
                "content_hash": doc.content_hash, "change_classes": [], "change_score": 0.0,
                "narratives": doc.narratives, "speakers": doc.speakers, "deleted": False,
                "record": {"batch": ref.batch, "offset": ref.offset, "sha256": ref.sha256} if ref else None}

    def _materialise(self, history: _History) -> None:
        """A first change: the version it changed from (read from the indexed document) is kept too."""
        if history.unwritten is not None:
            self._new.append(history.unwritten)
            history.unwritten = None

    def _first_versions(self, alias: str, ids: list[str], histories: dict[str, _History]) -> None:
        """Version 1 of articles revisited for the first time with a change: the document as indexed."""
        if not ids or not self.es.indices.exists_alias(name=alias):
            return
        resp = self.es.search(index=alias, size=len(ids), query={"ids": {"values": ids}}, source_includes=[
            "url", "canonical_url", "domain", "source", "title", "lead", "text", "lang", "fetched_at",
            "published_at", "raw_ref", "narratives", "speakers", "content_hash"])
        for hit in resp["hits"]["hits"]:
            doc = Document.model_validate(hit["_source"])
            ref = doc.raw_ref
            first = self._version(doc, _version_id(doc.id, ref.batch if ref else "-", ref.offset if ref else 0), 1)
            histories[doc.id] = _History(versions=[first], ids={first["_id"]}, unwritten=first)

    def _mark_deleted(self, alias: str, gone: dict[str, dict[str, Any]]) -> None:
        """Say on the indexed documents of ``gone`` (id -> its deletion version) that the page is gone.

        A partial update where the document is (its backing index: the alias may have rolled over); its
        fingerprint is dropped, so the next indexing of the article (a restored page) is never skipped as
        unchanged. Marking again what is marked changes nothing: a batch processed twice is harmless."""
        if not gone or not self.es.indices.exists_alias(name=alias):
            return
        hits = self.es.search(index=alias, size=len(gone), query={"ids": {"values": sorted(gone)}},
                              source=False)["hits"]["hits"]
        actions = [{"_op_type": "update", "_index": hit["_index"], "_id": hit["_id"], "doc": {
            "deleted_at": gone[hit["_id"]]["fetched_at"], "deletion_how": gone[hit["_id"]]["deletion"]["how"],
            "versions": gone[hit["_id"]]["version"], "fingerprint": None}} for hit in hits]
        failed = [info for ok, info in helpers.streaming_bulk(self.es, actions, raise_on_error=False,
                                                              raise_on_exception=False, max_retries=3) if not ok]
        if failed:  # the batch is not marked done: processing it again marks them
            raise RuntimeError(f"documents index refused {len(failed)} deletion marks: {failed[0]}")

    def _add(self, history: _History, version: dict[str, Any]) -> None:
        history.versions.append(version)
        history.ids.add(version["_id"])
        self._new.append(version)

    def _histories(self, ids: set[str]) -> dict[str, _History]:
        if not ids:
            return {}
        resp = self.es.search(index=self.index, size=MAX_VERSIONS_READ, source_includes=META_FIELDS,
                              query={"terms": {"doc_id": sorted(ids)}}, sort=[{"version": "asc"}])
        histories: dict[str, _History] = {}
        for hit in resp["hits"]["hits"]:
            history = histories.setdefault(hit["_source"]["doc_id"], _History())
            history.versions.append({**hit["_source"], "_id": hit["_id"]})
            history.ids.add(hit["_id"])
        latest_good = [v["_id"] for h in histories.values() if (v := h.last_good())]
        if latest_good:  # the text to compare with: only the last good version's
            texts = self.es.mget(index=self.index, ids=latest_good, source_includes=["text"])["docs"]
            by_id = {d["_id"]: (d.get("_source") or {}).get("text", "") for d in texts if d.get("found")}
            for h in histories.values():
                good = h.last_good()
                if good is not None:
                    good["text"] = by_id.get(good["_id"], "")
        return histories

    def _write(self) -> None:
        if not self._new:
            return
        now = datetime.now(UTC).isoformat()
        actions = [{"_op_type": "create", "_index": self.index, "_id": v["_id"],
                    "_source": {**{k: x for k, x in v.items() if k != "_id" and x is not None}, "indexed_at": now}}
                   for v in self._new]
        failed = [info for ok, info in helpers.streaming_bulk(self.es, actions, raise_on_error=False,
                                                              raise_on_exception=False, max_retries=3)
                  if not ok and next(iter(info.values())).get("status") != 409]  # 409: kept by an earlier run
        if failed:  # the batch is not marked done: processing it again writes what is missing
            raise RuntimeError(f"versions index refused {len(failed)} versions: {failed[0]}")
        self.es.indices.refresh(index=self.index)
        self._new = []


def _stamp(doc: Document, history: _History) -> None:
    """What the versions say on the document: how many, when it last changed, whether the page is gone now."""
    latest = history.latest
    doc.versions = latest["version"] if latest else 1
    changed_at = history.last_changed_at()
    doc.last_changed_at = _time(changed_at) if changed_at else None
    if latest is not None and latest.get("deleted"):
        doc.deleted_at, doc.deletion_how = _time(latest["fetched_at"]), latest["deletion"]["how"]


def _version_id(document_id: str, batch: str, offset: int) -> str:
    return f"{document_id}:{batch}:{offset}"


def _text_hash(doc: Document) -> str:
    return hashlib.sha256("\x1e".join([doc.title or "", doc.lead or "", doc.text]).encode("utf-8")).hexdigest()


def _time(value: str | datetime) -> datetime:
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _deletion_words(deletion: Deletion) -> str:
    words = {"http_404": "answers 404 Not Found", "http_410": "answers 410 Gone",
             "redirect_to_home": "redirects to the home page", "redirect_to_section": "redirects to a section page",
             "moved": "redirects to another article", "soft_404": "says it was not found (status 200)",
             "vanished_from_feed": "was dropped from its feed while young (the page still answers)",
             "vanished_from_sitemap": "was dropped from its sitemap while young (the page still answers)",
             "vanished_from_list": "was dropped from its list page while young (the page still answers)"}
    where = f" ({deletion.location})" if deletion.location else ""  # the redirect target, or the feed
    return words.get(deletion.how, deletion.how) + where
