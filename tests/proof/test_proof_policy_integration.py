"""Engine decision → signed V2 envelope → ``rsrp proof verify --policy --input``."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from proof_composite_oracle import OracleSigner
from typer.testing import CliRunner

from rsrp.canonical import canonical_hash
from rsrp.cli.main import app
from rsrp.crypto.composite import CompositePublicKey
from rsrp.policy import Engine
from rsrp.proof import sign_decision
from rsrp.proof._inspect import expectation_from_policy

BUNDLE = """
BUNDLE demo VERSION 1.0.0 JURISDICTION FR DEFAULT BLOCK
SCHEMA { counters { requests_1h: int } }
RULE VOLUME VERSION 1.0.0 SEVERITY HIGH WHEN counters.requests_1h >= 50
  THEN BLOCK CODE VOLUME_EXCEEDED MESSAGE "{counters.requests_1h} requests"
RULE OK VERSION 1.0.0 SEVERITY LOW WHEN TRUE THEN ALLOW CODE GRANTED
"""
NOW = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)


def _pem(signer: OracleSigner) -> bytes:
    import base64

    der = CompositePublicKey.from_bytes(signer.public_key_der()).spki_der()
    return b"-----BEGIN PUBLIC KEY-----\n" + base64.encodebytes(der) + b"-----END PUBLIC KEY-----\n"


def test_verify_against_bundle_and_input(tmp_path: Path) -> None:
    (tmp_path / "demo.rsrp-policy").write_text(BUNDLE, encoding="utf-8")
    request = {"counters": {"requests_1h": 60}}
    (tmp_path / "in.json").write_text(json.dumps(request), encoding="utf-8")
    engine = Engine.load(tmp_path / "demo.rsrp-policy")
    decision = engine.decide(request, now=NOW)
    expect = expectation_from_policy(tmp_path / "demo.rsrp-policy", tmp_path / "in.json")
    assert expect.input_hash == decision.input_hash
    assert expect.policy_hash == decision.policy_hash

    signer = OracleSigner(b"\x33" * 32, "fr-demo", "FR")
    env = sign_decision(decision, signer, request_id="req-9", state_hash=canonical_hash({}))
    (tmp_path / "e.rsrp").write_bytes(env.to_bytes())
    (tmp_path / "k.pem").write_bytes(_pem(signer))
    args = ["proof", "verify", str(tmp_path / "e.rsrp"), "--public-key", str(tmp_path / "k.pem")]
    args += ["--policy", str(tmp_path / "demo.rsrp-policy"), "--input"]
    ok = CliRunner().invoke(app, [*args, str(tmp_path / "in.json")])
    assert ok.exit_code == 0, ok.output
    (tmp_path / "other.json").write_text(
        json.dumps({"counters": {"requests_1h": 61}}), encoding="utf-8"
    )
    bad = CliRunner().invoke(app, [*args, str(tmp_path / "other.json")])
    assert bad.exit_code == 1
    assert "input_hash mismatch" in bad.output
