"""Run the atheris envelope target over its committed seed corpus, then a bounded fuzz run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import fuzz_envelope
import pytest

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus" / "envelope"
SEEDS = sorted(CORPUS.iterdir())


def test_corpus_is_committed() -> None:
    names = {p.name for p in SEEDS}
    assert {"v1-ed25519-published", "v1-hybrid-ml-dsa-44", "v2-warn-batch"} <= names


@pytest.mark.parametrize("seed", SEEDS, ids=[p.name for p in SEEDS])
def test_target_accepts_seed(seed: Path) -> None:
    fuzz_envelope.test_one_input(seed.read_bytes())


def test_bounded_atheris_run(tmp_path: Path) -> None:
    """2,000 libFuzzer iterations from the corpus (a few seconds); a crash fails the test."""
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)  # libFuzzer adds files to its corpus dir; keep ours clean
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(HERE.parent.parent / "src"), *sys.path]),
    }
    result = subprocess.run(
        [
            sys.executable,
            str(HERE / "fuzz_envelope.py"),
            str(corpus),
            "-runs=2000",
            "-max_len=5000",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Done 2000 runs" in result.stderr
