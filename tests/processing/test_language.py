"""Language detection on labelled samples: ru, be, uk, pl, en, short and mixed texts."""

from __future__ import annotations

import pytest

from processing.language import detect_language

LONG = {
    "ru": ("Министр иностранных дел России Сергей Лавров заявил, что Минск не нарушает никаких международных "
           "обязательств, а давление на Александра Лукашенко безосновательно. По его словам, то, как Польша и "
           "Литва выдворяют мигрантов, свидетельствует о пренебрежении гуманитарными принципами."),
    "be": ("Міністр замежных спраў Расіі Сяргей Лаўроў заявіў, што Мінск не парушае ніякіх міжнародных "
           "абавязацельстваў, а ціск на Аляксандра Лукашэнку беспадстаўны. Па яго словах, тое, як Польшча і "
           "Літва выцясняюць мігрантаў, сведчыць пра грэбаванне гуманітарнымі прынцыпамі."),
    "uk": ("Міністр закордонних справ Росії Сергій Лавров заявив, що Мінськ не порушує жодних міжнародних "
           "зобов'язань, а тиск на Олександра Лукашенка безпідставний. За його словами, те, як Польща і Литва "
           "видворяють мігрантів, свідчить про зневагу до гуманітарних принципів."),
    "pl": ("Minister spraw zagranicznych Rosji Siergiej Ławrow oświadczył, że Mińsk nie narusza żadnych "
           "zobowiązań międzynarodowych, a presja na Aleksandra Łukaszenkę jest bezpodstawna. Jego zdaniem "
           "sposób, w jaki Polska i Litwa wypychają migrantów, świadczy o lekceważeniu zasad humanitarnych."),
    "en": ("Russian Foreign Minister Sergei Lavrov said Minsk is not violating any international obligations "
           "and that pressure on Alexander Lukashenko is groundless. The way Poland and Lithuania push migrants "
           "back shows their disregard for humanitarian principles, he told reporters in Moscow."),
}
# Belarusian without a single "ў": і + ы and no и/щ/ъ still tell it apart from Russian and Ukrainian
BE_WITHOUT_U_SHORT = ("Беларусь выконвае свае абавязацельствы. Мігранты ля мяжы з Польшчай чакаюць дапамогі, "
                      "людзі мерзнуць у лесе, дзеці хварэюць, а Польшча не прымае заяў пра прытулак.")


@pytest.mark.parametrize("lang", sorted(LONG))
def test_long_texts_are_never_confused(lang):
    text = LONG[lang]
    assert len(text) > 200
    for declared in (None, "ru", "en"):  # a wrong declaration does not override a clear text
        guess = detect_language(text, declared)
        assert guess.lang == lang, (declared, guess)
        assert guess.confidence is not None and guess.confidence >= 0.85


def test_belarusian_without_short_u():
    assert detect_language(BE_WITHOUT_U_SHORT).lang == "be"


def test_detection_is_reproducible():
    text = "Песков: ситуация на границе тяжела для Минска"
    assert len({detect_language(text) for _ in range(20)}) == 1


@pytest.mark.parametrize(("text", "declared", "allowed", "expected"), [
    ("Лавров", None, None, "und"),
    ("OK", None, None, "und"),
    ("Лавров", "ru", None, "ru"),  # too short to tell, the page says ru
    ("Лавров", None, ["be"], "be"),  # a single-language source vouches for short texts
    ("12:45 — 8 ноября", None, None, "und"),
])
def test_short_texts(text, declared, allowed, expected):
    guess = detect_language(text, declared, allowed)
    assert guess.lang == expected
    assert guess.confidence is None


def test_mixed_text_takes_the_dominant_language():
    # a Russian report quoting an English phrase and a Belarusian word stays Russian
    text = LONG["ru"] + ' Как заявил Байден, это "a matter of great concern". Лукашэнка, ўсё.'
    assert detect_language(text).lang == "ru"
    text = LONG["en"] + " He quoted the Russian phrase «не нарушает обязательств»."
    assert detect_language(text).lang == "en"


def test_unsure_detector_defers_to_the_declared_language():
    # Serbian Cyrillic-like short Russian text: detector unsure, html lang decides
    text = "Минск и Москва: срочно. Мигранты, граница, Польша."
    guess = detect_language(text, "ru")
    assert guess.lang == "ru"
