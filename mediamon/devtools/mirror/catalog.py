"""What the mirror serves: every site's resources keyed by (host, path?query), and the expected outcomes.

The catalogue is built once from the corpus. ``faults=True`` adds the
misbehaviour real crawls meet (each fault is a separate URL or a first-request
failure, so the corpus articles themselves always end up archived), and
records for every article URL what a correct crawler must do with it: the test
oracle, derived from what is served rather than hard-coded in tests.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from mediamon.devtools.mirror import render
from mediamon.devtools.mirror.corpus import CorpusItem

PAGE_SIZE = 20
FEED_SIZE = 50  # RSS feeds carry the latest items only, like the real ones; sitemaps carry all
SHARED_DIR = Path(__file__).resolve().parents[3].parent / "shared"
REAL_KREMLIN = ("news-77428.html", "news-77329.html")
OVERSIZE_BYTES = 6 * 1024 * 1024
UA_CHECK_HOSTS = {"kremlin.ru", "en.kremlin.ru", "tass.ru", "tass.com"}

# Which real robots.txt snapshot each mirrored host is based on (../shared/fixtures/real/robots).
ROBOTS_SNAPSHOTS = {"ria.ru": "ria.ru.txt", "sputnikglobe.com": "sputniknews.com.txt", "www.rt.com": "rt.com.txt",
                    "russian.rt.com": "rt.com.txt", "tass.ru": "tass.ru.txt", "tass.com": "tass.ru.txt"}
DEFAULT_ROBOTS = "User-agent: *\nDisallow: /search/\nDisallow: /api/\n"

# source id -> (scheme, host) of the real site.
SITES = {
    "kremlin-ru": ("http", "kremlin.ru"), "kremlin-en": ("http", "en.kremlin.ru"),
    "mid-ru": ("https", "mid.ru"), "mid-en": ("https", "mid.ru"),
    "tass-ru": ("https", "tass.ru"), "tass-en": ("https", "tass.com"),
    "ria-ru": ("https", "ria.ru"), "sputnik-en": ("https", "sputnikglobe.com"),
    "rt-en": ("https", "www.rt.com"), "rt-ru": ("https", "russian.rt.com"),
    "belta-ru": ("https", "www.belta.by"), "belta-en": ("https", "eng.belta.by"), "belta-be": ("https", "blr.belta.by"),
    "telegram-mfarussia": ("https", "t.me"),
}
TELEGRAM_CHANNEL = "MFARussia"


@dataclass
class Resource:
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    fault: str | None = None  # reset_once, 429_once, 503_once
    conditional: bool = False  # answers If-None-Match / If-Modified-Since with 304
    last_modified: datetime | None = None


@dataclass(frozen=True)
class ExpectedArticle:
    """One article URL the mirror links, and what a correct crawler ends up doing with it."""

    source: str
    url: str
    outcome: str  # "archived", "blocked:<reason>" or "error:<reason>"
    kind: str = "article"
    encoding: str | None = None
    body: bytes | None = None  # for archived items whose bytes must survive intact
    encoding_declared: bool = True  # in the Content-Type header or the page's <meta>


@dataclass
class Catalog:
    resources: dict[tuple[str, str], Resource] = field(default_factory=dict)
    expected: list[ExpectedArticle] = field(default_factory=list)
    hosts: set[str] = field(default_factory=set)

    def add(self, url: str, resource: Resource) -> None:
        parts = urlsplit(url)
        self.hosts.add(parts.hostname or "")
        self.resources[(parts.hostname or "", parts.path + (f"?{parts.query}" if parts.query else ""))] = resource

    def article(self, source: str, url: str, resource: Resource, outcome: str = "archived",
                encoding: str | None = None, kind: str = "article", encoding_declared: bool = True) -> None:
        self.add(url, resource)
        body = resource.body if outcome == "archived" else None
        self.expected.append(ExpectedArticle(source, url, outcome, kind, encoding, body, encoding_declared))


def html(text: str, charset: str = "utf-8", header_charset: bool = True) -> Resource:
    ctype = f"text/html; charset={charset}" if header_charset else "text/html"
    return Resource(text.encode(charset, errors="xmlcharrefreplace"), ctype)


def xml(text: str, ctype: str = "application/rss+xml; charset=utf-8", when: datetime | None = None) -> Resource:
    return Resource(text.encode("utf-8"), ctype, conditional=True, last_modified=when)


def pages(items: list, size: int = PAGE_SIZE) -> list[list]:
    return [items[i:i + size] for i in range(0, len(items), size)] or [[]]


def clone(item: CorpusItem, article_id: int) -> CorpusItem:
    return item.model_copy(update={"id": f"{item.id}-fault-{article_id}", "article_id": article_id})


def build(corpus: dict[str, list[CorpusItem]], faults: bool, shared_dir: Path | None = None) -> Catalog:
    shared_dir = shared_dir or SHARED_DIR
    catalog = Catalog()
    builders: dict[str, Callable[..., None]] = {
        "kremlin": _kremlin, "mid": _mid, "tass": _tass, "ria": _ria, "sputnik": _ria, "rt": _rt, "belta": _belta,
        "telegram": _telegram}
    for source, (scheme, host) in SITES.items():
        items = list(corpus.get(source, []))
        builders[source.split("-")[0]](catalog, source, scheme, host, items, faults, corpus, shared_dir)
    for host in catalog.hosts:
        catalog.add(f"https://{host}/robots.txt", _robots(host, faults, shared_dir))
    return catalog


def _newest(items: list[CorpusItem]) -> datetime | None:
    return max((i.published for i in items), default=None)


def _robots(host: str, faults: bool, shared_dir: Path) -> Resource:
    snapshot = shared_dir / "fixtures" / "real" / "robots" / ROBOTS_SNAPSHOTS.get(host, "-")
    text = snapshot.read_text(encoding="utf-8") if snapshot.is_file() else DEFAULT_ROBOTS
    text = text.replace("sputniknews.com", "sputnikglobe.com")
    if host in ("tass.com",):
        text = text.replace("tass.ru", "tass.com")
    if host == "kremlin.ru" and faults:
        text += "\nUser-agent: *\nDisallow: /events/president/news/990004\n"
    return Resource(text.encode("utf-8"), "text/plain; charset=utf-8")


# --- kremlin.ru ------------------------------------------------------------------------


def _real_kremlin_items(shared_dir: Path) -> list[tuple[CorpusItem, bytes]]:
    out = []
    for name in REAL_KREMLIN:
        path = shared_dir / "fixtures" / "real" / "kremlin" / name
        if not path.is_file():
            continue
        raw = path.read_bytes()
        text = raw.decode("utf-8", errors="replace")

        def meta(prop: str, text: str = text) -> str:
            found = re.search(rf'<meta property="{prop}" content="([^"]*)"', text)
            return found.group(1) if found else ""

        date = re.search(r'class="read__published" datetime="([0-9-]+)"', text)
        item = CorpusItem(id=f"kremlin-real-{name}", source="kremlin-ru", lang="ru",
                          article_id=int(re.sub(r"\D", "", name)), section="news", slug="real",
                          published=datetime.fromisoformat(f"{date.group(1) if date else '2025-01-01'}T12:00:00+03:00"),
                          title=meta("og:title"), lead=meta("og:description"), body=[meta("og:description") or "-"])
        out.append((item, raw))
    return out


def _kremlin(catalog: Catalog, source: str, scheme: str, host: str, items: list[CorpusItem], faults: bool,
             corpus: dict[str, list[CorpusItem]], shared_dir: Path) -> None:
    other = "en.kremlin.ru" if host == "kremlin.ru" else "kremlin.ru"
    other_ids = {i.article_id for i in corpus.get("kremlin-en" if host == "kremlin.ru" else "kremlin-ru", [])}

    def url(i: CorpusItem, h: str = host) -> str:
        return f"{scheme}://{h}/events/president/news/{i.article_id}"

    for i in items:
        alternate = url(i, other) if i.article_id in other_ids else None
        catalog.article(source, url(i), html(render.kremlin_article(i, url(i), alternate)))
    listed = list(items)
    if source == "kremlin-ru":
        for item, raw in _real_kremlin_items(shared_dir):
            catalog.article(source, url(item), Resource(raw), encoding="utf-8")
            listed.append(item)
        listed.sort(key=lambda i: i.published, reverse=True)
    entries = [(url(i), i) for i in listed]
    feed_pages = pages(entries)
    base = f"{scheme}://{host}/events/all/feed"
    for n, chunk in enumerate(feed_pages, start=1):
        self_url = f"{base}/" if n == 1 else f"{base}/page/{n}"
        nxt = f"{base}/page/{n + 1}" if n < len(feed_pages) else None
        res = xml(render.atom("Президент России" if host == "kremlin.ru" else "President of Russia", self_url,
                              _newest(listed) or datetime.now().astimezone(), chunk, nxt),
                  "application/atom+xml; charset=utf-8", _newest(listed))
        if n == 1:
            catalog.add(f"{base}/", res)
            catalog.add(base, res)
        else:
            catalog.add(self_url, res)
    list_entries = list(entries)
    if faults and source == "kremlin-ru":
        list_entries.insert(0, (f"{scheme}://{host}/events/president/news/990004", listed[0] if listed else None))
        catalog.expected.append(ExpectedArticle(source, list_entries[0][0], "error:robots_disallowed"))
    list_pages = pages([e for e in list_entries if e[1] is not None])
    lbase = f"{scheme}://{host}/events/president/news"
    for n, chunk in enumerate(list_pages, start=1):
        nxt = f"{lbase}/page/{n + 1}" if n < len(list_pages) else None
        res = html(render.kremlin_list("ru", chunk, nxt))
        res.conditional, res.last_modified = True, _newest(listed)
        catalog.add(lbase if n == 1 else f"{lbase}/page/{n}", res)


# --- mid.ru ----------------------------------------------------------------------------


def _mid(catalog: Catalog, source: str, scheme: str, host: str, items: list[CorpusItem], faults: bool,
         corpus: dict[str, list[CorpusItem]], shared_dir: Path) -> None:
    lang = source.split("-")[1]

    def url(article_id: int) -> str:
        return f"{scheme}://{host}/{lang}/foreign_policy/news/{article_id}/"

    entries = [(url(i.article_id), i) for i in items]
    for n, i in enumerate(items):
        res = html(render.mid_article(i, url(i.article_id)))
        if faults and n == 0 and lang == "ru":
            res.fault = "reset_once"
        catalog.article(source, url(i.article_id), res)
    if faults and items:
        if lang == "ru":
            catalog.article(source, url(990001), html(render.js_challenge()), "blocked:js_challenge")
            entries.insert(0, (url(990001), clone(items[0], 990001)))
        else:
            catalog.expected.append(ExpectedArticle(source, url(990404), "error:http_404"))
            entries.insert(0, (url(990404), clone(items[0], 990404)))
    newest = _newest(items)
    catalog.add(f"{scheme}://{host}/{lang}/rss.php",
                xml(render.rss("МИД России" if lang == "ru" else "MFA Russia", f"{scheme}://{host}/{lang}/", lang,
                               entries[:PAGE_SIZE]), when=newest))
    list_pages = pages(entries)
    for n, chunk in enumerate(list_pages, start=1):
        base = f"{scheme}://{host}/{lang}/foreign_policy/news/"
        nxt = f"{base}?PAGEN_1={n + 1}" if n < len(list_pages) else None
        res = html(render.mid_list(lang, chunk, nxt))
        res.conditional, res.last_modified = True, newest
        catalog.add(base if n == 1 else f"{base}?PAGEN_1={n}", res)


# --- TASS ------------------------------------------------------------------------------


def _tass(catalog: Catalog, source: str, scheme: str, host: str, items: list[CorpusItem], faults: bool,
          corpus: dict[str, list[CorpusItem]], shared_dir: Path) -> None:
    def url(i: CorpusItem) -> str:
        return f"{scheme}://{host}/{i.section}/{i.article_id}"

    entries = [(url(i), i) for i in items]
    for n, i in enumerate(items):
        res = html(render.tass_article(i, url(i)))
        if faults and n == 0 and host == "tass.ru":
            res.fault = "429_once"
        catalog.article(source, url(i), res)
    feed_entries = entries[:FEED_SIZE]
    if faults and items and host == "tass.ru":
        bad = clone(items[0], 990003)
        catalog.expected.append(ExpectedArticle(source, url(bad), "error:offsite_redirect"))
        catalog.add(url(bad), Resource(b"", status=302, headers={"Location": "https://evil.example.net/990003"}))
        feed_entries.insert(0, (url(bad), bad))
        # the same story with tracking parameters: one article, not two
        feed_entries.append((url(items[0]) + "?utm_source=yxnews&utm_medium=desktop", items[0]))
    if faults and items and host == "tass.com":
        empty, pdf = clone(items[0], 990005), clone(items[0], 990006)
        catalog.article(source, url(empty), Resource(b""), "error:empty_body")
        catalog.article(source, url(pdf), Resource(b"%PDF-1.4\n%\xe2\xe3\n", "application/pdf"), "error:not_html")
        feed_entries[:0] = [(url(empty), empty), (url(pdf), pdf)]
    newest = _newest(items)
    title = "ТАСС" if host == "tass.ru" else "TASS"
    catalog.add(f"{scheme}://{host}/rss/v2.xml",
                xml(render.rss(title, f"{scheme}://{host}/", items[0].lang if items else "ru", feed_entries),
                    when=newest))
    if host == "tass.ru":
        catalog.add(f"{scheme}://{host}/rss/yandex.xml",
                    xml(render.rss(title, f"{scheme}://{host}/", "ru", feed_entries, full_text="yandex"), when=newest))
        half = len(entries) // 2
        parts = [("sitemap_news1.xml", entries[:half]), ("sitemap_news2.xml.gz", entries[half:])]
    else:
        parts = [("sitemap_news.xml", entries)]
    index = []
    for name, chunk in parts:
        body = render.news_sitemap(chunk, title, items[0].lang if items else "ru").encode()
        ctype = "application/xml"
        if name.endswith(".gz"):
            body, ctype = gzip.compress(body, mtime=0), "application/x-gzip"
        catalog.add(f"{scheme}://{host}/{name}", Resource(body, ctype, conditional=True, last_modified=newest))
        index.append((f"{scheme}://{host}/{name}", _newest([i for _, i in chunk])))
    catalog.add(f"{scheme}://{host}/sitemap.xml", xml(render.sitemap_index(index), "application/xml", newest))


# --- RIA Novosti and Sputnik ------------------------------------------------------------


def _ria(catalog: Catalog, source: str, scheme: str, host: str, items: list[CorpusItem], faults: bool,
         corpus: dict[str, list[CorpusItem]], shared_dir: Path) -> None:
    publisher = "РИА Новости" if host == "ria.ru" else "Sputnik"

    def url(i: CorpusItem) -> str:
        return f"{scheme}://{host}/{i.published:%Y%m%d}/{i.slug}-{i.article_id}.html"

    entries = [(url(i), i) for i in items]
    for n, i in enumerate(items):
        res = html(render.ria_article(i, url(i), publisher))
        if faults and n == 1:
            res.fault = "503_once"
        catalog.article(source, url(i), res)
    feed_entries = entries[:FEED_SIZE]
    if faults and items and host == "ria.ru":
        big, koi = clone(items[0], 990007), clone(items[0], 990008)
        catalog.article(source, url(big), Resource(b"<html><body>" + b"x" * OVERSIZE_BYTES + b"</body></html>"),
                        "error:oversize")
        catalog.article(source, url(koi), html(render.ria_article(koi, url(koi), publisher).replace(
            '<meta charset="utf-8">', ""), "koi8-r"), encoding="koi8-r")
        feed_entries[:0] = [(url(big), big), (url(koi), koi)]
        feed_entries.append((url(items[0]).replace(f"{host}/", f"{host}/amp/", 1), items[0]))
        if len(items) > 1:
            feed_entries.append((url(items[1]).replace(".html", "-print.html"), items[1]))
    newest = _newest(items)
    feed = render.rss(publisher, f"{scheme}://{host}/", items[0].lang if items else "ru", feed_entries)
    if faults and host == "sputnikglobe.com":
        feed = feed.replace("<channel><title>Sputnik", "<channel><title>Sputnik & Radio").rsplit("</item>", 1)[0]
    catalog.add(f"{scheme}://{host}/export/rss2/archive/index.xml", xml(feed, when=newest))
    days: dict[str, list[tuple[str, CorpusItem]]] = {}
    for entry in entries:
        days.setdefault(f"{entry[1].published:%Y%m%d}", []).append(entry)
    index = []
    for day, chunk in sorted(days.items(), reverse=True):
        loc = f"{scheme}://{host}/sitemap_article.xml?date_start={day}&date_end={day}"
        catalog.add(loc, xml(render.news_sitemap(chunk, publisher, chunk[0][1].lang), "application/xml",
                             _newest([i for _, i in chunk])))
        index.append((loc, _newest([i for _, i in chunk])))
    catalog.add(f"{scheme}://{host}/sitemap_article_index.xml", xml(render.sitemap_index(index), "application/xml",
                                                                    newest))


# --- RT --------------------------------------------------------------------------------


def _rt(catalog: Catalog, source: str, scheme: str, host: str, items: list[CorpusItem], faults: bool,
        corpus: dict[str, list[CorpusItem]], shared_dir: Path) -> None:
    def url(i: CorpusItem) -> str:
        if host == "www.rt.com":
            return f"{scheme}://{host}/{i.section}/{i.article_id}-{i.slug}/"
        return f"{scheme}://{host}/{i.section}/news/{i.article_id}-{i.slug}"

    entries = [(url(i), i) for i in items]
    for i in items:
        catalog.article(source, url(i), html(render.rt_article(i, url(i))))
    feed_entries = entries[:FEED_SIZE]
    if faults and items and host == "www.rt.com":
        bad = clone(items[0], 990002)
        catalog.article(source, url(bad), html(render.js_challenge()), "blocked:js_challenge")
        feed_entries.insert(0, (url(bad), bad))
        feed_entries.append((url(items[0]) + "?utm_source=rss&utm_medium=rss&utm_campaign=RSS", items[0]))
    newest = _newest(items)
    rss = render.rss("RT", f"{scheme}://{host}/", items[0].lang if items else "en", feed_entries,
                     full_text="content", read_more=host == "www.rt.com")
    catalog.add(f"{scheme}://{host}/rss/" if host == "www.rt.com" else f"{scheme}://{host}/rss", xml(rss, when=newest))
    if host == "www.rt.com":
        catalog.add(f"{scheme}://{host}/newssitemap.xml",
                    xml(render.news_sitemap(entries, "RT", "en"), "application/xml", newest))


# --- BelTA -----------------------------------------------------------------------------


def _belta(catalog: Catalog, source: str, scheme: str, host: str, items: list[CorpusItem], faults: bool,
           corpus: dict[str, list[CorpusItem]], shared_dir: Path) -> None:
    # www.belta.by serves windows-1251 (declared in the header and in <meta>); the others utf-8.
    charset = "windows-1251" if host == "www.belta.by" else "utf-8"

    def url(i: CorpusItem) -> str:
        return f"{scheme}://{host}/{i.section}/view/{i.slug}-{i.article_id}-{i.published.year}/"

    entries = [(url(i), i) for i in items]
    for i in items:
        catalog.article(source, url(i), html(render.belta_article(i, url(i), charset), charset), encoding=charset)
    if faults and items and host == "www.belta.by":
        meta_only, undeclared = clone(items[0], 990009), clone(items[0], 990010)
        catalog.article(source, url(meta_only), html(render.belta_article(meta_only, url(meta_only), charset),
                                                     charset, header_charset=False), encoding=charset)
        catalog.article(source, url(undeclared), html(render.belta_article(undeclared, url(undeclared), None),
                                                      charset, header_charset=False), encoding=charset,
                        encoding_declared=False)
        entries[:0] = [(url(meta_only), meta_only), (url(undeclared), undeclared)]
    newest = _newest(items)
    rss = render.rss("БелТА", f"{scheme}://{host}/", items[0].lang if items else "ru", entries[:PAGE_SIZE])
    catalog.add(f"{scheme}://{host}/rss", xml(rss, when=newest))
    list_pages = pages(entries)
    for n, chunk in enumerate(list_pages, start=1):
        base = f"{scheme}://{host}/all_news/"
        nxt = f"{base}page/{n + 1}/" if n < len(list_pages) else None
        res = html(render.belta_list(items[0].lang if items else "ru", chunk, nxt), charset)
        res.conditional, res.last_modified = True, newest
        catalog.add(base if n == 1 else f"{base}page/{n}/", res)


# --- Telegram --------------------------------------------------------------------------


def _telegram(catalog: Catalog, source: str, scheme: str, host: str, items: list[CorpusItem], faults: bool,
              corpus: dict[str, list[CorpusItem]], shared_dir: Path) -> None:
    base = f"{scheme}://{host}"
    posts = sorted(items, key=lambda i: i.article_id)  # oldest first, as the preview page shows them
    newest = _newest(items)
    for p in posts:
        catalog.expected.append(ExpectedArticle(source, f"{base}/{TELEGRAM_CHANNEL}/{p.article_id}", "archived",
                                                "telegram_post"))
    cursor: int | None = None
    while True:
        older = [p for p in posts if cursor is None or p.article_id < cursor][-PAGE_SIZE:]
        if not older and cursor is not None:
            break
        before = older[0].article_id if older and any(p.article_id < older[0].article_id for p in posts) else None
        res = html(render.telegram_page(TELEGRAM_CHANNEL, base, older, before))
        res.conditional, res.last_modified = True, newest
        catalog.add(f"{base}/s/{TELEGRAM_CHANNEL}" + (f"?before={cursor}" if cursor else ""), res)
        if before is None:
            break
        cursor = before

