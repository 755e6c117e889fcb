"""Paged discovery on a generated corpus: Atom feed pages, list pages (next link), Telegram ?before=."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from mediamon.devtools.mirror.server import MirrorServer
from tests.support.crawl import archived_entries, run_crawl

PAGED = {"kremlin-en": "en", "belta-en": "en", "telegram-mfarussia": "ru"}
N_ITEMS = 45  # three pages of 20 on every paged site


def write_corpus(directory: Path) -> None:
    start = datetime(2021, 11, 1, 9, 0, tzinfo=UTC)
    for source, lang in PAGED.items():
        items = [{"id": f"{source}-{i}", "source": source, "lang": lang, "article_id": 70_000 + i, "section": "news",
                  "slug": f"item-{i}", "published": (start + timedelta(hours=i)).isoformat(),
                  "title": f"Item {i} of {source}", "lead": "Lead.", "body": ["Paragraph one.", "Paragraph two."]}
                 for i in range(N_ITEMS)]
        (directory / f"{source}.yaml").write_text(yaml.safe_dump(items), encoding="utf-8")


def test_every_page_is_followed_until_the_last(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_corpus(corpus)
    with MirrorServer(corpus_dir=corpus, faults=False) as mirror:
        args = [a for s in PAGED for a in ("--source", s)]
        rc, report, stderr = run_crawl(mirror, tmp_path / "data", *args)
        paths = Counter(r.path.split("?")[0].rstrip("/0123456789") for r in mirror.requests)
        before_pages = [r for r in mirror.requests if "before=" in r.path]
    assert rc == 0, stderr[-2000:]
    counts = Counter(e["source"] for e in archived_entries(tmp_path / "data"))
    assert counts == dict.fromkeys(PAGED, N_ITEMS)
    for source in PAGED:
        assert report["sources"][source]["pages_fetched"] == 3, source
    assert paths["/events/all/feed/page"] == 2 and paths["/all_news/page"] == 2 and len(before_pages) == 2
