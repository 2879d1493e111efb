"""``rsrp policy decide --sign``: real software-store key, envelopes verified by ``rsrp proof``."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rsrp.cli.main import app
from rsrp.keys import Purpose, export_public, open_store

runner = CliRunner()
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "bank-registry"


@pytest.fixture
def signing_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str, Path]:
    """A composite key in a fresh FR software store, valid from before the example requests."""
    monkeypatch.setenv("RSRP_KEYSTORE_PASSPHRASE", "policy cli signing passphrase")
    uri = f"file:{tmp_path}/ks?jurisdiction=FR"
    store = open_store(uri)
    info = store.generate(
        "mldsa65-ecdsa-p384-sha512",
        Purpose.DECISION_SIGNING,
        not_before=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        test=True,
    )
    export_public(store, info.key_id, tmp_path / "public")
    return uri, info.key_id, tmp_path / "public"


def _requests_with_ids(tmp_path: Path) -> tuple[Path, int]:
    requests = json.loads((EXAMPLE / "requests.json").read_text("utf-8"))
    for i, r in enumerate(requests):
        r["request_id"] = f"req-{i:03d}"
    path = tmp_path / "requests.json"
    path.write_text(json.dumps(requests), "utf-8")
    return path, len(requests)


def _decide(*extra: str) -> list[str]:
    return ["policy", "decide", str(EXAMPLE / "policy.rsrp"), "--json", "--sign", *extra]


def test_decide_sign_then_verify_each_envelope(
    signing_key: tuple[str, str, Path], tmp_path: Path
) -> None:
    uri, key_id, public = signing_key
    requests, count = _requests_with_ids(tmp_path)
    out = tmp_path / "proofs"
    r = runner.invoke(
        app, _decide("--input", str(requests), "--key", uri, "--key-id", key_id, "--out", str(out))
    )
    assert r.exit_code == 0, r.output
    envelopes = sorted(out.glob("*.rsrp"))
    assert [p.name for p in envelopes] == [f"req-{i:03d}.rsrp" for i in range(count)]
    decided = [json.loads(line)["decision"] for line in r.stdout.splitlines()]
    for path, decision in zip(envelopes, decided, strict=True):
        v = runner.invoke(app, ["proof", "verify", str(path), "--keyring", str(public)])
        assert v.exit_code == 0, v.output
        assert f"valid: {decision} signed by {key_id}" in v.output
    # The input hash binds the request (request_id itself is not decided on): the first
    # envelope verifies against the first original request, the second one does not.
    one = tmp_path / "one.json"
    original = json.loads((EXAMPLE / "requests.json").read_text("utf-8"))[0]
    one.write_text(json.dumps(original), "utf-8")
    args = ["--keyring", str(public), "--policy", str(EXAMPLE / "policy.rsrp"), "--input", str(one)]
    assert runner.invoke(app, ["proof", "verify", str(envelopes[0]), *args]).exit_code == 0
    assert runner.invoke(app, ["proof", "verify", str(envelopes[1]), *args]).exit_code == 1

    tampered = tmp_path / "tampered.rsrp"
    data = bytearray(envelopes[0].read_bytes())
    data[-200] ^= 0x01
    tampered.write_bytes(bytes(data))
    v = runner.invoke(app, ["proof", "verify", str(tampered), "--keyring", str(public)])
    assert v.exit_code == 1
    assert "invalid" in v.output


def test_decide_sign_never_overwrites(signing_key: tuple[str, str, Path], tmp_path: Path) -> None:
    uri, key_id, _ = signing_key
    requests, _ = _requests_with_ids(tmp_path)
    out = tmp_path / "proofs"
    args = _decide("--input", str(requests), "--key", f"{uri}&key-id={key_id}", "--out", str(out))
    assert runner.invoke(app, args).exit_code == 0  # key id carried by the URI
    first = (out / "req-000.rsrp").read_bytes()
    again = runner.invoke(app, args)
    assert again.exit_code != 0
    assert "refusing to overwrite" in again.output
    assert (out / "req-000.rsrp").read_bytes() == first


def test_decide_sign_random_request_ids_and_batch(
    signing_key: tuple[str, str, Path], tmp_path: Path
) -> None:
    uri, key_id, public = signing_key
    out = tmp_path / "proofs"
    args = ["--input", str(EXAMPLE / "requests.json"), "--key", uri, "--key-id", key_id]
    r = runner.invoke(app, _decide(*args, "--out", str(out), "--mode", "batch"))
    assert r.exit_code == 0, r.output
    names = [p.stem for p in out.glob("*.rsrp")]
    assert len(names) == len(r.stdout.splitlines()) and len(set(names)) == len(names)
    # Batch envelopes carry no signature: verifying one alone asks for an inclusion proof.
    v = runner.invoke(
        app, ["proof", "verify", str(out / f"{names[0]}.rsrp"), "--keyring", str(public)]
    )
    assert v.exit_code == 1
    assert "NeedsInclusionProof" in v.output


def test_decide_sign_needs_key_and_out(tmp_path: Path) -> None:
    r = runner.invoke(app, _decide("--input", str(EXAMPLE / "requests.json")))
    assert r.exit_code != 0
    assert "--sign needs --key URI and --out DIR" in r.output
    bad = runner.invoke(
        app, _decide("--input", "-", "--key", "file:/x", "--out", str(tmp_path), "--mode", "all")
    )
    assert bad.exit_code != 0
    assert "--mode must be" in bad.output
