"""A transcript of over 1 MB is processed, indexed and searchable to its last sentence (issue 12, item 3).

Long sessions (a Valdai Club transcript is ~164,000 characters) used to be cut at
100,000 characters; the end of a transcript is often its most quoted part.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime

from mediamon.core.archive import ManifestRecord
from processing.clean import clean_text
from processing.record import RecordInput, build_document
from processing.store.bulk import DeadLetter, index_documents
from processing.store.search import SearchFilters, search
from tests.support.documents import EN_SENTENCES

LAST = "In closing, the chairman thanked the delegates from Ulaanbaatar for their patience with the translators."


def transcript_page(min_chars: int = 1_050_000) -> str:
    """kremlin.ru article markup with a transcript of ``min_chars`` characters of varied paragraphs."""
    rng = random.Random(12)
    paragraphs, size = [], 0
    while size < min_chars:
        speaker = rng.choice(["V.Putin", "F.Lukyanov", "Question"])
        paragraph = f"{speaker}: " + " ".join(rng.choice(EN_SENTENCES) for _ in range(6)) + f" ({len(paragraphs)})"
        paragraphs.append(f"<p>{paragraph}</p>")
        size += len(paragraph) + 1
    paragraphs.append(f"<p>{LAST}</p>")
    return ('<html lang="en"><body><article><h1 class="entry-title">Valdai International Discussion Club meeting'
            '</h1><div class="read__meta"><time class="read__published" datetime="2021-10-21">October 21, 2021'
            '</time><div class="read__time">19:30</div></div><div class="entry-content read__internal_content">'
            + "".join(paragraphs) + "</div></article></body></html>")


def test_a_megabyte_transcript_is_indexed_whole_and_its_last_sentence_found(es_admin, es_settings, sources, rules):
    url = "http://en.kremlin.ru/events/president/news/66975"
    manifest = ManifestRecord(batch="b", url=url, canonical_url=url, source="kremlin-en", offset=0,
                              fetched_at=datetime(2026, 1, 1, tzinfo=UTC))
    outcome = build_document(RecordInput(manifest, transcript_page().encode(), "text/html"), sources, rules)
    doc = outcome.document
    assert doc is not None, outcome.detail
    assert len(doc.text) > 1_000_000 and doc.text.endswith(LAST) and "text_truncated" not in doc.tags
    index_documents(es_admin, es_settings.docs_alias, [doc], DeadLetter(es_settings.deadletter_dir))
    es_admin.indices.refresh(index=es_settings.docs_alias)
    total, hits = search(es_admin, es_settings.docs_alias, f'"{LAST}"', SearchFilters())
    assert total == 1 and hits[0]["_id"] == doc.id


def test_the_cap_is_configurable_and_reaching_it_is_reported(rules):
    text = "\n".join(f"Paragraph {i} of a long transcript." for i in range(1000))
    cut, report = clean_text(text, rules.boilerplate, None, 5_000)
    assert len(cut) <= 5_000 and report.truncated_chars == len(text) - len(cut) > 0
    assert rules.extraction.max_text_chars >= 1_000_000  # the shipped config keeps real transcripts whole
