"""The compiled policy engine: ``Engine.load(path)`` then ``engine.decide(input, now=...)``."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import re2

from rsrp.canonical import canonical_hash
from rsrp.errors import PolicyError
from rsrp.policy import _ast as a
from rsrp.policy import _runtime as rt
from rsrp.policy import _schema as sc
from rsrp.policy._check import check
from rsrp.policy._codegen import generate
from rsrp.policy._errors import (
    Diagnostic,
    InputValidationError,
    PolicyCheckError,
    PolicySyntaxError,
)
from rsrp.policy._fastnew import make_explanation, make_lazy
from rsrp.policy._hashing import bytecode_hash, policy_hash
from rsrp.policy._message import message_function
from rsrp.policy._parser import MAX_SOURCE_BYTES, parse
from rsrp.policy._validate import nested, validate
from rsrp.policy._values import parse_rfc3339
from rsrp.policy.decision import Decision, MatchedRule, Outcome, RuleExplanation

__all__ = ["EVALUATION_ERROR", "Engine"]

log = logging.getLogger("rsrp.policy")

#: Code of every decision that failed closed (docs/policy-language.md, Failing closed).
EVALUATION_ERROR = "EVALUATION_ERROR"
_MASK_CACHE_MAX = 4096


class _Bad(Exception):  # noqa: N818 - internal signal, never escapes the engine
    """The generated validator rejected the input; the reference walker says why."""


def _enc_int_checked(v: int) -> bytes:
    if not -sc.MAX_INT < v < sc.MAX_INT:
        raise _Bad
    return rt.enc_int(v)


#: Everything about a decision that depends only on which rules matched:
#: (outcome, code, matched rules in decision order, deciding rule id or None).
_Verdict = tuple[Outcome, str, tuple[MatchedRule, ...], str | None]


def _materialize(tagged: object, value: object) -> object:
    if isinstance(tagged, list) and tagged and tagged[0] == "zone":
        return rt.zone(str(tagged[1]))
    if isinstance(tagged, list) and tagged and tagged[0] == "re2":
        return re2.compile(str(tagged[1]))
    return value


def _namespace() -> dict[str, Any]:
    return {
        "_Bad": _Bad,
        "_sha256": hashlib.sha256,
        "_ts_get": rt.ts_cache_get,
        "_ts_entry": rt.timestamp_entry,
        "_conv_decimal": sc.to_decimal,
        "_conv_duration": sc.to_duration,
        "_conv_sset": sc.to_string_set,
        "_conv_iset": sc.to_int_set,
        "_SMALL": tuple(rt.enc_int(i) for i in range(1024)),
        "_enc_int_checked": _enc_int_checked,
        "_enc_str": rt.enc_str_cached,
        "_str_get": rt.STR_CACHE.get,
        "_set_get": rt.SET_CACHE.get,
        "_enc_decimal": rt.enc_decimal,
        "_enc_duration": rt.enc_duration,
        "_enc_set": rt.enc_set_cached,
        "_enc_iset": rt.enc_int_set,
        "_NULLB": b"\x00",
        "_zone": rt.zone,
        "_between": rt.between,
        "_UNSET": object(),
        "_ZONES": rt.ZONES,
        "_HDR": rt.HDR,
        "_INTT": frozenset({int}),
        "_STRT": frozenset({str}),
        "_jstr": rt.json_string,
        "_RX": make_explanation,
        "_lazy": make_lazy,
        "_js": rt.json_text,
        "_mt": rt.message_text,
    }


class Engine:
    """One compiled bundle (see the package docstring for an example).

    Thread-safe: decisions share only immutable state and caches whose updates
    are single dict operations.
    """

    def __init__(self, bundle: a.Bundle) -> None:
        """Check and compile ``bundle``; raises PolicyCheckError when checks find errors."""
        self.diagnostics: tuple[Diagnostic, ...] = check(bundle)
        if any(d.severity == "error" for d in self.diagnostics):
            raise PolicyCheckError(self.diagnostics, bundle.source)
        self.bundle = bundle
        self.schema = sc.build_schema(bundle.schema)
        gen = generate(self.schema, bundle.rules, bundle.default_message)
        #: The generated Python source; its hash is the bytecode_hash.
        self.source = gen.source
        self.rules = gen.rules
        self.policy_hash = policy_hash(bundle)
        self.bytecode_hash = bytecode_hash(self.source, gen.consts.tagged)
        self._matched = [
            MatchedRule(r.id, r.version, r.outcome, r.code, r.severity) for r in gen.rules
        ]
        self._verdicts: dict[int, _Verdict] = {}
        ns = _namespace()
        ns["_V"] = self._verdicts
        ns["_verdict"] = self._verdict
        ns["_IDENT"] = (
            bundle.id,
            bundle.version,
            bundle.jurisdiction,
            self.policy_hash,
            self.bytecode_hash,
        )
        for i, (tagged, value) in enumerate(zip(gen.consts.tagged, gen.consts.values, strict=True)):
            ns[f"_K{i}"] = _materialize(tagged, value)
        exec(compile(self.source, f"<rsrp-policy {bundle.id}>", "exec"), ns)  # noqa: S102 - our own generated code
        message = message_function(self.source, f"<rsrp-policy {bundle.id}>")
        if message is not None:
            exec(message, ns)  # noqa: S102 - derived from our own generated code
            # A LazyDecision holds ``explain``; this lets it render the message alone.
            ns["explain"].message_only = ns["message"]
        self._fn: Callable[[object, dt.datetime], Decision] = ns["decide"]

    @classmethod
    def from_text(cls, text: str, filename: str = "<policy>") -> Engine:
        """Parse, check and compile a bundle held in memory."""
        return cls(parse(text, filename))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Engine:
        """Read, parse, check and compile a bundle file (UTF-8, at most 1 MiB)."""
        p = Path(path)
        try:
            with p.open("rb") as f:
                raw = f.read(MAX_SOURCE_BYTES + 1)
        except OSError as e:
            raise PolicyError(f"cannot read policy bundle {p}: {e.strerror or e}") from e
        start = a.Span(1, 1, 1, 2)
        if len(raw) > MAX_SOURCE_BYTES:
            raise PolicySyntaxError(
                f"bundle larger than {MAX_SOURCE_BYTES} bytes", str(p), start, ""
            )
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise PolicySyntaxError(f"not UTF-8 (byte {e.start})", str(p), start, "") from e
        return cls.from_text(text, str(p))

    # -- deciding -----------------------------------------------------------------

    def _verdict(self, mask: int) -> _Verdict:
        picked = [i for i in range(len(self.rules)) if mask >> i & 1]
        if picked:
            first = self.rules[picked[0]]
            matched = tuple(self._matched[i] for i in picked)
            verdict: _Verdict = (first.outcome, first.code, matched, first.id)
        else:
            b = self.bundle
            verdict = (b.default_outcome, b.default_code, (), None)
        if len(self._verdicts) < _MASK_CACHE_MAX:
            self._verdicts[mask] = verdict
        return verdict

    def decide(self, data: object, now: dt.datetime | str) -> Decision:
        """Decide ``data`` at evaluation time ``now`` (NOW): an aware datetime or an
        RFC 3339 string. Never raises: any error gives BLOCK / EVALUATION_ERROR."""
        try:
            if not isinstance(now, dt.datetime):
                if not isinstance(now, str):
                    raise PolicyError("now must be a time-zone aware datetime")
                now = parse_rfc3339(now)
            elif now.utcoffset() is None:
                raise PolicyError("now must be a time-zone aware datetime")
            return self._fn(data, now)
        except _Bad:
            return self._failed(data, now, self._why_invalid(data))
        except Exception as e:
            return self._failed(data, now, e)

    def decide_many(
        self,
        inputs: Iterable[object],
        now: dt.datetime | str | Sequence[dt.datetime | str],
    ) -> list[Decision]:
        """Decide each input; ``now`` is one time for all or one per input.

        Raises PolicyError only when the number of times and inputs differ."""
        items = list(inputs)
        if isinstance(now, dt.datetime | str):
            return [self.decide(x, now) for x in items]
        times = list(now)
        if len(times) != len(items):
            raise PolicyError(f"{len(items)} inputs but {len(times)} evaluation times")
        return [self.decide(x, t) for x, t in zip(items, times, strict=True)]

    def validate(self, data: object) -> dict[str, object]:
        """The validated input (every field present, typed); raises InputValidationError."""
        values, present = validate(self.schema, data)
        return nested(self.schema, values, present)  # type: ignore[return-value]

    def _why_invalid(self, data: object) -> Exception:
        try:
            validate(self.schema, data)
        except InputValidationError as e:
            return e
        except Exception as e:
            return e
        return InputValidationError((("input", "rejected by the compiled validator"),))

    def _failed(self, data: object, now: object, error: Exception) -> Decision:
        text = f"{type(error).__name__}: {error}"
        log.warning("policy %s failed closed: %s", self.bundle.id, text)
        try:
            input_hash = canonical_hash(data)  # type: ignore[arg-type]
        except Exception:
            input_hash = bytes(32)
        # A missing or naive ``now`` is itself the error; record the epoch, never a guess.
        when = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
        if isinstance(now, dt.datetime) and now.utcoffset() is not None:
            when = now
        b = self.bundle
        message = f"evaluation failed: {text}"
        explained = RuleExplanation(EVALUATION_ERROR, (("error", json.dumps(text)),), message)
        return Decision(
            Outcome.BLOCK,
            EVALUATION_ERROR,
            message,
            (),
            (explained,),
            None,
            b.id,
            b.version,
            b.jurisdiction,
            self.policy_hash,
            self.bytecode_hash,
            input_hash,
            when,
            error=text,
        )
