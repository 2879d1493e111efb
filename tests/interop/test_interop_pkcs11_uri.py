"""RFC 7512 §3.3 (Examples of PKCS #11 URIs), verbatim, through rsrp.keys' parser.

The RFC's 13 examples: those without PIN attributes or vendor attributes parse with the
values the RFC's percent-encoding gives; the one carrying ``pin-value`` is refused with an
error that names it (rsrp never takes a PIN from a URI).
"""

from __future__ import annotations

import pytest

from rsrp.keys import InvalidKeyURIError
from rsrp.keys._uri import parse_pkcs11_uri

# (RFC 7512 §3.3 example, expected path attributes, expected CKA_ID, module-name, module-path)
PARSING = [
    ("pkcs11:", {}, None, None, None),
    (
        "pkcs11:object=my-pubkey;type=public",
        {"object": "my-pubkey", "type": "public"},
        None,
        None,
        None,
    ),
    (
        "pkcs11:object=my-sign-key;type=private?module-name=mypkcs11",
        {"object": "my-sign-key", "type": "private"},
        None,
        "mypkcs11",
        None,
    ),
    (
        "pkcs11:object=my-sign-key;type=private?module-path=/mnt/libmypkcs11.so.1",
        {"object": "my-sign-key", "type": "private"},
        None,
        None,
        "/mnt/libmypkcs11.so.1",
    ),
    (
        "pkcs11:slot-description=Sun%20Metaslot",
        {"slot-description": "Sun Metaslot"},
        None,
        None,
        None,
    ),
    (
        "pkcs11:library-manufacturer=Snake%20Oil,%20Inc.;"
        "library-description=Soft%20Token%20Library;library-version=1.23",
        {
            "library-manufacturer": "Snake Oil, Inc.",
            "library-description": "Soft Token Library",
            "library-version": "1.23",
        },
        None,
        None,
        None,
    ),
    (
        "pkcs11:token=My%20token%25%20created%20by%20Joe;"
        "library-version=3;id=%01%02%03%Ba%dd%Ca%fe%04%05%06",
        {"token": "My token% created by Joe", "library-version": "3"},
        bytes.fromhex("010203baddcafe040506"),
        None,
        None,
    ),
    (
        "pkcs11:token=A%20name%20with%20a%20substring%20%25%3B;object=my-certificate;type=cert",
        {"token": "A name with a substring %;", "object": "my-certificate", "type": "cert"},
        None,
        None,
        None,
    ),
    (
        "pkcs11:token=Name%20with%20a%20small%20A%20with%20acute:%20%C3%A1;"
        "object=my-certificate;type=cert",
        {"token": "Name with a small A with acute: á", "object": "my-certificate", "type": "cert"},
        None,
        None,
        None,
    ),
]


@pytest.mark.parametrize(
    ("uri", "path", "ident", "module_name", "module_path"), PARSING, ids=lambda x: None
)
def test_rfc7512_example_parses(
    uri: str,
    path: dict[str, str],
    ident: bytes | None,
    module_name: str | None,
    module_path: str | None,
) -> None:
    parsed = parse_pkcs11_uri(uri)
    assert parsed.path == path
    assert parsed.id == ident
    assert (parsed.module_name, parsed.module_path) == (module_name, module_path)


def test_rfc7512_pin_value_example_is_refused_by_name() -> None:
    uri = (
        "pkcs11:token=Software%20PKCS%2311%20softtoken;"
        "manufacturer=Snake%20Oil,%20Inc.?pin-value=the-pin"
    )
    with pytest.raises(InvalidKeyURIError, match="pin-value") as err:
        parse_pkcs11_uri(uri)
    assert "the-pin" not in str(err.value)  # the refused PIN is not echoed into logs
