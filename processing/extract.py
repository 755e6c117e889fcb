"""Extract: raw HTTP body -> title, lead, text, authors, publication date, declared language.

trafilatura does the article extraction; a source's CSS selector hints from
sources.yaml (data, not code) take precedence where given, because the generic
heuristics drop e.g. RT's summary paragraph. JSON-LD and ``<meta>`` tags feed the
metadata. Bytes are decoded with the HTTP charset, then the page's meta charset,
then detection (w3lib + charset_normalizer): windows-1251 and koi8-r pages are
common on .ru/.by sites and must never crash the batch.

Nothing here cleans, detects the language or tags: a page that yields no article
(JavaScript challenge, empty extraction, undecodable bytes) raises
``ExtractionFailed`` with a reason the runner quarantines and counts.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import charset_normalizer
import htmldate
import lxml.html
import trafilatura
from cssselect import ExpressionError, SelectorSyntaxError
from lxml import etree
from parsel import Selector
from w3lib.encoding import html_to_unicode

from mediamon.core.errors import MediamonError
from processing.dates import (
    DateRejected,
    check_plausible,
    choose_date,
    find_date_in_text,
    find_labelled_date,
    from_day,
    local_zone,
)

BLOCK_TAGS = ("p", "h2", "h3", "h4", "li", "blockquote")
META_DATE_KEYS = ("article:published_time", "og:published_time", "datepublished", "pubdate",
                  "publishdate", "date", "dc.date", "dc.date.issued", "mediator_published_time")
LINE_BREAK = "\ue000"  # private-use marker for <br> while whitespace is collapsed
# characters the HTML parser keeps but lxml refuses when a text is assigned back (hypothesis: "<br>\x08")
XML_REFUSED_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# manifest `feed` keys that may carry the entry's date (the crawler's normalised one first)
FEED_DATE_KEYS = ("published", "published_raw", "updated", "date")
ARTICLE_TYPES = {"newsarticle", "article", "reportagenewsarticle", "blogposting", "analysisnewsarticle"}


class ExtractionFailed(MediamonError):
    """The record holds no article; ``reason`` is the quarantine key, ``detail`` says why."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass
class Extracted:
    """What a page says about itself, before cleaning and language detection."""

    title: str | None
    lead: str | None
    text: str
    authors: list[str]
    published_at: datetime | None
    date_origin: str | None  # which source of truth gave the date: selector, jsonld, meta, feed, htmldate
    declared_lang: str | None
    dates_rejected: list[str] = field(default_factory=list)
    date_precision: str = "minute"  # "day" when the page names only a calendar day (Telegram times have minutes)
    date_disagreements: list[str] = field(default_factory=list)  # feed times the page's own time contradicts
    excluded: Counter[str] = field(default_factory=Counter)  # page parts removed by the source's exclude CSS
    # Document fields only some kinds of page carry (a Telegram post's reply_to, forwarded_from, views)
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PageContext:
    """What the runner knows about a record besides its bytes."""

    url: str
    domain: str
    kind: str = "article"
    selectors: Mapping[str, Any] = field(default_factory=dict)  # Selectors.model_dump(): CSS, exclude a list
    feed: Mapping[str, Any] = field(default_factory=dict)
    fetched_at: datetime | None = None
    zone: str | None = None  # the source's IANA zone; None: guessed from the domain
    date_labels: tuple[str, ...] = ()  # words before a printed publication time (config/extraction.yaml)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.zone) if self.zone else local_zone(self.domain)


def _detect_encoding(body: bytes) -> str | None:
    best = charset_normalizer.from_bytes(body[:200_000]).best()
    return best.encoding if best else None


