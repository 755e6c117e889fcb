"""The real saved pages in ../shared/fixtures/real and what each truly says (issue 12).

Read off the pages themselves: the title, the first and the last sentence of the
article body, the publication time the page prints (kremlin.ru: "Publication date"
in the footer, Moscow time; MANIFEST.tsv lists it) converted to UTC with the
offset Moscow had on that day, and the language. Shared by the regression tests
(tests/processing/test_real_pages.py) and the benchmark (bench/bench_real_pages.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from mediamon.core.archive import ManifestRecord
from mediamon.core.sources import Source
from processing.record import Outcome, RecordInput, build_document
from processing.rules import ProcessingRules
from tests.support.scoring import read_page

# Lines that are page furniture on these sites; none may reach a document's text.
FURNITURE = ("Publication date", "Дата публикации", "Published in section", "Опубликован в раздел", "Direct link",
             "Ссылка на материал", "Text version", "Текстовая версия", "views and opinions expressed", "READ MORE",
             "Читайте также", "<…>")


@dataclass(frozen=True)
class RealPage:
    path: str  # relative to REAL_FIXTURES; "*" picks the one page of a benchmark directory
    url: str
    source: str
    title: str  # a prefix of the title
    first: str  # a prefix of the first body line
    last: str  # a suffix of the last body line
    published: datetime  # UTC
    lang: str

    def file(self, fixtures: Path) -> Path:
        folder, name = self.path.split("/")
        return next((fixtures / folder).glob(name))


def _msk(*parts: int, offset: int = 3) -> datetime:
    """A Moscow wall-clock time as printed, to UTC with the offset of that day (tests/processing/test_dates.py
    checks the zone database gives the same offsets)."""
    return datetime(*parts, tzinfo=UTC).replace(hour=parts[3] - offset)


REAL_PAGES = [
    RealPage("kremlin/news-77428.html", "http://kremlin.ru/events/president/news/77428", "kremlin-ru",
             "Встреча с губернатором Белгородской области Вячеславом Гладковым",
             "Владимир Путин провёл рабочую встречу с губернатором Белгородской области",
             "В.Путин: Хорошая картина, душевная. «Белгород не сдаётся». Спасибо большое.",
             _msk(2025, 7, 11, 13, 40), "ru"),
    RealPage("kremlin/news-77329.html", "http://kremlin.ru/events/president/news/77329", "kremlin-ru",
             "Совещание по вопросам социально-экономического развития ДНР, ЛНР",
             "Владимир Путин провёл совещание по вопросам социально-экономического развития новых субъектов РФ",
             "Вам всего самого доброго, успехов на новых площадках. Спасибо.", _msk(2025, 6, 30, 17, 25), "ru"),
    RealPage("kremlin-en/news-17119.html", "http://en.kremlin.ru/events/president/news/17119", "kremlin-en",
             "Meeting with Constitutional Court judges",
             "On Constitution Day, Vladimir Putin held a meeting with Constitutional Court judges.",
             "Once again, happy holiday and I wish you all the best.", _msk(2012, 12, 12, 16, 30, offset=4), "en"),
    RealPage("kremlin-en/news-56313.html", "http://en.kremlin.ru/events/president/news/56313", "kremlin-en",
             "Telephone conversation with President of Palestine Mahmoud Abbas",
             "Vladimir Putin had a telephone conversation with President of the State of Palestine Mahmoud Abbas",
             "The two presidents agreed to maintain personal contact.", _msk(2017, 12, 5, 20, 20), "en"),
    RealPage("kremlin-en/news-60563.html", "http://en.kremlin.ru/events/president/news/60563", "kremlin-en",
             "On May 23, Vladimir Putin will meet with President of the Republic of the Congo",
             "The presidents will discuss the prospects of bilateral cooperation",
             "exchange views on the main topics concerning regional affairs.", _msk(2019, 5, 22, 15, 10), "en"),
    RealPage("kremlin-en/news-62582.html", "http://en.kremlin.ru/events/president/news/62582", "kremlin-en",
             "Presidential Address to the Federal Assembly",
             "The President of Russia delivered the Address to the Federal Assembly.",
             "The National Anthem of the Russian Federation.", _msk(2020, 1, 15, 13, 15), "en"),
    RealPage("kremlin-en/news-63770.html", "http://en.kremlin.ru/events/president/news/63770", "kremlin-en",
             "Working meeting with Acting Governor of Irkutsk Region Igor Kobzev",
             "Following a meeting on the ecological situation in Usolye-Sibirskoye, the President held a separate",
             "to visit Tulun, at the residents’ request, to see how the town is changing.",
             _msk(2020, 7, 30, 15, 10), "en"),
    RealPage("rt/*.html.gz", "https://www.rt.com/news/473849-3-morales-supporters-killed-bolivia/", "rt-en",
             "‘He died in my hands’: 3 pro-Morales demonstrators killed",
             "Three people have died during protests in Bolivia against the self-declared “interim” government",
             "how sad to see something like that,” the doctor said.", datetime(2019, 11, 20, 5, 47, tzinfo=UTC), "en"),
    RealPage("sputnik/*.html.gz",
             "https://sputniknews.com/columnists/201911181077343476-royal-self-indicting-arrogance/", "sputnik-en",
             "Royal Self-Indicting Arrogance",
             "Prince Andrew, the nearly 60-year-old younger brother of heir to the British throne",
             "Let’s see if he can keep his royal pants dry this time.", datetime(2019, 11, 18, 21, 17, tzinfo=UTC),
             "en"),
]


def process(page: RealPage, fixtures: Path, sources: dict[str, Source], rules: ProcessingRules,
            feed: dict[str, str] | None = None) -> Outcome:
    """The page through the runner's record path, as a crawl of its source would archive it."""
    manifest = ManifestRecord(batch="b", url=page.url, canonical_url=page.url, source=page.source, offset=0,
                              fetched_at=datetime(2026, 1, 1, tzinfo=UTC), feed=feed or {})
    return build_document(RecordInput(manifest, read_page(page.file(fixtures)), "text/html"), sources, rules)
