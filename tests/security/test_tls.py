"""TLS is verified by default for Elasticsearch and for alert webhooks; a private CA is an explicit option.

A CA and a server certificate for 127.0.0.1 are made in the test (``cryptography``).
Elasticsearch: a TLS terminator in front of the real local node, so a verified
connection really reaches the cluster. Webhook: a real HTTPS server taking the
alert POST. Without the CA both connections must fail; with the CA given
(``MEDIAMON_ES_CA_CERTS``, the channel's ``ca_certs``) both succeed.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from elasticsearch import SSLError as ESTlsError

from mediamon.core.esclient import make_client
from mediamon.core.settings import Settings, load_settings
from processing.alerts.deliver import send
from processing.alerts.message import Message
from processing.alerts.rules import Retry, WebhookChannel

pytestmark = pytest.mark.timeout(60)


@dataclass(frozen=True)
class Pki:
    ca_file: Path
    cert_file: Path
    key_file: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """A private CA and a certificate it signed for 127.0.0.1 / localhost."""
    root = tmp_path_factory.mktemp("pki")
    now = dt.datetime.now(dt.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name("mediamon test CA")).issuer_name(_name("mediamon test CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    cert = (x509.CertificateBuilder().subject_name(_name("127.0.0.1")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                        x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pki = Pki(root / "ca.pem", root / "server.pem", root / "server.key")
    pki.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    pki.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pki.key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    return pki


def server_context(pki: Pki) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki.cert_file, pki.key_file)
    return context


def _pipe(source: socket.socket, target: socket.socket) -> None:
    with suppress(OSError):
        while chunk := source.recv(65536):
            target.sendall(chunk)
    for sock in (source, target):
        with suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


@pytest.fixture(scope="module")
def tls_elasticsearch(pki: Pki, es_base_settings: Settings) -> Iterator[str]:
    """``https://127.0.0.1:<port>``: TLS terminated here, bytes relayed to the real local node."""
    upstream = urlsplit(es_base_settings.es_url or "")
    assert upstream.scheme == "http", "the local node is expected to speak plain HTTP on 127.0.0.1"
    listener = socket.create_server(("127.0.0.1", 0))
    context = server_context(pki)

    def serve() -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=relay, args=(client,), daemon=True).start()

    def relay(client: socket.socket) -> None:
        try:
            secure = context.wrap_socket(client, server_side=True)
        except (ssl.SSLError, OSError):  # the client refused our certificate: what the test expects
            client.close()
            return
        backend = socket.create_connection((upstream.hostname, upstream.port))
        threading.Thread(target=_pipe, args=(backend, secure), daemon=True).start()
        _pipe(secure, backend)

    threading.Thread(target=serve, daemon=True).start()
    yield f"https://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()


def tls_settings(url: str, base: Settings, **extra: object) -> Settings:
    assert base.es_password is not None
    return load_settings(es_url=url, es_username=base.es_username, es_password=base.es_password, es_max_retries=0,
                         es_timeout=10, **extra)


def test_certificate_verification_is_on_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MEDIAMON_ES_VERIFY_CERTS", raising=False)
    assert Settings().es_verify_certs is True
    client = make_client(Settings(es_url="https://127.0.0.1:1"))
    assert client.transport.node_pool.get().config.verify_certs is True


def test_elasticsearch_over_tls_without_the_ca_is_refused(tls_elasticsearch: str, es_base_settings: Settings,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MEDIAMON_ES_CA_CERTS", raising=False)
    es = make_client(tls_settings(tls_elasticsearch, es_base_settings))
    with pytest.raises(ESTlsError) as refused:
        es.cluster.health()
    assert "CERTIFICATE_VERIFY_FAILED" in repr(refused.value)


def test_elasticsearch_over_tls_with_mediamon_es_ca_certs_reaches_the_cluster(
        tls_elasticsearch: str, es_base_settings: Settings, es_admin, pki: Pki,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDIAMON_ES_CA_CERTS", str(pki.ca_file))
    es = make_client(tls_settings(tls_elasticsearch, es_base_settings))
    # the integ-test node has no GET / handler: cluster health proves the round trip
    assert es.cluster.health()["cluster_name"] == es_admin.cluster.health()["cluster_name"]


@pytest.fixture(scope="module")
def https_webhook(pki: Pki) -> Iterator[tuple[str, list[dict]]]:
    """A real HTTPS server taking webhook POSTs on 127.0.0.1."""
    received: list[dict] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    httpd.socket = server_context(pki).wrap_socket(httpd.socket, server_side=True)
    httpd.handle_error = lambda *args: None  # refused handshakes are the point of one test
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"https://127.0.0.1:{httpd.server_address[1]}/hooks/alerts", received
    httpd.shutdown()
    httpd.server_close()


MESSAGE = Message(rule="tls-test", subject="s", text="border crisis alert", chat_text="border crisis alert",
                  alert_ids=["a1"])
ONCE = Retry(attempts=1)


def test_webhook_to_an_untrusted_certificate_is_not_delivered(https_webhook: tuple[str, list[dict]],
                                                              tmp_path: Path) -> None:
    url, received = https_webhook
    before = len(received)
    error = send(WebhookChannel(type="webhook", url=url), MESSAGE, ONCE, tmp_path)
    assert error is not None and "ConnectError" in error
    assert len(received) == before


def test_webhook_with_its_ca_certs_is_delivered(https_webhook: tuple[str, list[dict]], pki: Pki,
                                                tmp_path: Path) -> None:
    url, received = https_webhook
    assert send(WebhookChannel(type="webhook", url=url, ca_certs=pki.ca_file), MESSAGE, ONCE, tmp_path) is None
    assert received[-1] == {"text": "border crisis alert"}
