"""Build realistic Document objects for tests and benchmarks (no network, deterministic)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from mediamon.core.document import Document
from processing.lemmas import lemma_text

RU_SENTENCES = [
    "Министр иностранных дел России Сергей Лавров заявил, что Минск не нарушает международных обязательств.",
    "По словам Лаврова, действия Польши и Литвы в отношении мигрантов демонстрируют беспомощность.",
    "Официальный представитель МИД Мария Захарова напомнила о роли польских военных в Ираке.",
    "Песков отметил, что Кремль внимательно следит за ситуацией на белорусско-польской границе.",
    "Тысячи мигрантов остаются в лесу у границы при минусовой температуре.",
    "Евросоюз должен взять на себя ответственность и оплатить содержание беженцев.",
]
EN_SENTENCES = [
    "Foreign Minister Sergei Lavrov said Minsk is not violating any international obligations.",
    "Polish border guards pushed migrants back into Belarus, according to the ministry.",
    "Kremlin spokesman Dmitry Peskov said Russia is closely following events on the border.",
    "Thousands of migrants remain stranded in freezing forests along the frontier.",
    "The European Union must take responsibility and pay Belarus, Lavrov argued.",
    "Maria Zakharova recalled that Polish soldiers took part in the war in Iraq.",
]


def make_document(n: int, *, source: str = "tass-en", lang: str = "en", published: datetime | None = None,
                  narratives: list[str] | None = None, paragraphs: int = 6, seed: int | None = None,
                  **fields: object) -> Document:
    rng = random.Random(seed if seed is not None else n)
    sentences = RU_SENTENCES if lang == "ru" else EN_SENTENCES
    text = "\n\n".join(" ".join(rng.choice(sentences) for _ in range(4)) + f" ({n})" for _ in range(paragraphs))
    domain = {"tass-en": "tass.com", "tass-ru": "tass.ru", "rt-en": "www.rt.com", "kremlin-ru": "kremlin.ru"}.get(
        source, f"{source}.example")
    url = f"https://{domain}/politics/{1356000 + n}"
    title = f"{rng.choice(sentences)[:80]} #{n}"
    published = published or datetime(2021, 11, 1, 9, tzinfo=UTC) + timedelta(minutes=37 * n)
    values: dict[str, object] = dict(
        url=url, canonical_url=url, domain=domain, source=source, source_owner="TASS", source_kind="state_media",
        title=title, lead=sentences[n % len(sentences)], text=text, lang=lang, lang_confidence=0.99,
        published_at=published, fetched_at=published + timedelta(minutes=5),
        content_hash=f"{n:064x}", narratives=narratives or [],
    )
    values.update(fields)
    values.setdefault("lemmas", lemma_text(f"{values['title']} {values['lead']} {values['text']}"[:20000]))
    return Document(**values)  # type: ignore[arg-type]
