"""Open a key store from its URI (``file:`` or ``pkcs11:``); refuse anything else clearly."""

from __future__ import annotations

from collections.abc import Callable

from rsrp.keys._errors import InvalidKeyURIError, NotAvailableError
from rsrp.keys._policy import KeyPolicy
from rsrp.keys._software import FileKeyStore, passphrase_from_env
from rsrp.keys._store import BaseKeyStore, StoreSigner
from rsrp.keys._uri import parse_file_uri, parse_pkcs11_uri

__all__ = ["open_signer", "open_store"]

# Cloud key services with no PKCS#11 module of their own: say so instead of guessing.
_NOT_PKCS11 = {
    "awskms": "AWS KMS has no PKCS#11 module; use AWS CloudHSM through its PKCS#11 module",
    "azurekv": "Azure Key Vault is not reachable through PKCS#11 in this build; use Azure "
    "Managed/Cloud HSM through its vendor PKCS#11 module",
    "gcpkms": "Google Cloud KMS is reached through Google's PKCS#11 module (libkmsp11.so): "
    "use a pkcs11: URI with its module-path",
}


def open_store(
    uri: str,
    *,
    passphrase: Callable[[], bytes] | None = None,
    pin: Callable[[], str] | None = None,
    policy: KeyPolicy | None = None,
    actor: str | None = None,
) -> BaseKeyStore:
    """Open the store named by ``uri``. Secrets come from the callbacks or the
    environment (``RSRP_KEYSTORE_PASSPHRASE``, ``RSRP_PKCS11_PIN``), never the URI.
    In production mode the crypto self-tests run first and any failure refuses."""
    policy = policy or KeyPolicy()
    policy.start()  # production mode: crypto self-tests before any key is touched
    scheme = uri.partition(":")[0]
    if scheme == "file":
        policy.check_store("file")
        parsed = parse_file_uri(uri)
        return FileKeyStore(
            parsed.directory,
            passphrase=passphrase or passphrase_from_env,
            default_jurisdiction=parsed.jurisdiction,
            policy=policy,
            actor=actor,
        )
    if scheme == "pkcs11":
        from rsrp.keys._pkcs11 import Pkcs11KeyStore

        return Pkcs11KeyStore.from_uri(uri, pin=pin, policy=policy, actor=actor)
    if scheme in _NOT_PKCS11:
        raise NotAvailableError(
            f"{scheme}: key stores are not available in this build: {_NOT_PKCS11[scheme]}"
        )
    raise InvalidKeyURIError(f"unknown key store URI scheme {scheme!r}: want file: or pkcs11:")


def open_signer(
    uri: str,
    *,
    passphrase: Callable[[], bytes] | None = None,
    pin: Callable[[], str] | None = None,
    policy: KeyPolicy | None = None,
) -> StoreSigner:
    """A :class:`Signer` for the one key a URI names (STYLE.md point 8):
    ``file:/dir?key-id=K`` or ``pkcs11:token=T;object=K?module-path=...`` (RFC 7512
    ``object`` is the key's label, which is its key id)."""
    scheme = uri.partition(":")[0]
    if scheme == "file":
        key_id = parse_file_uri(uri).key_id
        if key_id is None:
            raise InvalidKeyURIError("a signer URI needs key-id= (file:/dir?key-id=K)")
    elif scheme == "pkcs11":
        key_id = parse_pkcs11_uri(uri).object
        if key_id is None:
            raise InvalidKeyURIError("a signer URI needs object= (pkcs11:token=T;object=K)")
    else:
        key_id = ""
    store = open_store(uri, passphrase=passphrase, pin=pin, policy=policy)
    return store.signer(key_id)
