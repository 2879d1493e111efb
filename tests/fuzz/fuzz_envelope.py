"""atheris fuzz target: envelope decoders and verify_envelope raise only ProofError.

    python tests/fuzz/fuzz_envelope.py tests/fuzz/corpus/envelope -runs=100000

Any other exception (IndexError, struct.error, UnicodeDecodeError, …) is a bug and
atheris reports it with the input that caused it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sys
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from cryptography.hazmat.primitives.asymmetric import ed25519

    from rsrp.crypto import load_public_key
    from rsrp.crypto.composite import CompositePublicKey
    from rsrp.errors import ProofError
    from rsrp.proof import (
        CryptoKeyVerifier,
        Ed25519Verifier,
        KeyEntry,
        StaticKeyring,
        decode_envelope,
        ed25519_from_secret,
        verify_envelope,
    )

_KEY: ed25519.Ed25519PrivateKey = ed25519_from_secret(
    b"rsrp-proof-envelope-v1-ed25519-test-vector", "sha256"
)
_VECTORS = (
    Path(__file__).resolve().parent.parent / "vectors" / "rsrp-proof-envelope-v2-vectors.json"
)
_COMPOSITE = CompositePublicKey.from_bytes(
    bytes.fromhex(json.loads(_VECTORS.read_text())["key"]["composite_public_key_hex"])
)
#: The V1 fixture key and the V2 vector key, so mutated inputs reach signature checks.
KEYRING = StaticKeyring(
    [
        KeyEntry(Ed25519Verifier(_KEY.public_key(), "fixture-ed25519-key")),
        KeyEntry(
            CryptoKeyVerifier(load_public_key(_COMPOSITE.spki_der()), "fr-proof-2026-01"),
            not_before=dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
        ),
    ]
)


def test_one_input(data: bytes) -> None:
    with contextlib.suppress(ProofError):
        decode_envelope(data)
    with contextlib.suppress(ProofError):
        verify_envelope(data, KEYRING)


def main(argv: list[str]) -> None:
    atheris.Setup(argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
