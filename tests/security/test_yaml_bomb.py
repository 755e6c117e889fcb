"""A YAML alias bomb in any config file is refused at parse time with a small error.

Nine levels of nine aliases expand to 9**10 scalars: formatting the parsed value
(as a chained pydantic error in a traceback or an Airflow task log does) would
take hours and gigabytes. Every loader must refuse it in well under a second, and
formatting the whole exception chain must stay a few lines long.
"""

from __future__ import annotations

import shutil
import time
import traceback
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from mediamon.cli.main import main
from mediamon.core.errors import ConfigError
from mediamon.core.sources import load_sources
from mediamon.devtools.mirror.corpus import load_corpus
from processing.alerts.rules import load_alert_rules
from processing.rules import load_processing_rules
from processing.stories.lexicon import load_lexicon
from tests.support.paths import REPO

pytestmark = pytest.mark.timeout(60)

PROCESSING_FILES = ("extraction.yaml", "speakers.yaml", "narratives.yaml", "alarmism.yaml")


def bomb(top_key: str | None) -> str:
    """Nine levels of nine aliases under ``top_key`` (a top-level list when None)."""
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]" for n in range(1, 10)]
    body = "\n".join(lines) + f"\n{top_key or 'all'}: [{', '.join(['*l9'] * 9)}]\n"
    return body if top_key else "- " + body.replace("\n", "\n  ").rstrip() + "\n"


def _in_config_dir(tmp_path: Path, name: str) -> Callable[[], object]:
    config = tmp_path / "config"
    config.mkdir()
    for other in PROCESSING_FILES:
        shutil.copy(REPO / "config" / other, config / other)
    (config / name).write_text(bomb("rules"), encoding="utf-8")
    return lambda: load_processing_rules(config)


def _file(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


LOADERS: dict[str, Callable[[Path], Callable[[], object]]] = {
    "sources": lambda tmp: lambda: load_sources(_file(tmp, "sources.yaml", bomb("sources"))),
    "alert rules": lambda tmp: lambda: load_alert_rules(_file(tmp, "alerts.yaml", bomb("rules"))),
    "alert channels": lambda tmp: lambda: load_alert_rules(_file(tmp, "alerts.yaml", bomb("channels"))),
    "stories lexicon": lambda tmp: lambda: load_lexicon(_file(tmp, "stories.yaml", bomb("concepts")).parent),
    "sample corpus": lambda tmp: lambda: load_corpus(_file(tmp / "corpus", "site.yaml", bomb(None)).parent),
    **{name: (lambda tmp, name=name: _in_config_dir(tmp, name)) for name in PROCESSING_FILES},
}


@pytest.mark.parametrize("kind", list(LOADERS))
def test_every_config_loader_refuses_an_alias_bomb_quickly_and_briefly(kind: str, tmp_path: Path) -> None:
    (tmp_path / "corpus").mkdir()
    load = LOADERS[kind](tmp_path)
    started = time.monotonic()
    with pytest.raises(ConfigError) as caught:
        load()
    formatted = "".join(traceback.format_exception(caught.value))  # the whole chain, as logging.exception does
    assert time.monotonic() - started < 2
    assert "aliases (*name) expand to more than" in str(caught.value) and ", line " in str(caught.value)
    assert len(formatted) < 5000, formatted[:500]


def test_the_cli_refuses_an_alias_bomb_with_exit_2_and_one_short_message(tmp_path: Path) -> None:
    rules = _file(tmp_path, "alerts.yaml", bomb("rules"))
    result = CliRunner().invoke(main, ["alerts", "run", "--rules", str(rules)])
    assert result.exit_code == 2 and "aliases (*name)" in result.output and len(result.output) < 1000, result.output


def test_plain_config_files_still_load() -> None:
    """The guard refuses aliases, not YAML: the shipped config files still parse."""
    assert load_sources(REPO / "config" / "sources.yaml")
    assert load_processing_rules(REPO / "config").enrich
    assert load_corpus()
