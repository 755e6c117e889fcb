"""The importer on a WARC shaped like Browsertrix's and CC-NEWS's: what is imported, what is skipped and why.

The WARC is written here with warcio, record by record, as those tools write
them: warcinfo, request/response pairs, a revisit, a screenshot resource, a
metadata record, gzip content-encoding, chunked transfer-encoding.
"""

from __future__ import annotations

import gzip
import io
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from crawlers.crawl_state import SourceRun
from crawlers.warc_import import Importer
from mediamon.core.archive import iter_batches, iter_records
from mediamon.core.sources import load_sources
from tests.support.paths import CONFIG

ARTICLE = "https://tass.com/politics/1361247"
PAGE = ("<html><head><title>Lavrov</title></head><body><h1>Lavrov on the border</h1><p>"
        + "Belarus and Poland. " * 40 + "</p></body></html>").encode()


def _response(writer: WARCWriter, url: str, body: bytes, status: str = "200 OK", ctype: str = "text/html",
              headers: list[tuple[str, str]] | None = None) -> None:
    http = StatusAndHeaders(status, [("Content-Type", ctype), *(headers or [])], protocol="HTTP/1.1")
    writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http,
                                                  warc_headers_dict={"WARC-Date": "2021-11-12T08:00:00Z"}))
    request = StatusAndHeaders("GET / HTTP/1.1", [], is_http_request=True)
    writer.write_record(writer.create_warc_record(url, "request", payload=io.BytesIO(b""), http_headers=request))


def foreign_warc(path: Path) -> Path:
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "Browsertrix-Crawler 1.x"}))
        _response(writer, ARTICLE, gzip.compress(PAGE), headers=[("Content-Encoding", "gzip")])
        _response(writer, ARTICLE + "?utm_source=rss", PAGE)  # the same article again: one document
        _response(writer, ARTICLE.replace("https://", "http://"), PAGE)  # captured as http://: the same article
        _response(writer, "https://tass.com/politics", PAGE)  # a section page: not an article
        _response(writer, "https://tass.com/politics/1361999", b"gone", status="404 Not Found")
        _response(writer, "https://tass.com/politics/1362000", b"{}", ctype="application/json")
        _response(writer, "https://example.org/news/1", PAGE)  # no configured source
        writer.write_record(writer.create_revisit_record(ARTICLE, digest="sha1:AAAA", refers_to_uri=ARTICLE,
                                                         refers_to_date="2021-11-11T08:00:00Z"))
        writer.write_record(writer.create_warc_record("urn:view:" + ARTICLE, "resource",
                                                      payload=io.BytesIO(b"\x89PNG"), warc_content_type="image/png"))
        writer.write_record(writer.create_warc_record("urn:pageinfo:" + ARTICLE, "metadata",
                                                      payload=io.BytesIO(b"{}"), warc_content_type="application/json"))
    return path


def importer(tmp_path: Path) -> Importer:
    return Importer(load_sources(CONFIG / "sources.yaml"), [], tmp_path / "state", tmp_path / "archive", 500)


def test_only_new_articles_of_configured_sources_are_imported_and_the_rest_is_counted_by_reason(tmp_path):
    warc = foreign_warc(tmp_path / "crawl.warc.gz")
    run = importer(tmp_path)
    run.import_file(warc)
    report = run.finish()
    assert report.adds_up() and report.responses == 8
    assert dict(report.imported) == {"tass-en": 1}
    assert dict(report.skipped) == {"duplicate": 2, "not_article": 1, "http_404": 1, "not_html": 1,
                                    "not_a_source": 1, "revisit": 1}
    assert dict(report.other_records) == {"warcinfo": 1, "request": 7, "resource": 1, "metadata": 1}

    [record] = [r for b in iter_batches(tmp_path / "archive") for r in iter_records(b)]
    assert record.body == PAGE  # the gzip content-encoding undone, and not claimed by the archived headers
    assert not any(k.lower() == "content-encoding" for k, _ in record.http_headers)
    assert record.manifest.provenance == "import" and record.manifest.captured_at.isoformat().startswith("2021-11-12")
    assert record.manifest.model_extra["import_file"] == "crawl.warc.gz"


def test_importing_the_same_file_again_adds_nothing_and_a_crawl_would_not_fetch_it_again(tmp_path):
    warc = foreign_warc(tmp_path / "crawl.warc.gz")
    for _ in range(2):
        run = importer(tmp_path)
        run.import_file(warc)
        report = run.finish()
    assert dict(report.imported) == {} and report.skipped["already_archived"] == 1 and report.new_batches == []
    source = next(s for s in load_sources(CONFIG / "sources.yaml") if s.id == "tass-en")
    crawl = SourceRun(source, tmp_path / "state", tmp_path / "archive", 500)
    assert crawl.open() and crawl.claim(ARTICLE) is None and crawl.stats.already_seen == 1
    crawl.finish()
