"""`mediamon --help` and `--version` load no pipeline library: the Elasticsearch client alone took ~1.5 s.

Checked by what a fresh interpreter imported (no timing: the suite shares two
cores); the help still lists every command with its summary, and a command
that runs still loads what it needs.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from mediamon.cli.main import main

HEAVY = ("elasticsearch", "elastic_transport", "pydantic", "pydantic_settings", "scrapy", "twisted", "luqum",
         "trafilatura", "matplotlib", "httpx", "warcio", "mediamon.core.settings", "processing.store.search")


def loaded_by(*args: str) -> tuple[str, set[str]]:
    """Run the CLI in a fresh interpreter with ``args``; its output and the top-level modules it imported."""
    code = ("import json, sys\nfrom mediamon.cli.main import main\ntry:\n    main(sys.argv[1:])\n"
            "except SystemExit:\n    pass\nprint(json.dumps(sorted(sys.modules)), file=sys.stderr)")
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120)
    return proc.stdout, set(json.loads(proc.stderr.strip().splitlines()[-1]))


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["alerts", "--help"], ["search", "--help"]])
def test_help_and_version_import_no_pipeline_library(args: list[str]) -> None:
    output, modules = loaded_by(*args)
    assert output.strip()
    assert sorted(name for name in HEAVY if name in modules) == []


def test_the_help_still_lists_every_command_and_search_its_syntax() -> None:
    output, _ = loaded_by("--help")
    listed = {line.split()[0] for line in output.split("Commands:")[1].splitlines() if line.strip()}
    assert listed == set(main.commands) and len(listed) > 10
    search_help, _ = loaded_by("search", "--help")
    assert "Lucene syntax as in Kibana" in search_help


def test_a_command_that_runs_loads_what_it_needs() -> None:
    _, modules = loaded_by("deadletter", "list", "--json")
    assert {"pydantic_settings", "elasticsearch"} <= modules
