"""``rsrp policy check|decide|test`` and ``rsrp run`` through Typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from policy_bundles import GOOD_INPUT, SMALL, bundle, good_input, rule
from typer.testing import CliRunner

from rsrp.cli.main import app

runner = CliRunner()


@pytest.fixture
def small(tmp_path: Path) -> Path:
    p = tmp_path / "small.rsrp"
    p.write_text(SMALL, "utf-8")
    return p


def test_check_clean_bundle(small: Path) -> None:
    r = runner.invoke(app, ["policy", "check", str(small)])
    assert r.exit_code == 0, r.output
    assert "5 rules, 0 error(s)" in r.output


def test_check_reports_every_error_with_caret(tmp_path: Path) -> None:
    text = bundle(
        "a { n: int s: enum(A, B) }",
        rule("R1", "a.missing > 1"),
        rule("R1", "a.s = 'C'"),
        rule("R3", "a.n = 'x'"),
    )
    p = tmp_path / "bad.rsrp"
    p.write_text(text, "utf-8")
    r = runner.invoke(app, ["policy", "check", str(p)])
    assert r.exit_code == 1
    assert f"{p}:3:" in r.output and "unknown field 'a.missing'" in r.output
    assert "duplicate rule id 'R1'" in r.output
    assert "'C' is not a member of enum(A, B)" in r.output
    assert "cannot compare int with string" in r.output
    assert "^" in r.output
    assert "4 error(s)" in r.output


def test_check_warnings_exit_zero(tmp_path: Path) -> None:
    text = bundle(
        "a { n: int }",
        rule("DEAD", "a.n > 5 AND a.n < 3"),
        rule("ALL", "TRUE"),
        rule("OK", "a.n = 1", outcome="ALLOW"),
    )
    p = tmp_path / "warn.rsrp"
    p.write_text(text, "utf-8")
    r = runner.invoke(app, ["policy", "check", str(p)])
    assert r.exit_code == 0, r.output
    assert "rule DEAD can never match" in r.output
    assert "ALLOW rule OK is unreachable: BLOCK ALL always matches" in r.output


def test_check_syntax_error(tmp_path: Path) -> None:
    p = tmp_path / "syntax.rsrp"
    p.write_text(bundle("a { n: int }", rule("R", "a.n >> 1")), "utf-8")
    r = runner.invoke(app, ["policy", "check", str(p)])
    assert r.exit_code == 1
    assert f"{p}:3:" in r.output and "syntax error" in r.output


def test_decide_json_array_and_lines(small: Path, tmp_path: Path) -> None:
    block = good_input()
    block["counters"] = {"requests_1h": 70}
    array = tmp_path / "in.json"
    array.write_text(json.dumps([GOOD_INPUT, block]), "utf-8")
    r = runner.invoke(app, ["policy", "decide", str(small), "--input", str(array), "--json"])
    assert r.exit_code == 0, r.output
    lines = [json.loads(x) for x in r.output.splitlines() if x.startswith("{")]
    assert [x["decision"] for x in lines] == ["ALLOW", "BLOCK"]
    assert lines[1]["matched"] == ["CRUE_001", "GRANT"]
    assert lines[1]["explanation"][0]["values"] == {"counters.requests_1h": 70}
    # Default NOW is each input's request.time.
    assert lines[0]["evaluated_at"] == "2026-03-01T09:30:00Z"
    for key in ("code", "message", "policy_hash", "bytecode_hash", "input_hash"):
        assert key in lines[0]
    jsonl = "\n".join(json.dumps(x) for x in (GOOD_INPUT, block)) + "\n"
    r2 = runner.invoke(
        app,
        ["policy", "decide", str(small), "--input", "-", "--json", "--now", "2026-03-02T10:00:00Z"],
        input=jsonl,
    )
    assert r2.exit_code == 0, r2.output
    lines2 = [json.loads(x) for x in r2.output.splitlines() if x.startswith("{")]
    assert [x["code"] for x in lines2] == ["ACCESS_GRANTED", "VOLUME_EXCEEDED"]
    assert lines2[0]["evaluated_at"] == "2026-03-02T10:00:00Z"


def test_decide_table(small: Path, tmp_path: Path) -> None:
    one = tmp_path / "one.json"
    one.write_text(json.dumps(GOOD_INPUT), "utf-8")
    r = runner.invoke(app, ["policy", "decide", str(small), "--input", str(one)])
    assert r.exit_code == 0, r.output
    assert "ACCESS_GRANTED" in r.output and "agent.level=" in r.output


def test_decide_bad_input_document(small: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", "utf-8")
    r = runner.invoke(app, ["policy", "decide", str(small), "--input", str(bad)])
    assert r.exit_code == 1
    assert "not JSON" in r.output


def _cases(tmp_path: Path, expect_code: str) -> Path:
    doc = {
        "cases": [
            {
                "name": "grant",
                "input": GOOD_INPUT,
                "now": "2026-03-01T09:30:00Z",
                "expect": {"decision": "ALLOW", "code": expect_code, "matched": ["GRANT"]},
            }
        ]
    }
    p = tmp_path / "cases.json"
    p.write_text(json.dumps(doc), "utf-8")
    return p


def test_policy_test_pass_and_fail(small: Path, tmp_path: Path) -> None:
    r = runner.invoke(app, ["policy", "test", str(small), str(_cases(tmp_path, "ACCESS_GRANTED"))])
    assert r.exit_code == 0, r.output
    assert "PASS grant" in r.output and "1 passed, 0 failed" in r.output
    r = runner.invoke(app, ["policy", "test", str(small), str(_cases(tmp_path, "OTHER"))])
    assert r.exit_code == 1
    assert "FAIL grant: code ACCESS_GRANTED, expected OTHER" in r.output


def test_run_with_explicit_files(small: Path, tmp_path: Path) -> None:
    reqs = tmp_path / "requests.json"
    reqs.write_text(json.dumps([GOOD_INPUT]), "utf-8")
    r = runner.invoke(app, ["run", str(small), str(reqs)])
    assert r.exit_code == 0, r.output
    assert "ACCESS_GRANTED" in r.output


def test_run_without_examples_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    r = runner.invoke(app, ["run", "--offline"])
    assert r.exit_code == 2
    assert "examples/bank-registry/policy.rsrp not found" in r.output
