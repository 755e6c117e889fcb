"""A ``t.me/s/MFARussia`` page with every post shape the real preview shows, built to its real markup.

The structure (wrappers, classes, attribute order, the reply block carrying the replied-to post's
own ``tgme_widget_message_text``, ``<i class="emoji">`` images with the character inside, abbreviated
view counts, the "Forwarded from" line, photo and link-preview blocks) follows real saved
``t.me/s/<channel>`` pages; the texts are invented. ``POSTS`` is the ground truth the tests check.
"""

from __future__ import annotations

from dataclasses import dataclass

CHANNEL = "MFARussia"


def _emoji(code: str, char: str) -> str:
    """Telegram prints an emoji as an image with the character inside (what copy and paste give)."""
    image = f"//telegram.org/img/emoji/40/{code}.png"
    return f'<i class="emoji" style="background-image:url(\'{image}\')"><b>{char}</b></i>'


EMOJI_RU, EMOJI_BY, EMOJI_SPEECH = (_emoji("F09F87B7F09F87BA", "🇷🇺"), _emoji("F09F87A7F09F87BE", "🇧🇾"),
                                    _emoji("F09F92AC", "💬"))
OWNER = (f'<div class="tgme_widget_message_author accent_color"><a class="tgme_widget_message_owner_name" '
         f'href="https://t.me/{CHANNEL}"><span dir="auto">МИД России {EMOJI_RU}</span></a></div>')


@dataclass(frozen=True)
class Post:
    """One post of the page and what must come out of it."""

    post_id: int
    inner: str  # the bubble's content between the owner line and the footer
    published: str  # <time datetime>, UTC as the page prints it
    views: str | None  # the count as shown ("15.2K"), None when the page shows none
    text: str | None  # the post's own text, lines joined by "\n"; None: no text (media only)
    reply_to: int | None = None
    forwarded_from: str | None = None
    views_count: int | None = None


def _post(p: Post) -> str:
    views = (f'<span class="tgme_widget_message_views">{p.views}</span><span class="copyonly"> views</span>'
             if p.views else "")
    return (
        '<div class="tgme_widget_message_wrap js-widget_message_wrap">'
        '<div class="tgme_widget_message text_not_supported_wrap js-widget_message" '
        f'data-post="{CHANNEL}/{p.post_id}" data-view="eyJjIjotMTA2NjUzMjA2MiwicCI6{p.post_id}">\n'
        f'<div class="tgme_widget_message_user"><a href="https://t.me/{CHANNEL}">'
        '<i class="tgme_widget_message_user_photo bgcolor3" data-content="М"><img src="https://cdn4.telesco.pe/file/avatar.jpg"></i></a></div>\n'
        '<div class="tgme_widget_message_bubble"><i class="tgme_widget_message_bubble_tail"><svg class="bubble_icon" '
        'width="9px" height="20px" viewBox="0 0 9 20"><g fill="none"><path class="background" fill="#ffffff" '
        'd="M8,1 L9,1 L9,20 L8,20 Z"></path></g></svg></i>\n'
        f'{OWNER}\n{p.inner}\n'
        '<div class="tgme_widget_message_footer compact js-message_footer">'
        f'<div class="tgme_widget_message_info short js-message_info">{views}<span class="tgme_widget_message_meta">'
        f'<a class="tgme_widget_message_date" href="https://t.me/{CHANNEL}/{p.post_id}">'
        f'<time datetime="{p.published}" class="time">{p.published[11:16]}</time></a></span></div></div>\n'
        '</div></div></div>\n')


def _text(html: str) -> str:
    return f'<div class="tgme_widget_message_text js-message_text" dir="auto">{html}</div>'


def _reply(post_id: int, quoted: str) -> str:
    """The reply header: the replied-to post's author and the start of its text, linking to it."""
    return (f'<a class="tgme_widget_message_reply" href="https://t.me/{CHANNEL}/{post_id}">'
            '<div class="tgme_widget_message_author accent_color"><span class="tgme_widget_message_author_name" '
            f'dir="auto">МИД России {EMOJI_RU}</span></div>'
            f'<div class="tgme_widget_message_text js-message_reply_text" dir="auto">{quoted}</div></a>')


