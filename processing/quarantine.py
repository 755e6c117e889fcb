"""Quarantine: records that yield no document, kept with the reason so nothing is silently dropped.

One JSONL file per batch under ``<data_dir>/quarantine/<batch_id>.jsonl``,
written atomically (temp file + rename) when the batch is processed. Redoing a
batch rewrites its file, so a crash and a redo never double-count. The page's
bytes are not copied: ``raw_ref`` points into the raw archive, which keeps them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mediamon.core.archive import ManifestRecord


@dataclass(frozen=True)
class QuarantineEntry:
    reason: str  # short key: js_challenge, empty_extraction, undecodable, http_status, ...
    detail: str
    manifest: ManifestRecord

    def as_json(self) -> dict[str, Any]:
        m = self.manifest
        return {"reason": self.reason, "detail": self.detail, "url": m.url, "source": m.source,
                "kind": m.kind, "fetched_at": m.fetched_at.isoformat() if m.fetched_at else None, "status": m.status,
                "raw_ref": {"batch": m.batch, "warc_file": m.warc_file, "offset": m.offset, "sha256": m.sha256},
                "quarantined_at": datetime.now(UTC).isoformat()}


def quarantine_dir(data_dir: Path) -> Path:
    return data_dir / "quarantine"


def write_batch(data_dir: Path, batch_id: str, entries: list[QuarantineEntry]) -> Path | None:
    """Replace the batch's quarantine file with ``entries`` (removing it when there are none)."""
    directory = quarantine_dir(data_dir)
    path = directory / f"{batch_id}.jsonl"
    if not entries:
        path.unlink(missing_ok=True)
        return None
    directory.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".jsonl.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        for entry in entries:
            fh.write(json.dumps(entry.as_json(), ensure_ascii=False) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)
    return path


def iter_quarantined(data_dir: Path) -> Iterator[dict[str, Any]]:
    """Every quarantined record of every batch (health checks and tests read them)."""
    for path in sorted(quarantine_dir(data_dir).glob("*.jsonl")):
        with open(path, encoding="utf-8") as fh:
            yield from (json.loads(line) for line in fh if line.strip())
