"""draft-ietf-lamps-pq-composite-sigs-19 vectors through the public surfaces a client uses.

The draft's own src/testvectors.json (tests/vectors/lamps-composite-sigs-draft19.json): the
x5c certificate of id-MLDSA65-ECDSA-P384-SHA512 verifies the draft's signatures through
``rsrp keys verify --public-key CERT`` (PEM and DER) and through ``rsrp.crypto``; its SPKI
carries the draft's OID and round-trips byte for byte.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from typer.testing import CliRunner

from rsrp.cli.main import app
from rsrp.crypto import load_public_key

_VEC = json.loads(
    (Path(__file__).parents[1] / "vectors/lamps-composite-sigs-draft19.json").read_text()
)
TC = next(t for t in _VEC["tests"] if t["tcId"] == "id-MLDSA65-ECDSA-P384-SHA512")
M = base64.b64decode(_VEC["m"])
CTX = base64.b64decode(_VEC["ctx"])
CERT_DER = base64.b64decode(TC["x5c"])
#: draft-ietf-lamps-pq-composite-sigs-19 §Algorithm Identifiers: id-MLDSA65-ECDSA-P384-SHA512.
OID = "1.3.6.1.5.5.7.6.46"

runner = CliRunner()


def _der_oid(dotted: str) -> bytes:
    arcs = [int(a) for a in dotted.split(".")]
    body = bytearray([40 * arcs[0] + arcs[1]])
    for arc in arcs[2:]:
        chunk = [arc & 0x7F]
        while arc := arc >> 7:
            chunk.append(0x80 | (arc & 0x7F))
        body += bytes(reversed(chunk))
    return bytes([0x06, len(body)]) + bytes(body)


def test_certificate_carries_the_draft_oid() -> None:
    cert = x509.load_der_x509_certificate(CERT_DER)
    assert cert.signature_algorithm_oid.dotted_string == OID
    assert cert.public_key_algorithm_oid.dotted_string == OID
    # Our SPKI (AlgorithmIdentifier = SEQUENCE { OID }, parameters absent, draft §Public Key)
    # is exactly the one inside the draft's certificate.
    spki = load_public_key(CERT_DER).spki_der()
    assert spki in CERT_DER
    alg_id = b"\x30" + bytes([len(_der_oid(OID))]) + _der_oid(OID)
    assert spki[4 : 4 + len(alg_id)] == alg_id


def test_spki_round_trips_byte_for_byte() -> None:
    spki = load_public_key(CERT_DER).spki_der()
    again = load_public_key(spki).spki_der()
    assert again == spki
    # The raw composite public key (pk: mldsaPK || ecdsa point) is the SPKI's BIT STRING.
    assert spki.endswith(base64.b64decode(TC["pk"]))
    pem = b"-----BEGIN PUBLIC KEY-----\n" + base64.encodebytes(spki) + b"-----END PUBLIC KEY-----\n"
    assert load_public_key(pem).spki_der() == spki


@pytest.mark.parametrize("form", ["pem", "der"])
@pytest.mark.parametrize("with_ctx", [False, True], ids=["no-ctx", "ctx"])
def test_cli_verifies_draft_signature_with_certificate(
    tmp_path: Path, form: str, with_ctx: bool
) -> None:
    cert = x509.load_der_x509_certificate(CERT_DER)
    (tmp_path / "cert").write_bytes(
        cert.public_bytes(Encoding.PEM if form == "pem" else Encoding.DER)
    )
    (tmp_path / "m").write_bytes(M)
    sig = base64.b64decode(TC["sWithContext" if with_ctx else "s"])
    (tmp_path / "sig").write_bytes(sig)
    args = ["keys", "verify", "--public-key", str(tmp_path / "cert")]
    args += ["--signature", str(tmp_path / "sig")]
    args += ["--context", CTX.decode()] if with_ctx else []
    res = runner.invoke(app, [*args, str(tmp_path / "m")])
    assert res.exit_code == 0, res.output
    assert "valid" in res.output
    # Wrong context (or none where one was used): the same signature must be refused.
    flipped = ["--context", CTX.decode()] if not with_ctx else []
    bad = runner.invoke(app, [*args[:6], *flipped, str(tmp_path / "m")])
    assert bad.exit_code == 1, bad.output


def test_cli_refuses_tampered_message(tmp_path: Path) -> None:
    (tmp_path / "cert.pem").write_bytes(
        x509.load_der_x509_certificate(CERT_DER).public_bytes(Encoding.PEM)
    )
    (tmp_path / "m").write_bytes(M + b"!")
    (tmp_path / "sig").write_bytes(base64.b64decode(TC["s"]))
    res = runner.invoke(
        app,
        [
            *("keys", "verify", "--public-key", str(tmp_path / "cert.pem")),
            *("--signature", str(tmp_path / "sig"), str(tmp_path / "m")),
        ],
    )
    assert res.exit_code == 1


def test_certificate_self_signature_verifies_through_spki_pem() -> None:
    # x5c is self-signed over its TBSCertificate with an empty context.
    cert = x509.load_der_x509_certificate(CERT_DER)
    spki = load_public_key(CERT_DER).spki_der()
    pem = b"-----BEGIN PUBLIC KEY-----\n" + base64.encodebytes(spki) + b"-----END PUBLIC KEY-----\n"
    load_public_key(pem).verify(cert.tbs_certificate_bytes, cert.signature, b"")


def test_byok_import_of_the_drafts_pkcs8_exports_the_drafts_spki(tmp_path: Path) -> None:
    # BYOK: the draft's composite private key (sk_pkcs8) imported with `rsrp keys import`;
    # the exported SubjectPublicKeyInfo is byte for byte the one in the draft's certificate,
    # and verifies the draft's signature through `rsrp keys verify`.
    env = {"RSRP_KEYSTORE_PASSPHRASE": "interop test passphrase"}
    store = f"file:{tmp_path / 'store'}?jurisdiction=FR"
    (tmp_path / "sk.der").write_bytes(base64.b64decode(TC["sk_pkcs8"]))
    imp = runner.invoke(
        app,
        [
            *("keys", "import", "--store", store, "--purpose", "decision-signing"),
            *("--key-id", "draft-composite", str(tmp_path / "sk.der")),
        ],
        env=env,
    )
    assert imp.exit_code == 0, imp.output
    exp = runner.invoke(
        app,
        ["keys", "export", "--store", store, "draft-composite", "--out", str(tmp_path / "pub.pem")],
        env=env,
    )
    assert exp.exit_code == 0, exp.output
    pem = (tmp_path / "pub.pem").read_bytes()
    assert load_public_key(pem).spki_der() == load_public_key(CERT_DER).spki_der()
    (tmp_path / "m").write_bytes(M)
    (tmp_path / "sig").write_bytes(base64.b64decode(TC["s"]))
    ok = runner.invoke(
        app,
        [
            *("keys", "verify", "--public-key", str(tmp_path / "pub.pem")),
            *("--signature", str(tmp_path / "sig"), str(tmp_path / "m")),
        ],
    )
    assert ok.exit_code == 0, ok.output
