"""Low-level PKCS#11 operations over python-pkcs11 (one token, one logged-in session).

Only what the key store needs: open a token by label, generate ECDSA P-384 and
Ed25519 key pairs *inside* the token (sensitive, non-extractable, CKA_LOCAL),
sign, read public keys as SubjectPublicKeyInfo, hold a per-key AES-256 key
encryption key (generated in the token, never extractable) and use it with
CKM_AES_KEY_WRAP_PAD (RFC 5649) to wrap and unwrap secret bytes.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pkcs11
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from pkcs11 import DEFAULT, Attribute, KeyType, Mechanism, ObjectClass
from pkcs11.attributes import ALL_CAPABILITIES
from pkcs11.util.ec import encode_ecdsa_signature, encode_named_curve_parameters

from rsrp.keys._errors import (
    KeyStoreError,
    MalformedKeyMaterialError,
    NotAvailableError,
    WrongPinError,
)

__all__ = ["Token", "open_token"]

P384_PARAMS = encode_named_curve_parameters("1.3.132.0.34")
ED25519_PARAMS = bytes.fromhex("06032b6570")  # OID 1.3.101.112 (RFC 8410)
APPLICATION = "rsrp-keys"
# python-pkcs11 fills in every capability attribute; private keys reject ENCRYPT etc.
_NO_CAPS: dict[Any, Any] = dict.fromkeys(ALL_CAPABILITIES, DEFAULT)
_SECRET = {Attribute.SENSITIVE: True, Attribute.EXTRACTABLE: False, Attribute.PRIVATE: True}


def open_token(module: str, label: str, pin: str) -> Token:
    """Load ``module``, find the token labelled ``label`` and log in with ``pin``."""
    if not Path(module).is_file():
        raise NotAvailableError(f"PKCS#11 module {module} is not available on this machine")
    try:
        lib = pkcs11.lib(module)
        token = lib.get_token(token_label=label)
    except pkcs11.NoSuchToken as e:
        raise KeyStoreError(f"no PKCS#11 token labelled {label!r} in {module}") from e
    except pkcs11.MultipleTokensReturned as e:
        raise KeyStoreError(f"several PKCS#11 tokens are labelled {label!r}") from e
    except pkcs11.PKCS11Error as e:
        raise NotAvailableError(f"PKCS#11 module {module} could not be loaded: {e!r}") from e
    try:
        session = token.open(user_pin=pin, rw=True)
    except pkcs11.UserAlreadyLoggedIn:
        # PKCS#11 login state belongs to the application, not the session (v2.40 §5.6):
        # another store in this process already logged in, so this session is too.
        session = token.open(rw=True)
    except (pkcs11.PinIncorrect, pkcs11.PinLenRange, pkcs11.PinInvalid) as e:
        raise WrongPinError(f"token {label!r} refused the PIN") from e
    except pkcs11.PinLocked as e:
        raise WrongPinError(f"token {label!r}: the user PIN is locked") from e
    return Token(token, session)


class Token:
    """A logged-in read-write session; every object it creates is a token object."""

    def __init__(self, token: Any, session: Any) -> None:
        self.token = token
        self.session = session
        self._private: dict[str, Any] = {}

    def private_key(self, label: str) -> Any:
        """The private key object labelled ``label`` (handle cached; see :meth:`sign`)."""
        if label not in self._private:
            self._private[label] = self.one(ObjectClass.PRIVATE_KEY, label)
        return self._private[label]

    def close(self) -> None:
        self.session.close()

    # ---- lookup ---------------------------------------------------------------------
    def objects(self, cls: ObjectClass, label: str) -> list[Any]:
        return list(self.session.get_objects({Attribute.CLASS: cls, Attribute.LABEL: label}))

    def one(self, cls: ObjectClass, label: str) -> Any:
        found = self.objects(cls, label)
        if len(found) != 1:
            raise KeyStoreError(f"token holds {len(found)} {cls.name} objects labelled {label!r}")
        return found[0]

    def data_objects(self) -> list[Any]:
        return list(
            self.session.get_objects(
                {Attribute.CLASS: ObjectClass.DATA, Attribute.APPLICATION: APPLICATION}
            )
        )

    # ---- data objects (metadata) ----------------------------------------------------
    def put_data(self, label: str, value: bytes) -> Any:
        return self.session.create_object(
            {
                Attribute.CLASS: ObjectClass.DATA,
                Attribute.TOKEN: True,
                Attribute.PRIVATE: True,
                Attribute.APPLICATION: APPLICATION,
                Attribute.LABEL: label,
                Attribute.VALUE: value,
            }
        )

    # ---- key pairs ------------------------------------------------------------------
    def generate_pair(self, algorithm: str, label: str) -> None:
        """Generate a key pair inside the token (CKA_LOCAL true, never extractable)."""
        if algorithm == "ed25519":
            key_type, mech, params = (
                KeyType.EC_EDWARDS,
                Mechanism.EC_EDWARDS_KEY_PAIR_GEN,
                ED25519_PARAMS,
            )
        elif algorithm == "ecdsa-p384-sha384":
            key_type, mech, params = KeyType.EC, Mechanism.EC_KEY_PAIR_GEN, P384_PARAMS
        else:
            raise NotAvailableError(f"{algorithm} key pairs cannot be generated in this token")
        self.session.generate_keypair(
            key_type,
            mechanism=mech,
            store=True,
            label=label,
            id=label.encode(),
            public_template={Attribute.EC_PARAMS: params, Attribute.PRIVATE: False},
            private_template=dict(_SECRET),
        )

    def import_private(self, algorithm: str, label: str, key: object) -> None:
        """Create a private key object from plaintext key material (BYOK)."""
        if algorithm == "ed25519" and isinstance(key, ed25519.Ed25519PrivateKey):
            key_type, params, value = KeyType.EC_EDWARDS, ED25519_PARAMS, key.private_bytes_raw()
            point = key.public_key().public_bytes_raw()
        elif algorithm == "ecdsa-p384-sha384" and isinstance(key, ec.EllipticCurvePrivateKey):
            key_type, params = KeyType.EC, P384_PARAMS
            value = key.private_numbers().private_value.to_bytes(48, "big")
            point = key.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        else:
            raise NotAvailableError(f"{algorithm} keys cannot be imported into this token")
        common: dict[Any, Any] = {
            Attribute.TOKEN: True,
            Attribute.LABEL: label,
            Attribute.ID: label.encode(),
        }
        common |= {Attribute.KEY_TYPE: key_type, Attribute.EC_PARAMS: params}
        self.session.create_object(
            {
                **common,
                Attribute.CLASS: ObjectClass.PRIVATE_KEY,
                Attribute.SIGN: True,
                Attribute.VALUE: value,
                **_SECRET,
            }
        )
        self.session.create_object(
            {
                **common,
                Attribute.CLASS: ObjectClass.PUBLIC_KEY,
                Attribute.VERIFY: True,
                Attribute.EC_POINT: _der_octet_string(point),
            }
        )

    def unwrap_private(self, import_label: str, label: str, algorithm: str, wrapped: bytes) -> None:
        """C_UnwrapKey (CKM_AES_KEY_WRAP_PAD) of a PKCS#8 EC key straight into the token."""
        if algorithm != "ecdsa-p384-sha384":
            raise NotAvailableError(f"{algorithm} keys cannot be unwrapped inside this token")
        kek = self.one(ObjectClass.SECRET_KEY, import_label)
        try:
            priv = kek.unwrap_key(
                ObjectClass.PRIVATE_KEY,
                KeyType.EC,
                wrapped,
                mechanism=Mechanism.AES_KEY_WRAP_PAD,
                label=label,
                id=label.encode(),
                store=True,
                template={**_NO_CAPS, Attribute.SIGN: True, **_SECRET},
            )
        except pkcs11.PKCS11Error as e:
            raise MalformedKeyMaterialError(f"the token could not unwrap the key: {e!r}") from e
        if priv[Attribute.EC_PARAMS] != P384_PARAMS:
            priv.destroy()
            raise MalformedKeyMaterialError("unwrapped key is not on P-384")

    def public_key_der(self, label: str, algorithm: str) -> bytes:
        """SubjectPublicKeyInfo DER of the token public key labelled ``label``."""
        pub = self.one(ObjectClass.PUBLIC_KEY, label)
        point = _der_octet_string_value(pub[Attribute.EC_POINT])
        if algorithm == "ed25519":
            key: Any = ed25519.Ed25519PublicKey.from_public_bytes(point)
        else:
            key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP384R1(), point)
        der: bytes = key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return der

    def sign(self, label: str, algorithm: str, message: bytes) -> bytes:
        """Ed25519 (CKM_EDDSA) or ECDSA P-384/SHA-384 as DER (RFC 3279).

        SoftHSM has no CKM_ECDSA_SHA384: the SHA-384 digest is computed here and
        CKM_ECDSA signs it; the raw r||s the token returns is re-encoded as DER.
        """
        if algorithm == "ed25519":
            mech, data = Mechanism.EDDSA, message
        else:
            mech, data = Mechanism.ECDSA, hashlib.sha384(message).digest()
        try:
            raw: bytes = self.private_key(label).sign(data, mechanism=mech)
        except (pkcs11.ObjectHandleInvalid, pkcs11.KeyHandleInvalid):
            # Destroyed or replaced meanwhile (e.g. by another process): look it up again,
            # so a destroyed key fails with "no object", never signs with a stale handle.
            self._private.pop(label, None)
            raw = self.private_key(label).sign(data, mechanism=mech)
        if algorithm == "ed25519":
            return raw
        der: bytes = encode_ecdsa_signature(raw)
        return der

    # ---- key encryption keys --------------------------------------------------------
    def generate_kek(self, label: str) -> None:
        """AES-256, generated in the token, wrap/unwrap only, never extractable."""
        self.session.generate_key(
            KeyType.AES,
            256,
            label=label,
            store=True,
            template={**_NO_CAPS, Attribute.WRAP: True, Attribute.UNWRAP: True, **_SECRET},
        )

    def import_kek(self, label: str, value: bytes) -> None:
        """An AES-256 unwrap-only key with a value chosen outside (a BYOK import key)."""
        self.session.create_object(
            {
                Attribute.CLASS: ObjectClass.SECRET_KEY,
                Attribute.KEY_TYPE: KeyType.AES,
                Attribute.TOKEN: True,
                Attribute.LABEL: label,
                Attribute.VALUE: value,
                Attribute.UNWRAP: True,
                **_SECRET,
            }
        )

    def wrap_secret(self, kek_label: str, secret: bytes) -> bytes:
        """RFC 5649 wrap ``secret`` under the token KEK (via a transient session object)."""
        kek = self.one(ObjectClass.SECRET_KEY, kek_label)
        tmp = self.session.create_object(
            {
                Attribute.CLASS: ObjectClass.SECRET_KEY,
                Attribute.KEY_TYPE: KeyType.GENERIC_SECRET,
                Attribute.TOKEN: False,
                Attribute.VALUE: secret,
                Attribute.EXTRACTABLE: True,
                Attribute.SENSITIVE: False,
            }
        )
        try:
            wrapped: bytes = kek.wrap_key(tmp, mechanism=Mechanism.AES_KEY_WRAP_PAD)
        finally:
            tmp.destroy()
        return wrapped

    def unwrap_secret(self, kek_label: str, wrapped: bytes) -> bytes:
        """RFC 5649 unwrap inside the token into a transient session object, read it
        out and destroy the object at once. The secret exists only in this process's
        memory from here on; the caller drops it after use."""
        kek = self.one(ObjectClass.SECRET_KEY, kek_label)
        try:
            tmp = kek.unwrap_key(
                ObjectClass.SECRET_KEY,
                KeyType.GENERIC_SECRET,
                wrapped,
                mechanism=Mechanism.AES_KEY_WRAP_PAD,
                store=False,
                template={**_NO_CAPS, Attribute.SENSITIVE: False, Attribute.EXTRACTABLE: True},
            )
        except pkcs11.PKCS11Error as e:
            raise KeyStoreError(f"wrapped key does not unwrap under {kek_label}: {e!r}") from e
        try:
            value: bytes = tmp[Attribute.VALUE]
        finally:
            tmp.destroy()
        return value

    def destroy(self, cls: ObjectClass, label: str) -> None:
        self._private.pop(label, None)
        for obj in self.objects(cls, label):
            obj.destroy()


def _der_octet_string(value: bytes) -> bytes:
    if len(value) >= 128:
        raise KeyStoreError("EC point too long")
    return bytes([0x04, len(value)]) + value


def _der_octet_string_value(der: bytes) -> bytes:
    # CKA_EC_POINT is DER OCTET STRING (PKCS#11 v2.40 §2.3.3); short form suffices for
    # P-384 (97 bytes) and Ed25519 (32 bytes).
    if len(der) < 2 or der[0] != 0x04 or der[1] != len(der) - 2:
        raise KeyStoreError("token EC_POINT is not a DER OCTET STRING")
    return der[2:]


def random_label_suffix() -> str:
    return os.urandom(4).hex()
