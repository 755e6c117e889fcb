"""The mirror's HTTP server: a real threaded server on 127.0.0.1 serving the catalogue.

Requests arrive as ``/<real host>/<real path>`` (what MEDIAMON_URL_REWRITE
produces). Every request is logged (host, path, status, User-Agent, validators)
so tests can assert what the crawler did and did not fetch. Transient faults
(connection reset, 429, 503) hit only the first request of their URL. With a
clock (``set_clock``, or ``GET /_mirror/clock?at=ISO``), the pages of
``changing`` are served too, as they are at that time.
"""

from __future__ import annotations

import contextlib
import hashlib
import socket
import struct
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from mediamon.devtools.mirror import catalog as catalog_mod
from mediamon.devtools.mirror import changing, webarchives
from mediamon.devtools.mirror.challenge import JsChallenge
from mediamon.devtools.mirror.corpus import load_corpus


@dataclass(frozen=True)
class LoggedRequest:
    host: str
    path: str
    status: int
    user_agent: str
    if_none_match: str | None
    if_modified_since: str | None
    at: float  # time.monotonic() when answered
    received: float = 0.0  # time.monotonic() when the request line arrived (politeness gaps)

    @property
    def real_url(self) -> str:
        return f"//{self.host}{self.path}"


class MirrorServer:
    """``with MirrorServer(faults=True) as mirror:`` serves every site on ``mirror.base_url``."""

    def __init__(self, corpus_dir: Path | None = None, faults: bool = False, host: str = "127.0.0.1",
                 port: int = 0, shared_dir: Path | None = None, retry_after: int = 1,
                 clock: datetime | None = None, challenges: bool = False) -> None:
        self.corpus = load_corpus(corpus_dir)
        self.faults = faults
        self.retry_after = retry_after
        self.catalog = catalog_mod.build(self.corpus, faults, shared_dir)
        self.archives = webarchives.build(self.catalog, self.corpus)  # Wayback and Common Crawl, for backfills
        # mid.ru's and rt.com's articles behind a challenge only a browser passes (mirror/challenge.py)
        self.challenge = JsChallenge(self.catalog) if challenges else None
        self.requests: list[LoggedRequest] = []
        self._lock = threading.Lock()
        self._faulted: set[tuple[str, str]] = set()
        self.clock = clock  # None: no changing pages
        self._httpd = ThreadingHTTPServer((host, port), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def expected(self) -> list[catalog_mod.ExpectedArticle]:
        return self.catalog.expected

    def url_rewrite(self) -> str:
        """The MEDIAMON_URL_REWRITE value sending every mirrored real site to this server."""
        rules = []
        for host in sorted(self.catalog.hosts, key=len, reverse=True):
            for scheme in ("https", "http"):
                rules.append(f"{scheme}://{host}={self.base_url}/{host}")
        return " ".join(rules)

    def start(self) -> MirrorServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="mirror", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> MirrorServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def log(self, entry: LoggedRequest) -> None:
        with self._lock:
            self.requests.append(entry)

    def set_clock(self, at: datetime) -> None:
        """Move the changing pages to how they are at ``at``."""
        self.clock = at

    def first_time(self, key: tuple[str, str]) -> bool:
        with self._lock:
            if key in self._faulted:
                return False
            self._faulted.add(key)
            return True


def _handler_for(mirror: MirrorServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body leave in one go: no delayed-ACK stalls
        wbufsize = 64 * 1024
        server_version = "nginx"
        sys_version = ""

        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_GET(self) -> None:
            _, _, rest = self.path.partition("/")
            host, _, path = rest.partition("/")
            path = "/" + path
            received = time.monotonic()
            status = self._serve(host, path)
            mirror.log(LoggedRequest(host, path, status, self.headers.get("User-Agent", ""),
                                     self.headers.get("If-None-Match"), self.headers.get("If-Modified-Since"),
                                     time.monotonic(), received))

        def _serve(self, host: str, path: str) -> int:
            if host == "_mirror":
                return self._admin(path)
            resource = changing.resource(mirror.clock, host, path) if mirror.clock else None
            resource = resource or mirror.catalog.resources.get((host, path)) \
                or mirror.archives.answer(host, path, self.headers.get("Range"))
            if resource is None:
                return self._send(404, b"<html><body><h1>404 Not Found</h1></body></html>", "text/html")
            ua = self.headers.get("User-Agent", "")
            if mirror.faults and host in catalog_mod.UA_CHECK_HOSTS and "Mozilla/" not in ua:
                return self._send(403, b"<html><body>Access denied</body></html>", "text/html")
            if mirror.faults and resource.fault and mirror.first_time((host, path)):
                if resource.fault == "reset_once":
                    self._reset()
                    return 0
                if resource.fault == "429_once":
                    return self._send(429, b"Too Many Requests", "text/plain",
                                      {"Retry-After": str(mirror.retry_after)})
                if resource.fault == "503_once":
                    return self._send(503, b"Service Unavailable", "text/plain")
            if mirror.challenge and mirror.challenge.applies(host, path) and not mirror.challenge.passed(
                    host, self.headers.get("Cookie")):
                status, headers, page = mirror.challenge.answer(host)
                return self._send(status, page, "text/html; charset=utf-8", headers)
            headers = dict(resource.headers)
            if resource.conditional:
                etag = f'"{hashlib.sha1(resource.body).hexdigest()[:16]}"'
                headers["ETag"] = etag
                modified = resource.last_modified or datetime(2021, 11, 1, tzinfo=UTC)
                headers["Last-Modified"] = format_datetime(modified.astimezone(UTC), usegmt=True)
                if self._not_modified(etag, modified):
                    return self._send(304, b"", None, headers)
            return self._send(resource.status, resource.body, resource.content_type, headers)

        def _admin(self, path: str) -> int:
            """``/_mirror/clock?at=ISO``: set the clock of the changing pages (a mirror in another process)."""
            parts = urlsplit(path)
            at = parse_qs(parts.query).get("at", [""])[0]
            try:
                clock = datetime.fromisoformat(at)
            except ValueError:
                return self._send(400, b"at=ISO time expected", "text/plain")
            if parts.path != "/clock":
                return self._send(404, b"unknown admin path", "text/plain")
            mirror.set_clock(clock if clock.tzinfo else clock.replace(tzinfo=UTC))
            return self._send(200, mirror.clock.isoformat().encode(), "text/plain")

        def _not_modified(self, etag: str, modified: datetime) -> bool:
            if_none_match = self.headers.get("If-None-Match")
            if if_none_match is not None:
                return etag in [t.strip() for t in if_none_match.split(",")]
            since = self.headers.get("If-Modified-Since")
            if since:
                try:
                    return modified.replace(microsecond=0) <= parsedate_to_datetime(since)
                except (TypeError, ValueError):
                    return False
            return False

        def _send(self, status: int, body: bytes, ctype: str | None, headers: dict[str, str] | None = None) -> int:
            self.send_response(status)
            if ctype:
                self.send_header("Content-Type", ctype)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)) if status != 304 else "0")
            self.end_headers()
            if status != 304:
                # the crawler may give up on an oversize body: that is the point
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(body)
            return status

        def _reset(self) -> None:
            """Abort the connection with a TCP RST, as an overloaded origin does."""
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            time.sleep(0.01)
            self.connection.close()

    return Handler
