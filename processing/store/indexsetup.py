"""`mediamon setup`: index template, write alias, ingest pipeline and roles — idempotently.

What the cluster can do decides the mapping: the full distribution (docker
compose) has the ``russian``/``english`` analyzers and ingest processors; the
integ-test build used for dev and tests has neither, so language sub-fields are
left out (with a warning) and the ``lemmas`` field, computed at processing time,
carries the morphology on every cluster. Running setup twice changes nothing:
every object is compared with what is there and only written when different.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from elasticsearch import ApiError, Elasticsearch

from mediamon.core.errors import ConfigError
from mediamon.core.esclient import REPLICATION, make_client
from mediamon.core.settings import Settings

log = logging.getLogger(__name__)

KEYWORD = {"type": "keyword"}
DATE = {"type": "date"}
INGEST_PIPELINE = "{prefix}-indexed-at"

# One entry per Document field (a test holds the two together).
FIELD_MAPPINGS: dict[str, dict[str, Any]] = {
    "url": KEYWORD,
    "canonical_url": KEYWORD,
    "domain": KEYWORD,
    "source": KEYWORD,
    "source_owner": KEYWORD,
    "source_kind": KEYWORD,
    "title": {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 512}}},
    "lead": {"type": "text"},
    "text": {"type": "text"},
    "authors": KEYWORD,
    "lang": KEYWORD,
    "lang_confidence": {"type": "float"},
    "published_at": DATE,
    "published_precision": KEYWORD,
    "published_source": KEYWORD,
    "fetched_at": DATE,
    "indexed_at": DATE,
    "content_hash": KEYWORD,
    "dup_group": KEYWORD,
    "is_duplicate": {"type": "boolean"},
    "translation_group": KEYWORD,
    "speakers": KEYWORD,
    "mentions": KEYWORD,
    "narratives": KEYWORD,
    "alarmism": {"type": "float"},
    "alarmism_terms": KEYWORD,
    "raw_ref": {"type": "object", "properties": {
        "batch": KEYWORD, "warc_file": KEYWORD, "offset": {"type": "long"}, "sha256": KEYWORD}},
    "lemmas": {"type": "text", "analyzer": "whitespace"},
    "minhash_bands": KEYWORD,
    "minhash": {"type": "keyword", "index": False, "doc_values": False},
    "reply_to": KEYWORD,
    "forwarded_from": KEYWORD,
    "views": {"type": "long"},
    "tags": KEYWORD,
    "fingerprint": {"type": "keyword", "index": False},
    "provenance": KEYWORD,
    "story_id": KEYWORD,
    "versions": {"type": "integer"},
    "last_changed_at": DATE,
    "deleted_at": DATE,
    "deletion_how": KEYWORD,
}
LANGUAGE_ANALYZED = ("title", "lead", "text")


@dataclass
class Capabilities:
    """What the cluster offers, detected once per setup."""

    language_analyzers: bool
    ingest_set: bool
    native_roles: bool = True
    warnings: list[str] = field(default_factory=list)


def detect_capabilities(es: Elasticsearch) -> Capabilities:
    try:
        es.indices.analyze(analyzer="russian", text="мигрантов")
        analyzers = True
    except ApiError:
        analyzers = False
    processors = es.nodes.info(metric="ingest").body.get("nodes", {})
    types = {p["type"] for node in processors.values() for p in node.get("ingest", {}).get("processors", [])}
    caps = Capabilities(language_analyzers=analyzers, ingest_set="set" in types)
    if not analyzers:
        caps.warnings.append("cluster has no russian/english analyzers (minimal build): "
                             "searching relies on the processing-time `lemmas` field")
    if not caps.ingest_set:
        caps.warnings.append("cluster has no ingest `set` processor: `indexed_at` is stamped by the indexer")
    return caps


def mappings(caps: Capabilities) -> dict[str, Any]:
    props = {name: dict(spec) for name, spec in FIELD_MAPPINGS.items()}
    if caps.language_analyzers:
        for name in LANGUAGE_ANALYZED:
            props[name] = {**props[name], "fields": {
                **props[name].get("fields", {}),
                "ru": {"type": "text", "analyzer": "russian"},
                "en": {"type": "text", "analyzer": "english"},
            }}
    # strict: a misspelt field is a bulk rejection (dead-lettered), not a silent new field
    return {"dynamic": "strict", "properties": props}


# Fewer, bigger segments than Elasticsearch's default (8 per tier, 16 MB floor): near-duplicate
# lookup seeks every band key of every new document in every segment, so its cost per document
# follows the segment count (1k -> 100k documents: 1 -> 8-9 segments by default, 3 with this; see
# near_dup_index_segments in docs/benchmarks.md). The price is extra merging, small at a news
# pipeline's few thousand documents a day.
MERGE_POLICY = {"policy": {"type": "tiered", "segments_per_tier": 2, "floor_segment": "128mb"}}


def template_body(settings: Settings, caps: Capabilities) -> dict[str, Any]:
    index_settings: dict[str, Any] = {"number_of_shards": 1, **REPLICATION,
                                      "refresh_interval": "1s", "merge": MERGE_POLICY}
    if caps.ingest_set:
        index_settings["default_pipeline"] = INGEST_PIPELINE.format(prefix=settings.index_prefix)
    return {
        "index_patterns": [f"{settings.docs_alias}-*"],
        "priority": 200,
        "template": {
            "settings": {"index": index_settings},
            "mappings": mappings(caps),
            # no template alias: the write alias is set when the first index is created and moved by
            # rollover, which Elasticsearch refuses for an alias that a template also assigns
        },
        "_meta": {"managed_by": "mediamon"},
    }


def role_definitions(settings: Settings) -> dict[str, dict[str, Any]]:
    """The pipeline writer (only this prefix's indices) and the analyst reader (read-only).

    Every index, alias and pipeline of a prefix is named ``<prefix>-...``, and a
    prefix has no ``-`` (Settings.index_prefix), so ``<prefix>-*`` matches no other
    prefix's: ``secx-*`` would cover all of ``secx-eu``'s if that prefix could exist.
    """
    if "-" in settings.index_prefix:  # model_copy() skips validation: refuse here too, never grant it
        raise ConfigError(f"index prefix {settings.index_prefix!r} contains '-': its role would cover other "
                          "prefixes' indices")
    pattern = f"{settings.index_prefix}-*"
    return {
        f"{settings.index_prefix}_writer": {
            "cluster": ["monitor"],
            "indices": [{"names": [pattern], "privileges": [
                "create_index", "write", "read", "view_index_metadata", "maintenance"]}],
        },
        f"{settings.index_prefix}_analyst": {
            "cluster": ["monitor"],
            "indices": [{"names": [pattern], "privileges": ["read", "view_index_metadata"]}],
        },
    }


@dataclass
class SetupReport:
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def note(self, name: str, changed: bool) -> None:
        (self.changed if changed else self.unchanged).append(name)


# Writes roles and users where a cluster without a native security index keeps them (the local node's
# file realm); True when anything changed. The caller that knows the node passes it in (mediamon.ops.setup).
FileRealm = Callable[[dict[str, dict], dict[str, tuple[str, list[str]]]], bool]


def setup(es: Elasticsearch, settings: Settings, with_roles: bool = True,
          file_realm: FileRealm | None = None) -> SetupReport:
    caps = detect_capabilities(es)
    report = SetupReport(warnings=list(caps.warnings))
    for warning in caps.warnings:
        log.warning(warning)
    if caps.ingest_set:
        report.note("ingest pipeline", _put_pipeline(es, settings))
    report.note("index template", _put_template(es, settings, caps))
    report.note("write alias", _ensure_write_index(es, settings))
    added = add_new_fields(es, settings, caps)
    report.note(f"mapping (+{', '.join(added)})" if added else "mapping", bool(added))
    retired = rollover(es, settings)
    report.note(f"rollover (retired {retired})" if retired else "rollover", retired is not None)
    if with_roles:
        _put_roles(es, settings, report, file_realm)
    return report


def _put_pipeline(es: Elasticsearch, settings: Settings) -> bool:
    name = INGEST_PIPELINE.format(prefix=settings.index_prefix)
    body = {"description": "stamp indexed_at at ingest time (mediamon)",
            "processors": [{"set": {"field": "indexed_at", "value": "{{{_ingest.timestamp}}}"}}]}
    try:
        current = es.ingest.get_pipeline(id=name).body.get(name)
    except ApiError:
        current = None
    if current and current.get("processors") == body["processors"]:
        return False
    es.ingest.put_pipeline(id=name, **body)
    return True


def _put_template(es: Elasticsearch, settings: Settings, caps: Capabilities) -> bool:
    name = settings.docs_alias
    body = template_body(settings, caps)
    try:
        current = es.indices.get_index_template(name=name).body["index_templates"][0]["index_template"]
    except ApiError:
        current = None
    if current and _same(current, body):
        return False
    es.indices.put_index_template(name=name, **body)
    return True


def _same(current: dict[str, Any], wanted: dict[str, Any]) -> bool:
    """Compare as Elasticsearch stores it (settings come back as strings)."""
    def norm(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: norm(v) for k, v in value.items()}
        if isinstance(value, list):
            return [norm(v) for v in value]
        return str(value)
    keys = ("index_patterns", "priority", "template", "_meta")
    return all(norm(current.get(k)) == norm(wanted.get(k)) for k in keys)


def first_index_name(settings: Settings) -> str:
    """Date-math name, so backing indices say when they were started: mediamon-docs-2026.11.28-000001."""
    return f"<{settings.docs_alias}-{{now/d{{yyyy.MM.dd}}}}-000001>"


def _ensure_write_index(es: Elasticsearch, settings: Settings) -> bool:
    alias = settings.docs_alias
    if es.indices.exists_alias(name=alias):
        aliases = es.indices.get_alias(name=alias).body
        if any(a.get("aliases", {}).get(alias, {}).get("is_write_index") for a in aliases.values()):
            return False
        newest = sorted(aliases)[-1]
        es.indices.update_aliases(actions=[{"add": {"index": newest, "alias": alias, "is_write_index": True}}])
        return True
    es.indices.create(index=first_index_name(settings), aliases={alias: {"is_write_index": True}})
    return True


def add_new_fields(es: Elasticsearch, settings: Settings, caps: Capabilities | None = None) -> list[str]:
    """Fields the Document gained since an index was created, added to every index behind the alias.

    The template only shapes indices created after it; the mapping is strict, so
    without this an upgraded deployment would reject every document carrying a
    new field until the next rollover. Adding a field is the one mapping change
    Elasticsearch allows in place.
    """
    wanted = mappings(caps or detect_capabilities(es))["properties"]
    added: set[str] = set()
    for index, body in es.indices.get_mapping(index=settings.docs_alias).body.items():
        have = body.get("mappings", {}).get("properties", {})
        missing = {name: spec for name, spec in wanted.items() if name not in have}
        if missing:
            es.indices.put_mapping(index=index, properties=missing)
            added |= set(missing)
    return sorted(added)


ROLLOVER_CONDITIONS = {"max_age": "30d", "max_primary_shard_size": "30gb"}


def rollover(es: Elasticsearch, settings: Settings,
             conditions: dict[str, Any] | None = None) -> str | None:
    """Roll the write alias to a new date-named index when the current one is old or big; the retired index.

    Core Elasticsearch rollover, no ILM needed (the minimal build has none).
    Documents already indexed keep their index: the indexer routes updates there.
    The retired index is force-merged to one segment in the background, ILM's
    warm phase done by hand: near-duplicate lookup queries every backing index
    for every new document and pays a term seek per band per segment, so each
    retired month costs one segment's worth instead of all it was written in.
    """
    resp = es.indices.rollover(alias=settings.docs_alias, conditions=conditions or ROLLOVER_CONDITIONS).body
    if not resp.get("rolled_over"):
        return None
    es.indices.forcemerge(index=resp["old_index"], max_num_segments=1, wait_for_completion=False)
    log.info("rolled %s over to %s; merging the retired index", settings.docs_alias, resp["new_index"])
    return resp["old_index"]


def _put_roles(es: Elasticsearch, settings: Settings, report: SetupReport, file_realm: FileRealm | None) -> None:
    roles = role_definitions(settings)
    users = _user_definitions(settings)
    try:
        for name, body in roles.items():
            current = es.security.get_role(name=name).body.get(name) if _role_exists(es, name) else None
            wanted_indices = body["indices"]
            same = current and current.get("cluster") == body["cluster"] and [
                {"names": i["names"], "privileges": i["privileges"]} for i in current.get("indices", [])
            ] == wanted_indices
            if not same:
                es.security.put_role(name=name, **body)
            report.note(f"role {name}", not same)
        for user, (password, user_roles) in users.items():
            changed = _put_native_user(es, settings, user, password, user_roles)
            report.note(f"user {user}", changed)
    except ApiError as exc:
        if not _native_store_unavailable(exc):
            raise
        if file_realm is None:
            raise RuntimeError(f"cluster cannot store roles ({exc.message}); create them from "
                               "processing.store.indexsetup.role_definitions by hand") from exc
        msg = ("cluster has no native role store (minimal build): roles and users written to the "
               "local node's file realm")
        log.warning(msg)
        report.warnings.append(msg)
        changed = file_realm(roles, users)
        report.note("file-realm roles and users", changed)
        if changed:
            _wait_for_file_realm(settings, users)


def _user_definitions(settings: Settings) -> dict[str, tuple[str, list[str]]]:
    out = {}
    for kind, secret in (("writer", settings.es_writer_password), ("analyst", settings.es_analyst_password)):
        if secret is not None:
            name = f"{settings.index_prefix}_{kind}"
            out[name] = (secret.get_secret_value(), [name])
    return out


def _role_exists(es: Elasticsearch, name: str) -> bool:
    try:
        es.security.get_role(name=name)
        return True
    except ApiError as exc:
        if exc.status_code == 404:
            return False
        raise


def _put_native_user(es: Elasticsearch, settings: Settings, user: str, password: str, roles: list[str]) -> bool:
    try:
        current = es.security.get_user(username=user).body.get(user)
    except ApiError as exc:
        if exc.status_code != 404:
            raise
        current = None
    if current and sorted(current.get("roles", [])) == sorted(roles):
        probe = make_client(settings, username=user, password=password, max_retries=0)
        try:
            probe.security.authenticate()
            return False
        except ApiError:
            pass
    es.security.put_user(username=user, password=password, roles=roles)
    return True


def _native_store_unavailable(exc: ApiError) -> bool:
    text = str(exc.body)
    return "pattern_capture" in text or ("security index" in text.lower() and exc.status_code >= 500)


def _wait_for_file_realm(settings: Settings, users: dict[str, tuple[str, list[str]]]) -> None:
    deadline = time.monotonic() + 30
    for user, (password, _roles) in users.items():
        client = make_client(settings, username=user, password=password, max_retries=0)
        while True:
            try:
                client.security.authenticate()
                break
            except ApiError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"file realm did not pick up user {user} within 30s") from None
                time.sleep(0.5)
