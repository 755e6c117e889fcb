"""``python -m crawlers.backfill --source ID... --since YYYY-MM-DD --until YYYY-MM-DD [--path P]... [--json]``.

The backfill in its own process (Twisted's reactor starts once per process), as
``mediamon.ops.backfill`` and the Airflow DAG run it. Exit codes as ``python -m
crawlers``: 0 ok, 1 a source failed entirely, 2 bad arguments or config, 3 stopped by a signal.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

from pydantic import ValidationError

from crawlers.__main__ import _setting
from crawlers.backfill.progress import PATHS
from crawlers.backfill.run import backfill
from crawlers.stats import EXIT_INTERRUPTED
from mediamon.core.errors import ConfigError
from mediamon.core.settings import load_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crawlers.backfill",
                                     description="Backfill what sources published between two days.")
    parser.add_argument("--source", action="append", dest="sources", default=[], help="source id (repeatable)")
    parser.add_argument("--since", type=date.fromisoformat, required=True, help="first day, YYYY-MM-DD")
    parser.add_argument("--until", type=date.fromisoformat, required=True, help="last day, YYYY-MM-DD (included)")
    parser.add_argument("--path", action="append", dest="paths", choices=PATHS, help="discovery path (default all)")
    parser.add_argument("--sources", dest="sources_file", type=Path, help="sources file (default config/sources.yaml)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--set", action="append", type=_setting, default=[], help="Scrapy setting override")
    parser.add_argument("--progress", action="store_true", help="show a progress display on stderr")
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        if args.sources_file:
            settings = settings.model_copy(update={"sources_file": args.sources_file.resolve()})
        report = backfill(settings, args.sources or None, args.since, args.until, args.paths, dict(args.set),
                          progress=args.progress)
    except (ConfigError, ValidationError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(report.as_dict(), ensure_ascii=False) if args.json else
          "\n".join(f"{sid} {json.dumps(r, ensure_ascii=False)}" for sid, r in report.as_dict()["sources"].items()))
    if report.interrupted:
        return EXIT_INTERRUPTED
    return 1 if report.failed_sources else 0


if __name__ == "__main__":
    sys.exit(main())
