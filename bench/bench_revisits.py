"""Revisits (issue 16): new-article throughput with revisits running vs without, and diff time on 1 MB.

Crawl: a generated RIA mirror; a first crawl archives N articles, then the
mirror publishes N more and a second crawl, one hour and five minutes later,
finds the N new ones while the N archived ones are due for their +1h revisit.
The same second crawl runs twice from copies of the same state: with revisits
(``revisits`` default) and without (``revisits: {enabled: false}``). New-article
throughput is read from the mirror's request log (new article URLs answered per
second, first to last). Goal: ratio >= 0.9.

Diff: a ~1 MB transcript (Valdai-like: thousands of paragraphs) against an
edited copy (a figure changed, a quotation cut, a paragraph added, the headline
rewritten), ``diff_versions``; the baseline is difflib's
plain line diff of the same two texts. Goal: < 100 ms per version.
"""

from __future__ import annotations

import difflib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from bench.bench_crawl import FAST, write_corpus
from tests.support.paths import REPO

N_ARTICLES = 600
FIRST = datetime(2021, 11, 12, 9, 0, tzinfo=UTC)
DIFF_RUNS = 7


def _sources(work: Path, revisits: bool) -> Path:
    entries = yaml.safe_load((REPO / "config" / "sources.yaml").read_text(encoding="utf-8"))["sources"]
    ria = next(e for e in entries if e["id"] == "ria-ru")
    ria = {**ria, "politeness": {**ria.get("politeness", {}), "download_delay": 0}}
    if not revisits:
        ria["revisits"] = {"enabled": False}
    path = work / f"sources-{'with' if revisits else 'without'}.yaml"
    path.write_text(yaml.safe_dump({"sources": [ria]}, allow_unicode=True), encoding="utf-8")
    return path


def _crawl(mirror, data_dir: Path, sources: Path, at: datetime) -> dict:
    command = [sys.executable, "-m", "crawlers", "--json", "--source", "ria-ru", "--sources", str(sources)]
    for key, value in {**FAST, "MEDIAMON_REVISIT_NOW": at.isoformat()}.items():
        command += ["--set", f"{key}={json.dumps(value)}"]
    env = {**os.environ, "MEDIAMON_URL_REWRITE": mirror.url_rewrite(), "MEDIAMON_DATA_DIR": str(data_dir),
           "MEDIAMON_CONFIG_DIR": str(REPO / "config")}
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=1200, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"crawl failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout)["sources"]["ria-ru"]


def _new_article_rate(mirror, new_paths: set[str]) -> float:
    answered = [r for r in mirror.requests if r.path in new_paths and r.status == 200]
    if len(answered) != len(new_paths):
        raise RuntimeError(f"{len(answered)} of {len(new_paths)} new articles fetched")
    return len(answered) / (max(r.at for r in answered) - min(r.received for r in answered))


def crawl_ratio(work: Path, n: int) -> dict:
    from mediamon.devtools.mirror.server import MirrorServer

    write_corpus(work / "corpus-all", 2 * n)
    items = yaml.safe_load((work / "corpus-all" / "ria-ru.yaml").read_text(encoding="utf-8"))
    (work / "corpus-old").mkdir()
    (work / "corpus-old" / "ria-ru.yaml").write_text(yaml.safe_dump(items[:n], allow_unicode=True), encoding="utf-8")
    first_state = work / "data-first"
    with MirrorServer(corpus_dir=work / "corpus-old") as mirror:
        old_paths = _article_paths(mirror)
        stats = _crawl(mirror, first_state, _sources(work, True), FIRST + timedelta(minutes=10))
        if stats["archived"] != n:
            raise RuntimeError(f"first crawl archived {stats['archived']} of {n}")
    results = {}
    for label, revisits in (("without", False), ("with", True)):
        data_dir = work / f"data-{label}"
        shutil.copytree(first_state, data_dir)
        with MirrorServer(corpus_dir=work / "corpus-all") as mirror:
            new_paths = _article_paths(mirror) - old_paths
            started = time.perf_counter()
            stats = _crawl(mirror, data_dir, _sources(work, revisits), FIRST + timedelta(hours=1, minutes=15))
            wall = time.perf_counter() - started
            results[label] = {"rate": _new_article_rate(mirror, new_paths), "wall": wall, "stats": stats}
        if results[label]["stats"]["archived"] != n:
            raise RuntimeError(f"{label}: second crawl archived {results[label]['stats']['archived']} of {n}")
    revisited = results["with"]["stats"]["revisits"]
    return {
        "new_articles": n, "revisits_due": revisited.get("due", 0), "revisits_sent": revisited.get("sent", 0),
        "new_articles_per_s_without_revisits": round(results["without"]["rate"], 1),
        "new_articles_per_s_with_revisits": round(results["with"]["rate"], 1),
        "new_article_throughput_ratio": round(results["with"]["rate"] / results["without"]["rate"], 2),
        "throughput_goal": ">= 0.9",
        "crawl_wall_s": {"without": round(results["without"]["wall"], 1), "with": round(results["with"]["wall"], 1)},
    }


