"""A development PKI: one CA, a server certificate and client certificates for mTLS.

For ``rsrp run`` and tests only (never for production): keys are ECDSA P-256
written unencrypted with mode 0600. Client certificates carry the agent id both
as subject CN and as URI SAN ``urn:rsrp:agent:ID`` (RFC 5280 §4.2.1.6).

    >>> import tempfile, pathlib
    >>> pki = ensure_dev_pki(pathlib.Path(tempfile.mkdtemp()), clients=["agent-001"])
    >>> pki.client("agent-001")[0].name
    'client-agent-001.pem'
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = [
    "AGENT_URI_PREFIX",
    "CertKey",
    "DevPki",
    "ensure_dev_pki",
    "issue",
    "issue_client",
    "new_ca",
]

#: URI SAN prefix naming an agent: ``urn:rsrp:agent:<id>``.
AGENT_URI_PREFIX = "urn:rsrp:agent:"


@dataclass(frozen=True, slots=True)
class CertKey:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def write(self, directory: Path, stem: str) -> tuple[Path, Path]:
        """Write ``stem.pem`` and ``stem.key`` (0600); return their paths."""
        directory.mkdir(parents=True, exist_ok=True)
        cert_path, key_path = directory / f"{stem}.pem", directory / f"{stem}.key"
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(self.key_pem())
        cert_path.write_bytes(self.cert_pem())
        return cert_path, key_path


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "rsrp development"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def new_ca(
    name: str = "rsrp dev CA",
    *,
    not_before: dt.datetime | None = None,
    days: int = 3650,
) -> CertKey:
    """A self-signed CA certificate (basicConstraints CA, keyCertSign)."""
    key = ec.generate_private_key(ec.SECP256R1())
    start = not_before or dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(name))
        .issuer_name(_name(name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return CertKey(cert, key)


def issue(
    ca: CertKey,
    common_name: str,
    *,
    server: bool = False,
    uris: tuple[str, ...] = (),
    dns: tuple[str, ...] = (),
    ips: tuple[str, ...] = (),
    not_before: dt.datetime | None = None,
    days: int = 825,
) -> CertKey:
    """An end-entity certificate signed by ``ca`` (serverAuth or clientAuth EKU)."""
    key = ec.generate_private_key(ec.SECP256R1())
    start = not_before or dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    sans: list[x509.GeneralName] = [x509.UniformResourceIdentifier(u) for u in uris]
    sans += [x509.DNSName(d) for d in dns]
    sans += [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    eku = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([eku]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False
        )
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return CertKey(builder.sign(ca.key, hashes.SHA256()), key)


def issue_client(
    ca: CertKey, principal: str, *, not_before: dt.datetime | None = None, days: int = 825
) -> CertKey:
    """A client certificate naming ``principal`` as CN and ``urn:rsrp:agent:<principal>``."""
    uris = (AGENT_URI_PREFIX + principal,)
    return issue(ca, principal, uris=uris, not_before=not_before, days=days)


@dataclass(frozen=True, slots=True)
class DevPki:
    directory: Path

    @property
    def ca_cert(self) -> Path:
        return self.directory / "ca.pem"

    @property
    def server(self) -> tuple[Path, Path]:
        return self.directory / "server.pem", self.directory / "server.key"

    def client(self, principal: str) -> tuple[Path, Path]:
        return (
            self.directory / f"client-{principal}.pem",
            self.directory / f"client-{principal}.key",
        )


def load_ca(directory: Path) -> CertKey:
    cert = x509.load_pem_x509_certificate((directory / "ca.pem").read_bytes())
    key = serialization.load_pem_private_key((directory / "ca.key").read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise TypeError("dev CA key is not an EC key")
    return CertKey(cert, key)


def ensure_dev_pki(
    directory: Path, *, clients: list[str], hosts: tuple[str, ...] = ("localhost",)
) -> DevPki:
    """Create (once) a CA, a server cert for localhost/127.0.0.1/::1 and the client certs.

    Existing files are kept, so repeated runs reuse the same CA; missing client
    certificates are added.
    """
    pki = DevPki(directory)
    if pki.ca_cert.exists():
        ca = load_ca(directory)
    else:
        ca = new_ca()
        ca.write(directory, "ca")
    if not pki.server[0].exists():
        issue(ca, "localhost", server=True, dns=hosts, ips=("127.0.0.1", "::1")).write(
            directory, "server"
        )
    for principal in clients:
        if not pki.client(principal)[0].exists():
            issue_client(ca, principal).write(directory, f"client-{principal}")
    return pki
