"""One prefix's roles never reach another prefix's indices (issue 13, item 11).

Roles grant ``<prefix>-*``. A prefix ``secx-eu`` would name its indices
``secx-eu-docs...``, which ``secx-*`` covers: its writer deleted and wrote
documents there. Prefixes with ``-`` are refused, so the nearest neighbour a
deployment can have is ``secx_eu``; on the real node the ``secx`` writer can
neither read, write nor delete anything of it.
"""

from __future__ import annotations

import secrets

import pytest
from elasticsearch import AuthorizationException, Elasticsearch
from pydantic import SecretStr, ValidationError

from mediamon.core.errors import ConfigError
from mediamon.core.esclient import make_client
from mediamon.core.settings import Settings
from mediamon.ops.setup import setup_cluster
from processing.store.indexsetup import role_definitions, setup
from tests.support.documents import make_document
from tests.support.es import drop_prefix

PREFIX = "mmsecx"  # fixed: the file realm of the minimal build keeps roles by name
NEIGHBOUR = f"{PREFIX}_eu"


def test_a_prefix_with_a_dash_is_refused() -> None:
    with pytest.raises(ValidationError, match="index_prefix"):
        Settings(index_prefix="secx-eu")
    unvalidated = Settings().model_copy(update={"index_prefix": "secx-eu"})  # model_copy skips validation
    with pytest.raises(ConfigError, match="contains '-'"):
        role_definitions(unvalidated)


def test_a_writer_cannot_touch_the_neighbouring_prefix(es_base_settings: Settings, es_admin: Elasticsearch) -> None:
    ours = es_base_settings.model_copy(update={"index_prefix": PREFIX,
                                                "es_writer_password": SecretStr(secrets.token_urlsafe(16))})
    theirs = es_base_settings.model_copy(update={"index_prefix": NEIGHBOUR})
    for prefix in (PREFIX, NEIGHBOUR):
        drop_prefix(es_admin, prefix)
    try:
        setup_cluster(es_admin, ours)
        setup(es_admin, theirs, with_roles=False)
        doc = make_document(1)
        es_admin.index(index=theirs.docs_alias, id=doc.id, document=doc.to_source(), refresh=True)
        writer = make_client(ours, username=f"{PREFIX}_writer", password=ours.es_writer_password.get_secret_value(),
                             max_retries=0)
        writer.index(index=ours.docs_alias, id=doc.id, document=doc.to_source(), refresh=True)  # its own: fine
        backing = next(iter(es_admin.indices.get_alias(name=theirs.docs_alias).body))
        for attempt in (lambda: writer.index(index=theirs.docs_alias, document=doc.to_source()),
                        lambda: writer.delete(index=backing, id=doc.id),
                        lambda: writer.search(index=theirs.docs_alias),
                        lambda: writer.indices.delete(index=backing)):
            with pytest.raises(AuthorizationException):
                attempt()
        assert es_admin.get(index=theirs.docs_alias, id=doc.id)["found"]
    finally:
        for prefix in (PREFIX, NEIGHBOUR):
            drop_prefix(es_admin, prefix)
