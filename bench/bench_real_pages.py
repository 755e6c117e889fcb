"""Extraction quality and time accuracy on the real saved pages (issue 12).

Every page of tests/support/realpages.py (../shared/fixtures/real) goes through the
runner's record path with the real config. Figures:
- ``f1_<site>``: 4-gram shingle F1 of the body against the benchmark ground truth
  (rt, sputnik: the pages that have one);
- ``bounds_right``: pages whose body starts with the article's first sentence and
  ends with its last;
- ``furniture_free``: pages with no footer/disclaimer/insert line in the body;
- ``time_exact``: pages whose publication time equals the printed one to the minute, in UTC;
- ``time_error_minutes``: per page, stored minus true (0 = right).
"""

from __future__ import annotations

import json
import sys

from mediamon.core.sources import load_sources, sources_by_id
from processing.rules import load_processing_rules
from tests.support.paths import CONFIG, REAL_FIXTURES
from tests.support.realpages import FURNITURE, REAL_PAGES, process
from tests.support.scoring import ground_truth, shingle_f1


def run(report: dict) -> None:
    if not REAL_FIXTURES.exists():
        report["skipped"] = f"{REAL_FIXTURES} is absent"
        return
    sources, rules = sources_by_id(load_sources(CONFIG / "sources.yaml")), load_processing_rules(CONFIG)
    bounds = furniture_free = exact = 0
    errors: dict[str, float | None] = {}
    for page in REAL_PAGES:
        doc = process(page, REAL_FIXTURES, sources, rules).document
        name = page.path.split("/")[0] + "/" + page.url.rstrip("/").rsplit("/", 1)[-1][:12]
        if doc is None:
            errors[name] = None
            continue
        lines = doc.text.split("\n")
        bounds += lines[0].startswith(page.first) and lines[-1].endswith(page.last)
        furniture_free += not any(f.casefold() in doc.text.casefold() for f in FURNITURE)
        error = (doc.published_at - page.published).total_seconds() // 60 if doc.published_at else None
        errors[name] = error
        exact += error == 0
        if page.path.split("/")[0] in ("rt", "sputnik"):
            _body, _url, truth = ground_truth(REAL_FIXTURES, page.path.split("/")[0])
            report[f"f1_{page.path.split('/')[0]}"] = round(shingle_f1(doc.text, truth), 3)
    report |= {"pages": len(REAL_PAGES), "bounds_right": bounds, "furniture_free": furniture_free,
               "time_exact": exact, "time_error_minutes": errors}


if __name__ == "__main__":
    result: dict = {}
    run(result)
    json.dump(result, sys.stdout, ensure_ascii=False, indent=1)
