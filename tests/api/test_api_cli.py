"""`rsrp serve`, `rsrp demo` and the main job, through the CLI."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.api.api_procs import SRC
from tests.api.conftest import EXAMPLE_CONTEXT
from tests.fixtures.tls import free_port
from typer.testing import CliRunner

from rsrp.api import load_settings
from rsrp.cli.main import app

runner = CliRunner()


def test_api_cli_serve_missing_config(tmp_path: Path) -> None:
    r = runner.invoke(app, ["serve", "--config", str(tmp_path / "nope.toml")])
    assert r.exit_code == 2
    assert "cannot read config" in r.output


def test_api_cli_serve_refuses_dev_defaults_in_production(tmp_path: Path) -> None:
    cfg = tmp_path / "prod.toml"
    cfg.write_text('mode = "production"\n[keys]\nstore = "file:/srv/keys"\n')
    r = runner.invoke(app, ["serve", "--config", str(cfg)])
    assert r.exit_code == 2
    for reason in (
        "passphrase is the development default",
        "software store",
        "tls_cert",
        "policy.keyring is required",
    ):
        assert reason in r.output


def test_api_cli_serve_rejects_unknown_settings(tmp_path: Path) -> None:
    cfg = tmp_path / "typo.toml"
    cfg.write_text("[server]\nprot = 1\n")
    r = runner.invoke(app, ["serve", "--config", str(cfg)])
    assert r.exit_code == 2
    assert "server.prot" in r.output


def test_api_cli_env_overrides_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("[server]\nport = 9000\n")
    monkeypatch.setenv("RSRP_SERVER__PORT", "9443")
    assert load_settings(cfg).server.port == 9443


def test_api_cli_demo_needs_a_running_service(tmp_path: Path) -> None:
    r = runner.invoke(app, ["demo", "--var", str(tmp_path)])
    assert r.exit_code == 2
    assert "rsrp run" in r.output


@pytest.mark.slow
def test_api_cli_main_job_then_demo(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLE_CONTEXT.parent, tmp_path / "examples" / "bank-registry")
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(SRC), "RSRP_SERVER__PORT": str(port)}
    job = subprocess.Popen(
        [sys.executable, "-c", "from rsrp.cli.serve import run_main_job; run_main_job()"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert job.stdout is not None
        curl = job.stdout.readline().decode()
        assert curl.startswith("curl --cacert var/pki/ca.pem --cert var/pki/client-agent-001.pem")
        deadline = time.monotonic() + 30
        while True:
            demo = subprocess.run(
                [sys.executable, "-m", "rsrp", "demo", "--url", f"https://127.0.0.1:{port}"],
                cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
            )  # fmt: skip
            if demo.returncode == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert demo.returncode == 0, demo.stdout + demo.stderr
        for expected in (
            "OUTSIDE_MISSION_HOURS",
            "VOLUME_EXCEEDED",
            "APPROVAL_GRANTED",
            "ledger verified offline",
        ):
            assert expected in demo.stdout
        assert (tmp_path / "var" / "rsrp.db").exists()
        # The demo verified with both checkpoint vkeys: Ed25519 note (0x01), ML-DSA-44 (0x06).
        vkeys = [
            (tmp_path / "var" / n).read_text().strip() for n in ("log.vkey", "log-mldsa44.vkey")
        ]
        assert [base64.b64decode(v.split("+", 2)[2])[0] for v in vkeys] == [0x01, 0x06]
        # The main job approved the example bundle and serves it only because that verifies.
        verify = runner.invoke(
            app,
            ["policy", "verify", str(tmp_path / "examples" / "bank-registry" / "policy.rsrp"),
             "--signature", str(tmp_path / "var" / "bank-registry.rsrp.sig"),
             "--keyring", str(tmp_path / "var" / "policy-keyring")],
        )  # fmt: skip
        assert verify.exit_code == 0, verify.output
    finally:
        job.terminate()
        job.wait(timeout=10)
