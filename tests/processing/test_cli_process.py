"""`mediamon extract`, `mediamon process`, `mediamon reprocess` through click, as a user runs them."""

from __future__ import annotations

import gzip
import json

import pytest
from click.testing import CliRunner

from mediamon.cli.main import main
from tests.support.paths import CONFIG
from tests.support.scoring import ground_truth, shingle_f1


@pytest.fixture
def env(monkeypatch, es_settings, es_base_settings):
    monkeypatch.setenv("MEDIAMON_LOCAL_ES_DIR", str(es_base_settings.local_es_dir))  # where the credentials are
    monkeypatch.setenv("MEDIAMON_INDEX_PREFIX", es_settings.index_prefix)
    monkeypatch.setenv("MEDIAMON_DATA_DIR", str(es_settings.data_dir))
    monkeypatch.setenv("MEDIAMON_CONFIG_DIR", str(CONFIG))
    return es_settings


def test_extract_prints_one_json_document_per_file(real_fixtures, tmp_path, monkeypatch):
    monkeypatch.setenv("MEDIAMON_CONFIG_DIR", str(CONFIG))
    body, url, truth = ground_truth(real_fixtures, "rt")
    plain = tmp_path / "rt.html"
    plain.write_bytes(body)
    packed = tmp_path / "rt.html.gz"
    packed.write_bytes(gzip.compress(body))
    result = CliRunner().invoke(main, ["extract", str(plain), str(packed), "--url", url])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 2 and lines[0] == {**lines[1], "fetched_at": lines[0]["fetched_at"]}
    doc = lines[0]
    assert doc["source"] == "rt-en" and doc["lang"] == "en" and doc["canonical_url"] == url
    assert shingle_f1(doc["text"], truth) >= 0.9


def test_extract_reports_a_quarantined_page_and_fails(tmp_path, monkeypatch):
    monkeypatch.setenv("MEDIAMON_CONFIG_DIR", str(CONFIG))
    page = tmp_path / "challenge.html"
    page.write_text("<html><body><div id='cf-browser-verification'>Checking your browser before accessing"
                    "</div></body></html>")
    result = CliRunner().invoke(main, ["extract", str(page), "--url", "https://tass.ru/politika/1"])
    assert result.exit_code == 1
    assert json.loads(result.stdout.splitlines()[0])["quarantined"] == "js_challenge"


def test_bad_rules_file_is_exit_code_2(tmp_path, monkeypatch):
    config = tmp_path / "config"
    config.mkdir()
    for name in ("sources.yaml", "extraction.yaml", "speakers.yaml", "alarmism.yaml"):
        (config / name).write_bytes((CONFIG / name).read_bytes())
    (config / "narratives.yaml").write_text("narratives:\n  - id: Bad Id\n    description: x\n    rules: []\n")
    monkeypatch.setenv("MEDIAMON_CONFIG_DIR", str(config))
    page = tmp_path / "p.html"
    page.write_text("<html></html>")
    result = CliRunner().invoke(main, ["extract", str(page)])
    assert result.exit_code == 2
    assert "narratives.yaml" in result.output and "narratives.0.id" in result.output


def test_process_and_reprocess_commands(env, tmp_path):
    from tests.support.batches import STORY, page, write_batch

    write_batch(env, "tass-ru", [{"url": "https://tass.ru/politika/5001",
                                  "body": page("Лавров о мигрантах", STORY, "2021-11-01T15:12:00+03:00")}])
    runner = CliRunner()
    first = runner.invoke(main, ["process", "--json", "--no-progress", "--workers", "1"])
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["created"] == 1 and json.loads(first.stdout)["adds_up"]
    table = runner.invoke(main, ["process", "--no-progress"])
    assert table.exit_code == 0 and "batches skipped (already done)" in table.stdout
    again = runner.invoke(main, ["reprocess", "--since", "2000-01-01", "--json", "--no-progress", "--workers", "1"])
    assert again.exit_code == 0 and json.loads(again.stdout)["unchanged"] == 1
    bad = runner.invoke(main, ["reprocess", "--since", "yesterday"])
    assert bad.exit_code == 2


def test_help_for_every_command():
    for command in ("process", "reprocess", "extract"):
        result = CliRunner().invoke(main, [command, "--help"])
        assert result.exit_code == 0 and "Usage" in result.output


