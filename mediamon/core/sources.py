"""The typed schema of config/sources.yaml and its loader.

Sources are data: a new outlet is a new YAML entry, never a new spider class.
Loading fails early with the file, the entry (its id, or its position when the
id is missing) and the field, so an operator can fix a bad file without
reading code. This module validates; it does not crawl.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from mediamon.core.configfile import ConfigFileError, read_yaml
from mediamon.core.durations import is_duration, parse_duration
from mediamon.core.errors import ConfigError

SOURCES_FILE = "sources.yaml"
_CRON = re.compile(r"^(\S+\s+){4}\S+$")


class SourcesError(ConfigError):
    """A sources file is missing, unreadable or invalid; names file, entry and field."""

    def __init__(self, file: Path, message: str, entry: str | None = None, field: str | None = None) -> None:
        self.file, self.entry, self.field = file, entry, field
        where = str(file)
        if entry is not None:
            where += f": entry {entry}"
        if field is not None:
            where += f", field {field}"
        super().__init__(f"{where}: {message}")


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an absolute http(s) URL: {value!r}")
    return value


def _page_template(value: str | None) -> str | None:
    if value is not None:
        if "{n}" not in value:
            raise ValueError(f"page URL template must contain {{n}}: {value!r}")
        _http_url(value.replace("{n}", "2"))
    return value


def _regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"bad regular expression {value!r}: {exc}") from exc
    return value


def _schedule(value: str) -> str:
    if not (_CRON.match(value) or is_duration(value)):
        raise ValueError(f"expected a cron expression ('*/15 * * * *') or an interval ('15m', '1h'): {value!r}")
    return value


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"not an IANA time zone (e.g. Europe/Moscow): {value!r}") from exc
    return value


def _bare_host(host: str) -> str:
    """``www.rt.com`` and ``rt.com`` are one site: the ``www.`` variant of a domain is the domain."""
    return host.removeprefix("www.")


HttpUrl = Annotated[str, AfterValidator(_http_url)]
PageTemplate = Annotated[str | None, AfterValidator(_page_template)]
Regex = Annotated[str, AfterValidator(_regex)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Feed(_Strict):
    """An RSS 2.0 or Atom feed; older entries on ``page_url`` pages (``{n}`` = 2, 3, ...)."""

    url: HttpUrl
    page_url: PageTemplate = None
    max_pages: int = Field(default=1, ge=1, le=1000)


class ListPage(_Strict):
    """A listing page for sites without (reliable) feeds, paged by a next link or a URL template."""

    url: HttpUrl
    item_selector: str = Field(description="CSS selector of one listed item")
    link_selector: str = Field(default="a::attr(href)", description="CSS, relative to the item, giving the href")
    title_selector: str | None = None
    date_selector: str | None = None
    next_selector: str | None = Field(default=None, description="CSS giving the next page's href")
    page_url: PageTemplate = None
    max_pages: int = Field(default=1, ge=1, le=1000)
    render: Literal["plain", "browser"] = Field(default="plain", description="browser: a list built by scripts")


class Telegram(_Strict):
    """A public Telegram channel read through its web preview ``https://t.me/s/<channel>``."""

    channel: Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]{3,31}$")]
    base_url: HttpUrl = "https://t.me"
    max_pages: int = Field(default=5, ge=1, le=1000)


class Discovery(_Strict):
    feeds: list[Feed] = []
    sitemaps: list[HttpUrl] = []
    lists: list[ListPage] = []
    telegram: Telegram | None = None

    @model_validator(mode="after")
    def _something(self) -> Discovery:
        if not (self.feeds or self.sitemaps or self.lists or self.telegram):
            raise ValueError("needs at least one of feeds, sitemaps, lists, telegram")
        return self

    def urls(self) -> list[str]:
        urls = [f.url for f in self.feeds] + list(self.sitemaps) + [page.url for page in self.lists]
        if self.telegram:
            urls.append(f"{self.telegram.base_url.rstrip('/')}/s/{self.telegram.channel}")
        return urls


class Politeness(_Strict):
    download_delay: float = Field(default=2.0, ge=0)
    concurrency: int = Field(default=2, ge=1, le=32)
    obey_robots: bool = True
    robots_override_reason: str | None = None
    allow_private_addresses: bool = Field(default=False, description="only for sources on an internal network")

    @model_validator(mode="after")
    def _reason_for_override(self) -> Politeness:
        if not self.obey_robots and not (self.robots_override_reason or "").strip():
            raise ValueError("obey_robots: false needs robots_override_reason")
        return self


class Revisits(_Strict):
    """When an archived article is fetched again to catch edits and deletions (crawlers.revisit).

    Each article is revisited ``schedule[i]`` after it was first archived (a
    decaying schedule: most edits come in the first hours), then dropped. A run
    sends at most ``max_per_run`` revisits, after the new articles; the rest wait
    for the next run, counted as deferred. The queue keeps at most ``max_queue``
    articles (the oldest are dropped first, counted).
    """

    enabled: bool = True
    schedule: Annotated[list[Annotated[timedelta, BeforeValidator(parse_duration)]], Field(min_length=1)] = [
        timedelta(hours=1), timedelta(hours=6), timedelta(hours=24), timedelta(days=3), timedelta(days=14)]
    max_per_run: int = Field(default=200, ge=0)
    max_queue: int = Field(default=20_000, ge=1)

    @model_validator(mode="after")
    def _increasing(self) -> Revisits:
        if any(b <= a for a, b in zip(self.schedule, self.schedule[1:], strict=False)):
            raise ValueError("schedule must be increasing (times after the article was first seen)")
        return self


