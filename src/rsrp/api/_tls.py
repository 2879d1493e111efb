"""mTLS under uvicorn: hand the verified client certificate to the ASGI app.

No ASGI server passes the peer certificate to the application, so these
subclasses of uvicorn's HTTP protocols read it from the TLS transport in
``connection_made`` (after the handshake: with ``ssl.CERT_REQUIRED`` the chain
is already verified against the configured CA) and put it into
``scope["extensions"]["tls"]`` as the ASGI TLS extension describes
(``client_cert_chain`` PEM list, ``client_cert_name`` RFC 4514 subject), plus
the principal the certificate names, computed once per connection.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from rsrp.api.devpki import AGENT_URI_PREFIX

__all__ = [
    "TLS_PEER_KEY",
    "ClientCertificateError",
    "MtlsH11Protocol",
    "MtlsHttpToolsProtocol",
    "PeerCertificate",
    "peer_from_der",
    "server_ssl_context",
]

#: Key of our parsed peer inside the ASGI ``tls`` extension.
TLS_PEER_KEY = "rsrp_peer"

Scope = MutableMapping[str, Any]
ASGIApp = Callable[
    [Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]
]


class ClientCertificateError(ValueError):
    """A chain-verified client certificate that still may not authenticate a client."""


#: TLS 1.2 suites (TLS 1.3's are all AEAD): forward secret and AEAD only, RFC 9325 §4.2.
TLS12_CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20"


def server_ssl_context(_config: object, default: Callable[[], ssl.SSLContext]) -> ssl.SSLContext:
    """uvicorn ``ssl_context_factory``: its context, never below TLS 1.2 (RFC 8996), and
    with TLS 1.2 limited to ECDHE with AES-GCM or ChaCha20-Poly1305 (RFC 9325 §4.2)."""
    ctx = default()
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers(TLS12_CIPHERS)
    return ctx


@dataclass(frozen=True, slots=True)
class PeerCertificate:
    """The verified client certificate, reduced to what authorisation needs."""

    principal: str
    subject: str
    fingerprint_sha256: str


def _uri_principal(uri: str) -> str | None:
    # RFC 8141 §3.1: "urn:" and the NID ("rsrp") compare without case, the rest exactly.
    n = len("urn:rsrp:")
    if uri[:n].lower() == AGENT_URI_PREFIX[:n] and uri[n : len(AGENT_URI_PREFIX)] == "agent:":
        return uri[len(AGENT_URI_PREFIX) :] or None
    if uri[: len("spiffe://")].lower() == "spiffe://":
        tail = uri[len("spiffe://") :].split("/")
        return tail[-1] if len(tail) >= 2 and tail[-1] else None
    return None


def _principal(cert: x509.Certificate) -> str | None:
    """URI SAN ``urn:rsrp:agent:ID`` or ``spiffe://domain/.../ID`` first, then the subject CN.

    A certificate naming two different principals (two identity URIs, or two CNs when
    there is none) is refused: its identity would depend on which one we read.
    """
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        uris = san.get_values_for_type(x509.UniformResourceIdentifier)
    except x509.ExtensionNotFound:
        uris = []
    named = {p for p in (_uri_principal(u) for u in uris) if p}
    if not named:
        attrs = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        named = {a.value for a in attrs if isinstance(a.value, str) and a.value}
    if len(named) > 1:
        raise ClientCertificateError("the client certificate names several principals")
    return named.pop() if named else None


def _require_client_auth(cert: x509.Certificate) -> None:
    """RFC 5280 §4.2.1.12: the certificate must be issued for TLS client authentication.

    OpenSSL's handshake refuses an extendedKeyUsage without clientAuth but admits a
    certificate with no such extension at all; we require it to be present.
    """
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        eku = None
    if eku is None or ExtendedKeyUsageOID.CLIENT_AUTH not in eku:
        raise ClientCertificateError(
            "the client certificate lacks the clientAuth extended key usage"
        )


def peer_from_der(der: bytes) -> PeerCertificate | None:
    """Parse a DER client certificate; None when it names no principal.

    Raises ClientCertificateError when it is not a TLS client certificate (no clientAuth EKU).
    """
    cert = x509.load_der_x509_certificate(der)
    _require_client_auth(cert)
    principal = _principal(cert)
    if principal is None:
        return None
    return PeerCertificate(
        principal=principal,
        subject=cert.subject.rfc4514_string(),
        fingerprint_sha256=cert.fingerprint(hashes.SHA256()).hex(),
    )


def _tls_extension(transport: asyncio.BaseTransport) -> dict[str, Any] | None:
    ssl_object = transport.get_extra_info("ssl_object")
    if not isinstance(ssl_object, ssl.SSLObject):
        return None
    der = ssl_object.getpeercert(binary_form=True)
    cipher = ssl_object.cipher()
    ext: dict[str, Any] = {
        "server_cert": None,
        "client_cert_chain": [],
        "client_cert_name": None,
        "client_cert_error": None,
        "tls_version": ssl_object.version(),
        "cipher_suite": cipher[0] if cipher else None,
        TLS_PEER_KEY: None,
    }
    if der:
        ext["client_cert_chain"] = [ssl.DER_cert_to_PEM_cert(der)]
        try:
            peer = peer_from_der(der)
        except ClientCertificateError as e:
            peer = None
            ext["client_cert_error"] = str(e)
        except ValueError:
            peer = None
            ext["client_cert_error"] = "unparsable client certificate"
        if peer is not None:
            ext["client_cert_name"] = peer.subject
            ext[TLS_PEER_KEY] = peer
        elif ext["client_cert_error"] is None:
            ext["client_cert_error"] = "the client certificate names no principal"
    return ext


def _with_tls(app: ASGIApp, ext: dict[str, Any]) -> ASGIApp:
    async def wrapped(
        scope: Scope, receive: Callable[[], Awaitable[Any]], send: Callable[[Any], Awaitable[None]]
    ) -> None:
        extensions = scope.get("extensions") or {}
        # Always overwrite: nothing upstream may inject a peer.
        scope["extensions"] = {**extensions, "tls": ext}
        await app(scope, receive, send)

    return wrapped


class MtlsHttpToolsProtocol(HttpToolsProtocol):
    """httptools protocol that exposes the verified client certificate to the app."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        ext = _tls_extension(transport)
        if ext is not None:
            self.app = _with_tls(self.app, ext)


class MtlsH11Protocol(H11Protocol):
    """h11 protocol that exposes the verified client certificate to the app."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        ext = _tls_extension(transport)
        if ext is not None:
            self.app = _with_tls(self.app, ext)
