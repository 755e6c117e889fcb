"""`mediamon stack status` on a stack that is not running: every component listed as down, exit 1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from mediamon.cli.main import main
from mediamon.devtools.stack.control import components


def test_status_of_a_stopped_stack_lists_every_component_and_exits_1(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDIAMON_STACK_DIR", str(tmp_path / "stack"))
    result = CliRunner().invoke(main, ["stack", "status", "--json"])
    assert result.exit_code == 1, result.output
    status = json.loads(result.output)
    assert status["running"] is False
    assert status["components"] == {name: None for name in components()}
    assert len(components()) == 12  # 3 nodes, postgres, redis, mirror, 4 Airflow servers, 2 workers


def test_stop_of_a_stopped_stack_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDIAMON_STACK_DIR", str(tmp_path / "stack"))
    result = CliRunner().invoke(main, ["stack", "stop"])
    assert result.exit_code == 0 and "not running" in result.output
