"""All alert state in Elasticsearch (``<prefix>-alerts``): checkpoints, fired alerts, silences, outbox.

One index, one ``kind`` per record: ``checkpoint`` (per rule, the last
``indexed_at`` evaluated), ``alert`` (a fired alert, which doubles as the outbox
entry while ``pending_channels`` is not empty), ``keystate`` (per rule and key,
when it last fired, for the realert interval), ``seen_term`` (terms a new_term
rule learnt on its first run) and ``silence``. Alerts are
created with ``op_type=create`` under a deterministic id, so two runs — after
a restart, or on two hosts — cannot both fire the same alert. Nothing is kept
in process memory between runs. Searches are sent once (a timed-out search is
still running on the node); the run fails and the next one re-reads.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from elasticsearch import ApiError, ConflictError, Elasticsearch, NotFoundError, helpers

from mediamon.core.esclient import REPLICATION, for_search

KEYWORD = {"type": "keyword"}
DATE = {"type": "date"}
STATE_MAPPING = {
    # dynamic false: alert bodies carry free-form evidence; only these fields are searched
    "dynamic": False,
    "properties": {
        "kind": KEYWORD, "rule": KEYWORD, "rule_type": KEYWORD, "key": KEYWORD, "alert_id": KEYWORD,
        "status": KEYWORD, "notify": KEYWORD, "summary": {"type": "text"}, "doc_ids": KEYWORD,
        "outlets": KEYWORD, "pending_channels": KEYWORD, "fired_at": DATE, "updated_at": DATE,
        "last_notified_at": DATE, "digest_until": DATE, "until": DATE, "checkpoint": DATE, "created_at": DATE,
    },
}


class StateStore:
    """Reads and writes the alert state of one index prefix."""

    def __init__(self, es: Elasticsearch, index: str) -> None:
        self.es = es
        self.index = index

    def ensure(self) -> None:
        if self.es.indices.exists(index=self.index):
            return
        try:
            self.es.indices.create(index=self.index, mappings=STATE_MAPPING,
                                   settings={"number_of_shards": 1, **REPLICATION})
        except ApiError as exc:  # created meanwhile by another run
            if "resource_already_exists" not in str(exc):
                raise

    def refresh(self) -> None:
        self.es.indices.refresh(index=self.index)

    # --- checkpoints --------------------------------------------------------------

    def checkpoint(self, rule_id: str) -> datetime | None:
        doc = self._get(f"checkpoint:{rule_id}")
        return datetime.fromisoformat(doc["checkpoint"]) if doc else None

    def set_checkpoint(self, rule_id: str, when: datetime) -> None:
        self.es.index(index=self.index, id=f"checkpoint:{rule_id}",
                      document={"kind": "checkpoint", "rule": rule_id, "checkpoint": when.isoformat()})

    # --- fired alerts ---------------------------------------------------------------

    def alerts_by_id(self, alert_ids: list[str]) -> dict[str, tuple[dict[str, Any], int, int]]:
        """``alert`` for many ids in one request (the candidates of one rule)."""
        if not alert_ids:
            return {}
        docs = self.es.mget(index=self.index, ids=alert_ids)["docs"]
        return {d["_id"]: (d["_source"], d["_seq_no"], d["_primary_term"]) for d in docs if d.get("found")}

    def create_alert(self, body: dict[str, Any]) -> bool:
        """False when the id already exists: someone fired it first."""
        try:
            self.es.create(index=self.index, id=body["alert_id"], document={"kind": "alert", **body})
        except ConflictError:
            return False
        return True

    def replace_alert(self, source: dict[str, Any], seq: tuple[int, int]) -> bool:
        """Write a merged alert back; refused (False) if it changed since it was read at ``seq``."""
        try:
            self.es.index(index=self.index, id=source["alert_id"], document=source,
                          if_seq_no=seq[0], if_primary_term=seq[1])
        except ConflictError:
            return False
        return True

    def mark_seen(self, rule_id: str, alert_ids: list[str], when: datetime) -> None:
        """Record terms known at a new_term rule's first run under their alert ids (never sent)."""
        actions = ({"_op_type": "create", "_index": self.index, "_id": i,
                    "_source": {"kind": "seen_term", "rule": rule_id, "alert_id": i, "created_at": when.isoformat()}}
                   for i in alert_ids)
        for ok, item in helpers.streaming_bulk(self.es, actions, raise_on_error=False, chunk_size=1000):
            if not ok and item["create"].get("status") != 409:  # 409: already known
                raise RuntimeError(f"cannot record seen term {item['create'].get('_id')}: {item['create']}")

    def update_alert(self, alert_id: str, changes: dict[str, Any]) -> None:
        self.es.update(index=self.index, id=alert_id, doc=changes)

    def pending(self) -> list[dict[str, Any]]:
        """Alerts with a channel still to deliver (the outbox), oldest first."""
        self.refresh()
        query = {"bool": {"filter": [{"term": {"kind": "alert"}}, {"exists": {"field": "pending_channels"}}]}}
        hits = helpers.scan(for_search(self.es), index=self.index,
                            query={"query": query, "sort": [{"fired_at": "asc"}]}, preserve_order=True)
        return [hit["_source"] for hit in hits]

    def alerts(self, since: datetime | None = None, until: datetime | None = None,
               rule: str | None = None) -> list[dict[str, Any]]:
        if not self.es.indices.exists(index=self.index):
            return []
        # no explicit refresh: analysts (read-only role) list alerts and build reports
        filters: list[dict[str, Any]] = [{"term": {"kind": "alert"}}]
        if since or until:
            bounds = {k: v.isoformat() for k, v in (("gte", since), ("lte", until)) if v}
            filters.append({"range": {"fired_at": bounds}})
        if rule:
            filters.append({"term": {"rule": rule}})
        hits = helpers.scan(for_search(self.es), index=self.index, query={"query": {"bool": {"filter": filters}},
                                                                          "sort": [{"fired_at": "asc"}]},
                            preserve_order=True)
        return [hit["_source"] for hit in hits]

    # --- realert ---------------------------------------------------------------------

    def last_fired_many(self, rule_id: str, keys: list[str]) -> dict[str, datetime]:
        if not keys:
            return {}
        docs = self.es.mget(index=self.index, ids=[_keystate_id(rule_id, k) for k in keys])["docs"]
        return {d["_source"]["key"]: datetime.fromisoformat(d["_source"]["fired_at"]) for d in docs if d.get("found")}

    def set_last_fired(self, rule_id: str, key: str, when: datetime) -> None:
        self.es.index(index=self.index, id=_keystate_id(rule_id, key),
                      document={"kind": "keystate", "rule": rule_id, "key": key, "fired_at": when.isoformat()})

    # --- silences ----------------------------------------------------------------------

    def add_silence(self, rule_id: str, key: str | None, until: datetime, created_at: datetime) -> str:
        silence_id = f"silence:{rule_id}:{_digest(key or '*')}:{created_at.timestamp():.0f}"
        self.es.index(index=self.index, id=silence_id, refresh="wait_for", document={
            "kind": "silence", "rule": rule_id, "key": key, "until": until.isoformat(),
            "created_at": created_at.isoformat()})
        return silence_id

    def silences(self, now: datetime) -> list[dict[str, Any]]:
        """Silences still in force at ``now``."""
        resp = for_search(self.es).search(index=self.index, size=1000, query={"bool": {"filter": [
            {"term": {"kind": "silence"}}, {"range": {"until": {"gt": now.isoformat()}}}]}})
        return [hit["_source"] for hit in resp["hits"]["hits"]]

    def _get(self, doc_id: str) -> dict[str, Any] | None:
        try:
            return self.es.get(index=self.index, id=doc_id)["_source"]
        except NotFoundError:
            return None


