"""Coverage-guided fuzzing of every parser that reads what a hostile site or a bad config can send.

Why: feeds, sitemaps and article pages come from sites we do not control, and
config files from people; a crash in one of these parsers loses a whole feed
page or stops a batch. libFuzzer (through atheris) mutates seed inputs taken
from the mirror's rendered sites towards new code paths, and any exception
other than a parser's documented error type is a crash it reports with the
input that caused it.

    python scripts/fuzz_parsers.py [--seconds N] [--runs N] [--artifacts DIR] [--shallow] [--seed N]

``MEDIAMON_FUZZ_SECONDS`` overrides the default budget of 60 seconds. Exit
code 0 means no crash within the budget; libFuzzer's last ``#N DONE ...
exec/s`` line on stderr gives the number of executions.

The ``run_*`` functions are the harness: each calls the real entry point a
crawl or a batch calls, and swallows only that entry point's documented
error. tests/reliability reuses them with hypothesis.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

# The harness lives in tests/support (shared with the hypothesis tests); this script runs from anywhere.
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


# --- libFuzzer entry -------------------------------------------------------------------

# tests.support.parsers, imported by main() inside atheris' instrumentation block.
harness: Any = None

ARTIFACTS = Path(tempfile.gettempdir()) / "mediamon-fuzz"


def one_input(data: bytes) -> None:
    """Byte 0 picks the parser, byte 1 a variant (content type, config file); the rest is the input."""
    if len(data) < 2:
        return
    try:
        _dispatch(data)
    except BaseException:  # keep the reproducer even when the process dies before libFuzzer writes it
        import hashlib

        crash = ARTIFACTS / f"crash-{hashlib.sha1(data).hexdigest()}"
        crash.write_bytes(data)
        print(f"reproducer written to {crash}", file=sys.stderr)
        raise


def _dispatch(data: bytes) -> None:
    target, variant, payload = data[0] % 8, data[1], data[2:]
    text = payload.decode("utf-8", "replace")
    if target == 0:
        harness.run_feed(payload, ("application/rss+xml", "application/atom+xml", "text/html")[variant % 3])
    elif target == 1:
        harness.run_sitemap(payload)
    elif target == 2:
        content_types, urls = harness.CONTENT_TYPES, harness.PAGE_URLS
        harness.run_extract(payload, content_types[variant % len(content_types)], urls[variant % len(urls)],
                            "telegram_post" if variant & 0x80 else "article")
    elif target == 3:
        harness.run_date(text, ("tass.ru", "belta.by")[variant % 2])
    elif target == 4:
        harness.run_canonical(text)
    elif target == 5:
        harness.run_config(harness.CONFIG_NAMES[variant % len(harness.CONFIG_NAMES)], payload)
    elif target == 6:
        content_types = harness.CONTENT_TYPES
        harness.run_listing(payload, content_types[variant % len(content_types)] or "application/octet-stream")
    else:
        harness.run_telegram(payload)


def write_seeds(directory: Path, limit_bytes: int = 60_000) -> int:
    """Seed inputs: the mirror's rendered feeds, sitemaps and pages, the repository's config files."""
    from mediamon.devtools.mirror import catalog as catalog_mod
    from mediamon.devtools.mirror.corpus import load_corpus

    directory.mkdir(parents=True, exist_ok=True)
    catalog = catalog_mod.build(load_corpus(None), faults=True)
    seeds: list[bytes] = []
    kinds: dict[str, int] = {}
    for (host, path), resource in catalog.resources.items():
        ctype = resource.content_type.split(";")[0]
        target = 2 if "html" in ctype else (1 if "sitemap" in path else 0) if "xml" in ctype else None
        if host == "t.me" and "html" in ctype:
            target = 7  # channel pages feed the Telegram spider; other HTML pages both extraction and listing
        if target is None or len(resource.body) > limit_bytes or kinds.get(f"{target}{ctype}", 0) >= 8:
            continue
        kinds[f"{target}{ctype}"] = kinds.get(f"{target}{ctype}", 0) + 1
        seeds.append(bytes([target, 1]) + resource.body)
        if target == 2:
            seeds.append(bytes([6, 1]) + resource.body)
    seeds += [bytes([3, 0]) + s.encode() for s in ("8 ноября 2021, 19:51", "2021-11-08T19:51:00+03:00",
                                                   "Mon, 08 Nov 2021 16:51:00 GMT", "8 лістапада 2021 г.")]
    seeds += [bytes([4, 0]) + u.encode() for u in (harness.URL + "?utm_source=x#frag", "https://tass.ru/amp/politika/1",
                                                   "http://[::1]:80/a", "https://xn--80a.xn--p1ai/print/")]
    config = REPO / "config"
    for index, name in enumerate(harness.CONFIG_NAMES):
        if (config / name).is_file():
            seeds.append(bytes([5, index]) + (config / name).read_bytes()[:limit_bytes])
    for number, seed in enumerate(seeds):
        (directory / f"seed-{number:04d}").write_bytes(seed)
    return len(seeds)


def main(argv: list[str] | None = None) -> int:
    global ARTIFACTS, harness
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("MEDIAMON_FUZZ_SECONDS", "60")))
    parser.add_argument("--artifacts", type=Path, default=ARTIFACTS)
    parser.add_argument("--runs", type=int, default=-1,
                        help="stop after this many inputs (with --seed: the same inputs anywhere); -1: no limit")
    parser.add_argument("--max-len", type=int, default=65536)
    parser.add_argument("--seed", type=int, default=0,
                        help="libFuzzer's random seed; 0 (default) picks a new one, so every long run explores anew")
    parser.add_argument("--shallow", action="store_true",
                        help="instrument only crawlers/ and processing/ (starts ~15 s sooner; for short runs)")
    args = parser.parse_args(argv)
    ARTIFACTS = args.artifacts

    import atheris

    # Instrument our parsers and the libraries they lean on; the heavy rest (Scrapy, lxml) stays native speed.
    libraries = [] if args.shallow else ["feedparser", "courlan", "w3lib", "dateutil"]
    with atheris.instrument_imports(include=["crawlers", "processing", "mediamon", *libraries]):
        harness = importlib.import_module("tests.support.parsers")

    corpus = args.artifacts / "corpus"
    seeds = write_seeds(args.artifacts / "seeds")
    corpus.mkdir(parents=True, exist_ok=True)
    budget = f"{args.runs} inputs or {args.seconds}s" if args.runs >= 0 else f"{args.seconds}s"
    print(f"fuzzing for {budget} from {seeds} seeds; crashes go to {args.artifacts}", file=sys.stderr)
    libfuzzer_args = [sys.argv[0], f"-seed={args.seed}", f"-max_total_time={args.seconds}", f"-runs={args.runs}",
                      f"-max_len={args.max_len}",
                      "-timeout=30", "-rss_limit_mb=2048", f"-artifact_prefix={args.artifacts}/",
                      "-print_final_stats=1", str(corpus), str(args.artifacts / "seeds")]
    atheris.Setup(libfuzzer_args, one_input)
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    sys.exit(main())
