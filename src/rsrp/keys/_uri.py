"""Store URIs: ``file:`` for the software store, ``pkcs11:`` (RFC 7512) for tokens.

``file:/abs/path[?jurisdiction=FR][&key-id=K]`` (also ``file:///abs/path`` and
``file://localhost/abs/path``, RFC 8089): the store directory, optionally the
jurisdiction new keys get by default, and (for :func:`open_signer`) one key. The
passphrase never comes from the URI.

``pkcs11:token=L[;object=K][;id=%01%02][;type=private]...?module-path=/lib.so``
per RFC 7512 §2.3: path attributes separated by ``;``, query attributes by
``&``, values percent-decoded, each attribute at most once, names case-sensitive.
``pin-value`` is refused (a PIN in a URI ends up in logs and shell history), as is
``pin-source``; the PIN comes from a callback or ``RSRP_PKCS11_PIN``. Vendor
attributes (``x-``) are rejected except ``x-journal`` (the key-event journal path)
and ``x-jurisdiction`` (the default jurisdiction of new keys).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote_to_bytes

from rsrp.keys._errors import InvalidKeyURIError
from rsrp.keys._model import check_jurisdiction, check_key_id

__all__ = ["FileURI", "Pkcs11URI", "parse_file_uri", "parse_pkcs11_uri"]

MAX_URI = 4096

# RFC 7512 §2.3: pk11-path-res-avail / pk11-query-res-avail (plus unreserved and pct-encoded).
_UNRESERVED = r"A-Za-z0-9\-._~"
_PATH_VALUE = re.compile(rf"^(?:[{_UNRESERVED}:\[\]@!$'()*+,=&]|%[0-9A-Fa-f]{{2}})*\Z")
_QUERY_VALUE = re.compile(rf"^(?:[{_UNRESERVED}:\[\]@!$'()*+,=/?|]|%[0-9A-Fa-f]{{2}})*\Z")

_PATH_ATTRS = frozenset(
    {
        "token",
        "manufacturer",
        "serial",
        "model",
        "library-manufacturer",
        "library-description",
        "library-version",
        "object",
        "type",
        "id",
        "slot-description",
        "slot-manufacturer",
        "slot-id",
    }
)
_QUERY_ATTRS = frozenset(
    {"module-name", "module-path", "pin-source", "pin-value", "x-journal", "x-jurisdiction"}
)
_TYPES = frozenset({"public", "private", "cert", "secret-key", "data"})


@dataclass(frozen=True, slots=True)
class Pkcs11URI:
    """A parsed RFC 7512 URI; text values are UTF-8 decoded, ``id`` stays bytes."""

    path: dict[str, str] = field(default_factory=dict)
    id: bytes | None = None
    module_path: str | None = None
    module_name: str | None = None
    journal: str | None = None
    jurisdiction: str | None = None

    @property
    def token(self) -> str | None:
        return self.path.get("token")

    @property
    def object(self) -> str | None:
        return self.path.get("object")


def _split_attrs(text: str, sep: str, allowed: frozenset[str], where: str) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    if not text:
        return out
    value_re = _PATH_VALUE if where == "path" else _QUERY_VALUE
    for part in text.split(sep):
        name, eq, value = part.partition("=")
        if not eq or not name:
            raise InvalidKeyURIError(f"pkcs11 URI {where} attribute {part!r} is not name=value")
        if name not in allowed:
            raise InvalidKeyURIError(
                f"pkcs11 URI: unknown {where} attribute {name!r} (RFC 7512 §2.3)"
            )
        if name in out:
            raise InvalidKeyURIError(f"pkcs11 URI: attribute {name!r} appears twice")
        if not value_re.match(value):
            raise InvalidKeyURIError(
                f"pkcs11 URI: attribute {name!r} has characters RFC 7512 forbids"
            )
        out[name] = unquote_to_bytes(value)
    return out


def _utf8(name: str, v: bytes) -> str:
    try:
        return v.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InvalidKeyURIError(f"pkcs11 URI: attribute {name!r} is not UTF-8") from e


def parse_pkcs11_uri(uri: str) -> Pkcs11URI:
    """Parse ``uri`` strictly per RFC 7512; raise :class:`InvalidKeyURIError` with the reason."""
    if len(uri) > MAX_URI:
        raise InvalidKeyURIError(f"pkcs11 URI longer than {MAX_URI} characters")
    if not uri.startswith("pkcs11:"):
        raise InvalidKeyURIError("not a pkcs11: URI")
    rest = uri[len("pkcs11:") :]
    path_text, _, query_text = rest.partition("?")
    if "#" in rest:
        raise InvalidKeyURIError("pkcs11 URI: fragments are not allowed")
    path = _split_attrs(path_text, ";", _PATH_ATTRS, "path")
    query = _split_attrs(query_text, "&", _QUERY_ATTRS, "query")
    if "pin-value" in query:
        raise InvalidKeyURIError(
            "pkcs11 URI carries pin-value: refused, a PIN must never be in a URI; "
            "give it through the PIN callback or RSRP_PKCS11_PIN"
        )
    if "pin-source" in query:
        raise InvalidKeyURIError(
            "pkcs11 URI pin-source is not supported: give the PIN through the PIN "
            "callback or RSRP_PKCS11_PIN"
        )
    texts = {k: _utf8(k, v) for k, v in path.items() if k != "id"}
    if "type" in texts and texts["type"] not in _TYPES:
        raise InvalidKeyURIError(f"pkcs11 URI: type must be one of {sorted(_TYPES)}")
    if "slot-id" in texts and not re.match(r"^[0-9]{1,20}\Z", texts["slot-id"]):
        raise InvalidKeyURIError("pkcs11 URI: slot-id must be a decimal number")
    module_path = _utf8("module-path", query["module-path"]) if "module-path" in query else None
    if module_path is not None and not module_path.startswith("/"):
        raise InvalidKeyURIError("pkcs11 URI: module-path must be an absolute path")
    return Pkcs11URI(
        path=texts,
        id=path.get("id"),
        module_path=module_path,
        module_name=_utf8("module-name", query["module-name"]) if "module-name" in query else None,
        journal=_utf8("x-journal", query["x-journal"]) if "x-journal" in query else None,
        jurisdiction=(
            check_jurisdiction(_utf8("x-jurisdiction", query["x-jurisdiction"]))
            if "x-jurisdiction" in query
            else None
        ),
    )


@dataclass(frozen=True, slots=True)
class FileURI:
    directory: str
    jurisdiction: str | None = None
    key_id: str | None = None


_FILE_QUERY = frozenset({"jurisdiction", "key-id"})
_SECRET_WORDS = ("pass", "pin", "secret", "pwd", "token")


def parse_file_uri(uri: str) -> FileURI:
    """Parse ``file:/abs/path[?jurisdiction=XX]`` (RFC 8089 forms; absolute paths only)."""
    if len(uri) > MAX_URI:
        raise InvalidKeyURIError(f"file URI longer than {MAX_URI} characters")
    if not uri.startswith("file:"):
        raise InvalidKeyURIError("not a file: URI")
    rest, _, query = uri[len("file:") :].partition("?")
    if "#" in uri:
        raise InvalidKeyURIError("file URI: fragments are not allowed")
    if rest.startswith("//"):
        host, slash, p = rest[2:].partition("/")
        if host not in ("", "localhost") or not slash:
            raise InvalidKeyURIError(f"file URI: host {host!r} is not local")
        rest = "/" + p
    if not rest.startswith("/"):
        raise InvalidKeyURIError("file URI: the store path must be absolute (file:/path)")
    try:
        directory = unquote_to_bytes(rest).decode("utf-8")
    except UnicodeDecodeError as e:
        raise InvalidKeyURIError("file URI: path is not UTF-8") from e
    if "\x00" in directory:
        raise InvalidKeyURIError("file URI: NUL in path")
    params: dict[str, str] = {}
    for part in query.split("&") if query else []:
        name, eq, value = part.partition("=")
        if any(w in name.lower() for w in _SECRET_WORDS):
            raise InvalidKeyURIError(
                f"file URI carries {name!r}: refused, secrets never go in a URI; use the "
                "passphrase callback or RSRP_KEYSTORE_PASSPHRASE"
            )
        if not eq or name not in _FILE_QUERY or name in params:
            raise InvalidKeyURIError(
                f"file URI: unknown, empty or repeated query attribute {name!r}"
            )
        params[name] = value
    jur = params.get("jurisdiction")
    kid = params.get("key-id")
    return FileURI(
        directory,
        None if jur is None else check_jurisdiction(jur),
        None if kid is None else check_key_id(unquote_to_bytes(kid).decode("utf-8", "replace")),
    )
