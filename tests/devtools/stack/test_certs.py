"""The stack's CA and node certificates: each node's verifies against the CA for its names, and they are kept."""

from __future__ import annotations

import ssl
from pathlib import Path

from cryptography import x509

from mediamon.devtools.stack.certs import ensure_certificates


def test_each_node_certificate_is_signed_by_the_ca_for_loopback_and_its_name(tmp_path: Path) -> None:
    ca = ensure_certificates(tmp_path, ["node-1", "node-2"])
    for node in ("node-1", "node-2"):
        cert = x509.load_pem_x509_certificate((tmp_path / f"{node}.crt").read_bytes())
        cert.verify_directly_issued_by(x509.load_pem_x509_certificate(ca.read_bytes()))
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert {node, "localhost"} <= set(names.get_values_for_type(x509.DNSName))
        assert "127.0.0.1" in {str(ip) for ip in names.get_values_for_type(x509.IPAddress)}
        assert (tmp_path / f"{node}.key").stat().st_mode & 0o077 == 0  # private keys: owner only
        context = ssl.create_default_context(cafile=str(ca))  # what the Python client does with it
        context.load_cert_chain(tmp_path / f"{node}.crt", tmp_path / f"{node}.key")


def test_a_second_call_keeps_the_ca_and_adds_only_missing_nodes(tmp_path: Path) -> None:
    ensure_certificates(tmp_path, ["node-1"])
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    ensure_certificates(tmp_path, ["node-1", "node-2"])
    assert all((tmp_path / name).read_bytes() == data for name, data in before.items())
    assert (tmp_path / "node-2.crt").is_file()
