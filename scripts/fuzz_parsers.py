"""Coverage-guided fuzzing of every parser that reads what a hostile site or a bad config can send.

Why: feeds, sitemaps and article pages come from sites we do not control, and
config files from people; a crash in one of these parsers loses a whole feed
page or stops a batch. libFuzzer (through atheris) mutates seed inputs taken
from the mirror's rendered sites towards new code paths, and any exception
other than a parser's documented error type is a crash it reports with the
input that caused it.

    python scripts/fuzz_parsers.py [--seconds N] [--artifacts DIR] [--shallow] [--seed N]

``MEDIAMON_FUZZ_SECONDS`` overrides the default budget of 60 seconds. Exit
code 0 means no crash within the budget; libFuzzer's last ``#N DONE ...
exec/s`` line on stderr gives the number of executions.

The ``run_*`` functions are the harness: each calls the real entry point a
crawl or a batch calls, and swallows only that entry point's documented
error. tests/reliability reuses them with hypothesis.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

URL = "https://news.example.org/politics/2021/11/08/story.html"
CONTENT_TYPES = (None, "text/html", "text/html; charset=utf-8", "text/html; charset=windows-1251",
                 "text/html; charset=koi8-r", "text/html; charset=no-such-charset", "application/xhtml+xml",
                 "application/xml", "text/plain; charset=utf-16")
PAGE_URLS = (URL, "https://www.belta.by/politics/view/1.html", "http://news.example.org/", "https://t.me/MFARussia/1")


def fuzz_source() -> Any:
    """A source on news.example.org discovered by every method: feed, sitemap, listing page, Telegram channel."""
    from crawlers.sources import Source

    return Source.model_validate({
        "id": "fuzz", "name": "Fuzz", "owner": "nobody", "kind": "state_media", "languages": ["ru"],
        "domains": ["news.example.org", "t.me"], "schedule": "1h",
        "discovery": {"feeds": [{"url": "https://news.example.org/rss", "page_url": "https://news.example.org/rss/{n}",
                                 "max_pages": 3}],
                      "sitemaps": ["https://news.example.org/sitemap.xml"],
                      "lists": [{"url": "https://news.example.org/news/", "item_selector": "div.item",
                                 "title_selector": "a::text", "date_selector": "time::attr(datetime)",
                                 "next_selector": "a.next::attr(href)", "max_pages": 3}],
                      "telegram": {"channel": "MFARussia", "max_pages": 3}},
        "politeness": {"download_delay": 0}})


@cache
def discovery_spider(kind: str) -> Any:
    """A real discovery spider of ``fuzz_source()`` (Scrapy crawler and settings, fresh crawl state)."""
    from scrapy.utils.test import get_crawler

    from crawlers.crawl_settings import crawl_settings
    from crawlers.spiders import FeedSpider, ListingSpider, SitemapSpider, TelegramSpider
    from crawlers.state import SourceRun

    source = fuzz_source()
    spider_cls = {"feed": FeedSpider, "sitemap": SitemapSpider, "list": ListingSpider, "telegram": TelegramSpider}[kind]
    root = Path(tempfile.mkdtemp(prefix="mediamon-fuzz-"))
    run = SourceRun(source, root / "crawl-state", root / "archive", batch_size=500)
    crawler = get_crawler(spider_cls, crawl_settings(source))
    return spider_cls.from_crawler(crawler, source=source, run=run)


def discovery_response(url: str, body: bytes, content_type: str, **meta: Any) -> Any:
    """The response Scrapy would build for ``body`` (HtmlResponse for HTML: what spiders' CSS needs)."""
    from scrapy.http import Headers, Request
    from scrapy.responsetypes import responsetypes

    request = Request(url, meta={"page_url": url, **meta})
    headers = Headers({"Content-Type": content_type})
    cls = responsetypes.from_args(headers=headers, url=url, body=body)
    return cls(url, status=200, body=body, headers=headers, request=request)


def run_feed(body: bytes, content_type: str = "application/rss+xml") -> list[Any]:
    """FeedSpider.parse_feed on ``body``: never raises; what it cannot read it counts."""
    spider = discovery_spider("feed")
    spider.run.claimed.clear()
    feed = spider.source.discovery.feeds[0]
    return list(spider.parse_feed(discovery_response(feed.url, body, content_type, feed=feed.model_dump(), page=1)))


def run_sitemap(body: bytes) -> list[Any]:
    """SitemapSpider.parse_sitemap on ``body`` (gzip or XML): never raises; what it cannot read it counts."""
    spider = discovery_spider("sitemap")
    spider.run.claimed.clear()
    return list(spider.parse_sitemap(discovery_response(spider.source.discovery.sitemaps[0], body, "application/xml")))


def run_listing(body: bytes, content_type: str = "text/html; charset=utf-8") -> list[Any]:
    """ListingSpider.parse_list on ``body``: never raises; an empty list page is counted."""
    spider = discovery_spider("list")
    spider.run.claimed.clear()
    listing = spider.source.discovery.lists[0]
    return list(spider.parse_list(discovery_response(listing.url, body, content_type, listing=listing.model_dump(),
                                                     page=1)))


def run_telegram(body: bytes, content_type: str = "text/html; charset=utf-8") -> list[Any]:
    """TelegramSpider.parse_channel on ``body``: never raises; a post it cannot read is skipped and counted."""
    spider = discovery_spider("telegram")
    spider.run.claimed.clear()
    spider.run.state.seen.clear()
    return list(spider.parse_channel(discovery_response(spider.channel_url, body, content_type, page=1)))


def run_extract(body: bytes, content_type: str | None, url: str = URL, kind: str = "article",
                selectors: dict[str, str | None] | None = None) -> Any:
    """processing.extract.extract; ``ExtractionFailed`` (a quarantine reason) is its documented refusal."""
    from urllib.parse import urlsplit

    from processing.extract import ExtractionFailed, PageContext, extract

    ctx = PageContext(url=url, domain=urlsplit(url).hostname or "", kind=kind, selectors=selectors or {})
    try:
        return extract(body, content_type, ctx, challenge_markers=["ddos-guard", "checking your browser"],
                       min_chars=40)
    except ExtractionFailed as exc:
        return exc


def run_date(text: str, domain: str = "tass.ru") -> Any:
    """processing.dates parsers, then check_plausible (``DateRejected`` is its documented refusal)."""
    from processing.dates import DateRejected, check_plausible, find_date_in_text, local_zone, parse_date

    zone = local_zone(domain)
    find_date_in_text(text, zone)
    parsed = parse_date(text, zone)
    if parsed is None:
        return None
    try:
        return check_plausible(parsed.value)
    except DateRejected as exc:
        return exc


def run_canonical(url: str) -> Any:
    """crawlers.canonical.canonical_url; ``ValueError`` (not a URL) is its documented refusal."""
    from crawlers.canonical import canonical_url

    try:
        return canonical_url(url)
    except ValueError as exc:
        return exc


def config_loaders() -> dict[str, Any]:
    """Every config loader, each paired with the one error type it documents."""
    from crawlers.sources import SourcesError, load_sources
    from processing.alerts.rules import RulesError
    from processing.alerts.rules import load_rules as load_alert_rules
    from processing.configfile import ConfigFileError, load_config
    from processing.enrich import AlarmismFile, NarrativesFile, SpeakersFile
    from processing.rules import ExtractionRules

    return {
        "sources.yaml": (lambda p: load_sources(p), SourcesError),
        "narratives.yaml": (lambda p: load_config(p, NarrativesFile), ConfigFileError),
        "speakers.yaml": (lambda p: load_config(p, SpeakersFile), ConfigFileError),
        "alarmism.yaml": (lambda p: load_config(p, AlarmismFile), ConfigFileError),
        "extraction.yaml": (lambda p: load_config(p, ExtractionRules), ConfigFileError),
        "alerts.yaml": (lambda p: load_alert_rules(p), RulesError),
    }


@cache
def _config_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="mediamon-fuzz-config-"))


