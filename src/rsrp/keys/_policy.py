"""Deployment rules for keys: which jurisdictions a node serves, and production mode."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rsrp.keys._errors import JurisdictionError, KeyPolicyError
from rsrp.keys._model import KeyInfo, check_jurisdiction

__all__ = ["KeyPolicy", "NodeKeyConfig"]


@dataclass(frozen=True, slots=True)
class NodeKeyConfig:
    """The jurisdictions this node serves; keys of any other jurisdiction are refused."""

    jurisdictions: frozenset[str]

    def __post_init__(self) -> None:
        if not self.jurisdictions:
            raise KeyPolicyError("a node must serve at least one jurisdiction")
        for j in self.jurisdictions:
            check_jurisdiction(j)

    def check(self, jurisdiction: str) -> None:
        if jurisdiction not in self.jurisdictions:
            raise JurisdictionError(
                f"this node serves {sorted(self.jurisdictions)}, not {jurisdiction!r}"
            )


def _crypto_selftests() -> None:
    """Run rsrp.crypto's power-on self-tests; any failure or absence refuses production."""
    try:
        from rsrp import crypto
    except ImportError as e:  # pragma: no cover - rsrp.crypto is part of the package
        raise KeyPolicyError(f"rsrp.crypto is not importable: {e}") from e
    run: Callable[[], object] | None = getattr(crypto, "require_selftests", None)
    if run is None:
        raise KeyPolicyError(
            "production mode needs rsrp.crypto.require_selftests, which is not available "
            "in this build"
        )
    try:
        run()
    except Exception as e:
        raise KeyPolicyError(f"crypto self-tests failed, refusing production mode: {e}") from e


@dataclass(frozen=True, slots=True)
class KeyPolicy:
    """``production=True`` refuses the software store (unless ``allow_software_store``),
    refuses keys marked ``test``, and runs the crypto self-tests once at start-up
    (:meth:`start`). A development policy (the default) allows everything."""

    production: bool = False
    allow_software_store: bool = False
    node: NodeKeyConfig | None = None

    def start(self) -> None:
        """Call once at start-up: in production mode runs the crypto self-tests."""
        if self.production:
            _crypto_selftests()

    def check_store(self, scheme: str) -> None:
        if self.production and scheme == "file" and not self.allow_software_store:
            raise KeyPolicyError(
                "production mode refuses the software (file:) key store; use a pkcs11: HSM, "
                "or set allow_software_store explicitly"
            )

    def check_key(self, info: KeyInfo) -> None:
        if self.production and info.test:
            raise KeyPolicyError(f"production mode refuses key {info.key_id}: it is marked test")
        if self.node is not None:
            self.node.check(info.jurisdiction)

    def check_jurisdiction(self, jurisdiction: str) -> None:
        if self.node is not None:
            self.node.check(jurisdiction)
