"""20 sources crawled at once from the mirror: every real host still sees one request per download delay.

The gaps are measured on the mirror's own request log (when each request was
answered), not on anything the crawler reports. Six sources are second copies
of real ones, so several crawlers (a source's feed, sitemap and list spiders,
and two sources) share each host, as mid-ru and mid-en share mid.ru.

Every source runs at concurrency 1 here. At concurrency 2 (tass, ria, sputnik)
the delay separates the moments requests are *sent*, as Scrapy's does; on two
busy cores the write of one can leave the event loop late while the next
leaves on time, so the mirror sees a gap shorter than the delay that no
crawler setting caused. At concurrency 1 the next request waits for the
previous answer plus the delay, so the gap the mirror sees is a hard bound.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import yaml

from mediamon.devtools.mirror.server import MirrorServer
from tests.support.crawl import crawl_env
from tests.support.paths import REPO

DELAY = 0.4
TOLERANCE = 0.05  # the request reaches the mirror a little after it is sent
COPIED = ["tass-ru", "ria-ru", "belta-ru", "kremlin-ru", "rt-en", "sputnik-en"]


def twenty_sources(path: Path) -> list[str]:
    data = yaml.safe_load((REPO / "config" / "sources.yaml").read_text(encoding="utf-8"))
    sources = data["sources"]
    copies = [{**s, "id": f"{s['id']}-copy"} for s in sources if s["id"] in COPIED]
    for source in [*sources, *copies]:
        source["politeness"] = {**source["politeness"], "download_delay": DELAY, "concurrency": 1}
    data["sources"] = [*sources, *copies]
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return [s["id"] for s in data["sources"]]


def test_twenty_concurrent_sources_respect_per_host_delay(tmp_path: Path) -> None:
    sources_file = tmp_path / "sources.yaml"
    ids = twenty_sources(sources_file)
    assert len(ids) == 20
    command = [sys.executable, "-m", "crawlers", "--json", "--sources", str(sources_file)]
    for key, value in {"AUTOTHROTTLE_ENABLED": False, "LOG_LEVEL": "ERROR", "MEDIAMON_RETRY_BACKOFF": 0.05}.items():
        command += ["--set", f"{key}={json.dumps(value)}"]
    with MirrorServer(faults=False) as mirror:
        proc = subprocess.run(command, cwd=REPO, env=crawl_env(mirror, tmp_path), capture_output=True, text=True,
                              timeout=240)
        requests = list(mirror.requests)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    assert sorted(report["sources"]) == sorted(ids) and report["adds_up"]
    assert all(s["archived"] > 0 for sid, s in report["sources"].items() if not sid.startswith("telegram")), report

    times: dict[str, list[float]] = defaultdict(list)
    for request in requests:
        times[request.host].append(request.received)
    gaps = {host: [b - a for a, b in zip(sorted(ts), sorted(ts)[1:], strict=False)] for host, ts in times.items()}
    too_close = {host: round(min(g), 3) for host, g in gaps.items() if g and min(g) < DELAY - TOLERANCE}
    assert not too_close, f"hosts hit faster than one request per {DELAY}s: {too_close}"
    busy = {host: (min(ts), max(ts)) for host, ts in times.items() if len(ts) >= 5}
    assert len(busy) >= 12
    # concurrent, not one after the other: some moment lies inside every busy host's crawl
    assert max(start for start, _ in busy.values()) < min(end for _, end in busy.values())
