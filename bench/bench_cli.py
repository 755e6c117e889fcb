"""CLI start-up: the CPU time of `mediamon --help` and `--version` against a bare `import click`.

The baseline is the least any click program pays (interpreter start and click),
measured in the same run; the figure is the ratio. Before the command modules
deferred their pipeline imports (Elasticsearch client, pydantic settings, the
search's Lucene parser) `--help` cost about 1.6 s of CPU, over ten times the baseline.
"""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
from pathlib import Path

RUNS = 7
MEDIAMON = Path(sys.executable).with_name("mediamon")


def _cpu_seconds(command: list[str]) -> float:
    """Median user + system CPU time of ``command`` over RUNS runs (children's rusage, wall time is noisy)."""
    samples = []
    for _ in range(RUNS):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(command, check=True, capture_output=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        samples.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(samples)


def run(report: dict) -> None:
    baseline = _cpu_seconds([sys.executable, "-c", "import click"])
    figures: dict = {"baseline_import_click_cpu_s": round(baseline, 3)}
    for name, args in (("help", ["--help"]), ("version", ["--version"])):
        cpu = _cpu_seconds([str(MEDIAMON), *args])
        figures[f"{name}_cpu_s"] = round(cpu, 3)
        figures[f"{name}_vs_baseline"] = round(cpu / baseline, 2)
    report["cli start-up"] = figures
