"""`mediamon setup` on whatever cluster the settings name, the local node included.

Why here and not in processing.store: a minimal local node keeps roles and users
in its file realm, which only the local-node tooling (``mediamon.devtools``)
knows how to write; this step hands that writer to the store's setup.
"""

from __future__ import annotations

from elasticsearch import Elasticsearch

from mediamon.core.settings import Settings
from mediamon.devtools import localnode
from processing.store.indexsetup import FileRealm, SetupReport, setup


def setup_cluster(es: Elasticsearch, settings: Settings, with_roles: bool = True) -> SetupReport:
    """Template, alias, pipeline, rollover and (``with_roles``) roles and users, idempotently."""
    file_realm: FileRealm | None = None
    if localnode.is_local(settings):
        def file_realm(roles: dict[str, dict], users: dict[str, tuple[str, list[str]]]) -> bool:
            return localnode.write_file_realm(settings, roles, users)
    return setup(es, settings, with_roles=with_roles, file_realm=file_realm)
