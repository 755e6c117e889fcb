"""A real HTTP server on 127.0.0.1 serving a fixed route table and logging what was asked of it.

Shared by the security and hostile-input crawl tests: the site a source points
at (through MEDIAMON_URL_REWRITE), the internal service no crawl may touch, and
the webhook or Kibana that must receive exactly what it is owed (every request's
method, path, headers and body are kept).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Route = tuple[int, dict[str, str], bytes]


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class Recorder:
    """A real HTTP server on 127.0.0.1 answering from a route table and logging every request."""

    def __init__(self, routes: dict[str, Route]) -> None:
        self.routes = routes
        self.paths: list[str] = []
        self.requests: list[Request] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                sent = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                recorder.requests.append(Request(self.command, self.path, dict(self.headers), sent))
                recorder.paths.append(self.path)
                status, headers, body = recorder.routes.get(self.path, (404, {}, b"not found"))
                self.send_response(status)
                for key, value in {"Content-Length": str(len(body)), **headers}.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_GET

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class Hanging(dict):
    """A route table whose paths ending in ``suffix`` answer only once ``release`` is set (a site that hangs)."""

    def __init__(self, routes: dict[str, Route], suffix: str, release: threading.Event, wait_s: float = 300) -> None:
        super().__init__(routes)
        self.suffix, self.release, self.wait_s = suffix, release, wait_s

    def get(self, path: str, default: Any = None) -> Any:
        if path.endswith(self.suffix):
            self.release.wait(self.wait_s)
        return super().get(path, default)


def rss(links: list[str]) -> Route:
    items = "".join(f"<item><title>t</title><link>{link}</link></item>" for link in links)
    return 200, {"Content-Type": "application/rss+xml"}, f"<rss><channel>{items}</channel></rss>".encode()


def article(text: str) -> Route:
    return 200, {"Content-Type": "text/html; charset=utf-8"}, f"<html><body><p>{text}</p></body></html>".encode()


def redirect(location: str) -> Route:
    return 302, {"Location": location}, b""
