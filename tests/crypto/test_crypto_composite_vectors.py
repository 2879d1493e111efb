"""draft-ietf-lamps-pq-composite-sigs-19 published vectors (tests/vectors/lamps-composite-*)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import crypto_composite_oracle as oracle
import pytest
from cryptography import exceptions as cx
from cryptography import x509

from rsrp.crypto import InvalidSignature, UnsupportedAlgorithm, load_private_key, load_public_key
from rsrp.crypto.composite import (
    ALGORITHM,
    CompositePrivateKey,
    CompositePublicKey,
    message_representative,
    split_signature,
)

VECTORS = json.loads(
    (Path(__file__).parents[1] / "vectors" / "lamps-composite-sigs-draft19.json").read_text()
)
M = base64.b64decode(VECTORS["m"])
CTX = base64.b64decode(VECTORS["ctx"])
TESTS: list[dict[str, Any]] = VECTORS["tests"]
OURS = "id-MLDSA65-ECDSA-P384-SHA512"
PURE = {"id-ML-DSA-44": "ml-dsa-44", "id-ML-DSA-65": "ml-dsa-65", "id-ML-DSA-87": "ml-dsa-87"}


def b(tc: dict[str, Any], field: str) -> bytes:
    return base64.b64decode(tc[field], validate=True)


def _by_id(tc_id: str) -> dict[str, Any]:
    return next(t for t in TESTS if t["tcId"] == tc_id)


def test_vector_file_has_every_algorithm() -> None:
    ids = {t["tcId"] for t in TESTS}
    assert len(TESTS) == 21
    assert set(oracle.TABLE) | set(PURE) == ids
    assert M == b"The quick brown fox jumps over the lazy dog."
    assert len(CTX) == 71


# --- id-MLDSA65-ECDSA-P384-SHA512 through rsrp.crypto ---------------------------------


@pytest.fixture(scope="module")
def ours() -> dict[str, Any]:
    return _by_id(OURS)


@pytest.mark.parametrize(
    ("sig_field", "ctx"), [("s", b""), ("sWithContext", CTX)], ids=["no-ctx", "ctx"]
)
def test_ours_verifies(ours: dict[str, Any], sig_field: str, ctx: bytes) -> None:
    CompositePublicKey.from_bytes(b(ours, "pk")).verify(M, b(ours, sig_field), ctx)
    # and through the generic loader, from the vector's certificate
    pk = load_public_key(b(ours, "x5c"))
    assert pk.algorithm == ALGORITHM
    assert pk.raw_bytes() == b(ours, "pk")
    pk.verify(M, b(ours, sig_field), context=ctx)


@pytest.mark.parametrize(
    ("sig_field", "ctx"), [("s", CTX), ("sWithContext", b"")], ids=["s-with-ctx", "sctx-without"]
)
def test_ours_rejects_wrong_context(ours: dict[str, Any], sig_field: str, ctx: bytes) -> None:
    with pytest.raises(InvalidSignature) as e:
        CompositePublicKey.from_bytes(b(ours, "pk")).verify(M, b(ours, sig_field), ctx)
    assert e.value.component == "ml-dsa"


def test_ours_ecdsa_component_failure_is_named(ours: dict[str, Any]) -> None:
    pq, ec_der = split_signature(b(ours, "s"))
    other = _by_id("id-MLDSA87-ECDSA-P384-SHA512")  # a well-formed P-384 sig by another key
    foreign = b(other, "s")[4627:]
    with pytest.raises(InvalidSignature) as e:
        CompositePublicKey.from_bytes(b(ours, "pk")).verify(M, pq + foreign)
    assert e.value.component == "ecdsa"
    assert ec_der != foreign


def test_ours_private_key_encodings_are_byte_exact(ours: dict[str, Any]) -> None:
    sk = CompositePrivateKey.from_bytes(b(ours, "sk"))
    assert sk.private_bytes() == b(ours, "sk")
    assert sk.pkcs8_der() == b(ours, "sk_pkcs8")
    assert sk.public_key().public_bytes() == b(ours, "pk")
    loaded = load_private_key(b(ours, "sk_pkcs8"))
    assert loaded.algorithm == ALGORITHM
    assert loaded.pkcs8_der() == b(ours, "sk_pkcs8")
    # a fresh signature from the vector key verifies under the vector public key
    CompositePublicKey.from_bytes(b(ours, "pk")).verify(M, loaded.sign(M, CTX), CTX)


def test_ours_certificate_signature(ours: dict[str, Any]) -> None:
    """x5c is self-signed with the composite key over its TBSCertificate, ctx empty."""
    cert = x509.load_der_x509_certificate(b(ours, "x5c"))
    assert cert.signature_algorithm_oid.dotted_string == "1.3.6.1.5.5.7.6.46"
    load_public_key(b(ours, "x5c")).verify(cert.tbs_certificate_bytes, cert.signature)


def test_ours_spki_round_trip(ours: dict[str, Any]) -> None:
    pk = CompositePublicKey.from_bytes(b(ours, "pk"))
    assert CompositePublicKey.from_spki_der(pk.spki_der()).public_bytes() == b(ours, "pk")
    cert_spki = load_public_key(b(ours, "x5c")).spki_der()
    assert cert_spki == pk.spki_der()


def test_ours_m_prime_matches_oracle() -> None:
    p = oracle.TABLE[OURS]
    for ctx in (b"", CTX, b"\x00" * 255):
        assert message_representative(M, ctx) == oracle.m_prime(p, M, ctx)


def test_oracle_accepts_our_signatures() -> None:
    sk = CompositePrivateKey.generate()
    sig = sk.sign(M, CTX)
    oracle.verify(OURS, sk.public_key().public_bytes(), M, sig, CTX)


# --- every composite vector through the test-only oracle ------------------------------

COMPOSITES = [t for t in TESTS if t["tcId"] in oracle.TABLE]


@pytest.mark.parametrize("tc", COMPOSITES, ids=[t["tcId"] for t in COMPOSITES])
def test_oracle_verifies_all_composites(tc: dict[str, Any]) -> None:
    pk = b(tc, "pk")
    oracle.verify(tc["tcId"], pk, M, b(tc, "s"))
    oracle.verify(tc["tcId"], pk, M, b(tc, "sWithContext"), CTX)
    cert = x509.load_der_x509_certificate(b(tc, "x5c"))
    oracle.verify(tc["tcId"], pk, cert.tbs_certificate_bytes, cert.signature)
    with pytest.raises((cx.InvalidSignature, ValueError)):
        oracle.verify(tc["tcId"], pk, M, b(tc, "s"), CTX)


OTHERS = [t for t in COMPOSITES if t["tcId"] != OURS]


@pytest.mark.parametrize("tc", OTHERS, ids=[t["tcId"] for t in OTHERS])
def test_other_composites_are_refused_clearly(tc: dict[str, Any]) -> None:
    """We ship one composite; the others' certificates must not load as anything."""
    with pytest.raises(UnsupportedAlgorithm):
        load_public_key(b(tc, "x5c"))


# --- pure ML-DSA vectors through rsrp.crypto ------------------------------------------

PURE_TESTS = [t for t in TESTS if t["tcId"] in PURE]


@pytest.mark.parametrize("tc", PURE_TESTS, ids=[t["tcId"] for t in PURE_TESTS])
def test_pure_mldsa_vectors(tc: dict[str, Any]) -> None:
    pk = load_public_key(b(tc, "x5c"))
    assert pk.algorithm == PURE[tc["tcId"]]
    assert pk.raw_bytes() == b(tc, "pk")
    pk.verify(M, b(tc, "s"))
    pk.verify(M, b(tc, "sWithContext"), context=CTX)
    with pytest.raises(InvalidSignature):
        pk.verify(M, b(tc, "s"), context=CTX)
    cert = x509.load_der_x509_certificate(b(tc, "x5c"))
    pk.verify(cert.tbs_certificate_bytes, cert.signature)
    sk = load_private_key(b(tc, "sk_pkcs8"))
    assert sk.public_key().raw_bytes() == b(tc, "pk")
    assert sk.pkcs8_der() == b(tc, "sk_pkcs8")
