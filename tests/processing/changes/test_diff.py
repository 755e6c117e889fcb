"""Change classes and scores between two versions, and soft-404 recognition, on real and realistic pages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mediamon.core.archive import ArchivedRecord, ManifestRecord
from mediamon.core.sources import Source
from mediamon.devtools.mirror import changing
from processing.changes.config import load_change_rules
from processing.changes.deletion import deletion_of, soft_404_marker
from processing.changes.diff import VersionText, diff_versions
from processing.rules import ProcessingRules
from tests.support.paths import CONFIG
from tests.support.realpages import REAL_PAGES, process
from tests.support.scoring import read_page

RULES = load_change_rules(CONFIG)
TEXT = ("Около 2000 мигрантов находятся в лагере у пункта пропуска «Брузги», сообщил Госпогранкомитет.\n"
        "«Польская сторона применяет к беженцам водомёты и слезоточивый газ», — заявил Антон Бычковский.\n"
        "Варшава стянула к границе более 15 тысяч военнослужащих.")
BASE = VersionText("Лукашенко пригрозил перекрыть транзит газа", "Минск ответит на санкции", TEXT)


def changed(**parts: str) -> list[str]:
    return diff_versions(BASE, VersionText(**{"title": BASE.title, "lead": BASE.lead, "text": BASE.text, **parts}),
                         RULES).classes


def test_cosmetic_differences_are_no_change() -> None:
    retyped = (TEXT.replace("«Брузги»", "\u201cБрузги\u201d").replace(" — ", " - ").replace("водомёты", "водометы")
               .replace(" ", "\u00a0", 3) + "\nПросмотров: 15234\nОбновлено 12.11.2021 10:15")
    change = diff_versions(BASE, VersionText(BASE.title + " ", BASE.lead, retyped), RULES)
    assert change.classes == [] and change.score == 0.0 and not change.substantive


@pytest.mark.parametrize(("parts", "expected"), [
    ({"title": "Лукашенко допустил ограничение транзита"}, ["headline_changed"]),
    ({"lead": "Минск готов к диалогу"}, ["lead_changed"]),
    ({"text": TEXT.replace("Около 2000", "Около 4000")}, ["number_changed"]),
    ({"text": TEXT.replace("15 тысяч", "5 тысяч")}, ["number_changed"]),
    ({"text": "\n".join(p for p in TEXT.split("\n") if not p.startswith("«"))}, ["paragraph_removed",
                                                                               "quote_removed"]),
    ({"text": TEXT + "\nЕвросоюз призвал Минск прекратить провокации."}, ["paragraph_added"]),
    ({"text": TEXT.replace("заявил Антон Бычковский", "заявил Александр Лукашенко")}, ["attribution_changed"]),
    ({"text": TEXT.replace("находятся в лагере", "остаются в стихийном лагере")}, ["wording_changed"]),
])
def test_each_substantive_change_is_classified(parts: dict[str, str], expected: list[str]) -> None:
    assert changed(**parts) == expected


def test_scores_rank_bigger_changes_higher_and_lines_show_both_sides() -> None:
    small = diff_versions(BASE, VersionText(BASE.title, BASE.lead, TEXT.replace("находятся", "остаются")), RULES)
    big = diff_versions(BASE, VersionText("Лукашенко допустил ограничение", BASE.lead,
                                          TEXT.replace("Около 2000", "Около 4000")), RULES)
    assert 0 < small.score < big.score <= 1
    assert "- title: Лукашенко пригрозил перекрыть транзит газа" in big.lines
    assert any(line.startswith("+ Около 4000") for line in big.lines)


def test_a_figure_changed_on_a_real_kremlin_transcript(real_fixtures: Path, sources: dict[str, Source],
                                                       rules: ProcessingRules, tmp_path: Path) -> None:
    page = next(p for p in REAL_PAGES if p.path == "kremlin/news-77329.html")
    original = process(page, real_fixtures, sources, rules).document
    assert original is not None
    html = read_page(page.file(real_fixtures)).decode("utf-8")
    # a figure deep in the transcript (not in the lead), written once in the page: "5,4 тысячи" -> "12,4 тысячи"
    figure = next(f for f in re.findall(r"\d[\d,]* [а-я]+", "\n".join(original.text.split("\n")[5:]))
                  if html.count(f) == 1)
    number = figure.split(" ")[0]
    bigger = figure.replace(number.split(",")[0], str(int(number.split(",")[0]) + 7), 1)
    copy = tmp_path / "kremlin" / "news-77329.html"
    copy.parent.mkdir()
    copy.write_text(html.replace(figure, bigger), encoding="utf-8")
    edited = process(page, tmp_path, sources, rules).document
    assert edited is not None and edited.text != original.text
    change = diff_versions(VersionText(original.title, original.lead, original.text),
                           VersionText(edited.title, edited.lead, edited.text), RULES)
    assert change.classes == ["number_changed"]
    assert [line[:2] for line in change.lines] == ["- ", "+ "]
    assert figure in change.lines[0] and bigger in change.lines[1]
    unchanged = diff_versions(VersionText(original.title, original.lead, original.text),
                              VersionText(original.title, original.lead, original.text), RULES)
    assert not unchanged.substantive


def test_real_article_pages_are_not_soft_404(real_fixtures: Path) -> None:
    for page in REAL_PAGES:
        assert soft_404_marker(read_page(page.file(real_fixtures)), RULES) is None, page.path


def test_soft_404_and_redirect_evidence(sources: dict[str, Source]) -> None:
    tass = sources["tass-ru"]

    def answer(status: int, body: bytes = b"", headers: list[tuple[str, str]] | None = None) -> ArchivedRecord:
        manifest = ManifestRecord(batch="b", url="https://tass.ru/politika/13000001", offset=0, source="tass-ru",
                                  canonical_url="https://tass.ru/politika/13000001", status=status, revisit=True)
        return ArchivedRecord(manifest, body, headers or [])

    assert deletion_of(answer(200, changing.SOFT_404.encode()), tass, RULES).how == "soft_404"
    assert deletion_of(answer(410), tass, RULES).how == "http_410"
    assert deletion_of(answer(301, headers=[("Location", "/politika")]), tass, RULES).location == \
        "https://tass.ru/politika"
    assert deletion_of(answer(302, headers=[("Location", "https://tass.ru/")]), tass, RULES).how == "redirect_to_home"
    moved = deletion_of(answer(301, headers=[("Location", "https://tass.ru/politika/13000099")]), tass, RULES)
    assert moved.how == "moved" and not moved.deleted
    page = changing.resource(changing.PUBLISHED, "tass.ru", f"/{changing.SECTION}/{changing.FIRST_ID}")
    assert deletion_of(answer(200, page.body), tass, RULES) is None  # a live article is not gone
