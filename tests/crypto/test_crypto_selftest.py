"""Power-on self-tests (rsrp.crypto.run_selftests / require_selftests) and ``rsrp selftest``."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import crypto_kat_builder
import pytest
from typer.testing import CliRunner

from rsrp.cli.main import app
from rsrp.crypto import SelfTestFailure, require_selftests, run_selftests
from rsrp.crypto._selftest import TESTS, load_kat_vectors

runner = CliRunner()


def test_packaged_kats_equal_the_published_vectors() -> None:
    """STYLE 6: regenerate the packaged subset from tests/vectors and diff."""
    assert crypto_kat_builder.OUT.read_text() == crypto_kat_builder.render()


def test_all_pass() -> None:
    results = run_selftests()
    assert [r.name for r in results] == [name for name, _ in TESTS]
    assert all(r.ok for r in results), [r for r in results if not r.ok]
    assert all(r.seconds >= 0 and r.detail for r in results)
    assert len(require_selftests()) == 12


# (KAT section, field, test name that must fail)
CORRUPTIONS = [
    ("sha", "sha384", "SHA-256/384/512, SHA3-256"),
    ("hkdf", "okm", "HKDF-SHA256"),
    ("ed25519", "sig", "Ed25519"),
    ("ecdsa_p384", "sig", "ECDSA P-384/SHA-384"),
    ("ml_dsa_44", "pk_sha256", "ML-DSA-44"),
    ("ml_dsa_65", "sig", "ML-DSA-65"),
    ("ml_dsa_87", "sig", "ML-DSA-87"),
    ("ml_kem_768", "ss", "ML-KEM-768"),
    ("x25519", "shared", "X25519"),
    ("composite", "sig_with_ctx", "Composite ML-DSA-65+ECDSA-P384"),
    ("composite", "ctx", "Composite ML-DSA-65+ECDSA-P384"),
    ("x_wing", "ss", "X-Wing"),
    ("x_wing", "pk_sha256", "X-Wing"),
]


def _corrupt(section: str, field: str) -> dict[str, Any]:
    kats = copy.deepcopy(dict(load_kat_vectors()))
    value = kats[section][field]
    # flip the low bit of the last hex digit
    kats[section][field] = value[:-1] + format(int(value[-1], 16) ^ 1, "x")
    return kats


@pytest.mark.parametrize(
    ("section", "field", "name"), CORRUPTIONS, ids=[f"{s}.{f}" for s, f, _ in CORRUPTIONS]
)
def test_a_corrupted_vector_fails_exactly_its_test(section: str, field: str, name: str) -> None:
    results = run_selftests(_corrupt(section, field))
    failed = [r.name for r in results if not r.ok]
    assert failed == [name]
    with pytest.raises(SelfTestFailure, match="refusing to start"):
        require_selftests(_corrupt(section, field))


def test_aes_gcm_tag_corruption() -> None:
    kats = copy.deepcopy(dict(load_kat_vectors()))
    kats["aes256gcm"]["cases"][1]["tag"] = "00" * 16
    assert [r.name for r in run_selftests(kats) if not r.ok] == ["AES-256-GCM"]


def test_missing_section_is_a_failure_not_a_crash() -> None:
    kats = dict(load_kat_vectors())
    del kats["x_wing"]
    results = run_selftests(kats)
    bad = [r for r in results if not r.ok]
    assert [r.name for r in bad] == ["X-Wing"] and "KeyError" in bad[0].detail


def test_cli_selftest_passes() -> None:
    result = runner.invoke(app, ["selftest"])
    assert result.exit_code == 0, result.output
    assert "all 12 self-tests passed" in result.output
    for name, _ in TESTS:
        assert name.split(",")[0][:20] in result.output
    assert result.output.count("PASS") == 12


def test_cli_selftest_fails_with_exit_1(tmp_path: Path) -> None:
    bad = tmp_path / "kats.json"
    bad.write_text(json.dumps(_corrupt("ml_dsa_65", "sig")))
    result = runner.invoke(app, ["selftest", "--vectors", str(bad)])
    assert result.exit_code == 1, result.output
    assert "FAIL" in result.output
    assert "1 of 12 self-tests FAILED" in result.output
