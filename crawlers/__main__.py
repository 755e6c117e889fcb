"""``python -m crawlers [--source ID]... [--sources FILE] [--json] [--set KEY=VALUE]... [-v]``: one crawl.

Logs at WARNING (a failed request is one line); ``-v`` logs INFO (Scrapy's
banner, one line per article not archived), ``-vv`` DEBUG (every request,
tracebacks). ``--set LOG_LEVEL=...`` or MEDIAMON_CRAWL_SETTINGS do the same.

Exit codes: 0 ok, 1 when a source failed entirely, 2 on bad config, 3 when stopped by SIGTERM/SIGINT
(what was archived until then is committed, and the report says so).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pydantic import ValidationError

from crawlers.run import crawl
from crawlers.stats import EXIT_INTERRUPTED
from mediamon.core.errors import ConfigError
from mediamon.core.settings import load_settings


def _setting(text: str) -> tuple[str, object]:
    key, sep, value = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crawlers", description="Crawl the configured sources once.")
    parser.add_argument("--source", action="append", dest="sources", default=[], help="source id (repeatable)")
    parser.add_argument("--sources", dest="sources_file", type=Path, help="sources file (default config/sources.yaml)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--set", action="append", type=_setting, default=[], help="Scrapy setting override")
    parser.add_argument("--progress", action="store_true", help="show a progress display on stderr")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="log INFO (-vv: DEBUG, with tracebacks)")
    args = parser.parse_args(argv)
    overrides = dict(args.set)
    if args.verbose:
        overrides.setdefault("LOG_LEVEL", "DEBUG" if args.verbose > 1 else "INFO")
    try:
        settings = load_settings()
        if args.sources_file:
            settings = settings.model_copy(update={"sources_file": args.sources_file.resolve()})
        report = crawl(settings, args.sources or None, progress=args.progress, overrides=overrides)
    except (ConfigError, ValidationError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        for source, stats in report.sources.items():
            print(source, json.dumps(stats.as_dict(), ensure_ascii=False))
    if report.interrupted:
        return EXIT_INTERRUPTED
    return 1 if report.failed_sources else 0


if __name__ == "__main__":
    sys.exit(main())
