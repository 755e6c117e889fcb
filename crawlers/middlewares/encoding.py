"""Pick the right encoding for Russian and Belarusian pages that do not declare one.

Scrapy honours the HTTP header, a BOM and ``<meta>``; when none is present its
fallback would read windows-1251 or koi8-r as cp1252. Here undeclared
non-UTF-8 HTML is detected with charset_normalizer. The archive keeps the raw
bytes; the chosen encoding goes into the manifest for processing.
"""

from __future__ import annotations

from charset_normalizer import from_bytes
from scrapy.http import HtmlResponse, Request, Response
from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom


def detect(body: bytes) -> str | None:
    try:
        body.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    best = from_bytes(body[:200_000], cp_isolation=["cp1251", "koi8_r", "cp1252", "iso8859_5"]).best()
    return best.encoding if best else None


class EncodingMiddleware:
    def process_response(self, request: Request, response: Response) -> Response:
        if not isinstance(response, HtmlResponse) or not response.body:
            return response
        content_type = (response.headers.get("Content-Type") or b"").decode("latin-1")
        if http_content_type_encoding(content_type) or read_bom(response.body)[0] \
                or html_body_declared_encoding(response.body):  # declared: Scrapy already honours it
            request.meta["encoding_declared"] = True
            return response
        encoding = detect(response.body)
        request.meta["encoding_declared"] = False
        return response.replace(encoding=encoding) if encoding else response
