"""A conclusion whose ledger append fails is finished by the sweep, exactly once, even
when the failed append in fact committed (an unknown outcome, as rsrp.ledger reports a
commit whose connection broke). Fault injection around the real ledger, in process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.api.conftest import service_settings
from tests.api.test_api_approval_recovery import _conclusions, _pending_approval, _state

from rsrp.api import create_app
from rsrp.api._pipeline import StageUnavailableError
from rsrp.errors import LedgerError


class _FailingAppend:
    """The real ledger, whose appends raise; ``lands``: after committing the entry."""

    def __init__(self, real: Any, *, lands: bool) -> None:
        self.real = real
        self.lands = lands

    def append(self, entry: bytes) -> int:
        if self.lands:
            self.real.append(entry)
        raise LedgerError("injected: connection lost during COMMIT, outcome unknown")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


@pytest.mark.parametrize("lands", [False, True], ids=["not-committed", "committed-anyway"])
def test_api_approval_ledger_fault_is_finished_once(tmp_path: Path, lands: bool) -> None:
    settings = service_settings(tmp_path, approvals={"sweep_interval_s": 3600})
    service = create_app(settings).state.service
    try:
        rid = _pending_approval(service)
        stages = service.stages
        real = stages.ledger
        object.__setattr__(stages, "ledger", _FailingAppend(real, lands=lands))
        with pytest.raises(StageUnavailableError):
            service.approvals.resolve("supervisor-001", rid, True, "case 2026-0142 verified")
        status, resolution, flying, recorded = _state(settings.database.url, rid)
        # Not handed back (PENDING would let a second conclusion be logged beside it).
        assert (status, flying, recorded) == ("RESOLVING", 1, 0)
        logged = _conclusions(settings.database.url, "APPROVAL_GRANTED")
        assert [r for _, r in logged] == ([resolution] if lands else [])
        incidents = service.store.incidents(0, 100)
        assert ("ledger", "STAGE_UNAVAILABLE") in [(i.stage, i.code) for i in incidents]
        object.__setattr__(stages, "ledger", real)  # the ledger is back
        assert service.approvals.recover() == 1  # this process's own abandoned conclusion
        assert service.approvals.recover() == 0
        assert _state(settings.database.url, rid) == ("APPROVED", resolution, 0, 1)
        logged = _conclusions(settings.database.url, "APPROVAL_GRANTED")
        assert [r for _, r in logged] == [resolution]
    finally:
        service.close()
