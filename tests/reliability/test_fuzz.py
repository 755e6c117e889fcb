"""A short coverage-guided fuzzing run (scripts/fuzz_parsers.py) finds no crash in the parsers.

The long run is ``python scripts/fuzz_parsers.py`` (60 s, MEDIAMON_FUZZ_SECONDS,
a new random seed each time: that is the run that explores and finds bugs);
here a fixed seed and a fixed number of inputs prove the harness works and
catch regressions on the same inputs on every machine, without making a CI
run red by the luck of the draw. (A time budget alone was not enough: a CI
machine faster than the dry run's reached further along the same seed and
found a new crash there.)
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.paths import REPO

RUNS = int(os.environ.get("MEDIAMON_FUZZ_TEST_RUNS", "3000"))
SECONDS = 90  # an upper bound only: ~3,500 inputs take 10 s on two shared cores


@pytest.mark.timeout(SECONDS + 150)
def test_fuzzing_the_parsers_finds_no_crash(tmp_path: Path) -> None:
    pytest.importorskip("atheris")
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONHASHSEED": "0"}  # set order steers coverage too
    command = [sys.executable, str(REPO / "scripts" / "fuzz_parsers.py"), "--seconds", str(SECONDS),
               "--runs", str(RUNS), "--shallow", "--seed", "20211108", "--artifacts", str(tmp_path)]
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=SECONDS + 120)
    # atheris prints an uncaught exception's traceback on stdout, libFuzzer its own lines on stderr
    tail = f"{done.stdout[-4000:]}\n{done.stderr[-2000:]}"
    assert done.returncode == 0, f"fuzzer crashed; reproducers in {tmp_path}:\n{tail}"
    assert not list(tmp_path.glob("crash-*")), tail
    runs = re.search(r"stat::number_of_executed_units:\s+(\d+)", done.stderr)
    assert runs and int(runs.group(1)) > 50, tail  # the seeds alone are ~50 inputs: it really mutated
