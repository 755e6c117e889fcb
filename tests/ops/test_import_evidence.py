"""`mediamon import` and `mediamon evidence`: foreign WARC/WACZ files in, evidence WACZ out.

A WARC written by real ``wget --warc-file`` from the mirror gives the same
documents as crawling the same pages; a WACZ from ``mediamon evidence``
validates (its datapackage.json digests match every file) and re-imports.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import uuid
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from mediamon.cli.main import main as cli
from mediamon.core.archive import iter_batches, iter_records, read_manifest
from mediamon.devtools.mirror.server import MirrorServer
from mediamon.ops.evidence import validate
from mediamon.ops.importing import import_archives
from processing.runner import process_pending
from processing.store.indexsetup import setup
from tests.support.crawl import fast_sources, run_crawl
from tests.support.es import drop_prefix
from tests.support.rendering import challenged_articles, crawl_challenged, needs_chromium

WGET_SOURCES = {"rt-en", "belta-ru"}  # https sites (the mirror's rewrite maps back to https), one windows-1251


def documents(es, settings) -> dict[str, dict]:
    es.indices.refresh(index=settings.docs_alias)
    hits = es.search(index=settings.docs_alias, size=500, source_excludes=["fetched_at", "indexed_at", "raw_ref"])
    return {h["_id"]: h["_source"] for h in hits["hits"]["hits"]}


def wget_warc(mirror: MirrorServer, urls: list[str], directory: Path) -> Path:
    """The mirror's pages fetched by real wget into a WARC, as an archivist would."""
    if shutil.which("wget") is None:
        pytest.skip("wget is not installed (apt-get install wget)")
    listing = directory / "urls.txt"
    listing.write_text("\n".join(urls) + "\n", encoding="utf-8")
    subprocess.run(["wget", "--quiet", "--warc-file", str(directory / "capture"), "--no-warc-keep-log",
                    "-O", "/dev/null", "-i", str(listing)], cwd=directory, timeout=120, check=False)
    return directory / "capture.warc.gz"


def mirrored(mirror: MirrorServer, url: str) -> str:
    scheme_host, path = url.split("//", 1)[1].split("/", 1)
    return f"{mirror.base_url}/{scheme_host}/{path}"


@pytest.mark.slow
def test_a_wget_warc_of_the_mirror_gives_the_same_documents_as_crawling_it(es_settings, es_admin, tmp_path):
    crawled = es_settings
    imported = crawled.model_copy(update={"index_prefix": f"t{uuid.uuid4().hex[:10]}",
                                          "data_dir": tmp_path / "imported"})
    setup(es_admin, imported, with_roles=False)
    try:
        with MirrorServer(faults=False) as mirror:
            articles = [e.url for e in mirror.expected if e.source in WGET_SOURCES and e.outcome == "archived"]
            code, report, stderr = run_crawl(mirror, crawled.data_dir, "--sources",
                                             str(fast_sources(tmp_path, WGET_SOURCES)))
            assert code == 0, stderr[-2000:]
            others = [f"{mirror.base_url}/www.rt.com/rss/", f"{mirror.base_url}/www.rt.com/no-such-page/",
                      f"{mirror.base_url}/ria.ru/robots.txt"]
            warc = wget_warc(mirror, [mirrored(mirror, u) for u in articles] + others, tmp_path)
            imported = imported.model_copy(update={"url_rewrite": mirror.url_rewrite()})
        process_pending(crawled, es_admin, workers=1, progress=False)
        result = import_archives(imported, [warc], es=es_admin)

        counts = result["import"]
        assert counts["adds_up"] and counts["imported"] == {s: report["sources"][s]["archived"] for s in WGET_SOURCES}
        # the feed and robots.txt are not pages, the 404 is an error page (ria.ru is a source: not_html, not other)
        assert counts["skipped"] == {"not_html": 2, "http_404": 1}
        assert counts["other_records"]["request"] == len(articles) + len(others)
        assert result["process"]["created"] == len(articles)
        entries = [e for b in iter_batches(imported.data_dir / "archive") for e in read_manifest(b)]
        assert {e.provenance for e in entries} == {"import"} and all(e.captured_at for e in entries)

        expected, got = documents(es_admin, crawled), documents(es_admin, imported)
        assert got.keys() == expected.keys() and len(got) == len(articles)
        for doc_id, doc in expected.items():
            for name in ("url", "canonical_url", "source", "title", "lead", "text", "lang", "published_at",
                         "content_hash", "speakers", "narratives"):
                assert got[doc_id].get(name) == doc.get(name), (doc["url"], name)

        again = import_archives(imported, [warc], es=es_admin)["import"]
        assert again["imported"] == {} and again["skipped"]["already_archived"] == len(articles)
        assert again["new_batches"] == []
    finally:
        drop_prefix(es_admin, imported.index_prefix)


