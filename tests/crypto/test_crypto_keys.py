"""rsrp.crypto key objects: generation, sign/verify, SPKI/PKCS#8 round trips, hostile input."""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mldsa, rsa
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

from rsrp.crypto import (
    ALGORITHMS,
    SIGNATURE_ALGORITHMS,
    CryptoError,
    InvalidSignature,
    MalformedKey,
    PrivateKey,
    SelfTestFailure,
    UnsupportedAlgorithm,
    generate,
    load_private_key,
    load_public_key,
)
from rsrp.crypto.composite import CompositePrivateKey
from rsrp.crypto.xwing import XWingPrivateKey

KEYS = {a: generate(a) for a in ALGORITHMS}
SIG_KEYS = [KEYS[a] for a in SIGNATURE_ALGORITHMS]
CTX_ALGS = ["ml-dsa-44", "ml-dsa-65", "ml-dsa-87", "mldsa65-ecdsa-p384-sha512"]
COMPONENT = {
    "ed25519": "ed25519",
    "ecdsa-p384-sha384": "ecdsa",
    "ml-dsa-44": "ml-dsa",
    "ml-dsa-65": "ml-dsa",
    "ml-dsa-87": "ml-dsa",
    "mldsa65-ecdsa-p384-sha512": "ml-dsa",
}


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_algorithm_names(alg: str) -> None:
    assert KEYS[alg].algorithm == alg
    assert KEYS[alg].public_key().algorithm == alg
    assert alg in repr(KEYS[alg]) and "secret" in repr(KEYS[alg])


@pytest.mark.parametrize("alg", ALGORITHMS)
@pytest.mark.parametrize("form", ["der", "pem"])
def test_public_key_round_trip(alg: str, form: str) -> None:
    pk = KEYS[alg].public_key()
    data = pk.spki_der() if form == "der" else pk.spki_pem()
    loaded = load_public_key(data)
    assert loaded.algorithm == alg
    assert loaded.spki_der() == pk.spki_der()
    assert loaded.raw_bytes() == pk.raw_bytes()


@pytest.mark.parametrize("alg", ALGORITHMS)
@pytest.mark.parametrize("form", ["der", "pem"])
def test_private_key_round_trip(alg: str, form: str) -> None:
    sk = KEYS[alg]
    loaded = load_private_key(sk.pkcs8_der() if form == "der" else sk.pkcs8_pem())
    assert loaded.algorithm == alg
    assert loaded.pkcs8_der() == sk.pkcs8_der()
    assert loaded.public_key().spki_der() == sk.public_key().spki_der()


@pytest.mark.parametrize("alg", SIGNATURE_ALGORITHMS)
def test_sign_verify_and_tamper(alg: str) -> None:
    sk = KEYS[alg]
    pk = load_public_key(sk.public_key().spki_pem())
    sig = sk.sign(b"message")
    pk.verify(b"message", sig)
    with pytest.raises(InvalidSignature) as e:
        pk.verify(b"messagf", sig)
    assert e.value.component == COMPONENT[alg]
    bad = bytearray(sig)
    bad[len(bad) // 3] ^= 1
    with pytest.raises(InvalidSignature):
        pk.verify(b"message", bytes(bad))
    for cut in (0, 1, len(sig) - 1):
        with pytest.raises(InvalidSignature):
            pk.verify(b"message", sig[:cut])
    with pytest.raises(InvalidSignature):
        pk.verify(b"message", sig + b"\x00")


@pytest.mark.parametrize("alg", CTX_ALGS)
def test_context_is_bound(alg: str) -> None:
    sk = KEYS[alg]
    sig = sk.sign(b"m", context=b"rsrp-decision")
    sk.public_key().verify(b"m", sig, context=b"rsrp-decision")
    for other in (b"", b"rsrp-decisioN", b"rsrp-decision\x00"):
        with pytest.raises(InvalidSignature):
            sk.public_key().verify(b"m", sig, context=other)
    with pytest.raises(CryptoError):
        sk.sign(b"m", context=bytes(256))
    sk.public_key().verify(b"m", sk.sign(b"m", context=bytes(255)), context=bytes(255))


@pytest.mark.parametrize("alg", ["ed25519", "ecdsa-p384-sha384"])
def test_context_refused_where_unsupported(alg: str) -> None:
    with pytest.raises(UnsupportedAlgorithm):
        KEYS[alg].sign(b"m", context=b"x")
    with pytest.raises(UnsupportedAlgorithm):
        KEYS[alg].public_key().verify(b"m", KEYS[alg].sign(b"m"), context=b"x")


def test_kem_and_signature_operations_do_not_mix() -> None:
    with pytest.raises(UnsupportedAlgorithm):
        KEYS["x-wing"].sign(b"m")
    with pytest.raises(UnsupportedAlgorithm):
        KEYS["x-wing"].public_key().verify(b"m", b"s")
    with pytest.raises(UnsupportedAlgorithm):
        KEYS["ed25519"].decapsulate(b"")
    with pytest.raises(UnsupportedAlgorithm):
        KEYS["ed25519"].public_key().encapsulate()
    ss, ct = KEYS["x-wing"].public_key().encapsulate()
    assert KEYS["x-wing"].decapsulate(ct) == ss


def test_unknown_algorithm() -> None:
    with pytest.raises(UnsupportedAlgorithm, match="unknown algorithm"):
        generate("rsa-2048")
    with pytest.raises(UnsupportedAlgorithm):
        PrivateKey.generate("ml-dsa-66")


def _self_signed(key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "rsrp test")])
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
    )
    algo = None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA384()
    return builder.sign(key, algo).public_bytes(serialization.Encoding.PEM)


