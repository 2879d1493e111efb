"""rsrp.crypto: thin, explicit wrappers over ``cryptography`` (nothing hand-written).

* hashing: :func:`sha256`, :func:`sha384`, :func:`sha512`, :func:`hkdf` (RFC 5869)
* signatures: Ed25519, ECDSA P-384/SHA-384, ML-DSA-44/65/87 (FIPS 204) and the
  composite id-MLDSA65-ECDSA-P384-SHA512 (:mod:`rsrp.crypto.composite`)
* AEAD: :func:`aes256gcm_seal`, :func:`aes256gcm_open` (SP 800-38D)
* KEM: X-Wing (:mod:`rsrp.crypto.xwing`); hybrid encryption (:mod:`rsrp.crypto.hybrid`)
* self-tests: :func:`run_selftests`, :func:`require_selftests` (known-answer tests)
* keys: :class:`PublicKey`, :class:`PrivateKey`, :func:`generate`,
  :func:`load_public_key` (PEM/DER SPKI or X.509), :func:`load_private_key` (PKCS#8)

Errors derive from :class:`CryptoError`; verification raises
:class:`InvalidSignature` (with ``.component``), never returns False.

>>> from rsrp.crypto import generate, load_public_key
>>> sk = generate("mldsa65-ecdsa-p384-sha512")
>>> sig = sk.sign(b"decision", context=b"rsrp")
>>> pk = load_public_key(sk.public_key().spki_pem())
>>> pk.algorithm
'mldsa65-ecdsa-p384-sha512'
>>> pk.verify(b"decision", sig, context=b"rsrp")
"""

from rsrp.crypto import composite, hybrid, xwing
from rsrp.crypto._aead import aes256gcm_open, aes256gcm_seal
from rsrp.crypto._asym import (
    ALGORITHMS,
    KEM_ALGORITHMS,
    SIGNATURE_ALGORITHMS,
    PrivateKey,
    PublicKey,
    generate,
    load_private_key,
    load_public_key,
)
from rsrp.crypto._errors import (
    CryptoError,
    DecryptionError,
    InvalidSignature,
    MalformedKey,
    SelfTestFailure,
    UnsupportedAlgorithm,
)
from rsrp.crypto._hashing import hkdf, sha3_256, sha256, sha384, sha512, shake256
from rsrp.crypto._selftest import SelfTestResult, require_selftests, run_selftests

__all__ = [
    "ALGORITHMS",
    "KEM_ALGORITHMS",
    "SIGNATURE_ALGORITHMS",
    "CryptoError",
    "DecryptionError",
    "InvalidSignature",
    "MalformedKey",
    "PrivateKey",
    "PublicKey",
    "SelfTestFailure",
    "SelfTestResult",
    "UnsupportedAlgorithm",
    "aes256gcm_open",
    "aes256gcm_seal",
    "composite",
    "generate",
    "hkdf",
    "hybrid",
    "load_private_key",
    "load_public_key",
    "require_selftests",
    "run_selftests",
    "sha3_256",
    "sha256",
    "sha384",
    "sha512",
    "shake256",
    "xwing",
]
