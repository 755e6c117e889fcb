"""Elasticsearch helpers for tests and benchmarks: isolated index prefixes and their removal."""

from __future__ import annotations

from elasticsearch import Elasticsearch


def drop_prefix(es: Elasticsearch, prefix: str) -> None:
    """Delete a test prefix's indices by name (wildcard deletes are refused on purpose)."""
    names = list(es.indices.get(index=f"{prefix}-*", expand_wildcards="all").body)
    if names:
        es.indices.delete(index=",".join(names))
    if es.indices.exists_index_template(name=f"{prefix}-docs"):
        es.indices.delete_index_template(name=f"{prefix}-docs")
