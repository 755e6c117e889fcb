"""Scrapy's RetryMiddleware, waiting before each retry: Retry-After when given, else exponential backoff.

The wait happens inside the downloader (the slot stays busy), so a 429 also
slows the rest of that site's queue — what the site asked for.
"""

from __future__ import annotations

from email.utils import parsedate_to_datetime
from time import time

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import Request, Response
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.response import response_status_message
from twisted.internet import task


def retry_after_seconds(value: bytes | None) -> float | None:
    if not value:
        return None
    text = value.decode("latin-1").strip()
    if text.isdigit():
        return float(text)
    try:
        return max(0.0, parsedate_to_datetime(text).timestamp() - time())
    except (TypeError, ValueError):
        return None


class BackoffRetryMiddleware(RetryMiddleware):
    def __init__(self, settings) -> None:
        super().__init__(settings)
        self.backoff_base = settings.getfloat("MEDIAMON_RETRY_BACKOFF", 2.0)
        self.max_wait = settings.getfloat("MEDIAMON_RETRY_MAX_WAIT", 60.0)

    async def _wait(self, request: Request, retry_after: float | None) -> None:
        from twisted.internet import reactor  # lazy: importing it installs a reactor; the crawl picks one first

        attempt = request.meta.get("retry_times", 0)
        delay = min(self.max_wait, max(retry_after or 0.0, self.backoff_base * 2 ** attempt))
        if delay > 0:
            await maybe_deferred_to_future(task.deferLater(reactor, delay, lambda: None))

    async def process_response(self, request: Request, response: Response) -> Request | Response:
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        retry = self._retry(request, response_status_message(response.status))
        if retry is None:
            return response
        await self._wait(request, retry_after_seconds(response.headers.get("Retry-After")))
        return retry

    async def process_exception(self, request: Request, exception: Exception) -> Request | None:
        if not isinstance(exception, self.exceptions_to_retry) or request.meta.get("dont_retry", False):
            return None
        retry = self._retry(request, exception)
        if retry is not None:
            await self._wait(request, None)
        return retry
