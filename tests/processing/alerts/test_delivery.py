"""Delivery against real local endpoints: an HTTP webhook receiver and an aiosmtpd SMTP server."""

from __future__ import annotations

import datetime as dt
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support.alerting import T0, config, doc, fired, index

RULE = {"id": "pay", "type": "match", "query": "narratives:eu_must_pay", "channels": ["hook"]}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Receiver(ThreadingHTTPServer):
    """An incoming-webhook endpoint that keeps what it was sent."""

    def __init__(self, port: int) -> None:
        self.received: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append(json.loads(body))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args) -> None:
                pass

        super().__init__(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


def test_down_webhook_is_retried_on_the_next_run_and_delivered(run, es_settings, es_admin):
    port = free_port()
    cfg = config(RULE, channels={"hook": {"type": "webhook", "url": f"http://127.0.0.1:{port}/hooks/abc"}},
                 defaults={"retry": {"attempts": 2, "backoff": "0s"}})
    index(es_admin, es_settings, [doc("pay", narratives=["eu_must_pay"], title="ЕС должен заплатить")])
    down = run(cfg, T0 + dt.timedelta(minutes=5))  # nothing listens on the port
    assert (down.fired, down.delivered, down.delivery_failed, down.pending) == (1, 0, 1, 1)
    [alert] = fired(es_admin, es_settings)
    assert alert["status"] == "retrying" and alert["delivery"]["hook"]["attempts"] == 1
    receiver = Receiver(port)
    try:
        back = run(cfg, T0 + dt.timedelta(minutes=10))
        assert (back.fired, back.delivered, back.pending) == (0, 1, 0)
        [payload] = receiver.received
        assert set(payload) == {"text"}  # Slack/Mattermost incoming-webhook shape
        assert "ЕС должен заплатить" in payload["text"] and "https://tass-ru.example/pay" in payload["text"]
        assert run(cfg, T0 + dt.timedelta(minutes=15)).delivered == 0  # delivered once, not again
        assert len(receiver.received) == 1
    finally:
        receiver.stop()


def test_webhook_message_links_to_kibana_discover(run, es_settings, es_admin):
    port = free_port()
    receiver = Receiver(port)
    try:
        settings = es_settings.model_copy(update={"kibana_url": "http://127.0.0.1:5601"})
        cfg = config(RULE, channels={"hook": {"type": "webhook", "url": f"http://127.0.0.1:{port}/"}})
        index(es_admin, settings, [doc("pay", narratives=["eu_must_pay"], dup_group="g1")])
        from processing.alerts.engine import run_alerts

        run_alerts(settings, es=es_admin, now=T0 + dt.timedelta(minutes=5), config=cfg)
        text = receiver.received[0]["text"]
        assert "http://127.0.0.1:5601/app/discover#/?_g=(time:(from:" in text
        assert "dup_group" in text
        assert f"dataViewId:'{settings.docs_alias}'" in text  # the id `mediamon setup` imported for this prefix
    finally:
        receiver.stop()


# --- e-mail -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, which the channel trusts through its ca_certs option."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    import ipaddress

    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    directory = tmp_path_factory.mktemp("tls")
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class Inbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((session.authenticated, envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def smtp_server(tls_files) -> Iterator[tuple[Inbox, int]]:
    cert, key = tls_files
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"alerts", b"s3cret")
        return AuthResult(success=ok)

    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True,
                            authenticator=authenticate, auth_require_tls=True)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def test_email_arrives_over_starttls_with_auth(run, es_settings, es_admin, smtp_server, tls_files, monkeypatch):
    inbox, port = smtp_server
    monkeypatch.setenv("TEST_SMTP_USER", "alerts")
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "s3cret")
    cfg = config({**RULE, "channels": ["mail"]}, channels={"mail": {
        "type": "email", "host": "127.0.0.1", "port": port, "security": "starttls", "ca_certs": str(tls_files[0]),
        "sender": "mediamon@127.0.0.1", "to": ["analyst@127.0.0.1"],
        "username_env": "TEST_SMTP_USER", "password_env": "TEST_SMTP_PASSWORD"}})
    index(es_admin, es_settings, [doc("pay", narratives=["eu_must_pay"], title="Lavrov: EU must pay",
                                      source="tass-en", lang="en", alarmism=0.7, alarmism_terms=["crisis"])])
    report = run(cfg, T0 + dt.timedelta(minutes=5))
    assert report.delivered == 1
    [(authenticated, rcpt, mail)] = inbox.messages
    assert authenticated and rcpt == ["analyst@127.0.0.1"]
    assert mail["Subject"].startswith("[mediamon] pay (match): 'Lavrov: EU must pay' (tass-en)")
    body = mail.get_payload(decode=True).decode()
    assert "tass-en [en] Lavrov: EU must pay — https://tass-en.example/pay" in body
    assert "alarmist terms: crisis" in body


def test_email_with_wrong_password_stays_pending(run, es_settings, es_admin, smtp_server, tls_files, monkeypatch):
    inbox, port = smtp_server
    monkeypatch.setenv("TEST_SMTP_USER", "alerts")
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "wrong")
    cfg = config({**RULE, "channels": ["mail"]}, channels={"mail": {
        "type": "email", "host": "127.0.0.1", "port": port, "ca_certs": str(tls_files[0]),
        "sender": "m@127.0.0.1", "to": ["a@127.0.0.1"], "username_env": "TEST_SMTP_USER",
        "password_env": "TEST_SMTP_PASSWORD", "timeout": 2}})
    index(es_admin, es_settings, [doc("pay", narratives=["eu_must_pay"])])
    report = run(cfg, T0 + dt.timedelta(minutes=5))
    assert (report.delivered, report.pending) == (0, 1) and inbox.messages == []
    assert "wrong" not in json.dumps(fired(es_admin, es_settings))  # no secret in the stored error


def test_https_webhook_verifies_tls_unless_given_the_ca(run, es_settings, es_admin, tls_files):
    cert, key = tls_files
    port = free_port()
    receiver = Receiver(port)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    receiver.socket = context.wrap_socket(receiver.socket, server_side=True)
    url = f"https://127.0.0.1:{port}/hook"
    try:
        index(es_admin, es_settings, [doc("pay", narratives=["eu_must_pay"])])
        untrusted = run(config(RULE, channels={"hook": {"type": "webhook", "url": url}}), T0 + dt.timedelta(minutes=5))
        assert (untrusted.delivered, untrusted.pending) == (0, 1)  # self-signed: refused by default
        [alert] = fired(es_admin, es_settings)
        assert "CERTIFICATE_VERIFY_FAILED" in alert["delivery"]["hook"]["last_error"]
        trusted = run(config(RULE, channels={"hook": {"type": "webhook", "url": url, "ca_certs": str(cert)}}),
                      T0 + dt.timedelta(minutes=6))
        assert (trusted.delivered, trusted.pending) == (1, 0)
        assert len(receiver.received) == 1
    finally:
        receiver.stop()


def test_a_misconfigured_channel_keeps_the_alert_pending(run, es_settings, es_admin, tmp_path):
    cfg = config(RULE, channels={"hook": {"type": "webhook", "url": "https://127.0.0.1:9/hook",
                                          "ca_certs": str(tmp_path / "missing-ca.pem")}})
    index(es_admin, es_settings, [doc("pay", narratives=["eu_must_pay"])])
    report = run(cfg, T0 + dt.timedelta(minutes=5))
    assert (report.fired, report.delivered, report.pending) == (1, 0, 1)
    [alert] = fired(es_admin, es_settings)
    assert "cannot load CA file" in alert["delivery"]["hook"]["last_error"]
