"""ML-DSA in JOSE (draft-ietf-cose-dilithium, "AKP" key type) against the draft's own examples.

tests/vectors/cose-dilithium-jose-examples.json: for ML-DSA-44/65/87, the seed, the example
JWK and a JWS. Our JWK export of the key derived from that seed must carry the draft's
``kty``/``alg``/``pub``; the draft's ``kid`` is the RFC 7638 thumbprint over exactly those
members, and the draft's JWS verifies through rsrp.crypto.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519, mldsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from rsrp.crypto import InvalidSignature, load_public_key
from rsrp.keys import jwk, jwks

_VEC = json.loads(
    (Path(__file__).parents[1] / "vectors/cose-dilithium-jose-examples.json").read_text()
)
EXAMPLES: dict[str, dict[str, Any]] = _VEC["examples"]
_SecretKey = mldsa.MLDSA44PrivateKey | mldsa.MLDSA65PrivateKey | mldsa.MLDSA87PrivateKey
_FROM_SEED: dict[str, Callable[[bytes], _SecretKey]] = {
    "ML-DSA-44": mldsa.MLDSA44PrivateKey.from_seed_bytes,
    "ML-DSA-65": mldsa.MLDSA65PrivateKey.from_seed_bytes,
    "ML-DSA-87": mldsa.MLDSA87PrivateKey.from_seed_bytes,
}


def _b64url_decode(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def _spki(alg: str) -> bytes:
    sk = _FROM_SEED[alg](bytes.fromhex(EXAMPLES[alg]["priv"]))
    return sk.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


def _rfc7638_thumbprint(key: dict[str, Any]) -> str:
    # draft-ietf-cose-dilithium §AKP Thumbprints: required members alg, kty, pub, in that
    # lexicographic order; RFC 7638 §3: no whitespace, SHA-256, base64url without padding.
    members = {k: key[k] for k in ("alg", "kty", "pub")}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()


@pytest.mark.parametrize("alg", sorted(EXAMPLES))
def test_our_jwk_matches_the_drafts_example(alg: str) -> None:
    want = EXAMPLES[alg]["jwk"]
    ours = jwk(_spki(alg), kid=want["kid"])
    assert (ours["kty"], ours["alg"], ours["pub"]) == ("AKP", alg, want["pub"])
    assert "priv" not in ours  # §AKP: "priv" MUST NOT be present in public keys
    assert _b64url_decode(ours["pub"]) == bytes.fromhex(EXAMPLES[alg]["raw_public_key"])
    # The thumbprint of our members is the draft's kid: same members, same encodings.
    assert _rfc7638_thumbprint(ours) == want["kid"]


@pytest.mark.parametrize("alg", sorted(EXAMPLES))
def test_jwks_carries_the_same_key(alg: str) -> None:
    want = EXAMPLES[alg]["jwk"]
    (only,) = jwks([(want["kid"], _spki(alg))])["keys"]
    assert {k: only[k] for k in ("kid", "kty", "alg", "pub")} == {
        k: want[k] for k in ("kid", "kty", "alg", "pub")
    }


@pytest.mark.parametrize("alg", sorted(EXAMPLES))
def test_drafts_jws_verifies_with_our_crypto(alg: str) -> None:
    ex = EXAMPLES[alg]
    header_b64, payload_b64, sig_b64 = ex["jws"].split(".")
    header = json.loads(_b64url_decode(header_b64))
    assert header["alg"] == alg and header["kid"] == ex["jwk"]["kid"]
    signing_input = f"{header_b64}.{payload_b64}".encode()
    assert signing_input == bytes.fromhex(ex["raw_to_be_signed"])
    sig = _b64url_decode(sig_b64)
    assert sig == bytes.fromhex(ex["raw_signature"])
    key = load_public_key(_spki(alg))
    key.verify(signing_input, sig)  # JWS ML-DSA: FIPS 204 pure, empty context
    with pytest.raises(InvalidSignature):
        key.verify(signing_input + b"x", sig)


def test_ed25519_jwk_matches_rfc8037_appendix_a() -> None:
    # RFC 8037 §A.1-A.3: the RFC 8032 test 1 key as an OKP JWK, and its RFC 7638 thumbprint.
    sk = ed25519.Ed25519PrivateKey.from_private_bytes(
        bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    )
    spki = sk.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    ours = jwk(spki, kid="k")
    assert (ours["kty"], ours["crv"], ours["x"]) == (
        "OKP",
        "Ed25519",
        "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
    )
    members = {k: ours[k] for k in ("crv", "kty", "x")}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    thumb = base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()
    assert thumb == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
