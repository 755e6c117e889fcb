"""One archived record -> one Document, or a quarantine verdict: the per-record stage chain.

extract -> clean -> language -> translations -> enrich -> near-duplicate
fingerprint. Shared by the batch runner (in its worker processes) and
`mediamon extract` (so a user debugging a page sees exactly what the runner
would index). Everything here is CPU-only and needs no Elasticsearch; grouping
duplicates against the index happens afterwards, in the runner.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from mediamon.core.archive import ManifestRecord
from mediamon.core.document import Document, RawRef
from mediamon.core.sources import Source
from processing.clean import clean_authors, clean_text, fits_keyword, normalise_inline
from processing.dedup import fingerprint_document
from processing.enrich import LemmaIndex, alarmism, find_narratives, find_people, sentence_map
from processing.extract import ExtractionFailed, PageContext, extract
from processing.language import detect_language
from processing.lemmas import lemmatize
from processing.rules import ProcessingRules
from processing.stories.features import StoryFeatures, story_features
from processing.stories.lexicon import Lexicon
from processing.translations import translation_group

log = logging.getLogger(__name__)


@dataclass
class RecordInput:
    """A raw archive record reduced to what the stages need (picklable for worker processes)."""

    manifest: ManifestRecord
    body: bytes
    content_type: str | None


@dataclass
class Outcome:
    document: Document | None = None
    reason: str | None = None  # quarantine reason when there is no document
    detail: str | None = None
    dates_rejected: list[str] = field(default_factory=list)
    removed_lines: int = 0  # furniture lines and excluded page parts
    date_disagreements: list[str] = field(default_factory=list)  # feed times the page contradicted
    story_features: StoryFeatures | None = None  # computed beside the document when stories are on


def _raw_ref(manifest: ManifestRecord) -> RawRef | None:
    if manifest.batch and manifest.warc_file:
        return RawRef(batch=manifest.batch, warc_file=manifest.warc_file, offset=manifest.offset,
                      sha256=manifest.sha256)
    return None


def build_document(record: RecordInput, sources: dict[str, Source], rules: ProcessingRules,
                   lexicon: Lexicon | None = None) -> Outcome:
    """Run every per-record stage; ExtractionFailed becomes a quarantine verdict, never an exception.
    With ``lexicon`` (stories on) the story features are computed too."""
    try:
        return _build(record, sources, rules, lexicon)
    except ExtractionFailed as exc:
        return Outcome(reason=exc.reason, detail=exc.detail)


def _build(record: RecordInput, sources: dict[str, Source], rules: ProcessingRules,
           lexicon: Lexicon | None) -> Outcome:
    m = record.manifest
    if not 200 <= m.status < 300:
        raise ExtractionFailed("http_status", f"archived response has HTTP status {m.status}")
    url = m.url
    canonical = m.canonical_url or url
    if not canonical or not fits_keyword(canonical) or not fits_keyword(url):
        raise ExtractionFailed("bad_url", "record has no URL, or one longer than a keyword can hold")
    source = sources.get(m.source)
    domain = (urlsplit(canonical).hostname or "").lower()
    fetched_at = m.fetched_at
    cfg = rules.extraction
    ctx = PageContext(url=url, domain=domain, kind=m.kind, selectors=source.selectors.model_dump() if source else {},
                      feed=m.feed, fetched_at=fetched_at, zone=source.timezone if source else None,
                      date_labels=tuple(cfg.published_labels))
    page = extract(record.body, record.content_type, ctx, cfg.challenge_markers, cfg.min_text_chars)
    title = normalise_inline(page.title, cfg.max_title_chars)
    lead = normalise_inline(page.lead, cfg.max_lead_chars)
    # a Telegram post's title is its own first line, which must stay in the text (a one-line post is all text)
    text, report = clean_text(page.text, rules.boilerplate, None if ctx.kind == "telegram_post" else title,
                              cfg.max_text_chars)
    min_chars = 1 if ctx.kind == "telegram_post" else cfg.min_text_chars
    if len(text) < min_chars:
        raise ExtractionFailed("empty_extraction", f"only {len(text)} characters left after cleaning")
    guess = detect_language("\n".join(filter(None, [title, lead, text])), page.declared_lang,
                            list(source.languages) if source else [])
    title_lemmas = lemmatize(title or "")
    body = "\n".join(filter(None, [lead, text]))
    body_lemmas = lemmatize(body)
    all_lemmas = title_lemmas + body_lemmas
    everything = LemmaIndex(all_lemmas, sentence_map(title or "", body))
    speakers, mentions = find_people(everything, rules.enrich)
    score, terms = alarmism(LemmaIndex(title_lemmas), LemmaIndex(body_lemmas),
                            " ".join(filter(None, [title, lead])), guess.lang, rules.enrich)
    doc = Document(
        url=url, canonical_url=canonical, domain=domain, source=m.source or "unknown",
        source_owner=source.owner if source else None, source_kind=source.kind if source else None,
        title=title, lead=lead, text=text, authors=clean_authors(page.authors),
        lang=guess.lang, lang_confidence=guess.confidence, published_at=page.published_at, fetched_at=fetched_at,
        published_precision=page.date_precision if page.published_at else None,
        published_source=page.date_origin if page.published_at else None,
        translation_group=translation_group(canonical), speakers=speakers, mentions=mentions,
        narratives=find_narratives(everything, rules.enrich), alarmism=score, alarmism_terms=terms,
        raw_ref=_raw_ref(m), lemmas=" ".join(all_lemmas), provenance=[m.provenance],
        tags=(["text_truncated"] if report.truncated_chars else [])
        + (["published_feed_disagrees"] if page.date_disagreements else []), **page.fields,
    )
    doc.dup_group = doc.id  # a group of one until dedup finds its relatives in the index
    # stories on: the story features here, beside the document, on the lemma index the rules just used
    when = doc.published_at or doc.fetched_at
    features = story_features(doc, lexicon, when, everything) if lexicon is not None and when else None
    return Outcome(document=fingerprint_document(doc), dates_rejected=page.dates_rejected,
                   removed_lines=sum(report.removed.values()) + sum(page.excluded.values()),
                   date_disagreements=page.date_disagreements, story_features=features)