def test_import_says_which_file_is_not_a_warc(tmp_path, monkeypatch):
    not_warc = tmp_path / "notes.warc.gz"
    not_warc.write_bytes(b"this is not a WARC file\n")
    monkeypatch.setenv("MEDIAMON_DATA_DIR", str(tmp_path / "data"))
    result = CliRunner().invoke(cli, ["import", "--no-process", "--json", str(not_warc)])
    assert result.exit_code == 1
    report = json.loads(result.stdout.splitlines()[0])["import"]
    assert report["responses"] == 0 and str(not_warc) in report["unreadable"]
    assert "not (fully) readable as WARC/WACZ" in result.stderr


@pytest.mark.slow
@needs_chromium
def test_an_evidence_wacz_validates_and_reimports(tmp_path, monkeypatch):
    with MirrorServer(challenges=True) as mirror:
        code, _report, stderr = crawl_challenged(mirror, tmp_path / "crawled", "on_challenge")
        assert code == 0, stderr[-2000:]
        wanted = sorted(challenged_articles(mirror))[:3]
    monkeypatch.setenv("MEDIAMON_DATA_DIR", str(tmp_path / "crawled"))
    wacz = tmp_path / "evidence.wacz"
    result = CliRunner().invoke(cli, ["evidence", *wanted, "https://mid.ru/never/archived/", "--out", str(wacz),
                                      "--json"])
    assert result.exit_code == 1, result.output  # one URL was never archived: said, the others packaged
    report = json.loads(result.stdout.splitlines()[0])
    assert (report["captures"], report["screenshots"]) == (3, 3) and report["records"] == 9
    assert report["missing"] == ["https://mid.ru/never/archived/"]

    assert validate(wacz)[0]
    with zipfile.ZipFile(wacz) as package:
        datapackage = json.loads(package.read("datapackage.json"))
        for resource in datapackage["resources"]:
            digest = hashlib.sha256(package.read(resource["path"])).hexdigest()
            assert resource["hash"] == f"sha256:{digest}", resource["path"]
        assert {r["path"] for r in datapackage["resources"]} >= {"pages/pages.jsonl", "indexes/index.cdx.gz"}
        pages = [json.loads(line) for line in package.read("pages/pages.jsonl").splitlines()[1:]]
        assert sorted(p["url"] for p in pages) == wanted

    monkeypatch.setenv("MEDIAMON_DATA_DIR", str(tmp_path / "reimported"))
    sources = tmp_path / "crawled" / ".." / "sources-on_challenge.yaml"
    result = CliRunner().invoke(cli, ["import", "--no-process", "--json", "--sources", str(sources), str(wacz)])
    assert result.exit_code == 0, result.output
    counts = json.loads(result.stdout.splitlines()[0])["import"]
    assert counts["adds_up"] and sum(counts["imported"].values()) == 3
    assert counts["other_records"] == {"request": 3, "resource": 3}
    originals = {r.manifest.url: r.body for b in iter_batches(tmp_path / "crawled" / "archive")
                 for r in iter_records(b)}
    reimported = [r for b in iter_batches(tmp_path / "reimported" / "archive") for r in iter_records(b)]
    assert sorted(r.manifest.url for r in reimported) == wanted
    assert all(r.body == originals[r.manifest.url] and r.manifest.provenance == "import" for r in reimported)
