"""Turn fired alerts into one message: the rule, why it fired, the documents, a Discover link.

One alert gives one message; a digest rule's alerts of one period give one
message together. The text is Markdown-ish plain text: an e-mail reader reads it
as is; the file channel gets the same text plus the structured alerts. Slack and
Mattermost get ``chat_text``: the same, with every scraped string (title, URL,
source, terms, highlights) made inert for them, so a title cannot mention the
whole channel (``<!channel>``, ``@all``) or disguise a link (``<url|label>``,
``[label](url)``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from processing.alerts.evidence import fmt_time
from processing.store.kibana import DATA_VIEW_ID, discover_url

DOCS_PER_ALERT_IN_DIGEST = 3
DIFF_LINES = 12  # of an edited/deleted article's diff (the versions index keeps config/changes.yaml's diff_lines)
# Slack's (and Mattermost's Slack-compatible) control characters, written as the entities both decode.
CHAT_ENTITIES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
# Where Mattermost would read a mention (@name) or a Markdown link ([label](url)): a zero-width space breaks it.
CHAT_MENTION_OR_LINK = re.compile(r"(?<=@)(?=\w)|(?<=\])(?=\()")


@dataclass
class Message:
    rule: str
    subject: str
    text: str
    chat_text: str  # ``text`` with scraped strings made inert for Slack/Mattermost
    alert_ids: list[str]
    alerts: list[dict[str, Any]] = field(default_factory=list)


class _AsScraped:
    """Strings as they came: for e-mail and the file channel."""

    @staticmethod
    def text(value: object) -> str:
        return str(value)

    url = text


class _ForChat:
    """Strings for Slack/Mattermost: no entity, mention or link of their own (a URL keeps its @ and brackets)."""

    @staticmethod
    def url(value: object) -> str:
        return str(value).translate(CHAT_ENTITIES)

    @staticmethod
    def text(value: object) -> str:
        return CHAT_MENTION_OR_LINK.sub("\u200b", _ForChat.url(value))


Markup = type[_AsScraped] | type[_ForChat]


def compose(alerts: list[dict[str, Any]], kibana_url: str | None, data_view: str = DATA_VIEW_ID) -> Message:
    """One message for one alert, or for a digest group (same rule, same period)."""
    subject, text = _render(alerts, kibana_url, data_view, _AsScraped)
    chat_subject, chat_text = _render(alerts, kibana_url, data_view, _ForChat)
    return Message(rule=alerts[0]["rule"], subject=subject, text=f"*{subject}*\n{text}",
                   chat_text=f"*{chat_subject}*\n{chat_text}", alert_ids=[a["alert_id"] for a in alerts],
                   alerts=alerts)


def _render(alerts: list[dict[str, Any]], kibana_url: str | None, data_view: str, markup: Markup) -> tuple[str, str]:
    """The subject and the body, every scraped string passed through ``markup``."""
    first = alerts[0]
    rule = markup.text(first["rule"])
    if len(alerts) == 1 and not first.get("digest_until"):
        verb = "update" if first.get("notify") == "update" else first.get("rule_type", "alert")
        subject = f"[mediamon] {rule} ({verb}): {markup.text(first['summary'])}"
        body = _section(first, kibana_url, data_view, markup, max_docs=None, headline=False)  # the subject says it
    else:
        period_end = first.get("digest_until") or first["fired_at"]
        subject = f"[mediamon] {rule} digest: {len(alerts)} alerts up to {fmt_time(period_end)} UTC"
        body = "\n\n".join(_section(a, kibana_url, data_view, markup, max_docs=DOCS_PER_ALERT_IN_DIGEST)
                           for a in alerts)
    return subject, body


def _section(alert: dict[str, Any], kibana_url: str | None, data_view: str, markup: Markup, max_docs: int | None,
             headline: bool = True) -> str:
    lines = [f"*{markup.text(alert['summary'])}*"] if headline else []
    if alert.get("notify") == "update":
        lines.append(f"Update: now in {len(alert.get('outlets', []))} outlets "
                     f"({markup.text(', '.join(alert.get('outlets', [])))})")
    why = _why(alert.get("reason", {}))
    if why:
        lines.append(f"Why: {markup.text(why)}")
    docs = alert.get("documents", [])
    for doc in docs[:max_docs] if max_docs else docs:
        when = fmt_time(doc.get("published_at"))
        lines.append(f"• {when} {markup.text(doc.get('source', '?'))} [{markup.text(doc.get('lang', '?'))}] "
                     f"{markup.text(doc.get('title') or '(no title)')} — {markup.url(doc.get('url', ''))}")
        if doc.get("alarmism_terms"):
            lines.append(f"    alarmist terms: {markup.text(', '.join(doc['alarmism_terms']))} "
                         f"(score {doc.get('alarmism', 0):.2f})")
        for span in doc.get("highlights", [])[:2]:
            lines.append(f"    > {markup.text(' '.join(span.split()))}")
        for change in doc.get("diff", [])[:DIFF_LINES]:  # "- removed" / "+ added" lines of a changed article
            lines.append(f"    {markup.text(' '.join(change.split()))}")
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
