"""One search cannot tie up Elasticsearch: capped queries, a server-side timeout, no retried timeouts.

``mediamon search`` runs as a real process against the real node, through a real
HTTP proxy on 127.0.0.1 that records what reaches the node and can answer
``_search`` slowly (an overloaded node). A 20,000-word query is refused before
anything is sent; a search that times out on the client is sent once, not again,
and ends in one clear line instead of a traceback.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from mediamon.core.esclient import SEARCH_TIMEOUT
from mediamon.core.settings import Settings
from processing.store.search import MAX_QUERY_TERMS, QueryTooLarge, SearchFilters, search
from tests.support.paths import REPO

MEDIAMON = str(REPO / ".venv" / "bin" / "mediamon")
HOP_BY_HOP = {"connection", "transfer-encoding", "content-length", "host", "keep-alive"}

pytestmark = pytest.mark.timeout(120)


class NodeProxy:
    """A real HTTP proxy in front of the node: records every request; ``_search`` waits ``slow`` seconds."""

    def __init__(self, upstream: str, slow: float = 0.0) -> None:
        self.requests: list[tuple[str, bytes]] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                proxy.requests.append((self.path, body))
                if "/_search" in self.path:
                    time.sleep(slow)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                resp = httpx.request(self.command, upstream + self.path, headers=headers, content=body, timeout=30)
                try:
                    self.send_response(resp.status_code)
                    for key, value in resp.headers.items():
                        if key.lower() not in HOP_BY_HOP:
                            self.send_header(key, value)
                    self.send_header("Content-Length", str(len(resp.content)))
                    self.end_headers()
                    self.wfile.write(resp.content)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting, as it should

            do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = _forward

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def searches(self) -> list[dict[str, Any]]:
        return [json.loads(body) for path, body in self.requests if "/_search" in path]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def proxy_factory(es_settings: Settings) -> Iterator[Any]:
    started: list[NodeProxy] = []

    def start(slow: float = 0.0) -> NodeProxy:
        started.append(NodeProxy(es_settings.es_url or "", slow))
        return started[-1]

    yield start
    for proxy in started:
        proxy.close()


def cli(settings: Settings, proxy: NodeProxy, *args: str, **env: str) -> tuple[subprocess.CompletedProcess[str], float]:
    """``mediamon ARGS`` against the node through ``proxy``, with the node's credentials given explicitly."""
    assert settings.es_password is not None
    full_env = {**os.environ, "MEDIAMON_INDEX_PREFIX": settings.index_prefix,
                "MEDIAMON_DATA_DIR": str(settings.data_dir), "MEDIAMON_ES_URL": proxy.url,
                "MEDIAMON_LOCAL_ES_DIR": str(settings.data_dir / "no-local-node"),
                "MEDIAMON_ES_USERNAME": settings.es_username or "", **env,
                "MEDIAMON_ES_PASSWORD": settings.es_password.get_secret_value()}
    started = time.monotonic()
    done = subprocess.run([MEDIAMON, *args], env=full_env, capture_output=True, text=True, timeout=100)
    return done, time.monotonic() - started


def test_a_20000_word_query_is_refused_before_it_reaches_the_node(es_settings: Settings, proxy_factory) -> None:
    proxy = proxy_factory()
    done, took = cli(es_settings, proxy, "search", " ".join(["war"] * 20_000))
    assert done.returncode == 2, done.stderr[-2000:]
    assert "query too long: 79,999 characters" in done.stderr and "Traceback" not in done.stderr
    assert proxy.requests == [] and took < 20


def test_a_timed_out_search_is_sent_once_and_ends_in_one_clear_line(es_settings: Settings, proxy_factory) -> None:
    proxy = proxy_factory(slow=4)
    done, took = cli(es_settings, proxy, "search", "border", MEDIAMON_ES_TIMEOUT="1", MEDIAMON_ES_MAX_RETRIES="3")
    assert done.returncode == 1, done.stderr[-2000:]
    assert "did not answer within 1s" in done.stderr and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert len(proxy.searches()) == 1, proxy.requests  # the node is not asked to run it again
    assert took < 15


def test_searches_carry_a_server_side_timeout(es_settings: Settings, proxy_factory) -> None:
    proxy = proxy_factory()
    for args in (["search", "border"], ["search", "border", "--all", "--json"]):
        done, _ = cli(es_settings, proxy, *args)
        assert done.returncode == 0, done.stderr[-2000:]
    assert len(proxy.searches()) >= 2
    assert all(body.get("timeout") == SEARCH_TIMEOUT for body in proxy.searches()), proxy.searches()


def test_the_cap_admits_a_long_analyst_query_and_refuses_one_term_more(es_settings: Settings, es_admin) -> None:
    words = [f"w{n}" for n in range(MAX_QUERY_TERMS)]
    assert search(es_admin, es_settings.docs_alias, " ".join(words), SearchFilters()) == (0, [])
    with pytest.raises(QueryTooLarge, match="at most"):
        search(es_admin, es_settings.docs_alias, " ".join([*words, "more"]), SearchFilters())
    with pytest.raises(QueryTooLarge, match="characters"):
        search(es_admin, es_settings.docs_alias, "x" * 5000, SearchFilters())
