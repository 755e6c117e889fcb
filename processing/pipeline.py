"""One archived record -> one Document, or a quarantine verdict: the per-record stage chain.

extract -> clean -> language -> translations -> enrich -> near-duplicate
fingerprint. Shared by the batch runner (in its worker processes) and
`mediamon extract` (so a user debugging a page sees exactly what the runner
would index). Everything here is CPU-only and needs no Elasticsearch; grouping
duplicates against the index happens afterwards, in the runner.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mediamon.document import Document, RawRef
from processing.clean import clean_authors, clean_text, fits_keyword, normalise_inline
from processing.dedup import fingerprint_document
from processing.enrich import LemmaIndex, alarmism, find_narratives, find_speakers
from processing.extract import ExtractionFailed, PageContext, extract
from processing.language import detect_language
from processing.lemmas import lemmatize
from processing.rules import ProcessingRules
from processing.translations import translation_group

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SourceMeta:
    """What processing needs from a sources.yaml entry."""

    id: str
    owner: str | None = None
    kind: str | None = None
    languages: tuple[str, ...] = ()
    selectors: dict[str, str | None] = field(default_factory=dict)
    domains: tuple[str, ...] = ()
    article_url_patterns: tuple[str, ...] = ()


def load_source_meta(sources_file: Path) -> dict[str, SourceMeta]:
    """Source metadata by id, from the crawlers' sources.yaml (raises crawlers.sources.SourcesError)."""
    from crawlers.sources import load_sources

    return {s.id: SourceMeta(id=s.id, owner=s.owner, kind=s.kind, languages=tuple(s.languages),
                             selectors=s.selectors.model_dump(), domains=tuple(s.domains),
                             article_url_patterns=tuple(s.article_url_patterns))
            for s in load_sources(sources_file)}


def source_for_url(url: str, sources: dict[str, SourceMeta]) -> SourceMeta | None:
    """The source a URL belongs to (for `mediamon extract --url` without --source)."""
    host = (urlsplit(url).hostname or "").lower()
    on_domain = [s for s in sources.values() if any(host == d or host.endswith("." + d) for d in s.domains)]
    exact = [s for s in on_domain if any(re.search(p, url) for p in s.article_url_patterns)]
    return (exact or on_domain or [None])[0]


@dataclass
class RecordInput:
    """A raw archive record reduced to what the stages need (picklable for worker processes)."""

    manifest: dict[str, Any]
    body: bytes
    content_type: str | None


@dataclass
class Outcome:
    document: Document | None = None
    reason: str | None = None  # quarantine reason when there is no document
    detail: str | None = None
    dates_rejected: list[str] = field(default_factory=list)
    removed_lines: int = 0


def _raw_ref(manifest: dict[str, Any]) -> RawRef | None:
    if manifest.get("batch") and manifest.get("warc_file") and manifest.get("offset") is not None:
        return RawRef(batch=manifest["batch"], warc_file=manifest["warc_file"], offset=int(manifest["offset"]),
                      sha256=manifest.get("sha256"))
    return None


def build_document(record: RecordInput, sources: dict[str, SourceMeta], rules: ProcessingRules) -> Outcome:
    """Run every per-record stage; ExtractionFailed becomes a quarantine verdict, never an exception."""
    try:
        return _build(record, sources, rules)
    except ExtractionFailed as exc:
        return Outcome(reason=exc.reason, detail=exc.detail)


def _build(record: RecordInput, sources: dict[str, SourceMeta], rules: ProcessingRules) -> Outcome:
    m = record.manifest
    status = int(m.get("status") or 200)
    if not 200 <= status < 300:
        raise ExtractionFailed("http_status", f"archived response has HTTP status {status}")
    url = m.get("url") or ""
    canonical = m.get("canonical_url") or url
    if not canonical or not fits_keyword(canonical) or not fits_keyword(url):
        raise ExtractionFailed("bad_url", "record has no URL, or one longer than a keyword can hold")
    source = sources.get(m.get("source") or "") or SourceMeta(id=m.get("source") or "unknown")
    domain = (urlsplit(canonical).hostname or "").lower()
    fetched_at = datetime.fromisoformat(m["fetched_at"]) if m.get("fetched_at") else None
    ctx = PageContext(url=url, domain=domain, kind=m.get("kind") or "article", selectors=source.selectors,
                      feed=m.get("feed") or {}, fetched_at=fetched_at)
    cfg = rules.extraction
    page = extract(record.body, record.content_type, ctx, cfg.challenge_markers, cfg.min_text_chars)
    title = normalise_inline(page.title, cfg.max_title_chars)
    lead = normalise_inline(page.lead, cfg.max_lead_chars)
    text, report = clean_text(page.text, rules.boilerplate, title, cfg.max_text_chars)
    min_chars = 1 if ctx.kind == "telegram_post" else cfg.min_text_chars
    if len(text) < min_chars:
        raise ExtractionFailed("empty_extraction", f"only {len(text)} characters left after cleaning")
    guess = detect_language("\n".join(filter(None, [title, lead, text])), page.declared_lang,
                            list(source.languages))
    title_lemmas = lemmatize(title or "")
    body_lemmas = lemmatize("\n".join(filter(None, [lead, text])))
    all_lemmas = title_lemmas + body_lemmas
    everything = LemmaIndex(all_lemmas)
    score, terms = alarmism(LemmaIndex(title_lemmas), LemmaIndex(body_lemmas),
                            " ".join(filter(None, [title, lead])), guess.lang, rules.enrich)
    doc = Document(
        url=url, canonical_url=canonical, domain=domain, source=source.id, source_owner=source.owner,
        source_kind=source.kind, title=title, lead=lead, text=text, authors=clean_authors(page.authors),
        lang=guess.lang, lang_confidence=guess.confidence, published_at=page.published_at, fetched_at=fetched_at,
        translation_group=translation_group(canonical), speakers=find_speakers(everything, rules.enrich),
        narratives=find_narratives(everything, rules.enrich), alarmism=score, alarmism_terms=terms,
        raw_ref=_raw_ref(m), lemmas=" ".join(all_lemmas),
        tags=["text_truncated"] if report.truncated_chars else [],
    )
    doc.dup_group = doc.id  # a group of one until dedup finds its relatives in the index
    return Outcome(document=fingerprint_document(doc), dates_rejected=page.dates_rejected,
                   removed_lines=sum(report.removed.values()))
