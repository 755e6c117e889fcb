"""The sample corpus: typed loading of ``corpus/<source-id>.yaml`` item lists.

The ``expect`` block is ground truth for end-to-end tests and is never served.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mediamon.core.configfile import read_yaml
from mediamon.core.errors import ConfigError

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"


class CorpusError(ConfigError):
    """A corpus file is unreadable or an item is invalid (names file, item and field)."""


class PostShape(BaseModel):
    """How a Telegram channel's preview shows a post beyond its text (the shapes of real t.me/s pages)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reply_to: int | None = None  # article_id of the post replied to ...
    reply_quote: str = ""  # ... and the start of its text, which the reply header repeats
    forwarded_from: str | None = None  # username of the channel the post is forwarded from
    photo: bool = False  # the text is a photo's caption
    quote: bool = False  # the last paragraph is a <blockquote>
    views: str | None = None  # the count as the page prints it ("15.2K")


class CorpusItem(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    source: str
    lang: str
    article_id: int
    section: str = "news"
    slug: str = "article"
    published: datetime
    title: str
    lead: str = ""
    body: list[str] = Field(min_length=1)
    authors: list[str] = []
    tags: list[str] = []
    telegram: PostShape | None = None  # Telegram posts only
    expect: dict[str, Any] = {}


def load_corpus(corpus_dir: Path | None = None) -> dict[str, list[CorpusItem]]:
    """Items per source id, newest first (feeds and lists show the newest first)."""
    corpus_dir = corpus_dir or CORPUS_DIR
    by_source: dict[str, list[CorpusItem]] = {}
    for path in sorted(corpus_dir.glob("*.yaml")):
        raw = read_yaml(path, CorpusError) or []
        if not isinstance(raw, list):
            raise CorpusError(f"{path}: expected a list of items")
        for position, entry in enumerate(raw):
            try:
                item = CorpusItem.model_validate(entry)
            except ValidationError as exc:
                error = exc.errors()[0]
                name = entry.get("id", f"#{position + 1}") if isinstance(entry, dict) else f"#{position + 1}"
                field = ".".join(str(p) for p in error["loc"])
                raise CorpusError(f"{path}: item {name}, field {field}: {error['msg']}") from exc
            by_source.setdefault(item.source, []).append(item)
    for items in by_source.values():
        items.sort(key=lambda i: (i.published, i.article_id), reverse=True)
    return by_source
