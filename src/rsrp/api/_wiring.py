"""Wire the real policy engine, proof recipe and ledger into the pipeline stages."""

from __future__ import annotations

from rsrp.api._settings import Settings
from rsrp.api._stages import Stages
from rsrp.errors import ConfigError

__all__ = ["build_stages"]


def build_stages(settings: Settings) -> Stages:
    raise ConfigError(
        "the policy, proof and ledger stages are not part of this build yet; "
        f"cannot serve {settings.policy.bundle}"
    )
