"""A private CA and one certificate per Elasticsearch node, for TLS on transport and HTTP.

What ``elasticsearch-certutil ca`` + ``cert --pem`` produce in the compose file's
``es-certs`` job, made with ``cryptography`` instead of a JVM start: the nodes
verify each other against the CA (``verification_mode: full``: the names below
must match), clients verify the HTTP layer against the same CA. Generated once;
kept across restarts so clients holding the CA keep working.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from mediamon.devtools.stack.layout import write_private

VALID_DAYS = 3 * 365
# Every node listens on loopback: the name and address every client and peer uses.
NODE_NAMES = ("localhost",)
NODE_ADDRESSES = ("127.0.0.1",)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "mediamon stack"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def ensure_certificates(directory: Path, nodes: list[str]) -> Path:
    """``ca.crt`` (+ its key) and ``<node>.crt``/``<node>.key`` per node in ``directory``; returns the CA path."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_cert_path, ca_key_path = directory / "ca.crt", directory / "ca.key"
    now = dt.datetime.now(dt.UTC)
    if ca_cert_path.is_file() and ca_key_path.is_file():
        ca_cert = x509.load_pem_x509_certificate(ca_cert_path.read_bytes())
        ca_key = serialization.load_pem_private_key(ca_key_path.read_bytes(), password=None)
    else:
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_cert = (x509.CertificateBuilder().subject_name(_name("mediamon stack CA"))
                   .issuer_name(_name("mediamon stack CA")).public_key(ca_key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=VALID_DAYS))
                   .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                   .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                                content_commitment=False, key_encipherment=False,
                                                data_encipherment=False, key_agreement=False,
                                                encipher_only=False, decipher_only=False), critical=True)
                   .sign(ca_key, hashes.SHA256()))
        write_private(ca_key_path, _pem_key(ca_key))
        ca_cert_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
        ca_cert_path.chmod(0o644)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    for node in nodes:
        if (directory / f"{node}.crt").is_file() and (directory / f"{node}.key").is_file():
            continue
        key = ec.generate_private_key(ec.SECP256R1())
        names = [x509.DNSName(n) for n in (node, *NODE_NAMES)]
        names += [x509.IPAddress(ipaddress.ip_address(a)) for a in NODE_ADDRESSES]
        cert = (x509.CertificateBuilder().subject_name(_name(node)).issuer_name(ca_cert.subject)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=VALID_DAYS))
                .add_extension(x509.SubjectAlternativeName(names), critical=False)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                # a node is a server to its clients and a client to its peers on the transport layer
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                                      ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
                .sign(ca_key, hashes.SHA256()))
        write_private(directory / f"{node}.key", _pem_key(key))
        (directory / f"{node}.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return ca_cert_path
