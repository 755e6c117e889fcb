"""`make bench`: run every benchmark of the project and write docs/benchmarks.md.

Each bench module exposes ``run(report: dict)`` and reports its figures as
ratios against a baseline measured in the same run on the same machine, so the
numbers mean something on any hardware. A failing benchmark is reported as
such and does not hide the others.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import resource
import subprocess
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

from tests.support.paths import REPO

sys.path.insert(0, str(REPO))

BENCHES = ["bench_index", "bench_crawl", "bench_backfill", "bench_process", "bench_real_pages", "bench_alerts",
           "bench_latency", "bench_load", "bench_revisits", "bench_render",
           "bench_stories", "bench_cli", "bench_stack"]


def _machine() -> dict[str, str]:
    import psutil

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": str(os.cpu_count()),
        "memory_gb": f"{psutil.virtual_memory().total / 2**30:.1f}",
        "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                                 text=True).stdout.strip() or "unknown",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        # other work on the machine skews rates: a load well above the core count means noisy figures
        "load_average_1_5_15min_at_end": " ".join(f"{x:.1f}" for x in os.getloadavg()),
    }


def _markdown(machine: dict[str, str], results: dict[str, dict]) -> str:
    lines = ["# Benchmarks", "", "Written by `make bench` (bench/run.py). Every figure is a ratio against a",
             "baseline measured in the same run on the same machine; absolute rates are shown for context.", "",
             "## Machine", ""]
    lines += [f"- {k}: {v}" for k, v in machine.items()]
    for name, figures in results.items():
        lines += ["", f"## {name}", ""]
        if "error" in figures:
            lines += ["Failed:", "", "```", figures["error"], "```"]
            continue
        for key, value in figures.items():
            shown = json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else value
            lines.append(f"- **{key}**: {shown}")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", action="append", help="run only these bench modules")
    parser.add_argument("--out", help="the markdown to write (default: docs/benchmarks.md for a full run; "
                                      "with --only, nothing: a partial run must not replace the whole record)")
    args = parser.parse_args()
    results: dict[str, dict] = {}
    failed = False
    for name in args.only or BENCHES:
        print(f"== {name}", flush=True)
        started = time.perf_counter()
        report: dict = {}
        try:
            importlib.import_module(f"bench.{name}").run(report)
        except ModuleNotFoundError as exc:
            if exc.name != f"bench.{name}":
                raise
            print(f"   (no {name} module)")
            continue
        except Exception:  # a broken benchmark is a result to publish, not a reason to stop
            failed = True
            report = {name: {"error": traceback.format_exc(limit=5)}}
        for key, figures in report.items():
            figures["bench_seconds"] = round(time.perf_counter() - started, 1)
            results[key] = figures
            print(json.dumps(figures, indent=2, ensure_ascii=False))
    machine = _machine()
    machine["peak_rss_mb_bench_process"] = f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}"
    out = args.out or (None if args.only else str(REPO / "docs" / "benchmarks.md"))
    if out:
        Path(out).write_text(_markdown(machine, results))
        print(f"wrote {out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