def decode_html(body: bytes, content_type: str | None) -> str:
    """Unicode text of an HTML body: BOM, HTTP charset, meta charset, then detection."""
    try:
        _encoding, text = html_to_unicode(content_type, body, auto_detect_fun=_detect_encoding)
    except (LookupError, ValueError) as exc:  # an unknown charset name in a header
        raise ExtractionFailed("undecodable", f"cannot decode body: {exc}") from exc
    if text.count("\ufffd") > max(20, len(text) // 50):
        raise ExtractionFailed("undecodable", "body decodes to mostly replacement characters")
    return text


def parse_page(html: str) -> Selector:
    """One lxml parse, shared by selector hints and metadata (parsel: the Scrapy selector engine)."""
    try:
        page = Selector(text=html, type="html")
    except (etree.ParserError, ValueError) as exc:
        raise ExtractionFailed("unparseable", f"not parseable as HTML: {exc}") from exc
    if page.root is None or not isinstance(page.root, lxml.html.HtmlElement | etree._Element):
        raise ExtractionFailed("unparseable", "no HTML document in the body")
    return page


def _text_of(element: lxml.html.HtmlElement) -> str:
    """Text of an element with <br> as line breaks and block children as paragraphs."""
    for br in element.iter("br"):
        br.tail = LINE_BREAK + XML_REFUSED_RE.sub("", br.tail or "")
    blocks = [b for b in element.iter(*BLOCK_TAGS) if not any(a.tag in BLOCK_TAGS for a in b.iterancestors())]
    if not blocks:  # source line breaks are layout; only <br> separates lines
        lines = (" ".join(part.split()) for part in element.text_content().split(LINE_BREAK))
        return "\n".join(line for line in lines if line)
    return "\n".join(t for b in blocks if (t := " ".join(b.text_content().split())))


def _select_text(page: Selector, css: str | None, paragraphs: bool = False) -> str | None:
    """Text of a Scrapy-style CSS hint (``::attr(x)`` and ``::text`` allowed, as in sources.yaml)."""
    if not css:
        return None
    try:
        found = page.css(css)
    except (SelectorSyntaxError, ExpressionError, ValueError) as exc:
        raise ExtractionFailed("bad_selector", f"selector {css!r} is invalid: {exc}") from exc
    texts = []
    for item in found:
        if isinstance(item.root, str):
            texts.append(" ".join(item.root.split()))
        else:
            texts.append(_text_of(item.root) if paragraphs else " ".join(item.root.text_content().split()))
    joined = ("\n" if paragraphs else " ").join(t for t in texts if t)
    return joined or None


def _strip_scripts(tree: lxml.html.HtmlElement) -> None:
    # hidden elements are tooltips and menus (kremlin.ru's person cards), never article text
    hidden = "//*[@hidden or @aria-hidden='true' or contains(concat(' ', normalize-space(@class), ' '), ' hidden ')]"
    for bad in tree.xpath(f"//script[not(@type='application/ld+json')]|//style|//noscript|//template|{hidden}"):
        bad.drop_tree()


def _json_ld(tree: lxml.html.HtmlElement) -> dict[str, Any]:
    """The first Article-like JSON-LD object on the page (malformed blocks are skipped)."""
    for script in tree.xpath("//script[@type='application/ld+json']"):
        try:
            data = json.loads(script.text_content() or "null")
        except ValueError:
            continue
        stack = data if isinstance(data, list) else [data]
        while stack:
            item = stack.pop(0)
            if not isinstance(item, dict):
                continue
            stack.extend(item.get("@graph", []) if isinstance(item.get("@graph"), list) else [])
            kind = item.get("@type")
            kinds = {k.lower() for k in (kind if isinstance(kind, list) else [kind]) if isinstance(k, str)}
            if kinds & ARTICLE_TYPES:
                return item
    return {}


def _meta(tree: lxml.html.HtmlElement) -> dict[str, str]:
    found: dict[str, str] = {}
    for m in tree.xpath("//meta[@content]"):
        key = (m.get("property") or m.get("name") or m.get("itemprop") or m.get("http-equiv") or "").lower()
        if key and key not in found:
            found[key] = m.get("content", "").strip()
    return found


def _ld_authors(ld: dict[str, Any]) -> list[str]:
    author = ld.get("author")
    items = author if isinstance(author, list) else [author]
    names = [a.get("name") if isinstance(a, dict) else a for a in items]
    return [n.strip() for n in names if isinstance(n, str) and n.strip()]


def declared_language(tree: lxml.html.HtmlElement, meta: Mapping[str, str]) -> str | None:
    lang = tree.get("lang") or tree.get("{http://www.w3.org/XML/1998/namespace}lang") \
        or meta.get("content-language") or meta.get("og:locale") or meta.get("inlanguage")
    if not lang:
        return None
    code = re.split(r"[-_,; ]", lang.strip().lower())[0]
    return code if re.fullmatch(r"[a-z]{2,3}", code) else None


def _choose_date(candidates: list[tuple[str, str]], ctx: PageContext, rejected: list[str]
                 ) -> tuple[datetime | None, str | None]:
    """``processing.dates.choose_date`` in the page's zone; implausible candidates go to ``rejected``."""
    chosen = choose_date(candidates, ctx.tz, ctx.fetched_at)
    rejected += chosen.rejected
    return chosen.value, chosen.origin


def _page_dates(page: Selector, ctx: PageContext, ld: Mapping[str, Any],
                meta: Mapping[str, str]) -> list[tuple[str, str]]:
    tree = page.root
    candidates: list[tuple[str, str]] = []
    if hint := _select_text(page, ctx.selectors.get("date")):
        candidates.append(("selector", hint))
    if isinstance(ld.get("datePublished"), str):
        candidates.append(("jsonld", ld["datePublished"]))
    candidates += [("meta", meta[k]) for k in META_DATE_KEYS if meta.get(k)]
    candidates += [("time", t) for t in tree.xpath("//time/@datetime")[:3]]
    for key in FEED_DATE_KEYS:
        if isinstance(ctx.feed.get(key), str):
            candidates.append(("feed", ctx.feed[key]))
    return candidates


def _printed_dates(tree: lxml.html.HtmlElement, ctx: PageContext) -> list[tuple[str, str]]:
    """Times the page prints for readers: after a publication label anywhere ("Publication date:
    December 12, 2012, 16:30" in kremlin.ru's footer, RT's "Published time: 1 Apr, 2016 15:17"), then a
    dateline near the top ("11.11.2021 18:05", "8 ноября 2021, 19:51")."""
    body = tree.find("body")
    text = " ".join(t.strip() for t in (body if body is not None else tree).itertext())
    found = [("printed", find_labelled_date(text, ctx.date_labels, ctx.tz)),
             ("dateline", find_date_in_text(text[:3000], ctx.tz))]
    return [(origin, value) for origin, value in found if value]


def _exclude(page: Selector, selectors: Mapping[str, Any]) -> Counter[str]:
    """Drop the page parts the source says are never article text; count what went, per selector."""
    removed: Counter[str] = Counter()
    for css in selectors.get("exclude") or ():
        try:
            found = page.css(css)
        except (SelectorSyntaxError, ExpressionError, ValueError) as exc:
            raise ExtractionFailed("bad_selector", f"exclude selector {css!r} is invalid: {exc}") from exc
        for item in found:
            if not isinstance(item.root, str):
                item.root.drop_tree()
                removed[f"exclude {css}"] += 1
    return removed


def _htmldate(html: str, ctx: PageContext, rejected: list[str]) -> tuple[datetime | None, str | None]:
    try:
        found = htmldate.find_date(html, url=ctx.url, original_date=True, extensive_search=False)
    except Exception:  # htmldate is a heuristic; its failure only means "no date"
        return None, None
    if not found:
        return None, None
    value = from_day(datetime.fromisoformat(found).date(), ctx.tz)
    try:
        return check_plausible(value, ctx.fetched_at), "htmldate"
    except DateRejected as exc:
        rejected.append(f"htmldate: {exc}")
        return None, None


def is_js_challenge(html: str, text: str, markers: list[str]) -> bool:
    """A bot-protection interstitial: a known marker and no real article text."""
    lowered = html[:50_000].lower()
    return len(text) < 400 and any(m.lower() in lowered for m in markers)


def _trafilatura_text(html: str, ctx: PageContext) -> str:
    result = trafilatura.bare_extraction(html, url=ctx.url, with_metadata=False, include_comments=False,
                                         include_tables=False, deduplicate=False)
    return result.text if result is not None and result.text else ""


def extract_article(html: str, ctx: PageContext, challenge_markers: list[str], min_chars: int) -> Extracted:
    """Extract one HTML article page (trafilatura + selector hints + page metadata)."""
    page = parse_page(html)
    tree = page.root
    meta = _meta(tree)
    ld = _json_ld(tree)
    declared = declared_language(tree, meta)
    _strip_scripts(tree)
    # dates first: the parts excluded below (kremlin.ru's footer) print the publication time
    chosen = choose_date(_page_dates(page, ctx, ld, meta) + _printed_dates(tree, ctx), ctx.tz, ctx.fetched_at)
    excluded = _exclude(page, ctx.selectors)
    # The source's body selector, when it finds text, is the extraction; trafilatura (the costliest step)
    # runs only for sources without hints or pages the hint misses. Metadata comes from our own
    # selector/JSON-LD/meta pass: trafilatura's (htmldate included) would double the cost, and without it
    # trafilatura never runs its extensive date search (dateparser compiling every locale: 8-15 s).
    text = _select_text(page, ctx.selectors.get("body"), paragraphs=True) or _trafilatura_text(
        lxml.html.tostring(tree, encoding="unicode") if excluded else html, ctx)
    if is_js_challenge(html, text, challenge_markers):
        raise ExtractionFailed("js_challenge", "page is a bot-protection/JavaScript challenge, not an article")
    if len(text.strip()) < min_chars:
        raise ExtractionFailed("empty_extraction", f"extracted text has {len(text.strip())} characters "
                                                   f"(minimum {min_chars})")
    title = (_select_text(page, ctx.selectors.get("title")) or (ld.get("headline") if isinstance(
        ld.get("headline"), str) else None) or meta.get("og:title") or _select_text(page, "h1")
             or _select_text(page, "title"))
    page_lead = _select_text(page, ctx.selectors.get("lead"), paragraphs=True)
    if page_lead and not text.lstrip().startswith(page_lead[:80]):
        # a lead printed on the page (RT's summary) is the article's first paragraph for readers
        text = page_lead + "\n" + text
    lead = page_lead or meta.get("og:description") or meta.get("description")
    authors = ([a.strip() for a in (_select_text(page, ctx.selectors.get("authors")) or "").split(",")
                if a.strip()] or _ld_authors(ld)
               or [a.strip() for a in (meta.get("author") or "").split(",") if a.strip()])
    published, origin, precision = chosen.value, chosen.origin, chosen.precision or "day"
    if published is None:
        published, origin = _htmldate(html, ctx, chosen.rejected)
    return Extracted(title=title, lead=lead, text=text, authors=authors, published_at=published,
                     date_origin=origin, declared_lang=declared, dates_rejected=chosen.rejected,
                     date_precision=precision, date_disagreements=chosen.disagreements, excluded=excluded)


# --- Telegram (t.me/s/<channel> preview markup) ---------------------------------------
# A post's own text is the js-message_text div; a reply also carries the replied-to post's text
# (js-message_reply_text, inside a.tgme_widget_message_reply), which is not this post's words.
def _tg(name: str) -> str:
    """XPath test for one class of Telegram's markup (elements carry several classes)."""
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


TG_OWN_TEXT = (f"//div[{_tg('tgme_widget_message_text')}][not({_tg('js-message_reply_text')})]"
               f"[not(ancestor::*[{_tg('tgme_widget_message_reply')}])]")
TG_MEDIA = "|".join(f"//*[{_tg(c)}]" for c in ("tgme_widget_message_photo_wrap", "tgme_widget_message_video_player",
                                              "tgme_widget_message_sticker_wrap", "tgme_widget_message_document"))
TG_BLOCKS = frozenset({"blockquote", "pre", "div", "p", "ul", "ol", "li"})
TG_VIEWS_RE = re.compile(r"(\d{1,12}(?:[.,]\d{1,3})?)\s*([KMB]?)", re.IGNORECASE)
TG_POST_PATH_RE = re.compile(r"/(\w{1,64})/(\d{1,15})/?")  # /<channel>/<id>: Telegram usernames are 5-32 chars
TG_VIEWS_SCALE = {"": 1, "k": 1_000, "m": 1_000_000, "b": 1_000_000_000}


def _telegram_lines(element: lxml.html.HtmlElement) -> str:
    """A post's text as Telegram shows it: ``<br>`` and quote/code blocks break lines, inline markup
    (links, bold, emoji images with their character inside) stays in the line."""
    lines: list[list[str]] = [[]]

    def walk(node: lxml.html.HtmlElement) -> None:
        if node.tag == "br":
            lines.append([])
        block = isinstance(node.tag, str) and node.tag in TG_BLOCKS and node is not element
        if block:
            lines.append([])
        if isinstance(node.tag, str) and node.text:  # comments and processing instructions show nothing
            lines[-1].append(node.text)
        for child in node:
            walk(child)
            if child.tail:
                lines[-1].append(child.tail)
        if block:
            lines.append([])

    walk(element)
    joined = (" ".join("".join(parts).split()) for parts in lines)
    return "\n".join(line for line in joined if line)


def _telegram_views(tree: lxml.html.HtmlElement) -> int | None:
    """``15.2K`` -> 15200: the count the page shows, abbreviated as Telegram prints it."""
    shown = tree.xpath(f"string((//*[{_tg('tgme_widget_message_views')}])[1])").strip()
    match = TG_VIEWS_RE.fullmatch(shown)
    if not match:
        return None
    return round(float(match[1].replace(",", ".")) * TG_VIEWS_SCALE[match[2].lower()])


def _telegram_post_url(href: str | None, post_url: str) -> str | None:
    """``https://t.me/<channel>/<id>[?single]`` -> that post's permalink on the post's own host, else None."""
    parts, own = urlsplit(href or ""), urlsplit(post_url)
    match = TG_POST_PATH_RE.fullmatch(parts.path)
    if not match or (parts.scheme, parts.netloc) != (own.scheme, own.netloc):
        return None
    return f"{own.scheme}://{own.netloc}/{match[1]}/{match[2]}"


def _telegram_forwarded_from(tree: lxml.html.HtmlElement) -> str | None:
    """The channel a forward came from: its username when linked, else the name shown (a hidden sender)."""
    names = tree.xpath(f"//*[{_tg('tgme_widget_message_forwarded_from_name')}]")
    if not names:
        return None
    linked = re.fullmatch(r"/(\w{1,64})(?:/\d+)?/?", urlsplit(names[0].get("href") or "").path)
    return linked[1] if linked else (" ".join(names[0].text_content().split())[:200].rstrip() or None)


def extract_telegram_post(html: str, ctx: PageContext, min_chars: int) -> Extracted:
    """A Telegram channel post: the archived body is the ``div.tgme_widget_message`` fragment."""
    tree = parse_page(html).root
    own = tree.xpath(TG_OWN_TEXT)
    text = _telegram_lines(own[0]) if own else ""
    if len(text) < min_chars:
        media = "media only" if tree.xpath(TG_MEDIA) else "nothing readable"
        raise ExtractionFailed("empty_extraction", f"Telegram post has no text of its own ({media})")
    owner = tree.cssselect(".tgme_widget_message_owner_name")
    first_line = text.split("\n", 1)[0]
    title = first_line if len(first_line) <= 160 else first_line[:157].rsplit(" ", 1)[0] + "…"
    candidates = [("time", t) for t in tree.xpath("//a[contains(@class,'tgme_widget_message_date')]//time/@datetime")]
    candidates += [("feed", ctx.feed[k]) for k in FEED_DATE_KEYS if isinstance(ctx.feed.get(k), str)]
    rejected: list[str] = []
    published, origin = _choose_date(candidates, ctx, rejected)
    reply = tree.xpath(f"//a[{_tg('tgme_widget_message_reply')}]/@href")
    fields = {"reply_to": _telegram_post_url(reply[0], ctx.url) if reply else None,
              "forwarded_from": _telegram_forwarded_from(tree), "views": _telegram_views(tree)}
    return Extracted(title=title, lead=None, text=text, authors=[" ".join(owner[0].text_content().split())]
                     if owner else [], published_at=published, date_origin=origin, declared_lang=None,
                     dates_rejected=rejected, fields={k: v for k, v in fields.items() if v is not None})


def extract(body: bytes, content_type: str | None, ctx: PageContext, challenge_markers: list[str],
            min_chars: int) -> Extracted:
    """Decode and extract one archived response according to its kind."""
    if not body.strip():
        raise ExtractionFailed("empty_body", "the archived response has no body")
    html = decode_html(body, content_type)
    if ctx.kind == "telegram_post":
        return extract_telegram_post(html, ctx, min_chars=1)
    return extract_article(html, ctx, challenge_markers, min_chars)