def is_silenced(silences: list[dict[str, Any]], rule_id: str, key: str) -> bool:
    return any(s["rule"] == rule_id and s.get("key") in (None, key) for s in silences)


def _keystate_id(rule_id: str, key: str) -> str:
    return f"keystate:{rule_id}:{_digest(key)}"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def status_reason(alert: dict[str, Any], now: datetime) -> str:
    """Why an alert stands where it does, in words an analyst can act on (`mediamon alerts list`)."""
    status = alert.get("status", "")
    channels = ", ".join(alert.get("pending_channels") or [])
    if status == "pending" and alert.get("digest_until") and datetime.fromisoformat(alert["digest_until"]) > now:
        return f"held for the {channels or 'digest'} digest until {alert['digest_until'][:16].replace('T', ' ')} UTC"
    if status == "pending" and channels:
        return f"waiting for the next `alerts run` to send it to {channels}"
    if status == "retrying":
        errors = [f"{name}: {entry.get('last_error')}" for name, entry in (alert.get("delivery") or {}).items()
                  if entry.get("last_error")]
        return "delivery failed, retried at the next run (" + "; ".join(errors)[:300] + ")"
    if status == "silenced":
        return "recorded, not sent: the rule or key is silenced (`mediamon alerts silence`)"
    return ""
