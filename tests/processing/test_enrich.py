"""Speakers, narratives and alarmism on hand-written statements modelled on the November 2021 timeline."""

from __future__ import annotations

from pathlib import Path

import pytest

from mediamon.core.configfile import ConfigFileError, load_config
from processing.enrich import ALARMIST_THRESHOLD, NarrativesFile, alarmism, find_narratives, find_people, index_text
from processing.lemmas import lemmatize
from processing.translations import translation_group
from tests.support.paths import CONFIG

DOMAIN_NARRATIVES = {"west_caused_migration", "poland_inhumane", "belarus_lawful", "eu_must_pay",
                     "iraq_whataboutism", "afghan_channel", "nuclear_belarus", "russia_not_involved",
                     "nato_provocation", "migrant_spillover"}


def tags(text: str, rules) -> tuple[list[str], list[str]]:
    index = index_text(text)
    return find_people(index, rules.enrich)[0], find_narratives(index, rules.enrich)


def test_every_domain_narrative_is_defined_in_russian_and_english():
    narratives = load_config(CONFIG / "narratives.yaml", NarrativesFile).narratives
    assert {n.id for n in narratives} == DOMAIN_NARRATIVES
    for n in narratives:
        assert {"ru", "en"} <= {r.lang for r in n.rules}, n.id


# Labelled crisis statements: (text, who speaks, narratives); also the positives of test_narrative_precision.
STATEMENTS = [
    ("Глава МИД России Сергей Лавров заявил, что Минск не нарушает никаких международных обязательств, "
     "а давление на Лукашенко беспочвенно.",
     ["Sergei Lavrov"], ["belarus_lawful"]),
    ("По словам Лаврова, то, как Польша и Литва выдворяют мигрантов, говорит о пренебрежении "
     "гуманитарными принципами.",
     ["Sergei Lavrov"], ["poland_inhumane"]),
    ("Первопричина миграционного кризиса - деструктивная политика США на Ближнем Востоке, "
     "в Сирии и Афганистане, считает министр.",
     [], ["west_caused_migration"]),
    ("Официальный представитель МИД Захарова напомнила: более двух тысяч польских военнослужащих "
     "участвовали в войне в Ираке.",
     ["Maria Zakharova"], ["iraq_whataboutism"]),
    ("Песков не исключил, что мигранты могут просочиться на территорию России.",
     ["Dmitry Peskov"], ["migrant_spillover"]),
    ("Лавров: Евросоюз должен принять беженцев и заплатить Белоруссии, как он платил Турции по сделке 2016 года.",
     ["Sergei Lavrov"], ["eu_must_pay"]),
    ("Россия не является стороной конфликта и не будет выступать посредником, сказал Лавров.",
     ["Sergei Lavrov"], ["russia_not_involved"]),
    ("Шойгу: наращивание польских войск у границы - это провокация, грозящая вооруженным столкновением.",
     ["Sergei Shoigu"], ["nato_provocation"]),
    ("Лукашенко допустил размещение ядерного оружия в Белоруссии.",
     ["Alexander Lukashenko"], ["nuclear_belarus"]),
    ("Через Белоруссию может открыться новый канал миграции из Афганистана.", [], ["afghan_channel"]),
    ("Sergei Lavrov said Minsk is not violating any international obligations and that pressure on "
     "Lukashenko is groundless.",
     ["Sergei Lavrov"], ["belarus_lawful"]),
    ("Maria Zakharova reminded Poland that its troops took part in the war in Iraq.",
     ["Maria Zakharova"], ["iraq_whataboutism"]),
    ("Lavrov said the root cause of the migration crisis was the destructive policy of the United States "
     "in the Middle East and Afghanistan.",
     ["Sergei Lavrov"], ["west_caused_migration"]),
    ("Peskov said migrants could seep into Russian territory.", ["Dmitry Peskov"], ["migrant_spillover"]),
    ("Ursula von der Leyen announced new sanctions; Mateusz Morawiecki and Andrzej Duda visited the border.",
     ["Ursula von der Leyen"], []),
    ("Аляксандр Лукашэнка заявіў, што Беларусь выконвае міжнародныя абавязацельствы.",
     ["Alexander Lukashenko"], ["belarus_lawful"]),
]


