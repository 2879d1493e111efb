"""Cross-checks against independent pure-Python implementations (test-only oracles).

dilithium-py (ML-DSA, FIPS 204) and kyber-py (ML-KEM, FIPS 203) share no code
with OpenSSL; agreeing on keys from seeds and accepting each other's signatures
and ciphertexts checks that we call cryptography's primitives the standard way.
Pure Python is slow, so each check runs on two seeds only.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, mldsa, mlkem, x25519
from dilithium_py.ml_dsa import ML_DSA_44, ML_DSA_65, ML_DSA_87
from kyber_py.ml_kem import ML_KEM_768

from rsrp.crypto import InvalidSignature, PublicKey, hybrid, shake256
from rsrp.crypto.composite import (
    LABEL,
    CompositePrivateKey,
    CompositePublicKey,
    message_representative,
)
from rsrp.crypto.xwing import XWingPrivateKey, XWingPublicKey, combiner

SEEDS = [hashlib.sha256(b"rsrp-crosscheck-%d" % i).digest() for i in range(2)]
LEVELS: dict[int, tuple[Any, Any]] = {
    44: (ML_DSA_44, mldsa.MLDSA44PrivateKey),
    65: (ML_DSA_65, mldsa.MLDSA65PrivateKey),
    87: (ML_DSA_87, mldsa.MLDSA87PrivateKey),
}
CTX = b"rsrp-decision-v2"


@pytest.mark.parametrize("level", sorted(LEVELS))
@pytest.mark.parametrize("seed", SEEDS, ids=["seed0", "seed1"])
def test_mldsa_same_key_and_mutual_signatures(level: int, seed: bytes) -> None:
    oracle, ours_cls = LEVELS[level]
    pk_o, sk_o = oracle.key_derive(seed)
    ours = ours_cls.from_seed_bytes(seed)
    assert ours.public_key().public_bytes_raw() == pk_o
    msg = b"cross-check " + seed
    # ours -> oracle
    assert oracle.verify(pk_o, msg, ours.sign(msg, CTX), CTX)
    assert not oracle.verify(pk_o, msg, ours.sign(msg, CTX), b"")
    # oracle -> ours (through our generic PublicKey)
    sig = oracle.sign(sk_o, msg, CTX)
    PublicKey(ours.public_key()).verify(msg, sig, CTX)
    with pytest.raises(InvalidSignature):
        PublicKey(ours.public_key()).verify(msg, sig, b"")


def test_composite_with_oracle_mldsa_component() -> None:
    """A composite whose ML-DSA half is produced by dilithium-py verifies with ours, and
    our composite's ML-DSA half verifies in dilithium-py over M' with ctx = Label."""
    seed = SEEDS[0]
    pk_o, sk_o = ML_DSA_65.key_derive(seed)
    ec_key = ec.derive_private_key(int.from_bytes(seed, "big"), ec.SECP384R1())
    ours = CompositePrivateKey.from_components(
        mldsa.MLDSA65PrivateKey.from_seed_bytes(seed), ec_key
    )
    msg = b"composite cross-check"
    m_prime = message_representative(msg, CTX)
    mixed = ML_DSA_65.sign(sk_o, m_prime, LABEL) + ec_key.sign(m_prime, ec.ECDSA(hashes.SHA384()))
    ours.public_key().verify(msg, mixed, CTX)
    sig = ours.sign(msg, CTX)
    assert ML_DSA_65.verify(pk_o, m_prime, sig[:3309], LABEL)
    assert CompositePublicKey.from_bytes(
        pk_o + ours.public_key().public_bytes()[1952:]
    ).public_bytes() == (ours.public_key().public_bytes())


@pytest.mark.parametrize("seed", SEEDS, ids=["seed0", "seed1"])
def test_mlkem_same_key_and_mutual_encapsulation(seed: bytes) -> None:
    d_z = shake256(seed, 64)
    ek_o, dk_o = ML_KEM_768.key_derive(d_z)
    ours = XWingPrivateKey.from_seed(seed)
    expanded = shake256(seed, 96)
    ek_x = ML_KEM_768.key_derive(expanded[:64])[0]
    assert ours.public_key().public_bytes()[:1184] == ek_x
    # oracle encapsulates to our ML-KEM key, we decapsulate
    k, c = ML_KEM_768.encaps(ek_x)
    assert ours.mlkem.decapsulate(c) == k
    # we encapsulate to the oracle's key, the oracle decapsulates
    k2, c2 = mlkem.MLKEM768PublicKey.from_public_bytes(ek_o).encapsulate()
    assert ML_KEM_768.decaps(dk_o, c2) == k2


def test_xwing_hybrid_ciphertext_built_with_oracle_opens() -> None:
    """An X-Wing ciphertext assembled from kyber-py's ML-KEM and the draft's combiner
    decapsulates with ours, and a hybrid message sealed to it opens."""
    sk = XWingPrivateKey.from_seed(SEEDS[1])
    pk_bytes = sk.public_key().public_bytes()
    ss_m, ct_m = ML_KEM_768.encaps(pk_bytes[:1184])
    ek = x25519.X25519PrivateKey.generate()
    ct_x = ek.public_key().public_bytes_raw()
    ss_x = ek.exchange(x25519.X25519PublicKey.from_public_bytes(pk_bytes[1184:]))
    ss = combiner(ss_m, ss_x, ct_x, pk_bytes[1184:])
    assert sk.decapsulate(ct_m + ct_x) == ss
    sealed = hybrid.seal(XWingPublicKey.from_bytes(pk_bytes), b"record", b"hdr")
    assert hybrid.open(sk, sealed, b"hdr") == b"record"
