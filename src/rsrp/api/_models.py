"""Request and response bodies (separate models; requests forbid unknown fields)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import (
    AllowInfNan,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    StrictBool,
    StrictInt,
    StringConstraints,
)

__all__ = [
    "EXPIRY_ACTOR",
    "ApprovalIn",
    "ApprovalOut",
    "CheckpointOut",
    "ConsistencyOut",
    "DecisionIn",
    "DecisionOut",
    "DecisionRecordOut",
    "IncidentOut",
    "InclusionOut",
    "ReadyOut",
    "ReceiptOut",
]

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}$"
Id = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
FieldName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
Text = Annotated[str, StringConstraints(max_length=2000)]
Member = Annotated[str, StringConstraints(max_length=256)] | StrictInt
#: Finite only: NaN and infinities have no canonical form (docs/canonical-hashing.md).
FiniteFloat = Annotated[float, Strict(), AllowInfNan(False)]
Scalar = StrictBool | StrictInt | FiniteFloat | Text | None
FieldValue = Scalar | Annotated[list[Member], Field(max_length=256)]
OutcomeName = Literal["ALLOW", "BLOCK", "WARN", "APPROVAL_REQUIRED"]
ApprovalStatus = Literal["PENDING", "RESOLVING", "APPROVED", "REJECTED", "EXPIRED"]
#: Who concludes an approval nobody decided in time: the service itself. The "/" keeps
#: it outside ID_PATTERN, so no registered agent or supervisor can ever be named so.
EXPIRY_ACTOR = "rsrp/approval-expiry"


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DecisionIn(_In):
    """What a caller may say about a request. Identity, mission facts, counters and
    ``request.time`` come from the server; only the registry request's own fields
    (query type, justification, export format, limit, ...) come from here."""

    mission_id: Id | None = Field(default=None, description="Which of the caller's missions")
    account: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = Field(
        default=None, description="Target account (counted as a salted hash, never stored)"
    )
    request: dict[FieldName, FieldValue] = Field(max_length=64)


class DecisionOut(BaseModel):
    request_id: str
    decision: OutcomeName
    code: str
    message: str
    matched: list[str]
    ledger_index: int
    envelope: str = Field(description="Canonical envelope bytes, base64")
    state_hash: str = Field(description="Context snapshot hash, hex")
    evaluated_at: dt.datetime
    mission_id: str | None
    signing_mode: str
    approval_expires_at: dt.datetime | None = None


class DecisionRecordOut(BaseModel):
    request_id: str
    ledger_index: int
    agent_id: str
    mission_id: str | None
    decision: OutcomeName
    code: str
    message: str
    at: dt.datetime
    kind: Literal["request", "approval"]
    parent: str | None
    envelope: str
    approval_status: ApprovalStatus | None = Field(
        default=None, description="For an APPROVAL_REQUIRED request: where its approval stands"
    )
    resolution_id: str | None = Field(
        default=None, description="The logged decision that concluded the approval"
    )


class ReceiptOut(BaseModel):
    request_id: str
    ledger_index: int
    envelope: str
    proof: str = Field(description="C2SP tlog-proof@v1 text")
    receipt: str = Field(description="The receipt file for `rsrp receipt verify`")


class CheckpointOut(BaseModel):
    size: int
    root: str
    note: str
    signed_at: dt.datetime
    age_seconds: float


class InclusionOut(BaseModel):
    index: int
    size: int
    hashes: list[str]


class ConsistencyOut(BaseModel):
    old_size: int
    new_size: int
    hashes: list[str]


class ApprovalIn(_In):
    decision: Literal["APPROVE", "REJECT"]
    reason: Annotated[str, StringConstraints(min_length=10, max_length=1000)]


class ApprovalOut(BaseModel):
    decision_id: str
    agent_id: str
    created_at: dt.datetime
    expires_at: dt.datetime
    status: ApprovalStatus
    resolved_by: str | None = Field(
        default=None, description=f"The supervisor, or {EXPIRY_ACTOR!r} for an expiry"
    )
    resolution_id: str | None = Field(
        default=None, description="Request id of the logged concluding decision"
    )


class IncidentOut(BaseModel):
    id: int
    at: dt.datetime
    request_id: str
    principal: str
    stage: str
    code: str
    detail: str


class ReadyOut(BaseModel):
    ready: bool
    checks: dict[str, str]