def _article_paths(mirror) -> set[str]:
    return {urlsplit(a.url).path for a in mirror.expected if a.source == "ria-ru" and a.outcome == "archived"}


def transcript(paragraphs: int = 2600) -> tuple[str, list[str]]:
    """A ~1 MB Russian transcript: varied paragraphs with figures, quotations and attributions."""
    body = []
    for i in range(paragraphs):
        body.append(f"Вопрос {i}: как вы оцениваете ситуацию на границе, где, по данным ведомства, находятся "
                    f"около {1000 + i} человек? В.Путин: «Мы исходим из того, что {i}-й вопрос нужно решать "
                    f"в диалоге с Евросоюзом, а не угрозами», — заявил президент. Потом он добавил, что "
                    f"расходы составили {i * 7} миллионов рублей, и напомнил о договорённостях {2000 + i % 21} года.")
    return "Пленарное заседание дискуссионного клуба «Валдай»", body


def diff_time() -> dict:
    from processing.changes.config import load_change_rules
    from processing.changes.diff import VersionText, diff_versions

    rules = load_change_rules(REPO / "config")
    title, body = transcript()
    edited = list(body)
    edited[100] = edited[100].replace("около 1100", "около 2100")
    edited[900] = edited[900].split("В.Путин:")[0]
    del edited[1500]
    edited.insert(2000, "Добавленный абзац: стороны договорились продолжить консультации.")
    old = VersionText(title, "Стенограмма", "\n".join(body))
    new = VersionText(title + " (стенограмма)", "Стенограмма", "\n".join(edited))
    size = len(old.text.encode("utf-8"))
    ours, bare, change = [], [], None
    for _ in range(DIFF_RUNS):
        started = time.perf_counter()
        change = diff_versions(old, new, rules)
        ours.append(time.perf_counter() - started)
        started = time.perf_counter()
        list(difflib.unified_diff(old.text.splitlines(), new.text.splitlines(), lineterm=""))
        bare.append(time.perf_counter() - started)
    assert change is not None
    return {"text_bytes": size, "paragraphs": len(body), "classes_found": change.classes,
            "diff_ms_median": round(statistics.median(ours) * 1000, 1),
            "difflib_unified_diff_ms_median": round(statistics.median(bare) * 1000, 1),
            "ratio_to_difflib": round(statistics.median(ours) / statistics.median(bare), 2),
            "goal": "< 100 ms per version"}


def run(report: dict, n_articles: int = N_ARTICLES) -> None:
    figures = {"diff_1mb": diff_time()}
    with tempfile.TemporaryDirectory(prefix="bench-revisits-") as tmp:
        figures["crawl_with_revisits"] = crawl_ratio(Path(tmp), n_articles)
    report["revisits"] = figures


if __name__ == "__main__":
    results: dict = {}
    run(results, int(sys.argv[1]) if len(sys.argv) > 1 else N_ARTICLES)
    print(json.dumps(results, indent=2, ensure_ascii=False))
