"""config/sources.yaml: the real file is valid and complete; bad files fail naming file, entry and field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from mediamon.cli.main import main
from mediamon.core.sources import SourcesError, load_sources, select
from tests.support.paths import REPO

CONTRACT_IDS = {"mid-ru", "mid-en", "kremlin-ru", "kremlin-en", "tass-ru", "tass-en", "ria-ru", "rt-en", "rt-ru",
                "sputnik-en", "belta-ru", "belta-en", "belta-be", "telegram-mfarussia"}


def real_entries() -> list[dict]:
    return yaml.safe_load((REPO / "config" / "sources.yaml").read_text(encoding="utf-8"))["sources"]


def write(tmp_path: Path, entries: list[dict]) -> Path:
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump({"sources": entries}, allow_unicode=True), encoding="utf-8")
    return path


def test_real_sources_file_has_every_contract_source() -> None:
    sources = load_sources(REPO / "config" / "sources.yaml")
    assert {s.id for s in sources} == CONTRACT_IDS
    by_id = {s.id: s for s in sources}
    assert by_id["kremlin-ru"].kind == "government" and by_id["rt-en"].kind == "state_media"
    assert by_id["belta-be"].languages == ["be"]
    assert by_id["telegram-mfarussia"].discovery.telegram.channel == "MFARussia"
    assert by_id["tass-ru"].is_article("https://tass.ru/politika/12965063")
    assert not by_id["tass-ru"].is_article("https://tass.ru/search/?q=x")


@pytest.mark.parametrize(("mutate", "field", "message"), [
    (lambda e: e.update(colour="red"), "colour", "unknown key"),
    (lambda e: e["discovery"]["feeds"][0].update(url="not a url"), "discovery.feeds.0.url", "absolute http"),
    (lambda e: e.pop("owner"), "owner", "missing field"),
    (lambda e: e.update(kind="blog"), "kind", "government"),
    (lambda e: e["politeness"].update(obey_robots=False), "politeness", "robots_override_reason"),
    (lambda e: e.update(schedule="often"), "schedule", "cron"),
])
def test_bad_entry_names_file_entry_and_field(tmp_path: Path, mutate, field: str, message: str) -> None:
    entries = real_entries()
    mutate(entries[4])
    path = write(tmp_path, entries)
    with pytest.raises(SourcesError) as err:
        load_sources(path)
    assert err.value.file == path and err.value.entry == entries[4]["id"]
    assert err.value.field == field
    assert message in str(err.value) and str(path) in str(err.value)


def test_entry_without_id_is_named_by_position(tmp_path: Path) -> None:
    entries = real_entries()
    del entries[2]["id"]
    with pytest.raises(SourcesError, match=r"entry #3, field id: missing field"):
        load_sources(write(tmp_path, entries))


def test_discovery_url_off_the_source_domains_is_rejected(tmp_path: Path) -> None:
    entries = real_entries()
    entries[0]["discovery"]["feeds"][0]["url"] = "https://evil.example.net/feed"
    with pytest.raises(SourcesError, match="outside domains"):
        load_sources(write(tmp_path, entries))


def test_duplicate_and_unknown_ids(tmp_path: Path) -> None:
    entries = real_entries()
    with pytest.raises(SourcesError, match="duplicate id"):
        load_sources(write(tmp_path, [*entries, entries[0]]))
    with pytest.raises(SourcesError, match="unknown source id"):
        select(load_sources(write(tmp_path, entries)), ["no-such-source"])


def test_unreadable_and_non_yaml_files(tmp_path: Path) -> None:
    with pytest.raises(SourcesError, match="cannot read"):
        load_sources(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("sources: [\n", encoding="utf-8")
    with pytest.raises(SourcesError, match="not valid YAML"):
        load_sources(bad)


def test_cli_exits_2_on_bad_sources_file(tmp_path: Path) -> None:
    entries = real_entries()
    entries[1]["politeness"]["concurrency"] = 0
    path = write(tmp_path, entries)
    result = CliRunner().invoke(main, ["crawl", "--sources", str(path)])
    assert result.exit_code == 2
    assert "kremlin-en" in result.output and "politeness.concurrency" in result.output
