"""Where the repository, its config and the shared real fixtures are."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "config"
SHARED = REPO.parent / "shared"
REAL_FIXTURES = SHARED / "fixtures" / "real"
