"""Raw batches written through the real archive writer, with story pages a test controls."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from mediamon.core.archive import BatchWriter

STORY = [
    "Министр иностранных дел России Сергей Лавров заявил в понедельник, что Минск не нарушает никаких "
    "международных обязательств в ситуации с мигрантами на границе с Польшей и Литвой.",
    "По словам министра, давление на президента Белоруссии Александра Лукашенко беспочвенно, а все претензии, "
    "которые звучат из Варшавы, Вильнюса и Брюсселя, носят политизированный характер.",
    "Лавров также отметил, что то, как Польша и Литва выдворяют людей обратно, свидетельствует об их "
    "беспомощности и пренебрежении гуманитарными принципами, о которых так любит рассуждать Евросоюз.",
    "Первопричиной миграционного кризиса министр назвал деструктивную политику США и их союзников на "
    "Ближнем Востоке, в том числе в Сирии, Ираке и Афганистане.",
]
OTHER_STORY = [
    "Президент России Владимир Путин провел телефонный разговор с канцлером Германии Ангелой Меркель, "
    "сообщили в пресс-службе Кремля в среду вечером.",
    "Стороны обсудили ситуацию с поставками природного газа в Европу и перспективы сертификации газопровода.",
    "Кроме того, собеседники затронули вопросы урегулирования на юго-востоке Украины и договорились "
    "продолжить контакты на различных уровнях.",
    "Путин и Меркель также обменялись мнениями о подготовке к предстоящим международным мероприятиям.",
]


def page(title: str, paragraphs: list[str], published: str, lang: str = "ru") -> bytes:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (f"<html lang='{lang}'><head><meta charset='utf-8'><title>{title}</title>"
            f"<meta property='og:title' content='{title}'>"
            f"<meta property='article:published_time' content='{published}'></head>"
            f"<body><nav><a href='/'>Главная</a></nav><article><h1>{title}</h1>{body}</article>"
            f"<footer>Подписывайтесь на наш канал</footer></body></html>").encode()


def write_batch(settings, source: str, pages: list[dict]) -> Path:
    writer = BatchWriter(settings.data_dir / "archive", source)
    for p in pages:
        writer.add(url=p["url"], canonical_url=p["url"], fetched_url=p["url"], status=p.get("status", 200),
                   http_headers=[("Content-Type", p.get("content_type", "text/html; charset=utf-8"))],
                   body=p["body"], kind=p.get("kind", "article"), feed=p.get("feed"),
                   fetched_at=p.get("fetched_at", datetime(2021, 11, 20, tzinfo=UTC)))
    batch = writer.commit()
    assert batch is not None
    return batch
