"""`mediamon setup` on whatever cluster the settings name, the local node included.

Why here and not in processing.store: a minimal local node keeps roles and users
in its file realm, which only the local-node tooling (``mediamon.devtools``)
knows how to write; this step hands that writer to the store's setup.
"""

from __future__ import annotations

from datetime import datetime

from elasticsearch import Elasticsearch

from mediamon.core.settings import Settings
from mediamon.devtools import localnode
from mediamon.devtools.stack.escluster import is_stack_cluster
from processing.clock import DATA_TIME_FIELD, time_span
from processing.store.indexsetup import FileRealm, SetupReport, setup
from processing.store.kibana import ImportReport, import_saved_objects


def setup_cluster(es: Elasticsearch, settings: Settings, with_roles: bool = True) -> SetupReport:
    """Template, alias, pipeline, rollover and (``with_roles``) roles and users, idempotently."""
    file_realm: FileRealm | None = None
    if localnode.is_local(settings) or is_stack_cluster(settings):  # both keep users in their file realm
        def file_realm(roles: dict[str, dict], users: dict[str, tuple[str, list[str]]]) -> bool:
            return localnode.write_file_realm(settings, roles, users)
    return setup(es, settings, with_roles=with_roles, file_realm=file_realm)


def import_kibana_objects(es: Elasticsearch, settings: Settings
                          ) -> tuple[ImportReport, tuple[datetime, datetime] | None]:
    """Kibana's saved objects, and the time range the dashboard opens on when it is not its own ``now-7d``.

    On replayed or sample data (``MEDIAMON_AS_OF=newest-document``) the dashboard
    opens on the days the documents were published: the last seven days are empty.
    """
    span = time_span(es, settings.docs_alias, DATA_TIME_FIELD) if settings.as_of == "newest-document" \
        and es.indices.exists_alias(name=settings.docs_alias) else None
    return import_saved_objects(settings, time_range=span), span
