"""The service's keys for the admin role: public material, the key journal, rotation."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import BaseModel, Field

from rsrp.api._keys import KeyView, ServiceKeys
from rsrp.api.deps import Admin, ServiceDep

__all__ = ["router"]

router = APIRouter(prefix="/v1/keys", tags=["keys"])

KeyId = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")]


class KeyOut(BaseModel):
    """A key's attributes and public half; private material never leaves the store."""

    key_id: str
    algorithm: str
    purpose: str
    jurisdiction: str
    state: str = Field(description="NIST SP 800-57 lifecycle state")
    not_before: dt.datetime
    not_after: dt.datetime | None
    state_changed_at: dt.datetime
    created_at: dt.datetime
    test: bool
    rotated_from: str | None
    in_use: bool = Field(description="The running service signs with this key")
    public_key_pem: str = Field(description="SubjectPublicKeyInfo, PEM (RFC 7468)")
    vkey: str | None = Field(
        description="C2SP signed-note verifier key under the log origin (checkpoint keys)"
    )


class KeyEventOut(BaseModel):
    seq: int
    time: dt.datetime
    actor: str
    event: str
    key_id: str
    state: str
    line_hash: str = Field(description="SHA-256 of the journal line (hash chain)")


class RotationOut(BaseModel):
    retired: KeyOut
    active: KeyOut


def _keys(service: ServiceDep) -> ServiceKeys:
    if service.keys is None:
        raise HTTPException(503, "this service runs without a key store")
    return service.keys


def _out(v: KeyView) -> KeyOut:
    i = v.info
    return KeyOut(
        key_id=i.key_id, algorithm=i.algorithm, purpose=i.purpose.value,
        jurisdiction=i.jurisdiction, state=i.state.value, not_before=i.not_before,
        not_after=i.not_after, state_changed_at=i.state_changed_at, created_at=i.created_at,
        test=i.test, rotated_from=i.rotated_from, in_use=v.in_use,
        public_key_pem=v.public_key_pem, vkey=v.vkey,
    )  # fmt: skip


@router.get("", response_model=list[KeyOut], summary="The service's keys (role admin)")
def list_keys(_: Admin, service: ServiceDep) -> list[KeyOut]:
    return [_out(v) for v in _keys(service).views()]


@router.get(
    "/journal",
    response_model=list[KeyEventOut],
    summary="The newest key-journal events, oldest first (role admin)",
)
def journal(
    _: Admin, service: ServiceDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[KeyEventOut]:
    return [
        KeyEventOut(
            seq=e.seq,
            time=e.time,
            actor=e.actor,
            event=e.event,
            key_id=e.key.key_id,
            state=e.key.state.value,
            line_hash=e.line_hash,
        )
        for e in _keys(service).events(limit)
    ]


@router.post(
    "/{key_id}/rotate",
    response_model=RotationOut,
    summary="Rotate a key the service signs with; it switches at once (role admin)",
)
def rotate(key_id: KeyId, caller: Admin, service: ServiceDep) -> RotationOut:
    keys = _keys(service)
    old, new = keys.rotate(key_id, f"{caller.principal} via rsrp api ({caller.method})")
    views = {v.info.key_id: v for v in keys.views()}
    return RotationOut(retired=_out(views[old.key_id]), active=_out(views[new.key_id]))
