"""The crawler cannot be turned against the network it runs in (SSRF), and stays on each source's domains.

One real crawl (``python -m crawlers``, real Scrapy) against two real servers on
127.0.0.1: the *site*, reached only through MEDIAMON_URL_REWRITE (the explicit
allowance an operator gives for a mirror), and an *internal service* that no
hostile feed link, redirect or DNS name may make the crawler touch. Each source
of the sources file is one way in: a literal private IP, names that only
resolve to loopback (decimal IP, ``127.1``, ``localhost``), redirects to
loopback and to the cloud metadata address, and off-domain links. One source
sets ``allow_private_addresses`` and must reach the internal service: the
guard, not an accident of the setup, is what blocks the others.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from crawlers.middlewares.guard import forbidden_address
from tests.support.paths import REPO
from tests.support.recording_server import Recorder, article, redirect, rss
from tests.support.rendering import needs_chromium

SITE = "news.example.org"
FAST = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "RETRY_TIMES": 0, "DOWNLOAD_TIMEOUT": 5,
        "LOG_LEVEL": "ERROR"}

pytestmark = pytest.mark.timeout(180)


def source(source_id: str, domains: list[str], allow_private: bool = False) -> dict[str, Any]:
    return {"id": source_id, "name": source_id, "owner": "test", "kind": "state_media", "languages": ["en"],
            "domains": [SITE, *domains], "schedule": "1h",
            "discovery": {"feeds": [{"url": f"https://{SITE}/{source_id}.xml"}]},
            "politeness": {"download_delay": 0, "obey_robots": False, "robots_override_reason": "test servers",
                           "allow_private_addresses": allow_private}}



def run_crawler(root: Path, sources: list[dict[str, Any]], site_port: int) -> subprocess.CompletedProcess[str]:
    """``python -m crawlers`` over ``sources``, SITE served by the recorder on ``site_port``; its report printed."""
    sources_file = root / "sources.yaml"
    sources_file.write_text(yaml.safe_dump({"sources": sources}))
    command = [sys.executable, "-m", "crawlers", "--json", "--sources", str(sources_file)]
    for key, value in FAST.items():
        command += ["--set", f"{key}={json.dumps(value)}"]
    env = {**os.environ, "MEDIAMON_DATA_DIR": str(root / "data"),
           "MEDIAMON_URL_REWRITE": f"https://{SITE}=http://127.0.0.1:{site_port}/{SITE}"}
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=150)
    assert done.stdout.strip(), done.stderr[-3000:]
    return done

@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    internal = Recorder({f"/{name}": article(f"internal secret {name}") for name in
                         ("ip", "decimal", "short", "localhost", "redirected", "offsite", "allowed")})
    port = internal.port
    inside = f"127.0.0.1:{port}"
    site = Recorder({
        f"/{SITE}/ip.xml": rss([f"http://{inside}/ip", f"http://0.0.0.0:{port}/ip", f"http://[::1]:{port}/ip",
                                f"http://[::ffff:127.0.0.1]:{port}/ip"]),
        f"/{SITE}/dns.xml": rss([f"http://2130706433:{port}/decimal", f"http://127.1:{port}/short",
                                 f"http://localhost:{port}/localhost"]),
        f"/{SITE}/redirects.xml": rss([f"https://{SITE}/to-internal", f"https://{SITE}/to-metadata",
                                       f"https://{SITE}/to-localhost"]),
        f"/{SITE}/to-internal": redirect(f"http://{inside}/redirected"),
        f"/{SITE}/to-metadata": redirect("http://169.254.169.254/latest/meta-data/iam/security-credentials/"),
        f"/{SITE}/to-localhost": redirect(f"http://localhost:{port}/redirected"),
        f"/{SITE}/offsite.xml": rss([f"https://{SITE}/fine", "https://elsewhere.example.net/story",
                                     f"https://{SITE}/to-elsewhere", f"https://{SITE}/to-internal-offsite"]),
        f"/{SITE}/fine": article("an ordinary article on the source's own site"),
        f"/{SITE}/to-elsewhere": redirect("https://elsewhere.example.net/other"),
        f"/{SITE}/to-internal-offsite": redirect(f"http://{inside}/offsite"),
        f"/{SITE}/allowed.xml": rss([f"http://{inside}/allowed"]),
    })
    sources = [source("ip", ["127.0.0.1", "0.0.0.0", "::1", "::ffff:127.0.0.1", "::ffff:7f00:1"]),
               source("dns", ["2130706433", "127.1", "localhost"]),
               source("redirects", ["127.0.0.1", "169.254.169.254", "localhost"]), source("offsite", []),
               source("allowed", ["127.0.0.1"], allow_private=True)]
    try:
        done = run_crawler(tmp_path_factory.mktemp("ssrf"), sources, site.port)
        yield {"report": json.loads(done.stdout)["sources"], "internal": internal.paths, "site": site.paths,
               "stderr": done.stderr}
    finally:
        internal.close()
        site.close()


def test_internal_service_is_reached_only_by_the_source_that_allows_private_addresses(crawl: dict[str, Any]) -> None:
    assert crawl["internal"] == ["/allowed"]
    assert crawl["report"]["allowed"]["archived"] == 1


def test_literal_private_addresses_in_a_feed_are_blocked(crawl: dict[str, Any]) -> None:
    # 127.0.0.1, 0.0.0.0 (reaches local services on Linux), [::1] and IPv4-mapped [::ffff:127.0.0.1]
    assert crawl["report"]["ip"]["errors"] == {"ssrf_blocked": 4}


@pytest.mark.parametrize("ip", ["100.64.0.1", "100.100.100.200", "::ffff:169.254.169.254", "fd00:ec2::254",
                                "198.18.0.1", "224.0.0.1", "255.255.255.255", "192.0.0.1"])
def test_internal_ranges_beyond_rfc1918_are_forbidden(ip: str) -> None:
    assert forbidden_address(ip)


@pytest.mark.parametrize("ip", ["95.173.136.70", "2a00:1450:4010::1", "8.8.8.8"])
def test_public_addresses_are_allowed(ip: str) -> None:
    assert not forbidden_address(ip)


def test_names_resolving_to_loopback_are_blocked_after_resolution(crawl: dict[str, Any]) -> None:
    # 2130706433 and 127.1 are not IP literals to ipaddress; only DNS resolution reveals 127.0.0.1
    assert crawl["report"]["dns"]["errors"] == {"ssrf_blocked": 3}


def test_redirects_to_loopback_and_metadata_are_blocked(crawl: dict[str, Any]) -> None:
    stats = crawl["report"]["redirects"]
    assert stats["errors"] == {"ssrf_blocked": 3}
    assert {f"/{SITE}/to-internal", f"/{SITE}/to-metadata", f"/{SITE}/to-localhost"} <= set(crawl["site"])


def test_crawl_stays_on_the_source_domains(crawl: dict[str, Any]) -> None:
    stats = crawl["report"]["offsite"]
    assert stats["archived"] == 1  # the ordinary article: the crawl itself works
    assert stats["skipped_links"] == 1  # the off-domain link is never requested
    assert stats["errors"] == {"offsite_redirect": 2}  # redirects off the domains, internal or not
    assert all(stats["adds_up"] for stats in crawl["report"].values())


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A crawl whose rendered article page makes Chromium itself ask for internal addresses, and a video."""
    internal = Recorder({"/script": (200, {"Content-Type": "text/javascript"}, b"var leaked = 1;"),
                         "/script-allowed": (200, {"Content-Type": "text/javascript"}, b"var allowed = 1;")})
    inside = f"127.0.0.1:{internal.port}"
    hostile = (f'<html><head><title>t</title><script src="http://{inside}/script"></script></head><body>'
               "<h1>An article whose page asks the browser for internal services</h1><p>text</p>"
               '<img src="photo.png">'  # the site's own (through MEDIAMON_URL_REWRITE): fetched
               f'<img src="http://localhost:{internal.port}/pixel">'
               '<img src="http://169.254.169.254/latest/meta-data/">'
               '<video src="clip.mp4" preload="auto" muted></video>'
               f'<script>fetch("http://{inside}/xhr").catch(() => null);</script></body></html>')
    allowed = (f'<html><head><title>t</title><script src="http://{inside}/script-allowed"></script></head><body>'
               "<h1>An article of a source on the internal network</h1><p>text</p></body></html>")
    site = Recorder({
        f"/{SITE}/rendered.xml": rss([f"https://{SITE}/hostile"]),
        f"/{SITE}/hostile": (200, {"Content-Type": "text/html; charset=utf-8"}, hostile.encode()),
        f"/{SITE}/photo.png": (200, {"Content-Type": "image/png"}, b"\x89PNG\r\n\x1a\n"),
        f"/{SITE}/clip.mp4": (200, {"Content-Type": "video/mp4"}, b"\x00" * 64),
        f"/{SITE}/rendered-allowed.xml": rss([f"https://{SITE}/hostile-allowed"]),
        f"/{SITE}/hostile-allowed": (200, {"Content-Type": "text/html; charset=utf-8"}, allowed.encode()),
    })
    sources = [{**source("rendered", []), "render": "browser"},
               {**source("rendered-allowed", [], allow_private=True), "render": "browser"}]
    try:
        done = run_crawler(tmp_path_factory.mktemp("ssrf-rendered"), sources, site.port)
        yield {"report": json.loads(done.stdout)["sources"], "internal": internal.paths, "site": site.paths}
    finally:
        internal.close()
        site.close()


@needs_chromium
def test_a_rendered_page_cannot_make_the_browser_fetch_internal_addresses(rendered: dict[str, Any]) -> None:
    stats = rendered["report"]["rendered"]
    assert stats["archived"] == 1 and stats["adds_up"]  # the page itself is rendered and archived
    # its script, XHR, localhost and metadata images are aborted, and so is its video; each counted by reason
    assert stats["browser_aborted"] == {"ssrf_blocked": 4, "media": 1}
    assert stats["browser_requests"] - sum(stats["browser_aborted"].values()) >= 2  # the page and its photo
    assert f"/{SITE}/photo.png" in rendered["site"] and f"/{SITE}/clip.mp4" not in rendered["site"]
    # only the source that allows private addresses reached the internal service: the rule, not the setup, blocks
    assert rendered["internal"] == ["/script-allowed"]
    assert rendered["report"]["rendered-allowed"]["archived"] == 1
    assert rendered["report"]["rendered-allowed"]["browser_aborted"] == {}