@pytest.mark.parametrize("alg", ["ed25519", "ecdsa-p384-sha384"])
def test_certificate_pem_and_der(alg: str) -> None:
    key = KEYS[alg].key
    assert isinstance(key, ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey)
    pem = _self_signed(key)
    der = x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)
    for data in (pem, der):
        pk = load_public_key(data)
        assert pk.spki_der() == KEYS[alg].public_key().spki_der()


def test_other_curves_and_rsa_refused() -> None:
    p256 = ec.generate_private_key(ec.SECP256R1()).public_key()
    spki = p256.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(UnsupportedAlgorithm, match="P-384 only"):
        load_public_key(spki)
    r = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(UnsupportedAlgorithm):
        load_private_key(
            r.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    pq = KEYS["ml-dsa-65"].key
    assert isinstance(pq, mldsa.MLDSA65PrivateKey)
    with pytest.raises(MalformedKey):
        CompositePrivateKey.from_components(pq, ec.generate_private_key(ec.SECP256R1()))


OID_DER = bytes.fromhex("06082b0601050507062e")  # 1.3.6.1.5.5.7.6.46
PUB_DER = KEYS["mldsa65-ecdsa-p384-sha512"].public_key().spki_der()
PRIV_DER = KEYS["mldsa65-ecdsa-p384-sha512"].pkcs8_der()


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d + b"\x00",
        lambda d: d[:-1],
        lambda d: d[:10],
        lambda d: b"\x00" + d,
        lambda d: d.replace(OID_DER, OID_DER[:-1] + b"\x2f", 1),  # OID ...6.47
        lambda d: b"\x30\x80" + d[4:],  # indefinite length
        lambda d: d[:1] + b"\x83\x00" + d[2:],  # non-minimal length
    ],
    ids=["suffix", "truncate-1", "truncate-10", "prefix", "oid-flip", "indefinite", "non-minimal"],
)
@pytest.mark.parametrize("which", ["spki", "pkcs8"])
def test_structural_mutations_refused(mutate: object, which: str) -> None:
    assert callable(mutate)
    if which == "spki":
        with pytest.raises(CryptoError):
            load_public_key(mutate(PUB_DER))
    else:
        with pytest.raises(CryptoError):
            load_private_key(mutate(PRIV_DER))


@pytest.mark.parametrize(
    "pem",
    [
        b"-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----\n",
        b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        KEYS["ed25519"].public_key().spki_pem() * 2,
        b"junk\n" + KEYS["ed25519"].public_key().spki_pem(),
        b"-----BEGIN PUBLIC KEY-----\n"
        + base64.b64encode(PUB_DER + b"\x00")
        + b"\n-----END PUBLIC KEY-----\n",
    ],
    ids=[
        "bad-base64",
        "mismatched-labels",
        "wrong-label",
        "two-blocks",
        "leading-junk",
        "trailing-der",
    ],
)
def test_bad_pem_refused(pem: bytes) -> None:
    with pytest.raises(CryptoError):
        load_public_key(pem)


def test_oversized_input_refused() -> None:
    with pytest.raises(MalformedKey):
        load_public_key(b"\x30\x84\x7f\xff\xff\xff" + bytes(16))
    with pytest.raises(MalformedKey):
        load_public_key(b"-----BEGIN PUBLIC KEY-----\n" + b"A" * (2 << 20))


def test_composite_ec_private_key_with_public_key_field() -> None:
    """RFC 5915 publicKey is omitted by the draft; accepted only if it matches."""
    sk = KEYS["mldsa65-ecdsa-p384-sha512"].key
    assert isinstance(sk, CompositePrivateKey)
    full = sk.ecdsa.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    seed = sk.private_bytes()[:32]
    again = CompositePrivateKey.from_bytes(seed + full)
    assert again.private_bytes() == sk.private_bytes()
    other = ec.generate_private_key(ec.SECP384R1()).public_key()
    point = other.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    forged = full[: -len(point)] + point
    with pytest.raises(MalformedKey, match="does not match"):
        CompositePrivateKey.from_bytes(seed + forged)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=3000))
def test_arbitrary_bytes_never_crash(data: bytes) -> None:
    for loader in (load_public_key, load_private_key):
        with contextlib.suppress(CryptoError):
            loader(data)


@settings(max_examples=100, deadline=None)
@given(
    st.integers(min_value=0, max_value=len(PUB_DER) - 1), st.integers(min_value=1, max_value=255)
)
def test_spki_byte_flips(pos: int, xor: int) -> None:
    data = bytearray(PUB_DER)
    data[pos] ^= xor
    try:
        pk = load_public_key(bytes(data))
    except CryptoError:
        return
    # a flip inside the key material can still parse; it must then be a different key
    assert pk.spki_der() != PUB_DER


def test_pairwise_consistency_test_catches_an_inconsistent_key() -> None:
    good = XWingPrivateKey.from_seed(bytes(32))
    PrivateKey(good).pairwise_consistency_test()
    bad = dataclasses.replace(good, pk_x=bytes(range(32)))  # cached pk_X disagrees with sk_X
    with pytest.raises(SelfTestFailure, match="pairwise-consistency"):
        PrivateKey(bad).pairwise_consistency_test()
