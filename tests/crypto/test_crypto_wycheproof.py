"""Wycheproof vectors (C2SP/wycheproof testvectors_v1, commit dac1dd4) through rsrp.crypto.

Every verifying test goes through our own entry points (load_public_key and
PublicKey.verify), so strict DER, length checks and context limits are ours to
pass; "acceptable" results may go either way.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import mldsa, mlkem, x25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from rsrp.crypto import CryptoError, InvalidSignature, load_public_key

VDIR = Path(__file__).parents[1] / "vectors"


def _cases(name: str) -> list[Any]:
    data = json.loads((VDIR / f"wycheproof-{name}.json").read_text())
    return [
        pytest.param(group, test, id=f"tc{test['tcId']}-{test['result']}")
        for group in data["testGroups"]
        for test in group["tests"]
    ]


def _check_verify(public_der: bytes, test: dict[str, Any], component: str) -> None:
    msg, sig = bytes.fromhex(test["msg"]), bytes.fromhex(test["sig"])
    ctx = bytes.fromhex(test.get("ctx", ""))
    if test["result"] == "valid":
        load_public_key(public_der).verify(msg, sig, context=ctx)
    elif test["result"] == "invalid":
        with pytest.raises(CryptoError) as e:
            load_public_key(public_der).verify(msg, sig, context=ctx)
        if isinstance(e.value, InvalidSignature):
            assert e.value.component == component
    else:  # "acceptable": legacy encodings; either outcome, but only our errors
        with contextlib.suppress(CryptoError):
            load_public_key(public_der).verify(msg, sig, context=ctx)


@pytest.mark.parametrize(("group", "test"), _cases("ecdsa_secp384r1_sha384_test"))
def test_ecdsa_p384_sha384(group: dict[str, Any], test: dict[str, Any]) -> None:
    _check_verify(bytes.fromhex(group["publicKeyDer"]), test, "ecdsa")


@pytest.mark.parametrize(("group", "test"), _cases("ed25519_test"))
def test_ed25519(group: dict[str, Any], test: dict[str, Any]) -> None:
    _check_verify(bytes.fromhex(group["publicKeyDer"]), test, "ed25519")


@pytest.mark.parametrize("level", [44, 65, 87])
def test_mldsa_verify(level: int) -> None:
    """One test per file (about 200 cases each) to keep collection light."""
    data = json.loads((VDIR / f"wycheproof-mldsa_{level}_verify_test.json").read_text())
    n = 0
    for group in data["testGroups"]:
        der = bytes.fromhex(group["publicKeyDer"])
        for test in group["tests"]:
            if test["result"] == "valid":
                _check_verify(der, test, "ml-dsa")
            else:
                with pytest.raises(CryptoError):
                    _check_verify(der, {**test, "result": "valid"}, "ml-dsa")
            n += 1
    assert n == data["numberOfTests"]


@pytest.mark.parametrize("level", [44, 65, 87])
def test_mldsa_keygen_from_seed_and_known_signature(level: int) -> None:
    data = json.loads((VDIR / f"wycheproof-mldsa_{level}_sign_seed_test-keygen.json").read_text())
    cls: dict[int, Any] = {
        44: mldsa.MLDSA44PrivateKey,
        65: mldsa.MLDSA65PrivateKey,
        87: mldsa.MLDSA87PrivateKey,
    }
    for group in data["testGroups"]:
        if not group["tests"]:  # IncorrectPrivateKeyLength groups
            with pytest.raises(ValueError):
                cls[level].from_seed_bytes(bytes.fromhex(group["privateSeed"]))
            continue
        sk = cls[level].from_seed_bytes(bytes.fromhex(group["privateSeed"]))
        assert sk.public_key().public_bytes_raw().hex() == group["publicKey"]
        pk = load_public_key(
            sk.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
        )
        for test in group["tests"]:
            sig = bytes.fromhex(test["sig"])
            if "msg" in test:
                ctx = bytes.fromhex(test.get("ctx", ""))
                pk.verify(bytes.fromhex(test["msg"]), sig, context=ctx)
            else:  # "Internal" ACVP-derived cases give only mu (FIPS 204 Algorithm 8 input)
                sk.public_key().verify_mu(sig, bytes.fromhex(test["mu"]))


def test_mlkem768_keygen_from_seed() -> None:
    """ML-KEM-768 KeyGen_internal(d, z) through the seed form X-Wing relies on."""
    data = json.loads((VDIR / "wycheproof-mlkem_768_keygen_seed_test.json").read_text())
    n = 0
    for group in data["testGroups"]:
        for test in group["tests"]:
            sk = mlkem.MLKEM768PrivateKey.from_seed_bytes(bytes.fromhex(test["seed"]))
            assert sk.public_key().public_bytes_raw().hex() == test["ek"]
            n += 1
    assert n == 100


def test_mlkem768_decapsulation() -> None:
    data = json.loads((VDIR / "wycheproof-mlkem_768_test.json").read_text())
    valid = invalid = 0
    for group in data["testGroups"]:
        for test in group["tests"]:
            seed, ct = bytes.fromhex(test["seed"]), bytes.fromhex(test["c"])
            if test["result"] == "valid":
                sk = mlkem.MLKEM768PrivateKey.from_seed_bytes(seed)
                assert sk.public_key().public_bytes_raw().hex() == test["ek"]
                assert sk.decapsulate(ct).hex() == test["K"]
                valid += 1
            else:
                with pytest.raises(ValueError):
                    mlkem.MLKEM768PrivateKey.from_seed_bytes(seed).decapsulate(ct)
                invalid += 1
    assert (valid, invalid) == (153, 40)


def test_x25519() -> None:
    data = json.loads((VDIR / "wycheproof-x25519_test.json").read_text())
    for group in data["testGroups"]:
        for test in group["tests"]:
            sk = x25519.X25519PrivateKey.from_private_bytes(bytes.fromhex(test["private"]))
            try:
                shared = sk.exchange(
                    x25519.X25519PublicKey.from_public_bytes(bytes.fromhex(test["public"]))
                )
            except ValueError:
                # cryptography refuses an all-zero result (low-order point); X-Wing maps
                # that to MalformedKey/DecryptionError. Only "acceptable" cases may do this.
                assert test["result"] == "acceptable", test["tcId"]
                continue
            assert shared.hex() == test["shared"], test["tcId"]
