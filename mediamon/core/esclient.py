"""The one place an Elasticsearch client is built from settings.

Every stage gets its client here, so authentication, TLS verification and
retry policy are the same for the CLI, the DAGs, the tests and the benchmarks.
"""

from __future__ import annotations

from typing import Any

import orjson
from elasticsearch import Elasticsearch
from elasticsearch.serializer import NdjsonSerializer, OrjsonSerializer

from mediamon.core.errors import ConfigError
from mediamon.core.settings import Settings

# Transport-level retries: the client retries these statuses and connection
# errors itself; the bulk indexer adds backoff on top (processing.store.bulk).
RETRY_ON_STATUS = (429, 502, 503, 504)
# Every mediamon index: one replica as soon as the cluster has a second node (a data node may die without
# losing a document), none on a single development node (which would otherwise stay yellow forever).
REPLICATION = {"auto_expand_replicas": "0-1"}
# Server-side limit of one search: the node stops collecting hits and answers with what it has.
SEARCH_TIMEOUT = "10s"


class ConfigurationError(ConfigError):
    """Settings are missing or contradictory; the message says which variable to set."""


class OrjsonNdjsonSerializer(NdjsonSerializer):
    """Bulk and msearch bodies line by line with orjson, as the client's ``OrjsonSerializer`` does JSON."""

    def json_dumps(self, data: Any) -> bytes:
        return orjson.dumps(data, default=self.default)

    def json_loads(self, data: bytes) -> Any:
        return orjson.loads(data)


# orjson, which the client supports: a batch's bulk bodies and story documents are megabytes, and the
# standard library's encoder was two fifths of what stories cost the runner's own process
SERIALIZERS = {OrjsonSerializer.mimetype: OrjsonSerializer(), NdjsonSerializer.mimetype: OrjsonNdjsonSerializer()}


def make_client(settings: Settings, *, username: str | None = None, password: str | None = None,
                timeout: float | None = None, max_retries: int | None = None) -> Elasticsearch:
    """A client for the configured cluster; explicit credentials override the settings' (tests, roles)."""
    if not settings.es_url:
        raise ConfigurationError(
            "No Elasticsearch configured: set MEDIAMON_ES_URL (and MEDIAMON_ES_USERNAME/PASSWORD or "
            "MEDIAMON_ES_API_KEY), or start the local node with `mediamon es start`."
        )
    kwargs: dict = {
        "request_timeout": timeout or settings.es_timeout,
        "max_retries": settings.es_max_retries if max_retries is None else max_retries,
        "retry_on_status": RETRY_ON_STATUS,
        "retry_on_timeout": True,
    }
    if username is not None:
        kwargs["basic_auth"] = (username, password or "")
    elif settings.es_api_key is not None:
        kwargs["api_key"] = settings.es_api_key.get_secret_value()
    elif settings.es_username and settings.es_password is not None:
        kwargs["basic_auth"] = (settings.es_username, settings.es_password.get_secret_value())
    if settings.es_url.startswith("https"):
        kwargs["verify_certs"] = settings.es_verify_certs
        if settings.es_ca_certs:
            kwargs["ca_certs"] = str(settings.es_ca_certs)
    return Elasticsearch(settings.es_url, serializers=SERIALIZERS, **kwargs)


def for_search(es: Elasticsearch) -> Elasticsearch:
    """``es`` for searches: a timed-out search is not sent again, since the node is still running the first."""
    return es.options(retry_on_timeout=False)
