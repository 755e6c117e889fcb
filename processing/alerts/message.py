"""Turn fired alerts into one message: the rule, why it fired, the documents, a Discover link.

One alert gives one message; a digest rule's alerts of one period give one
message together. The text is Markdown-ish plain text: Slack and Mattermost
render it, an e-mail reader reads it as is; the file channel gets the same
text plus the structured alerts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from processing.alerts.evidence import fmt_time
from processing.store.kibana import DATA_VIEW_ID, discover_url

DOCS_PER_ALERT_IN_DIGEST = 3


@dataclass
class Message:
    rule: str
    subject: str
    text: str
    alert_ids: list[str]
    alerts: list[dict[str, Any]] = field(default_factory=list)


def compose(alerts: list[dict[str, Any]], kibana_url: str | None, data_view: str = DATA_VIEW_ID) -> Message:
    """One message for one alert, or for a digest group (same rule, same period)."""
    first = alerts[0]
    rule = first["rule"]
    if len(alerts) == 1 and not first.get("digest_until"):
        verb = "update" if first.get("notify") == "update" else first.get("rule_type", "alert")
        subject = f"[mediamon] {rule} ({verb}): {first['summary']}"
        body = _section(first, kibana_url, data_view, max_docs=None, headline=False)  # the subject says it
    else:
        period_end = first.get("digest_until") or first["fired_at"]
        subject = f"[mediamon] {rule} digest: {len(alerts)} alerts up to {fmt_time(period_end)} UTC"
        body = "\n\n".join(_section(a, kibana_url, data_view, max_docs=DOCS_PER_ALERT_IN_DIGEST) for a in alerts)
    return Message(rule=rule, subject=subject, text=f"*{subject}*\n{body}",
                   alert_ids=[a["alert_id"] for a in alerts], alerts=alerts)


def _section(alert: dict[str, Any], kibana_url: str | None, data_view: str, max_docs: int | None,
             headline: bool = True) -> str:
    lines = [f"*{alert['summary']}*"] if headline else []
    if alert.get("notify") == "update":
        lines.append(f"Update: now in {len(alert.get('outlets', []))} outlets "
                     f"({', '.join(alert.get('outlets', []))})")
    why = _why(alert.get("reason", {}))
    if why:
        lines.append(f"Why: {why}")
    docs = alert.get("documents", [])
    for doc in docs[:max_docs] if max_docs else docs:
        when = fmt_time(doc.get("published_at"))
        lines.append(f"• {when} {doc.get('source', '?')} [{doc.get('lang', '?')}] "
                     f"{doc.get('title') or '(no title)'} — {doc.get('url', '')}")
        if doc.get("alarmism_terms"):
            lines.append(f"    alarmist terms: {', '.join(doc['alarmism_terms'])} (score {doc.get('alarmism', 0):.2f})")
        for span in doc.get("highlights", [])[:2]:
            lines.append(f"    > {' '.join(span.split())}")
    if max_docs and len(docs) > max_docs:
        lines.append(f"  … and {len(docs) - max_docs} more")
    if kibana_url:
        fired = datetime.fromisoformat(alert["fired_at"])
        link = discover_url(kibana_url, alert.get("discover_query") or "*", fired - timedelta(days=7), fired,
                            data_view)
        lines.append(f"Discover: {link}")
    return "\n".join(lines)


def _why(reason: dict[str, Any]) -> str:
    parts = []
    for name, value in reason.items():
        if value is None or value == [] or value == "":
            continue
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        parts.append(f"{name.replace('_', ' ')} {value}")
    return "; ".join(parts)
