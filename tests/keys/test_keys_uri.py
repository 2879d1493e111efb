"""Store URIs: RFC 7512 pkcs11: parsing (strict), file: URIs, secrets refused."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rsrp import crypto
from rsrp.keys import (
    InvalidKeyURIError,
    KeyStoreError,
    NotAvailableError,
    Purpose,
    open_signer,
    open_store,
)
from rsrp.keys._uri import parse_file_uri, parse_pkcs11_uri


@pytest.mark.parametrize(
    ("uri", "path", "ident"),
    [
        # examples from RFC 7512 §3
        ("pkcs11:", {}, None),
        ("pkcs11:object=my-pubkey;type=public", {"object": "my-pubkey", "type": "public"}, None),
        (
            "pkcs11:token=The%20Software%20PKCS%2311%20Softtoken;manufacturer=Snake%20Oil,%20Inc.;"
            "model=1.0;object=my-certificate;type=cert;id=%69%95%3E%5C%F4%BE%2D%D4",
            {
                "token": "The Software PKCS#11 Softtoken",
                "manufacturer": "Snake Oil, Inc.",
                "model": "1.0",
                "object": "my-certificate",
                "type": "cert",
            },
            bytes.fromhex("69953e5cf4be2dd4"),
        ),
        (
            "pkcs11:token=A%20name%20with%20a%20substring%20%25%3B;object=my-certificate;type=cert",
            {"token": "A name with a substring %;", "object": "my-certificate", "type": "cert"},
            None,
        ),
        (
            "pkcs11:token=Name%20with%20a%20small%20A%20with%20acute:%20%C3%A1;object=my-certificate;"
            "type=cert",
            {
                "token": "Name with a small A with acute: á",
                "object": "my-certificate",
                "type": "cert",
            },
            None,
        ),
        ("pkcs11:slot-description=Sun%20Metaslot", {"slot-description": "Sun Metaslot"}, None),
    ],
)
def test_rfc7512_examples(uri: str, path: dict[str, str], ident: bytes | None) -> None:
    parsed = parse_pkcs11_uri(uri)
    assert parsed.path == path
    assert parsed.id == ident


def test_query_attributes() -> None:
    p = parse_pkcs11_uri(
        "pkcs11:token=t?module-path=/usr/lib/softhsm/libsofthsm2.so&x-journal=/var/j.jsonl"
        "&x-jurisdiction=SN"
    )
    assert p.module_path == "/usr/lib/softhsm/libsofthsm2.so"
    assert (p.journal, p.jurisdiction) == ("/var/j.jsonl", "SN")


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("pkcs11:token=t?pin-value=1234", "PIN must never be in a URI"),
        ("pkcs11:token=t?module-path=/m.so&pin-value=1", "pin-value"),
        ("pkcs11:token=t?pin-source=file:/pin", "pin-source is not supported"),
        ("pkcs11:token=a;token=b", "appears twice"),
        ("pkcs11:Token=a", "unknown path attribute"),
        ("pkcs11:token=a;x-vendor=1", "unknown path attribute"),
        ("pkcs11:token=a?x-other=1", "unknown query attribute"),
        ("pkcs11:token", "not name=value"),
        ("pkcs11:token=a b", "forbids"),
        ("pkcs11:token=a/b", "forbids"),
        ("pkcs11:token=a?module-path=relative.so", "absolute"),
        ("pkcs11:type=key", "type must be"),
        ("pkcs11:slot-id=0x1", "decimal"),
        ("pkcs11:token=%FF", "UTF-8"),
        ("pkcs11:token=a#frag", "fragment"),
        ("pkcs11:token=a?x-jurisdiction=XX", "jurisdiction"),
        ("pkcs11:" + "a" * 5000, "longer than"),
        ("file:relative/dir", "absolute"),
        ("file://evil.example/dir", "not local"),
        ("file:/dir?passphrase=hunter2", "secrets never go in a URI"),
        ("file:/dir?pin=1", "secrets never go in a URI"),
        ("file:/dir?jurisdiction=FR&jurisdiction=DE", "repeated"),
        ("file:/dir?color=red", "unknown"),
        ("file:/dir?jurisdiction=France", "jurisdiction"),
    ],
)
def test_refused(uri: str, reason: str) -> None:
    parse = parse_file_uri if uri.startswith("file:") else parse_pkcs11_uri
    with pytest.raises(KeyStoreError, match=reason):
        parse(uri)


@pytest.mark.parametrize(
    ("uri", "directory"),
    [
        ("file:/srv/keys", "/srv/keys"),
        ("file:///srv/keys", "/srv/keys"),
        ("file://localhost/srv/keys", "/srv/keys"),
        ("file:/srv/my%20keys?jurisdiction=eu-west", "/srv/my keys"),
    ],
)
def test_file_uris(uri: str, directory: str) -> None:
    assert parse_file_uri(uri).directory == directory


@given(st.text(max_size=200))
def test_hostile_pkcs11_uris_only_raise_invalid_uri(text: str) -> None:
    try:
        parse_pkcs11_uri("pkcs11:" + text)
    except InvalidKeyURIError:
        pass
    except KeyStoreError as e:  # an invalid x-jurisdiction value
        assert "jurisdiction" in str(e)


@given(st.text(max_size=200))
def test_hostile_file_uris_only_raise_keystore_errors(text: str) -> None:
    with contextlib.suppress(KeyStoreError):
        parse_file_uri("file:" + text)


def test_module_absent_is_not_available_never_a_fallback() -> None:
    with pytest.raises(NotAvailableError, match="not available"):
        open_store("pkcs11:token=t?module-path=/opt/nonexistent/libvendor.so", pin=lambda: "x")


def test_vendor_module_names_without_the_module_installed_are_not_available() -> None:
    # This machine has no AWS CloudHSM / Luna client: the store must say so, not fall back.
    with pytest.raises(NotAvailableError, match="cloudhsm_pkcs11"):
        open_store("pkcs11:token=t?module-name=cloudhsm", pin=lambda: "x")
    with pytest.raises(NotAvailableError, match="not known"):
        open_store("pkcs11:token=t?module-name=acme-hsm", pin=lambda: "x")


@pytest.mark.parametrize("scheme", ["awskms", "azurekv", "gcpkms"])
def test_fake_cloud_kms_schemes_absent_are_not_available(scheme: str) -> None:
    with pytest.raises(NotAvailableError, match="not available in this build"):
        open_store(f"{scheme}:key/123")


def test_unknown_scheme() -> None:
    with pytest.raises(InvalidKeyURIError, match="unknown key store URI scheme"):
        open_store("vault:secret/keys")


def test_open_signer_from_a_file_uri(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RSRP_KEYSTORE_PASSPHRASE", "correct horse battery staple")
    store = open_store(f"file:{tmp_path}/ks?jurisdiction=FR")
    store.generate("ed25519", Purpose.WITNESS, key_id="w-1")
    signer = open_signer(f"file:{tmp_path}/ks?key-id=w-1")
    assert (signer.key_id, signer.jurisdiction) == ("w-1", "FR")
    crypto.load_public_key(signer.public_key_der()).verify(b"m", signer.sign(b"m"))
    with pytest.raises(InvalidKeyURIError, match="needs key-id"):
        open_signer(f"file:{tmp_path}/ks")
    with pytest.raises(KeyStoreError, match="invalid key id"):
        open_signer(f"file:{tmp_path}/ks?key-id=../x")
