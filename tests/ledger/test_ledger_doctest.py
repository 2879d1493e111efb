"""The runnable examples in rsrp.ledger's docstrings (STYLE.md point 12) run."""

from __future__ import annotations

import doctest
from types import ModuleType

import pytest

import rsrp.ledger
from rsrp.ledger import _log, _memory


@pytest.mark.parametrize("module", [rsrp.ledger, _log, _memory], ids=lambda m: m.__name__)
def test_docstring_examples(module: ModuleType) -> None:
    result = doctest.testmod(module, verbose=False)
    assert result.attempted >= 2
    assert result.failed == 0
