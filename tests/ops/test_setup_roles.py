"""Security on the real node: authentication everywhere, least-privilege roles from `mediamon setup`."""

from __future__ import annotations

import secrets
import uuid

import httpx
import pytest
from elasticsearch import AuthenticationException, AuthorizationException
from pydantic import SecretStr

from mediamon.core.esclient import make_client
from mediamon.ops.setup import setup_cluster
from tests.support.documents import make_document
from tests.support.es import drop_prefix

PREFIX = "mmsectest"  # fixed: the file realm of the minimal build keeps roles by name


@pytest.fixture(scope="module")
def role_settings(es_base_settings, es_admin):
    settings = es_base_settings.model_copy(update={
        "index_prefix": PREFIX,
        "es_writer_password": SecretStr(secrets.token_urlsafe(16)),
        "es_analyst_password": SecretStr(secrets.token_urlsafe(16)),
    })
    drop_prefix(es_admin, PREFIX)
    setup_cluster(es_admin, settings)
    yield settings
    drop_prefix(es_admin, PREFIX)


def _client(settings, role):
    password = getattr(settings, f"es_{role}_password").get_secret_value()
    return make_client(settings, username=f"{PREFIX}_{role}", password=password, max_retries=0)


def test_unauthenticated_request_is_refused(es_base_settings):
    response = httpx.get(f"{es_base_settings.es_url}/_cluster/health", timeout=10)
    assert response.status_code == 401


def test_wrong_password_is_refused(es_base_settings):
    client = make_client(es_base_settings, username="elastic", password="wrong-" + uuid.uuid4().hex, max_retries=0)
    with pytest.raises(AuthenticationException):
        client.info()


def test_setup_with_roles_is_idempotent(es_admin, role_settings):
    report = setup_cluster(es_admin, role_settings)
    assert report.changed == []


def test_writer_indexes_mediamon_documents(role_settings):
    writer = _client(role_settings, "writer")
    doc = make_document(1)
    writer.index(index=role_settings.docs_alias, id=doc.id, document=doc.to_source(), refresh=True)
    assert writer.get(index=role_settings.docs_alias, id=doc.id)["found"]


def test_writer_cannot_delete_or_write_other_indices(es_admin, role_settings):
    other = f"other-{uuid.uuid4().hex[:8]}"
    es_admin.indices.create(index=other)
    try:
        writer = _client(role_settings, "writer")
        with pytest.raises(AuthorizationException):
            writer.indices.delete(index=other)
        with pytest.raises(AuthorizationException):
            writer.index(index=other, document={"x": 1})
        assert es_admin.indices.exists(index=other)
    finally:
        es_admin.indices.delete(index=other)


def test_analyst_can_search_but_not_write(role_settings):
    analyst = _client(role_settings, "analyst")
    assert analyst.search(index=role_settings.docs_alias, query={"match_all": {}})["hits"] is not None
    with pytest.raises(AuthorizationException):
        analyst.index(index=role_settings.docs_alias, document=make_document(2).to_source())
    with pytest.raises(AuthorizationException):
        analyst.indices.delete(index=next(iter(analyst.indices.get_alias(name=role_settings.docs_alias).body)))
