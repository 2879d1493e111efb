"""policy_hash and bytecode_hash are pinned, and stable across processes and hash seeds."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from policy_bundles import SMALL

from rsrp.policy import Engine

# Pinned for tests/policy/policy_bundles.py:SMALL. A change here means every
# signed decision made with an older build no longer names the same policy:
# bump the format tag in rsrp.policy._hashing and say so in the changelog.
POLICY_HASH = "cc3c249cfcae8e4e1a9ff1c186cc4fa05e22e0ef93ab327351a0e323ef4bd213"
BYTECODE_HASH = "0acb39b2df453755214707dc8a1e82bfd55b4ffd8872c1f6a3e0bfeaa4515790"


def test_pinned_hashes() -> None:
    engine = Engine.from_text(SMALL, "small.rsrp")
    assert engine.policy_hash.hex() == POLICY_HASH
    assert engine.bytecode_hash.hex() == BYTECODE_HASH


def test_hashes_ignore_comments_whitespace_file_name_and_order() -> None:
    base = Engine.from_text(SMALL, "a.rsrp")
    head, _, rules = SMALL.partition("RULE ")
    blocks = ["RULE " + b for b in ("RULE " + rules).split("RULE ") if b.strip()]
    reordered = head + "\n".join(reversed(blocks)) + "\n# trailing comment\n"
    other = Engine.from_text(reordered.replace("  ", "\t"), "b.rsrp")
    assert (other.policy_hash, other.bytecode_hash) == (base.policy_hash, base.bytecode_hash)


def test_hashes_change_with_meaning() -> None:
    base = Engine.from_text(SMALL)
    changed = Engine.from_text(SMALL.replace(">= 50", ">= 51"))
    assert changed.policy_hash != base.policy_hash
    assert changed.bytecode_hash != base.bytecode_hash
    renamed = Engine.from_text(SMALL.replace("VERSION 1.2.0", "VERSION 1.2.1"))
    assert renamed.policy_hash != base.policy_hash


def test_hashes_identical_in_fresh_processes_with_other_hash_seeds() -> None:
    code = (
        "import sys; sys.path.insert(0, 'tests/policy'); from policy_bundles import SMALL; "
        "from rsrp.policy import Engine; e = Engine.from_text(SMALL); "
        "print(e.policy_hash.hex(), e.bytecode_hash.hex())"
    )
    root = Path(__file__).resolve().parents[2]
    for seed in ("0", "12345", "random"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(root / "src")}
        out = subprocess.run(
            [sys.executable, "-c", code],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        assert out.stdout.split() == [POLICY_HASH, BYTECODE_HASH]
