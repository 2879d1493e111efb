"""The runnable example in rsrp.keys' package docstring (STYLE.md point 12) runs."""

from __future__ import annotations

import doctest

import pytest

import rsrp.keys


def test_package_docstring_example(monkeypatch: pytest.MonkeyPatch) -> None:
    # the example sets RSRP_KEYSTORE_PASSPHRASE; monkeypatch restores the environment
    monkeypatch.setenv("RSRP_KEYSTORE_PASSPHRASE", "placeholder-restored-after")
    result = doctest.testmod(rsrp.keys, optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.attempted >= 5
    assert result.failed == 0
