"""`mediamon search --format csv` cells: a hostile title stays text in a spreadsheet and inert in a terminal."""

from __future__ import annotations

from mediamon.cli.search import _cell


def test_a_formula_stays_text_and_controls_are_dropped() -> None:
    assert _cell('=HYPERLINK("https://evil.example","x")').startswith("'=")
    assert _cell("@SUM(A1)") == "'@SUM(A1)" and _cell("+7") == "'+7"
    assert _cell("red\x1b[31m title\x07") == "red title "
    assert _cell(None) == "" and _cell(0.25) == "0.25"
