"""X-Wing (draft-connolly-cfrg-xwing-kem-10) against the draft's vectors (tests/vectors/xwing-*).

cryptography 50's ML-KEM cannot derandomise encapsulation, so each vector is
checked by (1) key generation from the seed, (2) decapsulation of the vector
ciphertext, (3) the X25519 half of EncapsulateDerand (ct_X from eseed[32:64]),
and (4) the whole EncapsulateDerand through kyber-py's ML-KEM (an independent
pure-Python implementation) combined with our X25519 and combiner.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import x25519
from kyber_py.ml_kem import ML_KEM_768

from rsrp.crypto import DecryptionError, MalformedKey, load_private_key, load_public_key
from rsrp.crypto.xwing import (
    CIPHERTEXT_LEN,
    LABEL,
    XWingPrivateKey,
    XWingPublicKey,
    combiner,
)

VDIR = Path(__file__).parents[1] / "vectors"
VECTORS: list[dict[str, str]] = json.loads((VDIR / "xwing-draft10.json").read_text())["vectors"]
X509 = json.loads((VDIR / "xwing-draft10-x509-keys.json").read_text())
IDS = [f"vector-{i}" for i in range(len(VECTORS))]


def h(v: dict[str, str], k: str) -> bytes:
    return bytes.fromhex(v[k])


def test_label_is_the_drafts() -> None:
    assert bytes.fromhex("5c2e2f2f5e5c") == LABEL
    assert LABEL.decode("ascii") == "\\./" + "/^\\"
    assert len(VECTORS) == 3


@pytest.mark.parametrize("v", VECTORS, ids=IDS)
def test_keygen_from_seed(v: dict[str, str]) -> None:
    assert h(v, "sk") == h(v, "seed")
    sk = XWingPrivateKey.from_seed(h(v, "seed"))
    assert sk.public_key().public_bytes() == h(v, "pk")
    assert sk.private_bytes() == h(v, "sk")


@pytest.mark.parametrize("v", VECTORS, ids=IDS)
def test_decapsulate_vector(v: dict[str, str]) -> None:
    assert XWingPrivateKey.from_seed(h(v, "seed")).decapsulate(h(v, "ct")) == h(v, "ss")


@pytest.mark.parametrize("v", VECTORS, ids=IDS)
def test_encapsulate_derand_x25519_half(v: dict[str, str]) -> None:
    ek_x = x25519.X25519PrivateKey.from_private_bytes(h(v, "eseed")[32:64])
    assert ek_x.public_key().public_bytes_raw() == h(v, "ct")[1088:]


@pytest.mark.parametrize("v", VECTORS, ids=IDS)
def test_encapsulate_derand_with_kyber_py(v: dict[str, str]) -> None:
    pk, eseed = h(v, "pk"), h(v, "eseed")
    pk_m, pk_x = pk[:1184], pk[1184:]
    ss_m, ct_m = ML_KEM_768._encaps_internal(pk_m, eseed[:32])
    ek_x = x25519.X25519PrivateKey.from_private_bytes(eseed[32:64])
    ct_x = ek_x.public_key().public_bytes_raw()
    ss_x = ek_x.exchange(x25519.X25519PublicKey.from_public_bytes(pk_x))
    assert ct_m + ct_x == h(v, "ct")
    assert combiner(ss_m, ss_x, ct_x, pk_x) == h(v, "ss")


def test_x509_keys_from_the_draft_repository() -> None:
    sk = load_private_key(X509["private_pem"].encode())
    assert sk.algorithm == "x-wing"
    assert sk.public_key().spki_pem() == X509["public_pem"].encode()
    assert sk.pkcs8_pem() == X509["private_pem"].encode()
    pk = load_public_key(X509["public_pem"].encode())
    assert pk.raw_bytes() == sk.public_key().raw_bytes()


def test_round_trip_and_kyber_py_decapsulates_our_ml_kem_half() -> None:
    sk = XWingPrivateKey.generate()
    ss, ct = sk.public_key().encapsulate()
    assert sk.decapsulate(ct) == ss
    # kyber-py derives the same ML-KEM key pair from the same d || z
    from rsrp.crypto import shake256

    expanded = shake256(sk.seed, 96)
    ek, dk = ML_KEM_768._keygen_internal(expanded[:32], expanded[32:64])
    assert ek == sk.public_key().public_bytes()[:1184]
    ss_m = ML_KEM_768.decaps(dk, ct[:1088])
    assert ss_m == sk.mlkem.decapsulate(ct[:1088])


@pytest.mark.parametrize("pos", [0, 500, 1087, 1088, 1119])
def test_tampered_ciphertext_changes_secret(pos: int) -> None:
    v = VECTORS[0]
    ct = bytearray(h(v, "ct"))
    ct[pos] ^= 0x01
    sk = XWingPrivateKey.from_seed(h(v, "seed"))
    # ML-KEM rejects implicitly: a different, pseudorandom secret, never the original
    assert sk.decapsulate(bytes(ct)) != h(v, "ss")


@pytest.mark.parametrize("n", [0, 1, CIPHERTEXT_LEN - 1, CIPHERTEXT_LEN + 1])
def test_wrong_ciphertext_length_refused(n: int) -> None:
    sk = XWingPrivateKey.from_seed(h(VECTORS[0], "seed"))
    with pytest.raises(DecryptionError):
        sk.decapsulate(b"\x00" * n)


def test_degenerate_x25519_share_refused() -> None:
    v = VECTORS[0]
    sk = XWingPrivateKey.from_seed(h(v, "seed"))
    with pytest.raises(DecryptionError):
        sk.decapsulate(h(v, "ct")[:1088] + b"\x00" * 32)


@pytest.mark.parametrize("n", [0, 31, 33])
def test_bad_seed_length(n: int) -> None:
    with pytest.raises(MalformedKey):
        XWingPrivateKey.from_seed(b"\x00" * n)


def test_bad_public_key_refused() -> None:
    pk: Any = h(VECTORS[0], "pk")
    with pytest.raises(MalformedKey):
        XWingPublicKey.from_bytes(pk[:-1])
    # ML-KEM modulus check (FIPS 203 §7.2): coefficient 0xFFF >= q
    with pytest.raises(MalformedKey):
        XWingPublicKey.from_bytes(b"\xff" * 1184 + pk[1184:])
