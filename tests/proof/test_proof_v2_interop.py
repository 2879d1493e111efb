"""V2 composite signatures: the test oracle and rsrp.crypto.composite agree both ways."""

from __future__ import annotations

import json

import generate_v2_vectors as gen
import pytest
from proof_composite_oracle import OracleVerifier

from rsrp.crypto import PrivateKey, generate
from rsrp.crypto.composite import CompositePublicKey
from rsrp.proof import KeyEntry, StaticKeyring, sign_decision, verify_envelope

STORED = json.loads(gen.OUT.read_text(encoding="utf-8"))
SIGNED = [v for v in STORED["vectors"] if v["mode"] != "batch"]


class CryptoSigner:
    """A minimal ``Signer`` over an rsrp.crypto private key (rsrp.keys provides the real ones)."""

    def __init__(self, key: PrivateKey, key_id: str, jurisdiction: str) -> None:
        self._key, self.key_id, self.jurisdiction = key, key_id, jurisdiction
        self.algorithm = key.algorithm

    def public_key_der(self) -> bytes:
        return self._key.public_key().spki_der()

    def sign(
        self, message: bytes, *, context: bytes = b"", jurisdiction: str | None = None
    ) -> bytes:
        assert jurisdiction in (None, self.jurisdiction)
        return self._key.sign(message, context)


@pytest.mark.parametrize("v", SIGNED, ids=[v["id"] for v in SIGNED])
def test_vectors_verify_with_rsrp_crypto(v: dict[str, str]) -> None:
    public = CompositePublicKey.from_bytes(bytes.fromhex(STORED["key"]["composite_public_key_hex"]))
    pem = b"-----BEGIN PUBLIC KEY-----\n" + _b64(public.spki_der()) + b"-----END PUBLIC KEY-----\n"
    keyring = StaticKeyring.from_pem(pem, gen.KEY_ID)
    verified = verify_envelope(bytes.fromhex(v["envelope_hex"]), keyring)
    assert verified.algorithm == "mldsa65-ecdsa-p384-sha512"


def test_rsrp_crypto_signature_verifies_with_oracle() -> None:
    key = generate("mldsa65-ecdsa-p384-sha512")
    signer = CryptoSigner(key, "fr-live", "FR")
    decision = gen.CASES[0][3]
    env = sign_decision(decision, signer, request_id="r-1", state_hash=b"\x05" * 32)
    raw = key.public_key().raw_bytes()
    keyring = StaticKeyring([KeyEntry(OracleVerifier(raw, "fr-live"))])
    assert verify_envelope(env.to_bytes(), keyring).key_id == "fr-live"


def _b64(der: bytes) -> bytes:
    import base64
    import textwrap

    return "\n".join(textwrap.wrap(base64.b64encode(der).decode(), 64)).encode() + b"\n"
