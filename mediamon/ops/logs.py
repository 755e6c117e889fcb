"""What a step logs in a task process (Airflow, `mediamon run`): one line with its counts, no request lines."""

from __future__ import annotations

import logging
from typing import Any

# Clients that log every request's full URL at INFO or DEBUG (118 lines for one alerts run, and a webhook
# URL holds its token): their warnings are shown, never their request lines.
REQUEST_LOGGERS = ("elastic_transport", "httpx", "httpcore")


def quiet_request_loggers() -> None:
    """Keep the Elasticsearch and HTTP clients' request lines out of a task's log, whatever its level."""
    for name in REQUEST_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def counts_line(step: str, counts: dict[str, Any]) -> str:
    """A step's report as one line: its non-zero counts, with counts by reason (or failed names) in brackets."""
    parts = []
    for key, value in counts.items():
        if isinstance(value, bool):
            parts += [] if value or key != "adds_up" else ["COUNTS DO NOT ADD UP"]
        elif isinstance(value, int | float) and value:
            parts.append(f"{key} {value:g}")
        elif isinstance(value, dict) and value:
            numeric = all(isinstance(v, int) for v in value.values())
            detail = ", ".join(f"{k} {v}" if numeric else str(k) for k, v in sorted(value.items()))
            parts.append(f"{key} {sum(value.values()) if numeric else len(value)} ({detail})")
    return f"{step}: {', '.join(parts) or 'nothing to do'}"
