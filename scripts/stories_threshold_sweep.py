"""Story quality on the labelled sample corpus at several link thresholds: how much margin the chosen one has.

Why: ``link_threshold`` in config/stories.yaml was tuned on the same labelled
corpus the tests grade, so the number alone says nothing about how close it
sits to a cliff. This crawls the mirror once, then processes the same archive
into a fresh index per threshold and prints pairwise precision and recall
(all pairs, and cross-language pairs), as tests/processing/stories grades them.

    python scripts/stories_threshold_sweep.py [--thresholds 6.5,7.0,7.3,7.6,8.0]

Needs the local node (``mediamon es start``; MEDIAMON_LOCAL_ES_DIR as for the tests).
"""

from __future__ import annotations

import argparse
import itertools
import shutil
import sys
import tempfile
import uuid
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def pairwise(corpus: dict, story_of: dict[str, str], cross_language_only: bool) -> tuple[float, float]:
    """Pairwise precision and recall of ``story_of`` (item -> story id) against the corpus's labels."""
    tp = fp = fn = 0
    for a, b in itertools.combinations(sorted(corpus), 2):
        if cross_language_only and corpus[a].lang == corpus[b].lang:
            continue
        same_label = (corpus[a].expect.get("story") or a) == (corpus[b].expect.get("story") or b)
        same_story = story_of[a] == story_of[b]
        tp, fp, fn = tp + (same_label and same_story), fp + (same_story and not same_label), fn + (
            same_label and not same_story)
    return tp / max(tp + fp, 1), tp / max(tp + fn, 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--thresholds", default="6.5,7.0,7.3,7.6,8.0,8.5")
    args = parser.parse_args(argv)
    thresholds = [float(t) for t in args.thresholds.split(",")]

    from mediamon.core.esclient import make_client
    from mediamon.core.settings import load_settings
    from mediamon.devtools.mirror.corpus import load_corpus
    from mediamon.devtools.mirror.server import MirrorServer
    from processing.runner import process_pending
    from processing.store.indexsetup import setup
    from tests.processing.test_end_to_end import all_documents, crawl, document_of
    from tests.support.es import drop_prefix
    from tests.support.paths import CONFIG

    base = load_settings()  # the running local node's (credentials.env of MEDIAMON_LOCAL_ES_DIR)
    es = make_client(base)
    work = Path(tempfile.mkdtemp(prefix="mediamon-sweep-"))
    corpus = {i.id: i for items in load_corpus().values() for i in items}
    try:
        data = base.model_copy(update={"data_dir": work / "data", "config_dir": CONFIG})
        data.data_dir.mkdir()
        with MirrorServer(faults=False) as mirror:
            crawl(mirror, data, work)
        print(f"{'threshold':>9}  {'precision':>9}  {'recall':>6}  {'x-lang P':>8}  {'x-lang R':>8}")
        for threshold in thresholds:
            config = work / f"config-{threshold}"
            shutil.copytree(CONFIG, config)
            stories = yaml.safe_load((config / "stories.yaml").read_text(encoding="utf-8"))
            stories["link_threshold"] = threshold
            (config / "stories.yaml").write_text(yaml.safe_dump(stories, allow_unicode=True), encoding="utf-8")
            settings = data.model_copy(update={"index_prefix": f"sweep{uuid.uuid4().hex[:8]}", "config_dir": config,
                                               "data_dir": work / f"data-{threshold}"})
            shutil.copytree(data.data_dir, settings.data_dir)
            setup(es, settings, with_roles=False)
            try:
                process_pending(settings, es, workers=2, progress=False)
                docs = all_documents(es, settings)
                story_of = {key: document_of(item, docs)["story_id"] for key, item in corpus.items()}
            finally:
                drop_prefix(es, settings.index_prefix)
            p, r = pairwise(corpus, story_of, cross_language_only=False)
            xp, xr = pairwise(corpus, story_of, cross_language_only=True)
            print(f"{threshold:>9}  {p:>9.3f}  {r:>6.3f}  {xp:>8.3f}  {xr:>8.3f}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
