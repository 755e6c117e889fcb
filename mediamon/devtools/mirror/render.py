"""Markup of the mirrored sites: feeds, sitemaps, list pages, article pages, Telegram previews.

Each function reproduces the structure (element names, classes, namespaces)
that the real site uses, per ../shared/docs/SOURCES.md; content comes from the
corpus. Links are absolute URLs of the real site: the crawler maps them to the
mirror through MEDIAMON_URL_REWRITE, exactly as it would map them to a proxy.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from email.utils import format_datetime
from html import escape
from urllib.parse import quote

from mediamon.devtools.mirror.corpus import CorpusItem, PostShape

RU_MONTHS = ["января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября",
             "октября", "ноября", "декабря"]


def x(text: str) -> str:
    return escape(text, quote=True)


def paragraphs(item: CorpusItem, cls: str = "") -> str:
    attr = f' class="{cls}"' if cls else ""
    return "\n".join(f"<p{attr}>{x(p)}</p>" for p in item.body)


def page(lang: str, head: str, body: str, charset: str | None = "utf-8") -> str:
    meta = f'<meta charset="{charset}">' if charset else ""
    return f"<!DOCTYPE html>\n<html lang=\"{lang}\"><head>{meta}{head}</head><body>{body}</body></html>\n"


def og(item: CorpusItem, url: str) -> str:
    return (f'<title>{x(item.title)}</title><link rel="canonical" href="{x(url)}">'
            f'<meta property="og:title" content="{x(item.title)}">'
            f'<meta property="og:description" content="{x(item.lead)}">'
            f'<meta property="og:url" content="{x(url)}"><meta property="og:type" content="article">')


def json_ld(item: CorpusItem, url: str, publisher: str) -> str:
    data = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": item.title,
            "description": item.lead, "datePublished": item.published.isoformat(), "url": url,
            "articleBody": "\n\n".join(item.body), "inLanguage": item.lang,
            "author": [{"@type": "Person", "name": a} for a in item.authors],
            "publisher": {"@type": "Organization", "name": publisher}, "keywords": item.tags}
    return f'<script type="application/ld+json">{json.dumps(data, ensure_ascii=False)}</script>'


# --- article pages -------------------------------------------------------------------


def kremlin_article(item: CorpusItem, url: str, alternate: str | None) -> str:
    date_ru = f"{item.published.day} {RU_MONTHS[item.published.month - 1]} {item.published.year} года"
    alt = f'<link rel="alternate" type="text/html" hreflang="{"en" if "//en." in alternate else "ru"}" ' \
          f'href="{x(alternate)}"/>' if alternate else ""
    tags = " ".join(f'<a rel="tag" href="/catalog/keywords/{i}">{x(t)}</a>' for i, t in enumerate(item.tags))
    body = (f'<div class="hentry h-entry hentry_event"><h1 class="entry-title p-name">{x(item.title)}</h1>'
            f'<div class="read__meta"><time class="read__published" datetime="{item.published.date()}" '
            f'itemprop="datePublished">{date_ru}</time><div class="read__time">{item.published:%H:%M}</div>'
            f'<div class="read__place p-location">Москва, Кремль</div></div>'
            f'<div class="read__lead entry-summary p-summary"><p>{x(item.lead)}</p></div>'
            f'<div class="entry-content e-content read__internal_content">{paragraphs(item)}</div>'
            f'<div class="read__tags">{tags}</div></div>')
    return page(item.lang, og(item, url) + alt, body)


def mid_article(item: CorpusItem, url: str) -> str:
    body = (f'<div class="photo-content"><h1 class="photo-content__title">{x(item.title)}</h1>'
            f'<p class="article-line__note">{item.published:%d.%m.%Y %H:%M} {item.article_id}-'
            f'{item.published:%d-%m-%Y}</p>'
            f'<div class="text article-content"><p><b>{x(item.lead)}</b></p>{paragraphs(item)}</div></div>')
    return page(item.lang, og(item, url), body)


def tass_article(item: CorpusItem, url: str) -> str:
    # tass.ru renders with hashed CSS module classes that change between deploys.
    authors = "".join(f'<span class="Author_name__q7Zx2">{x(a)}</span>' for a in item.authors)
    body = (f'<main class="Layout_main__Z1XhP"><h1 class="NewsHeader_titles__eLz1D">{x(item.title)}</h1>'
            f'<div class="NewsHeader_lead__Tc8GV">{x(item.lead)}</div>{authors}'
            f'<div class="PublishedMark_date__LG42P">{item.published:%d.%m.%Y %H:%M}</div>'
            f'<article class="Content_wrapper__DiQ1a text-content">{paragraphs(item, "Paragraph_paragraph__9WAFK")}'
            f'</article></main>')
    head = og(item, url) + f'<meta property="article:published_time" content="{item.published.isoformat()}">'
    return page(item.lang, head + json_ld(item, url, "TASS"), body)


def ria_article(item: CorpusItem, url: str, publisher: str) -> str:
    blocks = "".join(f'<div class="article__block" data-type="text"><div class="article__text">{x(p)}</div></div>'
                     for p in item.body)
    body = (f'<div class="article" data-article-id="{item.article_id}"><div class="article__header">'
            f'<h1 class="article__title">{x(item.title)}</h1>'
            f'<div class="article__second-title">{x(item.lead)}</div>'
            f'<div class="article__info-date"><a href="#">{item.published:%H:%M %d.%m.%Y}</a></div></div>'
            f'<div class="article__body">{blocks}</div></div>')
    head = og(item, url) + f'<meta property="article:published_time" content="{item.published:%Y%m%dT%H%M}">'
    return page(item.lang, head + json_ld(item, url, publisher), body)


def rt_article(item: CorpusItem, url: str) -> str:
    authors = "".join(f'<a class="article__author-text" href="#">{x(a)}</a>' for a in item.authors)
    body = (f'<div class="article"><h1 class="article__heading">{x(item.title)}</h1>'
            f'<div class="article__date"><span class="date date_article-header">'
            f'{item.published:%d %b, %Y %H:%M}</span></div>{authors}'
            f'<div class="article__summary summary">{x(item.lead)}</div>'
            f'<div class="article__text text">{paragraphs(item)}</div></div>')
    return page(item.lang, og(item, url) + json_ld(item, url, "RT"), body)


def belta_article(item: CorpusItem, url: str, charset: str | None) -> str:
    date_full = f"{item.published.day:02d} {RU_MONTHS[item.published.month - 1]} {item.published.year}, " \
                f"{item.published:%H:%M}"
    body = (f'<div class="content_margin"><h1>{x(item.title)}</h1><div class="date_full">{date_full}</div>'
            f'<div class="js-mediator-article" itemprop="articleBody"><p><strong>{x(item.lead)}</strong></p>'
            f'{paragraphs(item)}</div></div>')
    head = og(item, url)
    if charset:  # declared only in <meta http-equiv>, the old BelTA way
        head = f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">' + head
    return page(item.lang, head, body, charset=None)


# --- lists --------------------------------------------------------------------------


def kremlin_list(lang: str, entries: list[tuple[str, CorpusItem]], next_url: str | None) -> str:
    items = "".join(f'<div class="hentry hentry_event"><h3 class="hentry__title"><a href="{x(url)}">{x(i.title)}</a>'
                    f'</h3><time datetime="{i.published.isoformat()}">{i.published:%d.%m.%Y}</time></div>'
                    for url, i in entries)
    more = f'<a class="button button_green more-news" href="{x(next_url)}">Ещё</a>' if next_url else ""
    return page(lang, "<title>Новости</title>", f'<div class="events">{items}</div>{more}')


def mid_list(lang: str, entries: list[tuple[str, CorpusItem]], next_url: str | None) -> str:
    items = "".join(f'<li class="announce__item"><span class="announce__date">{i.published:%d.%m.%Y}</span>'
                    f'<span class="announce__time">{i.published:%H:%M}</span>'
                    f'<a class="announce__link" href="{x(url)}">{x(i.title)}</a></li>' for url, i in entries)
    more = f'<a class="pagination__next" href="{x(next_url)}">Следующая</a>' if next_url else ""
    return page(lang, "<title>Новости</title>", f'<ul class="announce">{items}</ul>{more}')


def belta_list(lang: str, entries: list[tuple[str, CorpusItem]], next_url: str | None) -> str:
    items = "".join(f'<div class="lenta_item"><span class="date">{i.published:%H:%M}</span>'
                    f'<a class="lenta_item_title" href="{x(url)}">{x(i.title)}</a></div>' for url, i in entries)
    more = f'<a class="pag_next" href="{x(next_url)}">Показать ещё</a>' if next_url else ""
    return page(lang, "<title>Все новости</title>", f'<div class="lenta">{items}</div>{more}', charset=None)


# --- feeds --------------------------------------------------------------------------


def rss(channel_title: str, link: str, lang: str, entries: list[tuple[str, CorpusItem]], *,
        full_text: str | None = None, read_more: bool = False) -> str:
    """RSS 2.0; ``full_text`` = "yandex" (yandex:full-text) or "content" (content:encoded)."""
    out = []
    for url, i in entries:
        desc = i.lead + (" Read Full Article at RT.com" if read_more else "")
        extra = ""
        if full_text == "yandex":
            extra = f"<yandex:full-text>{x(chr(10).join(i.body))}</yandex:full-text>"
        elif full_text == "content":
            extra = f"<content:encoded><![CDATA[{paragraphs(i)}]]></content:encoded>"
        authors = "".join(f"<author>{x(a)}</author>" for a in i.authors[:1])
        cats = "".join(f"<category>{x(t)}</category>" for t in i.tags)
        out.append(f"<item><title>{x(i.title)}</title><link>{x(url)}</link><guid>{x(url)}</guid>"
                   f"<pubDate>{format_datetime(i.published)}</pubDate><description>{x(desc)}</description>"
                   f'{authors}{cats}<media:content url="{x(link)}static/{i.article_id}.jpg" medium="image"/>'
                   f"{extra}</item>")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" xmlns:yandex="http://news.yandex.ru" '
            'xmlns:media="http://search.yahoo.com/mrss/" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
            f"<channel><title>{x(channel_title)}</title><link>{x(link)}</link><language>{lang}</language>"
            f"<description>{x(channel_title)}</description>{''.join(out)}</channel></rss>\n")


def atom(title: str, self_url: str, updated: datetime, entries: list[tuple[str, CorpusItem]],
         next_url: str | None) -> str:
    out = []
    for url, i in entries:
        out.append(f'<entry><title>{x(i.title)}</title><link rel="alternate" href="{x(url)}"/><id>{x(url)}</id>'
                   f"<published>{i.published.isoformat()}</published><updated>{i.published.isoformat()}</updated>"
                   f"<summary>{x(i.lead)}</summary>"
                   f'<content type="html">{x(paragraphs(i))}</content></entry>')
    nxt = f'<link rel="next" href="{x(next_url)}"/>' if next_url else ""
    return ('<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
            f'<title>{x(title)}</title><link rel="self" href="{x(self_url)}"/>{nxt}<id>{x(self_url)}</id>'
            f"<updated>{updated.isoformat()}</updated>{''.join(out)}</feed>\n")


# --- sitemaps -----------------------------------------------------------------------


def sitemap_index(locs: list[tuple[str, datetime | None]]) -> str:
    body = "".join(f"<sitemap><loc>{x(loc)}</loc>" + (f"<lastmod>{mod.isoformat()}</lastmod>" if mod else "")
                   + "</sitemap>" for loc, mod in locs)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{body}</sitemapindex>\n')


def news_sitemap(entries: list[tuple[str, CorpusItem]], publication: str, lang: str) -> str:
    body = "".join(
        f"<url><loc>{x(url)}</loc><lastmod>{i.published.isoformat()}</lastmod><news:news><news:publication>"
        f"<news:name>{x(publication)}</news:name><news:language>{lang}</news:language></news:publication>"
        f"<news:publication_date>{i.published.isoformat()}</news:publication_date>"
        f"<news:title>{x(i.title)}</news:title></news:news></url>" for url, i in entries)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            f'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">{body}</urlset>\n')


# --- telegram -----------------------------------------------------------------------


TELEGRAM_OWNER = "МИД России 🇷🇺"
# what Telegram turns into markup inside a post's text: emoji (an image with the character inside),
# links and hashtags
EMOJI_RE = re.compile("[\U0001F1E6-\U0001F1FF]{2}|[\u2600-\u27BF\U0001F300-\U0001FAFF]\uFE0F?")
LINK_RE = re.compile(r"(?<![\w/&])(#\w+|https?://\S+[\w/]|[a-z0-9-]+\.(?:ru|by|com)\b(?:/\S*[\w/])?)")


def telegram_inline(text: str) -> str:
    """Escaped text with the markup the preview gives emoji, hashtags and links."""
    out = x(text)
    out = EMOJI_RE.sub(lambda m: f'<i class="emoji" style="background-image:url(\'//telegram.org/img/emoji/40/'
                                 f'{m[0].encode().hex().upper()}.png\')"><b>{m[0]}</b></i>', out)

    def link(m: re.Match[str]) -> str:
        if m[0].startswith("#"):
            return f'<a href="?q=%23{quote(m[0][1:])}">{m[0]}</a>'
        href = m[0] if "://" in m[0] else f"http://{m[0]}"
        return (f'<a href="{href}" target="_blank" rel="noopener" '
                f'onclick="return confirm(\'Open this link?\\n\\n\'+this.href);">{m[0]}</a>')

    return LINK_RE.sub(link, out)


def telegram_post(channel: str, base: str, p: CorpusItem) -> str:
    """One post as the preview prints it: avatar, owner, forward/reply header, photo, text, views, date."""
    shape = p.telegram or PostShape()
    paragraphs = [telegram_inline(t) for t in [p.title, *p.body] if t]
    if shape.quote and len(paragraphs) > 1:
        paragraphs[-1] = f"<blockquote>{paragraphs[-1]}</blockquote>"
    owner = f'<span dir="auto">{telegram_inline(TELEGRAM_OWNER)}</span>'
    head = (f'<div class="tgme_widget_message_author accent_color"><a class="tgme_widget_message_owner_name" '
            f'href="{base}/{channel}">{owner}</a></div>')
    if shape.forwarded_from:
        head += (f'<div class="tgme_widget_message_forwarded_from accent_color">Forwarded from <a class='
                 f'"tgme_widget_message_forwarded_from_name" href="{base}/{shape.forwarded_from}">'
                 f'<span dir="auto">{x(shape.forwarded_from)}</span></a></div>')
    if shape.reply_to:
        head += (f'<a class="tgme_widget_message_reply" href="{base}/{channel}/{shape.reply_to}">'
                 f'<div class="tgme_widget_message_author accent_color"><span class="tgme_widget_message_author_name" '
                 f'dir="auto">{telegram_inline(TELEGRAM_OWNER)}</span></div><div class="tgme_widget_message_text '
                 f'js-message_reply_text" dir="auto">{telegram_inline(shape.reply_quote)}</div></a>')
    if shape.photo:
        head += (f'<a class="tgme_widget_message_photo_wrap {p.article_id}_457239017 blured js-message_photo" '
                 f'style="width:800px;background-image:url(\'https://cdn4.telesco.pe/file/{p.article_id}.jpg\')" '
                 f'data-ratio="1.5" href="{base}/{channel}/{p.article_id}"><div class="tgme_widget_message_photo '
                 f'js-message_photo_wrap" style="padding-top:66.67%"></div></a>')
    views = (f'<span class="tgme_widget_message_views">{shape.views}</span><span class="copyonly"> views</span>'
             if shape.views else "")
    published = p.published.astimezone(UTC)
    return (
        f'<div class="tgme_widget_message_wrap js-widget_message_wrap"><div class="tgme_widget_message '
        f'text_not_supported_wrap js-widget_message" data-post="{channel}/{p.article_id}">'
        f'<div class="tgme_widget_message_user"><a href="{base}/{channel}"><i class="tgme_widget_message_user_photo '
        f'bgcolor3" data-content="М"></i></a></div>'
        f'<div class="tgme_widget_message_bubble">{head}<div class="tgme_widget_message_text js-message_text" '
        f'dir="auto">{"<br/><br/>".join(paragraphs)}</div><div class="tgme_widget_message_footer compact '
        f'js-message_footer"><div class="tgme_widget_message_info short js-message_info">{views}'
        f'<span class="tgme_widget_message_meta"><a class="tgme_widget_message_date" '
        f'href="{base}/{channel}/{p.article_id}"><time datetime="{published.isoformat()}" class="time">'
        f'{published:%H:%M}</time></a></span></div></div></div></div></div>')


def telegram_page(channel: str, base: str, posts: list[CorpusItem], before: int | None) -> str:
    more = (f'<div class="tgme_widget_message_centered js-messages_more_wrap"><a href="/s/{channel}?before={before}" '
            f'class="tme_messages_more js-messages_more" data-before="{before}"></a></div>') if before else ""
    return page("ru", f"<title>{x(TELEGRAM_OWNER)} – Telegram</title>",
                f'<main class="tgme_main"><section class="tgme_channel_history js-message_history">{more}'
                f'{"".join(telegram_post(channel, base, p) for p in posts)}</section></main>')


def js_challenge() -> str:
    """What DDoS-Guard / StormWall answer with status 200 instead of the article."""
    return page("en", "<title>DDoS-Guard</title><script>var s=document.createElement('script');"
                      "s.src='/.well-known/ddos-guard/check?context=free_splash';document.head.appendChild(s);"
                      "</script>",
                "<noscript>Please enable JavaScript and cookies to continue</noscript>"
                '<div id="ddg-challenge">Checking your browser before accessing the website.</div>')

