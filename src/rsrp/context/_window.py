"""In-memory sliding windows over ``decision_events``: the same counts as the SQL.

A mirror of the rows of the last 25 hours, per agent, kept by :class:`EventLog`
in step with its own committed writes (never with the request body). Each count
is a binary search, not a scan of the agent's history:

* requests in a window: the agent's event times, sorted;
* distinct accounts touched in the last hour: for each account the time of its
  latest granted event, sorted (an account counts iff that time is in the window);
* last result count: granted events in id order, newest first until one is in
  the 24-hour window (the first one, unless the clock went backwards).

A request more than an hour older than the newest time seen would need rows the
mirror already dropped: :meth:`Windows.covers` says so and the caller counts in SQL.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from rsrp.context._model import Counters

__all__ = ["DAY_US", "GRANTED", "HOUR_US", "Windows"]

HOUR_US = 3_600_000_000
DAY_US = 24 * HOUR_US
#: Outcomes that let data through (V1 codes ALLOW=1, WARN=3) count as accounts touched.
GRANTED = (1, 3)
#: Rows kept: the 24-hour window plus one hour of slack for a clock that steps back.
_RETAIN_US = DAY_US + HOUR_US
#: Reservations between two sweeps of every agent's old rows.
_SWEEP_EVERY = 4096


@dataclass(slots=True)
class _Agent:
    ats: list[int] = field(default_factory=list)
    #: account digest → time of its latest granted event; and those times, sorted.
    latest: dict[str, int] = field(default_factory=dict)
    latest_sorted: list[int] = field(default_factory=list)
    #: (event id, time, result count) of granted events, in id order.
    granted: list[tuple[int, int, int]] = field(default_factory=list)

    def grant(self, event_id: int, at_us: int, account: str | None, result_count: int) -> None:
        bisect.insort(self.granted, (event_id, at_us, result_count))
        if account is None:
            return
        old = self.latest.get(account)
        if old is not None:
            if old >= at_us:
                return
            # ``old`` may be stale (its time already pruned from the sorted list; nothing
            # at or before a cutoff is ever added back, so an equal value is not there).
            i = bisect.bisect_left(self.latest_sorted, old)
            if i < len(self.latest_sorted) and self.latest_sorted[i] == old:
                del self.latest_sorted[i]
        self.latest[account] = at_us
        bisect.insort(self.latest_sorted, at_us)

    def prune(self, cutoff: int) -> None:
        """Drop rows at or before ``cutoff`` (out of reach of every window we count).

        The work is proportional to what is dropped, not to what is kept: the sorted
        lists lose a prefix; granted rows (id order) lose their old head, and a rare
        straggler (clock stepped back) stays until then, harmless since every count
        checks times; the account map is cleaned once it is mostly stale.
        """
        if k := bisect.bisect_right(self.ats, cutoff):
            del self.ats[:k]
        if k := bisect.bisect_right(self.latest_sorted, cutoff):
            del self.latest_sorted[:k]
            if len(self.latest) > 2 * len(self.latest_sorted) + 16:
                self.latest = {a: t for a, t in self.latest.items() if t > cutoff}
        i = 0
        while i < len(self.granted) and self.granted[i][1] <= cutoff:
            i += 1
        if i:
            del self.granted[:i]


class Windows:
    """Per-agent counts of the rows of ``decision_events`` this process mirrors."""

    def __init__(self) -> None:
        self._agents: dict[str, _Agent] = {}
        #: Reserved, not yet completed: event id → (agent, time, account digest).
        self._pending: dict[int, tuple[str, int, str | None]] = {}
        #: The newest event time seen; rows older than it minus 25 h are dropped.
        self.high_water = 0
        self._since_sweep = 0

    def covers(self, at_us: int) -> bool:
        """True when the mirror holds every row a request at ``at_us`` can count."""
        return at_us >= self.high_water - HOUR_US

    def counters(self, agent_id: str, at_us: int) -> Counters:
        """The counts of the agent's mirrored rows, as ``EventLog._count`` (requires covers)."""
        w = self._agents.get(agent_id)
        if w is None:
            return Counters(0, 0, 0, 0)
        hour, day = at_us - HOUR_US, at_us - DAY_US
        n = len(w.ats)
        last = 0
        for _, g_at, g_count in reversed(w.granted):
            if g_at > day:
                last = g_count
                break
        return Counters(
            requests_1h=n - bisect.bisect_right(w.ats, hour),
            requests_24h=n - bisect.bisect_right(w.ats, day),
            last_result_count=last,
            distinct_accounts_1h=len(w.latest_sorted) - bisect.bisect_right(w.latest_sorted, hour),
        )

    def add(
        self,
        event_id: int,
        agent_id: str,
        at_us: int,
        account: str | None,
        outcome: int | None = None,
        result_count: int = 0,
    ) -> None:
        """Mirror one row (pending when ``outcome`` is None)."""
        if at_us > self.high_water:
            self.high_water = at_us
        cutoff = self.high_water - _RETAIN_US
        if at_us <= cutoff:
            return  # no window of a request we count in memory reaches it
        w = self._agents.get(agent_id)
        if w is None:
            w = self._agents[agent_id] = _Agent()
        if not w.ats or w.ats[-1] <= at_us:
            w.ats.append(at_us)
        else:
            bisect.insort(w.ats, at_us)
        if w.ats[0] <= cutoff:  # the cheap check; the sweep also filters granted rows
            del w.ats[: bisect.bisect_right(w.ats, cutoff)]
        if outcome is None:
            self._pending[event_id] = (agent_id, at_us, account)
        elif outcome in GRANTED:
            w.grant(event_id, at_us, account, result_count)
        self._since_sweep += 1
        if self._since_sweep >= _SWEEP_EVERY:
            self.sweep()

    def complete(self, event_id: int, outcome: int, result_count: int) -> bool:
        """Mirror a pending row's completion; False if the row is not pending here."""
        got = self._pending.pop(event_id, None)
        if got is None:
            return False
        agent_id, at_us, account = got
        if outcome in GRANTED and at_us > self.high_water - _RETAIN_US:
            self._agents[agent_id].grant(event_id, at_us, account, result_count)
        return True

    def sweep(self) -> None:
        """Drop rows no counted window can reach any more (agents, pending rows)."""
        self._since_sweep = 0
        cutoff = self.high_water - _RETAIN_US
        for agent_id in list(self._agents):
            w = self._agents[agent_id]
            w.prune(cutoff)
            if not w.ats and not w.latest_sorted and not w.granted:
                del self._agents[agent_id]
        self._pending = {i: p for i, p in self._pending.items() if p[1] > cutoff}
