"""Bundles and inputs shared by the policy tests (not a test module)."""

from __future__ import annotations

import copy
import datetime as dt

SMALL = """\
# Bank-account registry access policy (the example of docs/policy-language.md)
BUNDLE bank-registry VERSION 1.0.0
JURISDICTION FR
DEFAULT BLOCK CODE NO_RULE_MATCHED MESSAGE "No rule grants this access"

SCHEMA {
  agent {
    id: string(64)
    level: enum(AGENT, SUPERVISOR, AUDITOR)
    departments: set<int>(128)
  }
  mission? {
    status: enum(ACTIVE, SUSPENDED, CLOSED)
    start: timestamp
    end: timestamp
    timezone: string(64)
  }
  request {
    time: timestamp
    justification: string(2000)?
    limit: int
  }
  counters {
    requests_1h: int
  }
}

RULE CRUE_001 VERSION 1.2.0 SEVERITY HIGH
  WHEN counters.requests_1h >= 50
  THEN BLOCK CODE VOLUME_EXCEEDED
       MESSAGE "Agent {agent.id} made {counters.requests_1h} requests in the last hour (limit 50)"

RULE MISSION VERSION 1.0.0 SEVERITY CRITICAL
  WHEN mission IS NULL OR mission.status != 'ACTIVE'
    OR request.time < mission.start OR request.time > mission.end
  THEN BLOCK CODE MISSION_INACTIVE MESSAGE "No active mission for {agent.id}"

RULE HOURS VERSION 1.0.0 SEVERITY HIGH
  WHEN HOUR(request.time, mission.timezone) NOT BETWEEN 8 AND 18
  THEN BLOCK CODE OUTSIDE_MISSION_HOURS MESSAGE "Outside hours"

RULE SLOW VERSION 1.0.0 SEVERITY LOW
  WHEN request.limit > 50
  THEN WARN CODE LARGE_LIMIT MESSAGE "Limit {request.limit} is large"

RULE GRANT VERSION 1.0.0 SEVERITY LOW
  WHEN agent.level IN ['AGENT', 'SUPERVISOR']
  THEN ALLOW CODE ACCESS_GRANTED MESSAGE "Access granted to {agent.id}"
"""

NOW = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)

GOOD_INPUT: dict[str, object] = {
    "agent": {"id": "A-1", "level": "AGENT", "departments": [75, 92]},
    "mission": {
        "status": "ACTIVE",
        "start": "2026-01-01T00:00:00Z",
        "end": "2026-12-31T00:00:00Z",
        "timezone": "Europe/Paris",
    },
    "request": {"time": "2026-03-01T09:30:00Z", "justification": None, "limit": 10},
    "counters": {"requests_1h": 3},
}


def good_input() -> dict[str, object]:
    return copy.deepcopy(GOOD_INPUT)


def bundle(schema: str, *rules: str, default: str = "BLOCK") -> str:
    """A bundle text with the given schema body and rule texts."""
    head = f"BUNDLE t VERSION 1.0.0 JURISDICTION FR DEFAULT {default}\nSCHEMA {{ {schema} }}\n"
    return head + "\n".join(rules) + "\n"


def rule(rid: str, when: str, outcome: str = "BLOCK", severity: str = "HIGH") -> str:
    return f"RULE {rid} VERSION 1.0.0 SEVERITY {severity} WHEN {when} THEN {outcome} CODE C_{rid}"
