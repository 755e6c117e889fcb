"""Delivery channels: webhook (Slack/Mattermost), SMTP e-mail, file/stdout; retries with backoff.

A channel either delivers or raises ``DeliveryFailed``; ``send`` retries with
exponential backoff and reports the last error. Whatever still fails stays in
the outbox (the alert's ``pending_channels`` in Elasticsearch) for the next run,
so an alert is delivered late rather than lost. Credentials come only from the
environment variables a channel names, and a webhook URL (its path is its token)
is never logged: httpx logs every request's URL at INFO, which Airflow task logs keep.
"""

from __future__ import annotations

import json
import logging
import os
import smtplib
import ssl
import sys
import time
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import httpx

from mediamon.core.errors import OperationFailed
from processing.alerts.message import Message
from processing.alerts.rules import Channel, EmailChannel, FileChannel, Retry, WebhookChannel

log = logging.getLogger(__name__)


class _RequestUrlsWithoutPath(logging.Filter):
    """httpx's request lines keep the scheme, host and port of a URL; its user, path and query go."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(httpx.URL(scheme=arg.scheme, host=arg.host, port=arg.port, path="/<hidden>")
                                if isinstance(arg, httpx.URL) else arg for arg in record.args)
        return True


logging.getLogger("httpx").addFilter(_RequestUrlsWithoutPath())


class DeliveryFailed(OperationFailed):
    """The channel did not take the message; the text says why (never a secret)."""


def send(channel: Channel, message: Message, retry: Retry, data_dir: Path) -> str | None:
    """Deliver with retries; None on success, else the last error."""
    error = None
    for attempt in range(retry.attempts):
        try:
            _SENDERS[channel.type](channel, message, data_dir)
            return None
        except DeliveryFailed as exc:
            error = str(exc)
        if attempt + 1 < retry.attempts:
            delay = retry.backoff.total_seconds() * 2**attempt
            log.warning("delivery of %s failed (%s); retry %d/%d in %.1fs", message.rule, error, attempt + 1,
                        retry.attempts - 1, delay)
            time.sleep(delay)
    return error


def _webhook(channel: WebhookChannel, message: Message, _data_dir: Path) -> None:
    url = channel.url or os.environ.get(channel.url_env or "", "")
    if not url:
        raise DeliveryFailed(f"webhook URL variable {channel.url_env} is not set")
    try:
        verify: ssl.SSLContext | bool = _tls_context(channel.ca_certs) if channel.ca_certs else channel.verify_tls
        resp = httpx.post(url, json={"text": message.chat_text}, timeout=channel.timeout, verify=verify)
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        detail = str(exc).replace(url, "<webhook url>")[:300]  # the URL may hold a token
        raise DeliveryFailed(f"webhook unreachable: {type(exc).__name__}: {detail}") from exc
    if resp.status_code >= 300:
        raise DeliveryFailed(f"webhook answered HTTP {resp.status_code}")


def _email(channel: EmailChannel, message: Message, _data_dir: Path) -> None:
    mail = EmailMessage()
    mail["Subject"] = message.subject
    mail["From"] = channel.sender
    mail["To"] = ", ".join(channel.to)
    mail.set_content(message.text)
    try:
        context = _tls_context(channel.ca_certs)
        if channel.security == "tls":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(channel.host, channel.port, timeout=channel.timeout,
                                                 context=context)
        else:
            smtp = smtplib.SMTP(channel.host, channel.port, timeout=channel.timeout)
        with smtp:
            if channel.security == "starttls":
                smtp.starttls(context=context)
            if channel.username_env:
                user, password = _credentials(channel)
                smtp.login(user, password)
            smtp.send_message(mail)
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryFailed(f"SMTP {channel.host}:{channel.port}: {type(exc).__name__}: {exc}") from exc


def _tls_context(ca_certs: Path | None) -> ssl.SSLContext:
    """Verifying context, trusting ``ca_certs`` when given; a missing CA file is a delivery failure."""
    try:
        return ssl.create_default_context(cafile=str(ca_certs) if ca_certs else None)
    except (OSError, ssl.SSLError) as exc:
        raise DeliveryFailed(f"cannot load CA file {ca_certs}: {exc}") from exc


def _credentials(channel: EmailChannel) -> tuple[str, str]:
    user = os.environ.get(channel.username_env or "")
    password = os.environ.get(channel.password_env or "")
    if not user or password is None:
        raise DeliveryFailed(f"SMTP credentials: set {channel.username_env} and {channel.password_env}")
    return user, password


def _file(channel: FileChannel, message: Message, data_dir: Path) -> None:
    line = json.dumps({"sent_at": datetime.now(UTC).isoformat(), "rule": message.rule, "subject": message.subject,
                       "text": message.text, "alerts": message.alerts}, ensure_ascii=False, default=str)
    if channel.path == "-":
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
        return
    path = Path(channel.path)
    path = path if path.is_absolute() else data_dir / path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")
    except OSError as exc:
        raise DeliveryFailed(f"cannot write {path}: {exc}") from exc


_SENDERS = {"webhook": _webhook, "email": _email, "file": _file}
