"""Test-only reference oracle for every Composite ML-DSA algorithm of the draft.

A deliberately naive transcription of draft-ietf-lamps-pq-composite-sigs-19
§2.4 / §3.3 / §4 driven by the parameter table of its §7 (src/algParams.md),
independent of rsrp.crypto.composite (STYLE.md point 3). It lets the tests check
all 18 composite vectors, not just the one rsrp ships, and cross-check ours.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, mldsa, padding, rsa

PREFIX = bytes.fromhex("436F6D706F73697465416C676F726974686D5369676E61747572657332303235")

MLDSA: dict[int, tuple[Any, int, int]] = {
    44: (mldsa.MLDSA44PublicKey, 1312, 2420),
    65: (mldsa.MLDSA65PublicKey, 1952, 3309),
    87: (mldsa.MLDSA87PublicKey, 2592, 4627),
}


@dataclass(frozen=True)
class Params:
    level: int
    label: str
    ph: str  # sha256 | sha512 | shake256
    trad: str  # ecdsa | ed25519 | ed448 | rsa-pss | rsa-pkcs15
    trad_hash: hashes.HashAlgorithm | None = None
    curve: ec.EllipticCurve | None = None


P = Params
TABLE: dict[str, Params] = {
    "id-MLDSA44-RSA2048-PSS-SHA256": P(
        44, "COMPSIG-MLDSA44-RSA2048-PSS-SHA256", "sha256", "rsa-pss", hashes.SHA256()
    ),
    "id-MLDSA44-RSA2048-PKCS15-SHA256": P(
        44, "COMPSIG-MLDSA44-RSA2048-PKCS15-SHA256", "sha256", "rsa-pkcs15", hashes.SHA256()
    ),
    "id-MLDSA44-Ed25519-SHA512": P(44, "COMPSIG-MLDSA44-Ed25519-SHA512", "sha512", "ed25519"),
    "id-MLDSA44-ECDSA-P256-SHA256": P(
        44, "COMPSIG-MLDSA44-ECDSA-P256-SHA256", "sha256", "ecdsa", hashes.SHA256(), ec.SECP256R1()
    ),
    "id-MLDSA65-RSA3072-PSS-SHA512": P(
        65, "COMPSIG-MLDSA65-RSA3072-PSS-SHA512", "sha512", "rsa-pss", hashes.SHA256()
    ),
    "id-MLDSA65-RSA3072-PKCS15-SHA512": P(
        65, "COMPSIG-MLDSA65-RSA3072-PKCS15-SHA512", "sha512", "rsa-pkcs15", hashes.SHA256()
    ),
    "id-MLDSA65-RSA4096-PSS-SHA512": P(
        65, "COMPSIG-MLDSA65-RSA4096-PSS-SHA512", "sha512", "rsa-pss", hashes.SHA384()
    ),
    "id-MLDSA65-RSA4096-PKCS15-SHA512": P(
        65, "COMPSIG-MLDSA65-RSA4096-PKCS15-SHA512", "sha512", "rsa-pkcs15", hashes.SHA384()
    ),
    "id-MLDSA65-ECDSA-P256-SHA512": P(
        65, "COMPSIG-MLDSA65-ECDSA-P256-SHA512", "sha512", "ecdsa", hashes.SHA256(), ec.SECP256R1()
    ),
    "id-MLDSA65-ECDSA-P384-SHA512": P(
        65, "COMPSIG-MLDSA65-ECDSA-P384-SHA512", "sha512", "ecdsa", hashes.SHA384(), ec.SECP384R1()
    ),
    "id-MLDSA65-ECDSA-brainpoolP256r1-SHA512": P(
        65,
        "COMPSIG-MLDSA65-ECDSA-BP256-SHA512",
        "sha512",
        "ecdsa",
        hashes.SHA256(),
        ec.BrainpoolP256R1(),
    ),
    "id-MLDSA65-Ed25519-SHA512": P(65, "COMPSIG-MLDSA65-Ed25519-SHA512", "sha512", "ed25519"),
    "id-MLDSA87-ECDSA-P384-SHA512": P(
        87, "COMPSIG-MLDSA87-ECDSA-P384-SHA512", "sha512", "ecdsa", hashes.SHA384(), ec.SECP384R1()
    ),
    "id-MLDSA87-ECDSA-brainpoolP384r1-SHA512": P(
        87,
        "COMPSIG-MLDSA87-ECDSA-BP384-SHA512",
        "sha512",
        "ecdsa",
        hashes.SHA384(),
        ec.BrainpoolP384R1(),
    ),
    "id-MLDSA87-Ed448-SHAKE256": P(87, "COMPSIG-MLDSA87-Ed448-SHAKE256", "shake256", "ed448"),
    "id-MLDSA87-RSA3072-PSS-SHA512": P(
        87, "COMPSIG-MLDSA87-RSA3072-PSS-SHA512", "sha512", "rsa-pss", hashes.SHA256()
    ),
    "id-MLDSA87-RSA4096-PSS-SHA512": P(
        87, "COMPSIG-MLDSA87-RSA4096-PSS-SHA512", "sha512", "rsa-pss", hashes.SHA384()
    ),
    "id-MLDSA87-ECDSA-P521-SHA512": P(
        87, "COMPSIG-MLDSA87-ECDSA-P521-SHA512", "sha512", "ecdsa", hashes.SHA512(), ec.SECP521R1()
    ),
}


def _ph(name: str, m: bytes) -> bytes:
    algo: hashes.HashAlgorithm = {
        "sha256": hashes.SHA256(),
        "sha512": hashes.SHA512(),
        "shake256": hashes.SHAKE256(64),  # PH "SHAKE256/64": 64 output bytes
    }[name]
    h = hashes.Hash(algo)
    h.update(m)
    return h.finalize()


def m_prime(p: Params, m: bytes, ctx: bytes) -> bytes:
    return PREFIX + p.label.encode("ascii") + bytes([len(ctx)]) + ctx + _ph(p.ph, m)


def verify(tc_id: str, pk: bytes, m: bytes, sig: bytes, ctx: bytes = b"") -> None:
    """Raise (cryptography.exceptions.InvalidSignature or ValueError) unless valid."""
    p = TABLE[tc_id]
    cls, pk_len, sig_len = MLDSA[p.level]
    mp = m_prime(p, m, ctx)
    cls.from_public_bytes(pk[:pk_len]).verify(sig[:sig_len], mp, p.label.encode("ascii"))
    trad_pk, trad_sig = pk[pk_len:], sig[sig_len:]
    if p.trad == "ecdsa":
        assert p.curve is not None and p.trad_hash is not None
        key = ec.EllipticCurvePublicKey.from_encoded_point(p.curve, trad_pk)
        key.verify(trad_sig, mp, ec.ECDSA(p.trad_hash))
    elif p.trad == "ed25519":
        ed25519.Ed25519PublicKey.from_public_bytes(trad_pk).verify(trad_sig, mp)
    elif p.trad == "ed448":
        ed448.Ed448PublicKey.from_public_bytes(trad_pk).verify(trad_sig, mp)
    else:
        assert p.trad_hash is not None
        rsa_key = _rsa_public(trad_pk)
        pad: padding.AsymmetricPadding = (
            padding.PSS(mgf=padding.MGF1(p.trad_hash), salt_length=p.trad_hash.digest_size)
            if p.trad == "rsa-pss"
            else padding.PKCS1v15()
        )
        rsa_key.verify(trad_sig, mp, pad, p.trad_hash)


def _rsa_public(der_rsapublickey: bytes) -> rsa.RSAPublicKey:
    """RSAPublicKey (RFC 8017 A.1.1) DER -> key, via the PKCS#1 PEM loader."""
    import base64

    pem = (
        b"-----BEGIN RSA PUBLIC KEY-----\n"
        + base64.encodebytes(der_rsapublickey)
        + b"-----END RSA PUBLIC KEY-----\n"
    )
    key = serialization.load_pem_public_key(pem)
    assert isinstance(key, rsa.RSAPublicKey)
    return key
