"""The typed, frozen syntax tree of a policy bundle (docs/policy-language.md).

Every node carries its :class:`Span` so that static checks can point at the
offending text with file:line:col and a caret.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from rsrp.policy.decision import Outcome, Severity

__all__ = [
    "And",
    "Between",
    "Bundle",
    "Call",
    "Compare",
    "Expr",
    "FieldDecl",
    "FieldType",
    "In",
    "IsNull",
    "ListLit",
    "Literal",
    "LiteralValue",
    "Matches",
    "Not",
    "Now",
    "Or",
    "Path",
    "RecordDecl",
    "Rule",
    "Span",
]

LiteralValue = str | int | Decimal | bool | dt.datetime | dt.timedelta


@dataclass(frozen=True, slots=True)
class Span:
    """1-based line and column of the first character, and of one past the last."""

    line: int
    col: int
    end_line: int
    end_col: int


@dataclass(frozen=True, slots=True)
class Path:
    parts: tuple[str, ...]
    span: Span

    @property
    def dotted(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True, slots=True)
class Literal:
    #: One of string, int, decimal, bool, timestamp, duration.
    kind: str
    value: LiteralValue
    span: Span


@dataclass(frozen=True, slots=True)
class ListLit:
    items: tuple[Literal, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Now:
    span: Span


@dataclass(frozen=True, slots=True)
class Call:
    #: LENGTH, STARTS_WITH, HOUR or WEEKDAY.
    func: str
    args: tuple[Expr, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Compare:
    op: str
    left: Expr
    right: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class In:
    negated: bool
    item: Expr
    container: ListLit | Path
    span: Span


@dataclass(frozen=True, slots=True)
class Between:
    negated: bool
    operand: Expr
    low: Expr
    high: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class IsNull:
    negated: bool
    operand: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class Matches:
    operand: Expr
    pattern: str
    span: Span
    pattern_span: Span


@dataclass(frozen=True, slots=True)
class Not:
    operand: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class And:
    operands: tuple[Expr, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Or:
    operands: tuple[Expr, ...]
    span: Span


Expr = (
    Path
    | Literal
    | ListLit
    | Now
    | Call
    | Compare
    | In
    | Between
    | IsNull
    | Matches
    | Not
    | And
    | Or
)


@dataclass(frozen=True, slots=True)
class FieldType:
    #: string, int, decimal, bool, timestamp, duration, enum, set<string>, set<int>.
    kind: str
    #: Most characters (string) or members (sets); None for unbounded kinds.
    limit: int | None = None
    #: Enum members in declaration order.
    members: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FieldDecl:
    name: str
    type: FieldType
    nullable: bool
    span: Span


@dataclass(frozen=True, slots=True)
class RecordDecl:
    name: str
    nullable: bool
    members: tuple[FieldDecl | RecordDecl, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    version: str
    severity: Severity
    condition: Expr
    outcome: Outcome
    code: str
    #: Message template with ``{path}`` placeholders, as written (escapes resolved).
    message: str
    span: Span
    id_span: Span
    message_span: Span | None


@dataclass(frozen=True, slots=True)
class Bundle:
    id: str
    version: str
    jurisdiction: str
    default_outcome: Outcome
    default_code: str
    default_message: str
    schema: tuple[FieldDecl | RecordDecl, ...]
    rules: tuple[Rule, ...]
    #: File name used in diagnostics; not part of the policy hash.
    filename: str
    #: Source text, kept for caret diagnostics; not part of the policy hash.
    source: str
    #: Where the DEFAULT clause is, for diagnostics about its message.
    default_span: Span = Span(1, 1, 1, 2)
