"""A real HTTP proxy in front of the local node that forwards everything but never answers searches in time.

A search that times out is still running on the node: sending it again only
adds load. The proxy lets a test count how often the client sent one
(``searches``) while every other request — index checks, writes — reaches the
real node unchanged.
"""

from __future__ import annotations

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

SEARCH_ENDPOINTS = ("/_search", "/_msearch")


class StallingProxy:
    """Forwards to ``upstream``; requests to a search endpoint are counted and left unanswered for ``stall_s``."""

    def __init__(self, upstream: str, stall_s: float = 5.0) -> None:
        target = urlsplit(upstream)
        self.searches: list[str] = []
        released = self.released = threading.Event()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path.split("?")[0].endswith(SEARCH_ENDPOINTS):
                    proxy.searches.append(self.path)
                    released.wait(stall_s)  # the client gives up first
                    self.close_connection = True
                    return
                upstream_conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in {"host", "connection"}}
                upstream_conn.request(self.command, self.path, body=body or None, headers=headers)
                resp = upstream_conn.getresponse()
                data = resp.read()
                self.send_response(resp.status)
                for key, value in resp.getheaders():
                    if key.lower() not in {"transfer-encoding", "connection", "content-length"}:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                upstream_conn.close()

            do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = _forward

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self) -> None:
        self.released.set()
        self.httpd.shutdown()
        self.httpd.server_close()