def run_config(name: str, data: bytes) -> Any:
    """Load ``data`` as config file ``name``; the loader's own error type is the only refusal allowed."""
    load, error = config_loaders()[name]
    path = _config_dir() / name
    path.write_bytes(data)
    try:
        return load(path)
    except error as exc:
        return exc


def run_processing_rules(name: str, data: bytes) -> Any:
    """processing.rules.load_rules over the repository's config/ with ``name`` replaced by ``data``."""
    import shutil

    from processing.configfile import ConfigFileError
    from processing.rules import load_rules

    directory = _config_dir() / "processing"
    if not directory.is_dir():
        shutil.copytree(Path(__file__).resolve().parents[1] / "config", directory)
    original = directory / f"{name}.orig"
    if not original.exists():
        shutil.copy(directory / name, original)
    (directory / name).write_bytes(data)
    try:
        return load_rules(directory)
    except ConfigFileError as exc:
        return exc
    finally:
        shutil.copy(original, directory / name)


# --- libFuzzer entry -------------------------------------------------------------------

ARTIFACTS = Path(tempfile.gettempdir()) / "mediamon-fuzz"
CONFIG_NAMES = ("sources.yaml", "narratives.yaml", "speakers.yaml", "alarmism.yaml", "extraction.yaml", "alerts.yaml")


def one_input(data: bytes) -> None:
    """Byte 0 picks the parser, byte 1 a variant (content type, config file); the rest is the input."""
    if len(data) < 2:
        return
    try:
        _dispatch(data)
    except BaseException:  # keep the reproducer even when the process dies before libFuzzer writes it
        import hashlib

        crash = ARTIFACTS / f"crash-{hashlib.sha1(data).hexdigest()}"
        crash.write_bytes(data)
        print(f"reproducer written to {crash}", file=sys.stderr)
        raise