POSTS = [
    Post(13001, _text(f'{EMOJI_RU}{EMOJI_BY} <a href="?q=%23%D0%9B%D0%B0%D0%B2%D1%80%D0%BE%D0%B2"><b>#Лавров</b></a>: '
                      'Минск не нарушает никаких международных обязательств.<br/><br/>'
                      'Попытки давления на белорусское руководство беспочвенны.'),
         "2021-11-08T07:12:04+00:00", "15.2K",
         "🇷🇺🇧🇾 #Лавров: Минск не нарушает никаких международных обязательств.\n"
         "Попытки давления на белорусское руководство беспочвенны.", views_count=15200),
    # one line: the commonest post on the channel, its title is that line
    Post(13002, _text("Сергей Лавров провёл телефонный разговор с Министром иностранных дел Белоруссии."),
         "2021-11-08T09:30:00+00:00", "9.8K",
         "Сергей Лавров провёл телефонный разговор с Министром иностранных дел Белоруссии.", views_count=9800),
    # a reply: the quoted post's text comes first in the markup and is not this post's text
    Post(13003, _reply(13001, f"{EMOJI_RU}{EMOJI_BY} #Лавров: Минск не нарушает никаких международных обязательств.")
         + _text("Полный текст интервью опубликован на сайте Министерства."),
         "2021-11-08T10:05:31+00:00", "7K",
         "Полный текст интервью опубликован на сайте Министерства.", reply_to=13001, views_count=7000),
    # a forward from another channel, linked to the original post
    Post(13004, '<div class="tgme_widget_message_forwarded_from accent_color">Forwarded from '
                '<a class="tgme_widget_message_forwarded_from_name" href="https://t.me/MID_Russia/4567">'
                f'<span dir="auto">МИД России {EMOJI_RU}</span></a></div>'
                + _text(f"{EMOJI_SPEECH} Комментарий официального представителя МИД России М.В.Захаровой<br/>"
                        "Ситуация на границе Белоруссии с Польшей остаётся напряжённой."),
         "2021-11-09T12:00:00+00:00", "1.2M",
         "💬 Комментарий официального представителя МИД России М.В.Захаровой\n"
         "Ситуация на границе Белоруссии с Польшей остаётся напряжённой.",
         forwarded_from="MID_Russia", views_count=1_200_000),
    # a photo with a one-line caption
    Post(13005, '<a class="tgme_widget_message_photo_wrap 5364160937_457239017 blured js-message_photo" '
                'style="width:800px;background-image:url(\'https://cdn4.telesco.pe/file/photo13005.jpg\')" '
                f'data-ratio="1.5" href="https://t.me/{CHANNEL}/13005"><div class="tgme_widget_message_photo '
                'js-message_photo_wrap" style="padding-top:66.66666667%"></div></a>'
                + _text(f"{EMOJI_BY} Переговоры в Минске, 9 ноября 2021 года"),
         "2021-11-09T14:40:00+00:00", "21K", "🇧🇾 Переговоры в Минске, 9 ноября 2021 года", views_count=21000),
    # text before a quote, a quote of two lines, text after it
    Post(13006, _text("<b>Мария Захарова:</b><br/><blockquote>Европейский союз несёт ответственность за "
                      "происходящее.<br/>Мигранты не должны становиться заложниками.</blockquote>"
                      "Брифинг продолжится в четверг."),
         "2021-11-10T08:00:00+00:00", "12.5K",
         "Мария Захарова:\nЕвропейский союз несёт ответственность за происходящее.\n"
         "Мигранты не должны становиться заложниками.\nБрифинг продолжится в четверг.", views_count=12500),
    # links in the text and a link preview block (the linked page's card is not the post's text)
    Post(13007, _text('Заявление МИД России: <a href="https://mid.ru/ru/foreign_policy/news/1785710/" target="_blank" '
                      'rel="noopener" onclick="return confirm(\'Open this link?\\n\\n\'+this.href);">'
                      'mid.ru/ru/foreign_policy/news/1785710/</a><br/><br/><a href="?q=%23Белоруссия">#Белоруссия</a>')
         + '<a class="tgme_widget_message_link_preview" href="https://mid.ru/ru/foreign_policy/news/1785710/">'
           '<i class="link_preview_right_image" style="background-image:url(\'https://cdn4.telesco.pe/file/p.jpg\')">'
           '</i><div class="link_preview_site_name accent_color" dir="auto">mid.ru</div>'
           '<div class="link_preview_title" dir="auto">Заявление МИД России в связи с ситуацией на границе</div>'
           '<div class="link_preview_description" dir="auto">Текст на сайте министерства</div></a>',
         "2021-11-10T11:15:00+00:00", "8.1K",
         "Заявление МИД России: mid.ru/ru/foreign_policy/news/1785710/\n#Белоруссия", views_count=8100),
    # a forward whose sender hides the link: only the name is shown
    Post(13008, '<div class="tgme_widget_message_forwarded_from accent_color">Forwarded from '
                '<span class="tgme_widget_message_forwarded_from_name">Посольство России в Польше</span></div>'
                + _text("Посольство продолжает следить за ситуацией."),
         "2021-11-11T07:45:00+00:00", None,
         "Посольство продолжает следить за ситуацией.", forwarded_from="Посольство России в Польше"),
    # a reply in the newer markup (metatext) to a photo post, with a one-line answer
    Post(13009, f'<a class="tgme_widget_message_reply" href="https://t.me/{CHANNEL}/13005?single">'
                '<i class="tgme_widget_message_reply_thumb" style="background-image:url(\'https://cdn4.telesco.pe/'
                'file/t.jpg\')"></i><div class="tgme_widget_message_author accent_color"><span class='
                f'"tgme_widget_message_author_name" dir="auto">МИД России {EMOJI_RU}</span></div>'
                '<div class="tgme_widget_message_metatext js-message_reply_text" dir="auto">Photo</div></a>'
                + _text("Фотографии с переговоров."),
         "2021-11-11T09:00:00+00:00", "3.4K", "Фотографии с переговоров.", reply_to=13005, views_count=3400),
    # a photo without a caption: nothing to index, quarantined with a reason (counted, never silent)
    Post(13010, '<a class="tgme_widget_message_photo_wrap 5364160937_457239018 blured js-message_photo" '
                'style="width:800px;background-image:url(\'https://cdn4.telesco.pe/file/photo13010.jpg\')" '
                f'data-ratio="1.5" href="https://t.me/{CHANNEL}/13010"><div class="tgme_widget_message_photo '
                'js-message_photo_wrap" style="padding-top:66.66666667%"></div></a>',
         "2021-11-11T10:00:00+00:00", "5K", None, views_count=5000),
]
BEFORE = 13001


def channel_page() -> bytes:
    """The whole ``t.me/s/MFARussia`` page: header, the "load older" link, the posts oldest first."""
    posts = "".join(_post(p) for p in POSTS)
    return (
        '<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n<title>МИД России 🇷🇺 – Telegram</title>\n'
        '<meta property="og:title" content="МИД России 🇷🇺">\n<link rel="canonical" href="https://t.me/s/MFARussia">\n'
        '</head>\n<body class="widget_frame_base tgme_webpreview_body">\n<main class="tgme_main">'
        '<div class="tgme_container"><section class="tgme_channel_history js-message_history">\n'
        '<div class="tgme_widget_message_centered js-messages_more_wrap">'
        f'<a href="/s/{CHANNEL}?before={BEFORE}" class="tme_messages_more js-messages_more" data-before="{BEFORE}"></a>'
        f'</div>\n{posts}</section></div></main>\n</body>\n</html>\n').encode()
