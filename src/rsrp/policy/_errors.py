"""Errors and diagnostics of the policy stage, all under :class:`rsrp.errors.PolicyError`."""

from __future__ import annotations

from dataclasses import dataclass

from rsrp.errors import PolicyError
from rsrp.policy._ast import Span

_SHOWN = 50

__all__ = [
    "Diagnostic",
    "InputValidationError",
    "PolicyCheckError",
    "PolicyEvaluationError",
    "PolicySyntaxError",
    "render_caret",
]


def render_caret(source: str, span: Span) -> str:
    """The source line of ``span`` and a caret line under its first line's text."""
    lines = source.splitlines() or [""]
    index = min(max(span.line, 1), len(lines)) - 1
    text = lines[index].expandtabs(1)
    start = max(span.col - 1, 0)
    end = span.end_col - 1 if span.end_line == span.line else len(text)
    width = max(1, min(end, len(text)) - start)
    return f"  {text}\n  {' ' * start}{'^' * width}"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One finding of ``rsrp policy check``: ``severity`` is ``error`` or ``warning``."""

    severity: str
    message: str
    span: Span
    filename: str
    #: Rule the finding is about, if any.
    rule_id: str | None = None

    def render(self, source: str) -> str:
        """``file:line:col: severity: message`` then the line and a caret under the text."""
        where = f"{self.filename}:{self.span.line}:{self.span.col}"
        return f"{where}: {self.severity}: {self.message}\n{render_caret(source, self.span)}"


class PolicySyntaxError(PolicyError):
    """The bundle text does not follow the grammar (docs/policy-language.md)."""

    def __init__(self, message: str, filename: str, span: Span, source: str) -> None:
        self.filename = filename
        self.span = span
        self.reason = message
        where = f"{filename}:{span.line}:{span.col}"
        super().__init__(f"{where}: syntax error: {message}\n{render_caret(source, span)}")


class PolicyCheckError(PolicyError):
    """Static checks found errors; ``diagnostics`` holds all findings, warnings included."""

    def __init__(self, diagnostics: tuple[Diagnostic, ...], source: str) -> None:
        self.diagnostics = diagnostics
        errors = [d for d in diagnostics if d.severity == "error"]
        text = "\n".join(d.render(source) for d in errors)
        super().__init__(f"{len(errors)} error(s) in the policy bundle\n{text}")


class InputValidationError(PolicyError):
    """The input does not match the bundle schema; ``problems`` lists every offending field."""

    def __init__(self, problems: tuple[tuple[str, str], ...]) -> None:
        #: (field path, what is wrong), in schema order then unknown fields.
        self.problems = problems
        # The message names at most _SHOWN problems so a hostile input with a million
        # unknown keys cannot produce a megabyte log line; ``problems`` keeps them all.
        listed = "; ".join(f"{path}: {why}" for path, why in problems[:_SHOWN])
        more = f"; and {len(problems) - _SHOWN} more" if len(problems) > _SHOWN else ""
        super().__init__(
            f"input does not match the schema ({len(problems)} problem(s)): {listed}{more}"
        )


class PolicyEvaluationError(PolicyError):
    """A rule could not be evaluated (unknown time zone, hostile value)."""
