"""Pages that change between crawls, on a clock the test sets: what state sources do to their own statements.

Eleven TASS-style articles (tass.ru's real page structure, ``render.tass_article``)
are published at ``PUBLISHED`` and listed in ``FEED_URL`` (two of them instead in
the news sitemap ``SITEMAP_URL`` and the list page ``LIST_URL``, beside the
unchanged one); at ``CHANGED_AFTER`` each does what real ones do — the headline
is rewritten, a figure changed, a paragraph (a quotation) cut, only cosmetics
touched (whitespace, typography, an "updated at" stamp, a view counter), the page
deleted (404), redirected to its section page (301) or turned into a soft-404 (a
"page not found" text with status 200) or dropped from the feed, the sitemap or the
list page while the page stays — and one stays as it was (answers 304). At
``RESTORED_AFTER`` the deleted page is back as it was first published (a
statement pulled, then put back). The server asks ``resource(clock,
...)`` for every request, so ``MirrorServer.set_clock`` (or ``GET
/_mirror/clock?at=ISO`` for a mirror in another process) moves every page at
once. ``EXPECTED`` is the oracle: what a correct pipeline records for each page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from mediamon.devtools.mirror import render
from mediamon.devtools.mirror.catalog import Resource, html, xml
from mediamon.devtools.mirror.corpus import CorpusItem

HOST = "tass.ru"
SECTION = "politika"
FEED_URL = f"https://{HOST}/rss/changes.xml"
SITEMAP_URL = f"https://{HOST}/sitemap_news_changes.xml"
LIST_URL = f"https://{HOST}/lenta-changes"
SECTION_URL = f"https://{HOST}/{SECTION}"
PUBLISHED = datetime(2021, 11, 12, 9, 0, tzinfo=UTC)
CHANGED_AFTER = timedelta(minutes=45)
RESTORED_AFTER = timedelta(hours=12)
FIRST_ID = 13_000_001

_BODY = [
    "Около 2000 мигрантов, в том числе женщины и дети, находятся в лагере у пункта пропуска «Брузги» на "
    "белорусско-польской границе, сообщил Государственный пограничный комитет Белоруссии.",
    "По данным ведомства, ночью температура опустилась до минус пяти градусов, люди греются у костров.",
    "«Польская сторона применяет к беженцам водомёты и слезоточивый газ, это бесчеловечно», — заявил "
    "официальный представитель погранкомитета Антон Бычковский.",
    "Варшава стянула к границе более 15 тысяч военнослужащих. Евросоюз обвиняет Минск в организации "
    "миграционного кризиса, белорусская сторона эти обвинения отвергает.",
]
_TITLE = "Лукашенко пригрозил перекрыть транзит газа в Европу"
_LEAD = "Президент Белоруссии заявил, что Минск ответит на новые санкции Евросоюза"


@dataclass(frozen=True)
class Scenario:
    """One page: its id, what happens to it at CHANGED_AFTER, and what the pipeline must record."""

    name: str
    article_id: int
    expect: str  # a change class the version must carry, "deleted:<how>", "cosmetic" or "unchanged"

    @property
    def listed(self) -> str:
        """The discovery page that lists it (feed, sitemap or list): the one it vanishes from, else the feed."""
        vanishes = self.expect.startswith("deleted:vanished_from_")
        return self.expect.removeprefix("deleted:vanished_from_") if vanishes else "feed"

    @property
    def url(self) -> str:
        return f"https://{HOST}/{SECTION}/{self.article_id}"


SCENARIOS = [Scenario(name, FIRST_ID + n, expect) for n, (name, expect) in enumerate([
    ("headline", "headline_changed"), ("number", "number_changed"), ("paragraph", "paragraph_removed"),
    ("cosmetic", "cosmetic"), ("deleted", "deleted:http_404"), ("redirected", "deleted:redirect_to_section"),
    ("soft404", "deleted:soft_404"), ("unchanged", "unchanged"), ("unlisted", "deleted:vanished_from_feed"),
    ("unmapped", "deleted:vanished_from_sitemap"), ("delisted", "deleted:vanished_from_list")])]
BY_PATH = {f"/{SECTION}/{s.article_id}": s for s in SCENARIOS}
SCENARIO_URLS = {s.name: s.url for s in SCENARIOS}


def _item(scenario: Scenario, title: str = _TITLE, body: list[str] | None = None) -> CorpusItem:
    return CorpusItem(id=f"changing-{scenario.name}", source="tass-ru", lang="ru", article_id=scenario.article_id,
                      section=SECTION, published=PUBLISHED + timedelta(minutes=scenario.article_id - FIRST_ID),
                      title=f"{title} ({scenario.name})", lead=_LEAD, body=body or _BODY,
                      authors=["Иван Петров"])


def _cosmetic(body: list[str]) -> list[str]:
    """Only what a reader would not call a change: typography, spacing, stamps and counters."""
    first = body[0].replace("«Брузги»", "\u201cБрузги\u201d").replace(" — ", " - ").replace(", ", ",  ")
    return [first + " Обновлено 12.11.2021 10:15", *body[1:], "Просмотров: 15234"]


def _edited(scenario: Scenario) -> CorpusItem:
    if scenario.name == "headline":
        return _item(scenario, title="Лукашенко допустил ограничение транзита при новых санкциях")
    if scenario.name == "number":
        return _item(scenario, body=[_BODY[0].replace("Около 2000", "Около 4000"), *_BODY[1:]])
    if scenario.name == "paragraph":
        return _item(scenario, body=[p for p in _BODY if not p.startswith("«")])
    if scenario.name == "cosmetic":
        return _item(scenario, body=_cosmetic(["  ".join(_BODY[0].split(" ", 3)), *_BODY[1:]]))
    return _item(scenario)


SOFT_404 = render.page("ru", "<title>Страница не найдена — ТАСС</title>",
                       '<main class="Layout_main__Z1XhP"><h1>Страница не найдена</h1><p>Возможно, она была '
                       'удалена или вы ввели неверный адрес.</p><a href="/">На главную</a></main>')


def resource(clock: datetime, host: str, path: str) -> Resource | None:
    """What tass.ru answers for ``path`` at ``clock``; None for the rest of the catalogue."""
    if host != HOST:
        return None
    changed = clock >= PUBLISHED + CHANGED_AFTER
    restored = clock >= PUBLISHED + RESTORED_AFTER
    if path == "/rss/changes.xml":
        live = [s for s in SCENARIOS if s.listed == "feed" and not (changed and s.expect.startswith("deleted"))]
        entries = [(s.url, _edited(s) if changed else _item(s)) for s in live]
        return xml(render.rss("ТАСС", f"https://{HOST}/", "ru", entries), when=clock)
    if path in ("/sitemap_news_changes.xml", "/lenta-changes"):  # the unchanged article, and one dropped later
        listed = "sitemap" if path.startswith("/sitemap") else "list"
        shown = [(s.url, _item(s)) for s in SCENARIOS if s.name == "unchanged" or (s.listed == listed and not changed)]
        if listed == "sitemap":
            return xml(render.news_sitemap(shown, "ТАСС", "ru"), "application/xml", when=clock)
        page = html(render.kremlin_list("ru", shown, None))
        page.conditional, page.last_modified = True, PUBLISHED + (CHANGED_AFTER if changed else timedelta(0))
        return page
    if path == f"/{SECTION}":
        items = [(s.url, _item(s)) for s in SCENARIOS[:3]]
        return html(render.page("ru", "<title>Политика — ТАСС</title>", "".join(
            f'<a href="{render.x(url)}">{render.x(i.title)}</a>' for url, i in items)))
    scenario = BY_PATH.get(path)
    if scenario is None:
        return None
    if changed and scenario.name == "deleted" and not restored:
        return Resource(b"<html><body><h1>404 Not Found</h1></body></html>", status=404)
    if changed and scenario.name == "redirected":
        return Resource(b"", status=301, headers={"Location": SECTION_URL})
    if changed and scenario.name == "soft404":
        return html(SOFT_404)
    item = _edited(scenario) if changed else _item(scenario)
    page = html(render.tass_article(item, scenario.url))
    page.conditional = True
    page.last_modified = PUBLISHED + (CHANGED_AFTER if changed and scenario.name != "unchanged" else timedelta(0))
    if restored and scenario.name == "deleted":
        page.last_modified = PUBLISHED + RESTORED_AFTER
    return page