class Selectors(_Strict):
    """CSS hints for extraction; processing falls back to trafilatura when absent or empty."""

    title: str | None = None
    lead: str | None = None
    body: str | None = None
    date: str | None = None
    authors: str | None = None
    exclude: list[str] = Field(default=[], description="CSS of page parts that are never article text "
                                                       "(footers, tag blocks); removed before the body is read")


class Source(_Strict):
    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$")]
    name: str
    owner: str
    kind: Literal["government", "state_media"]
    languages: Annotated[list[Annotated[str, Field(pattern=r"^[a-z]{2}$")]], Field(min_length=1)]
    # the current domain first, then older ones (sputniknews.com) that archives and backfills still name
    domains: Annotated[list[str], Field(min_length=1)]
    timezone: Annotated[str, AfterValidator(_zone)] = Field(
        default="Europe/Moscow", description="IANA zone of the times the site prints without an offset")
    schedule: Annotated[str, AfterValidator(_schedule)]
    discovery: Discovery
    politeness: Politeness = Politeness()
    revisits: Revisits = Revisits()
    selectors: Selectors = Selectors()
    article_url_patterns: list[Regex] = []
    # How pages are fetched: plain HTTP; plain, retried once in a browser when the answer is a JavaScript
    # challenge (mid.ru, rt.com); or always in the browser. A screenshot needs the browser too.
    render: Literal["plain", "on_challenge", "browser"] = "plain"
    screenshot: bool = Field(default=False, description="full-page screenshot of every article, as evidence")

    @property
    def always_renders(self) -> bool:
        """Whether some of the source's pages are always loaded in the browser (not only challenged ones)."""
        return self.render == "browser" or self.screenshot or any(p.render == "browser" for p in self.discovery.lists)

    @property
    def needs_browser(self) -> bool:
        """Whether a crawl of this source may start the browser (plain sources never pay for one)."""
        return self.render == "on_challenge" or self.always_renders

    @model_validator(mode="after")
    def _discovery_on_own_domains(self) -> Source:
        for url in self.discovery.urls():
            if not self.allows(url):
                raise ValueError(f"discovery URL {url} is outside domains {self.domains}")
        return self

    def allows(self, url: str) -> bool:
        """Whether ``url`` is on one of the source's domains (subdomains and ``www.`` variants included)."""
        return self.domain_match(url) > 0

    def domain_match(self, url: str) -> int:
        """Length of the most specific of our domains ``url`` is on; 0 when on none."""
        try:
            parts = urlsplit(url)
            host, _port = (parts.hostname or "").lower(), parts.port
        except ValueError:  # a hostile link ("http://[::1", port 99999) is on no domain of ours
            return 0
        # www.rt.com names rt.com too, but not its sibling russian.rt.com; kremlin.ru covers its subdomains
        return max((len(d) for d in self.domains if _bare_host(host) == _bare_host(d) or host.endswith("." + d)),
                   default=0)

    def is_article(self, url: str) -> bool:
        return self.allows(url) and (not self.article_url_patterns
                                     or any(re.search(p, url) for p in self.article_url_patterns))

    def article_url(self, url: str) -> str | None:
        """``url`` as one of the source's article URLs, or None when it is none.

        Web archives often recorded an ``https://`` article as ``http://`` (the link a crawler once followed):
        the same article, under the scheme the source's patterns name, so its document id is the live one's.
        """
        if self.is_article(url):
            return url
        scheme, sep, rest = url.partition("://")
        other = {"http": "https", "https": "http"}.get(scheme.lower()) if sep else None
        return f"{other}://{rest}" if other and self.is_article(f"{other}://{rest}") else None


def load_sources(path: Path) -> list[Source]:
    """Every source of ``path`` (``Settings.sources_path``), validated."""
    path = Path(path)
    try:
        raw = read_yaml(path)
    except ConfigFileError as exc:
        raise SourcesError(path, str(exc).removeprefix(f"{path}: ")) from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("sources"), list):
        raise SourcesError(path, "expected a mapping with a 'sources' list")
    sources: list[Source] = []
    for position, entry in enumerate(raw["sources"]):
        name = str(entry.get("id")) if isinstance(entry, dict) and entry.get("id") else f"#{position + 1}"
        try:
            sources.append(Source.model_validate(entry))
        except ValidationError as exc:
            error = exc.errors()[0]
            field = ".".join(str(p) for p in error["loc"]) or None
            message = error["msg"]
            if error["type"] == "extra_forbidden":
                message = "unknown key"
            elif error["type"] == "missing":
                message = "missing field"
            raise SourcesError(path, message, entry=name, field=field) from exc
    ids = [s.id for s in sources]
    for source_id in ids:
        if ids.count(source_id) > 1:
            raise SourcesError(path, "duplicate id", entry=source_id, field="id")
    return sources


def sources_by_id(sources: list[Source]) -> dict[str, Source]:
    return {source.id: source for source in sources}


def source_for_url(url: str, sources: dict[str, Source]) -> Source | None:
    """The source a URL belongs to: one whose article patterns match it, else the one on its most specific
    domain (en.kremlin.ru before kremlin.ru)."""
    on_domain = sorted((s for s in sources.values() if s.allows(url)), key=lambda s: -s.domain_match(url))
    exact = [s for s in on_domain if s.is_article(url)]
    return (exact or on_domain or [None])[0]


def select(sources: list[Source], ids: list[str] | None, path: Path | None = None) -> list[Source]:
    """The sources named by ``ids`` (all when empty); an unknown id is a config error."""
    if not ids:
        return sources
    by_id = {s.id: s for s in sources}
    unknown = [i for i in ids if i not in by_id]
    if unknown:
        raise SourcesError(path or Path(SOURCES_FILE), f"unknown source id(s) {', '.join(unknown)}; "
                           f"known: {', '.join(by_id)}")
    return [by_id[i] for i in ids]