@pytest.mark.parametrize(("text", "speakers", "narratives"), STATEMENTS)
def test_statements(rules, text, speakers, narratives):
    found_speakers, found_narratives = tags(text, rules)
    assert sorted(found_speakers) == sorted(speakers)
    assert sorted(found_narratives) == sorted(narratives)


@pytest.mark.parametrize("form", ["Лавров", "Лаврова", "Лаврову", "Лавровым", "Лавровe".replace("e", "е")])
def test_inflected_surnames(rules, form):
    assert tags(f"Заявление {form} прозвучало в понедельник.", rules)[0] == ["Sergei Lavrov"]


def test_inflected_feminine_surname_and_plural_nouns(rules):
    speakers, narratives = tags("Слова Захаровой о мигрантах из Ирака и польских солдатах в иракской войне", rules)
    assert speakers == ["Maria Zakharova"]
    # the Iraq war named next to migrants from Iraq is also the "West caused it" claim
    assert narratives == ["west_caused_migration", "iraq_whataboutism"]


def test_words_far_apart_do_not_make_a_narrative(rules):
    filler = " ".join(["Погода в Москве была хорошей."] * 20)
    text = f"Польша. {filler} Ирак. {filler} Война."
    assert "iraq_whataboutism" not in tags(text, rules)[1]


def test_alarmism_is_bounded_and_explained(rules):
    calm_title = lemmatize("Лавров провёл переговоры")
    calm = alarmism(calm_title, lemmatize("Министры обсудили двустороннее сотрудничество."), "Лавров", "ru",
                    rules.enrich)
    assert calm == (0.0, [])
    title = "МОЛНИЯ - Польша стягивает войска, мир на грани катастрофы!"
    score, terms = alarmism(lemmatize(title), lemmatize("Орды мигрантов штурмуют границу. Хаос и паника."),
                            title, "ru", rules.enrich)
    assert ALARMIST_THRESHOLD <= score < 1.0
    assert {"МОЛНИЯ", "катастрофа", "на грани", "орда", "штурмовать", "хаос", "паника", "!"} <= set(terms)


def test_alarmism_in_english_matches_stems(rules):
    title = "BREAKING: Hordes of migrants storm the border"
    score, terms = alarmism(lemmatize(title), lemmatize("Chaos and panic as the situation collapses."), title, "en",
                            rules.enrich)
    assert score >= ALARMIST_THRESHOLD
    assert {"BREAKING", "horde", "storm", "chaos", "panic", "collapse"} <= set(terms)
    # "breaking" as a verb is not an urgency marker
    assert alarmism(lemmatize("Minsk is not breaking any rules"), [], "Minsk is not breaking any rules", "en",
                    rules.enrich) == (0.0, [])


def test_translation_groups():
    assert translation_group("http://kremlin.ru/events/president/news/67123") == "kremlin:67123"
    assert translation_group("http://en.kremlin.ru/events/president/news/67123") == "kremlin:67123"
    assert translation_group("https://mid.ru/ru/foreign_policy/news/1781530/") == "mid:1781530"
    assert translation_group("https://mid.ru/en/foreign_policy/news/1781530/") == "mid:1781530"
    assert translation_group("https://tass.ru/politika/12812345") is None


def test_bad_narratives_file_names_file_entry_and_field(tmp_path: Path):
    bad = tmp_path / "narratives.yaml"
    bad.write_text("narratives:\n  - id: west_caused_migration\n    description: x\n    rules:\n"
                   "      - lang: ru\n        all: []\n", encoding="utf-8")
    with pytest.raises(ConfigFileError) as info:
        load_config(bad, NarrativesFile)
    assert str(bad) in str(info.value) and "narratives.0.rules.0.all" in str(info.value)
