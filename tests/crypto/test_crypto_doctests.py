"""The runnable examples in rsrp.crypto's public docstrings (STYLE.md point 12) run."""

from __future__ import annotations

import doctest
from types import ModuleType

import pytest

import rsrp.crypto
from rsrp.crypto import composite, hybrid, xwing

MODULES = [rsrp.crypto, composite, hybrid, xwing]


@pytest.mark.parametrize("module", MODULES, ids=[m.__name__ for m in MODULES])
def test_docstring_examples(module: ModuleType) -> None:
    result = doctest.testmod(module, raise_on_error=False, verbose=False)
    assert result.attempted > 0
    assert result.failed == 0
