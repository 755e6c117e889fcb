"""`mediamon setup` says how to install Chromium when a configured source renders pages and it is missing."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from mediamon.cli.main import main as cli
from tests.support.rendering import challenged_sources


@pytest.mark.parametrize("render", ["on_challenge", "plain"])
def test_setup_says_how_to_install_chromium_only_when_a_source_renders(render, es_settings, tmp_path, monkeypatch):
    monkeypatch.setenv("MEDIAMON_INDEX_PREFIX", es_settings.index_prefix)
    monkeypatch.setenv("MEDIAMON_DATA_DIR", str(es_settings.data_dir))
    monkeypatch.setenv("MEDIAMON_SOURCES_FILE", str(challenged_sources(tmp_path, render)))
    monkeypatch.setenv("MEDIAMON_BROWSER_PATH", str(tmp_path / "no-chromium"))
    result = CliRunner().invoke(cli, ["setup"])
    assert result.exit_code == 0, result.output
    if render == "plain":
        assert "chromium" not in result.stderr.lower()
    else:
        assert "mid-ru, rt-en" in result.stderr and "apt-get install chromium" in result.stderr
