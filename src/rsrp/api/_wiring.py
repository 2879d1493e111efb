"""Wire the real policy engine, proof recipe, key store and ledger into the stages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

from rsrp.api._keys import (
    CHECKPOINT_PQ_ALGORITHM,
    SERVICE_KEYS,
    active_key,
    checkpoint_keys,
    log_origin,
)
from rsrp.api._ledger_stage import CheckpointLeader, LogLedger, SerialisedBackend
from rsrp.api._settings import PolicySettings, Settings
from rsrp.api._stages import Stages
from rsrp.context import Database
from rsrp.errors import ConfigError, RsrpError
from rsrp.keys import Keyring, KeyStore, open_store
from rsrp.keys.signer import Signer
from rsrp.ledger import Log, open_backend
from rsrp.policy import BundleSignature, Engine, verify_bundle
from rsrp.policy.decision import Decision
from rsrp.proof import seal_batch, sign_decision

__all__ = [
    "CHECKPOINT_PQ_ALGORITHM",
    "EnginePolicy",
    "EnvelopeProof",
    "build_stages",
    "load_policy",
    "open_key_store",
    "open_keys",
]


class EnginePolicy:
    """The compiled bundle as the pipeline's policy stage."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        b = engine.bundle
        self.bundle_id, self.bundle_version, self.jurisdiction = b.id, b.version, b.jurisdiction
        self.policy_hash, self.bytecode_hash = engine.policy_hash, engine.bytecode_hash

    def decide(self, data: Mapping[str, object], *, now: dt.datetime) -> Decision:
        return self.engine.decide(data, now)


class EnvelopeProof:
    """V2 envelopes: ``batch`` (the checkpoint signs) or ``per-decision`` (composite)."""

    def __init__(self, signer: Signer, mode: str, workers: int = 2) -> None:
        if mode not in ("batch", "per-decision"):
            raise ConfigError(f"keys.signing_mode {mode!r}: want batch or per-decision")
        self.signer = signer
        self.mode = mode
        self._pool = (
            ThreadPoolExecutor(workers, thread_name_prefix="rsrp-sign") if mode != "batch" else None
        )

    def seal(self, decision: Decision, *, request_id: str, state_hash: bytes) -> bytes:
        env = sign_decision(
            decision,
            self.signer,
            request_id=request_id,
            state_hash=state_hash,
            mode=self.mode,  # type: ignore[arg-type]
        )
        return env.to_bytes()

    def seal_many(self, items: Sequence[tuple[Decision, str, bytes]]) -> list[bytes]:
        if self._pool is None:  # batch mode: no signature to compute, only bytes to encode
            return seal_batch(items, self.signer)
        return list(
            self._pool.map(lambda it: self.seal(it[0], request_id=it[1], state_hash=it[2]), items)
        )

    def selftest(self) -> None:
        self.signer.sign(b"rsrp-readiness-probe", jurisdiction=self.signer.jurisdiction)


def open_key_store(settings: Settings) -> KeyStore:
    secret = settings.keys.passphrase.get_secret_value().encode("utf-8")
    return open_store(settings.keys.store, passphrase=lambda: secret)


def open_keys(
    settings: Settings, jurisdiction: str, store: KeyStore | None = None
) -> tuple[Signer, Signer, Signer]:
    """(decision, Ed25519 checkpoint, ML-DSA-44 checkpoint) signers (:data:`SERVICE_KEYS`).

    Created on first use in development only; production needs them in the store.
    """
    store = store or open_key_store(settings)
    signers: list[Signer] = []
    for purpose, algorithm in SERVICE_KEYS:
        key_id = active_key(store, purpose, algorithm, jurisdiction)
        if key_id is None:
            if settings.mode == "production":
                raise ConfigError(f"no active {algorithm} {purpose.value} key for {jurisdiction}")
            key_id = store.generate(algorithm, purpose, jurisdiction=jurisdiction, test=True).key_id
        signers.append(store.signer(key_id))
    return signers[0], signers[1], signers[2]


def load_policy(settings: PolicySettings) -> Engine:
    """Compile the bundle; with ``policy.keyring`` set, refuse it unless its detached
    signature verifies (docs/policy-language.md, Signed bundles)."""
    engine = Engine.load(settings.bundle)
    if settings.keyring is None:
        if settings.signature is not None:
            raise ConfigError(
                "policy.signature is set but policy.keyring is not: nothing to verify it with"
            )
        return engine
    path = settings.signature_path()
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ConfigError(
            f"policy.keyring is set but the bundle signature {path} cannot be read: "
            f"{e.strerror or e} (sign the bundle with rsrp policy sign)"
        ) from e
    verify_bundle(engine, BundleSignature.from_bytes(data), Keyring.load(settings.keyring))
    return engine


def build_stages(settings: Settings, db: Database) -> Stages:
    """The real stages; the ledger shares ``db``'s SQLite write lock (see SerialisedBackend)."""
    try:
        policy = EnginePolicy(load_policy(settings.policy))
        store = open_key_store(settings)
        decision_signer, checkpoint_signer, pq_signer = open_keys(
            settings, policy.jurisdiction, store
        )
        origin = log_origin(settings.ledger.origin, policy.jurisdiction)
        backend = open_backend(settings.database.url)
        if db.dialect == "sqlite":
            backend = SerialisedBackend(backend, db.write_lock)
        keys = checkpoint_keys(store, origin, checkpoint_signer, pq_signer)
        ledger = LogLedger(
            Log(backend),
            origin,
            keys.note,
            keys.cosigner,
            every_entries=settings.ledger.checkpoint_every,
            every_ms=settings.ledger.checkpoint_interval_ms,
            leader=CheckpointLeader(settings.database.url),
            verifiers=keys.verifiers,
        )
    except RsrpError:
        raise
    except OSError as e:
        raise ConfigError(f"cannot start the service: {e}") from e
    proof = EnvelopeProof(decision_signer, settings.keys.signing_mode)
    return Stages(policy, proof, ledger, keystore=store)