def _dispatch(data: bytes) -> None:
    target, variant, payload = data[0] % 8, data[1], data[2:]
    text = payload.decode("utf-8", "replace")
    if target == 0:
        run_feed(payload, ("application/rss+xml", "application/atom+xml", "text/html")[variant % 3])
    elif target == 1:
        run_sitemap(payload)
    elif target == 2:
        run_extract(payload, CONTENT_TYPES[variant % len(CONTENT_TYPES)], PAGE_URLS[variant % len(PAGE_URLS)],
                    "telegram_post" if variant & 0x80 else "article")
    elif target == 3:
        run_date(text, ("tass.ru", "belta.by")[variant % 2])
    elif target == 4:
        run_canonical(text)
    elif target == 5:
        run_config(CONFIG_NAMES[variant % len(CONFIG_NAMES)], payload)
    elif target == 6:
        run_listing(payload, CONTENT_TYPES[variant % len(CONTENT_TYPES)] or "application/octet-stream")
    else:
        run_telegram(payload)


def write_seeds(directory: Path, limit_bytes: int = 60_000) -> int:
    """Seed inputs: the mirror's rendered feeds, sitemaps and pages, the repository's config files."""
    from mediamon.mirror import catalog as catalog_mod
    from mediamon.mirror.corpus import load_corpus

    directory.mkdir(parents=True, exist_ok=True)
    catalog = catalog_mod.build(load_corpus(None), faults=True)
    seeds: list[bytes] = []
    kinds: dict[str, int] = {}
    for (host, path), resource in catalog.resources.items():
        ctype = resource.content_type.split(";")[0]
        target = 2 if "html" in ctype else (1 if "sitemap" in path else 0) if "xml" in ctype else None
        if host == "t.me" and "html" in ctype:
            target = 7  # channel pages feed the Telegram spider; other HTML pages both extraction and listing
        if target is None or len(resource.body) > limit_bytes or kinds.get(f"{target}{ctype}", 0) >= 8:
            continue
        kinds[f"{target}{ctype}"] = kinds.get(f"{target}{ctype}", 0) + 1
        seeds.append(bytes([target, 1]) + resource.body)
        if target == 2:
            seeds.append(bytes([6, 1]) + resource.body)
    seeds += [bytes([3, 0]) + s.encode() for s in ("8 ноября 2021, 19:51", "2021-11-08T19:51:00+03:00",
                                                   "Mon, 08 Nov 2021 16:51:00 GMT", "8 лістапада 2021 г.")]
    seeds += [bytes([4, 0]) + u.encode() for u in (URL + "?utm_source=x#frag", "https://tass.ru/amp/politika/1",
                                                   "http://[::1]:80/a", "https://xn--80a.xn--p1ai/print/")]
    config = Path(__file__).resolve().parents[1] / "config"
    for index, name in enumerate(CONFIG_NAMES):
        if (config / name).is_file():
            seeds.append(bytes([5, index]) + (config / name).read_bytes()[:limit_bytes])
    for number, seed in enumerate(seeds):
        (directory / f"seed-{number:04d}").write_bytes(seed)
    return len(seeds)


def main(argv: list[str] | None = None) -> int:
    global ARTIFACTS
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("MEDIAMON_FUZZ_SECONDS", "60")))
    parser.add_argument("--artifacts", type=Path, default=ARTIFACTS)
    parser.add_argument("--max-len", type=int, default=65536)
    parser.add_argument("--seed", type=int, default=0,
                        help="libFuzzer's random seed; 0 (default) picks a new one, so every long run explores anew")
    parser.add_argument("--shallow", action="store_true",
                        help="instrument only crawlers/ and processing/ (starts ~15 s sooner; for short runs)")
    args = parser.parse_args(argv)
    ARTIFACTS = args.artifacts

    import atheris

    # Instrument our parsers and the libraries they lean on; the heavy rest (Scrapy, lxml) stays native speed.
    libraries = [] if args.shallow else ["feedparser", "courlan", "w3lib", "dateutil"]
    with atheris.instrument_imports(include=["crawlers", "processing", *libraries]):
        for module in ("crawlers.canonical", "crawlers.sources", "crawlers.spiders", "processing.alerts.rules",
                       "processing.dates", "processing.extract", "processing.rules"):
            importlib.import_module(module)

    corpus = args.artifacts / "corpus"
    seeds = write_seeds(args.artifacts / "seeds")
    corpus.mkdir(parents=True, exist_ok=True)
    print(f"fuzzing for {args.seconds}s from {seeds} seeds; crashes go to {args.artifacts}", file=sys.stderr)
    libfuzzer_args = [sys.argv[0], f"-seed={args.seed}", f"-max_total_time={args.seconds}", f"-max_len={args.max_len}",
                      "-timeout=30", "-rss_limit_mb=2048", f"-artifact_prefix={args.artifacts}/",
                      "-print_final_stats=1", str(corpus), str(args.artifacts / "seeds")]
    atheris.Setup(libfuzzer_args, one_input)
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    sys.exit(main())
