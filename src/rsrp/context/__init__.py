"""Server-side request context: agents, organisations, missions and counters.

Everything security-relevant about a request (who, under which mission, how much
they already asked) comes from here, never from the request body. The snapshot a
decision used is hashed into ``state_hash``.

    >>> import datetime as dt, tempfile, pathlib
    >>> from rsrp.context import (Agent, ContextBuilder, Database, EventLog, Level,
    ...     Organisation, Perimeter, Registry, build_input)
    >>> db = Database(str(pathlib.Path(tempfile.mkdtemp()) / "ctx.db"))
    >>> reg = Registry(db)
    >>> reg.put_organisation(Organisation("dgfip", "DGFiP", "FR"))
    >>> reg.put_agent(Agent("a-1", "dgfip", Level.AGENT, Perimeter.NATIONAL, frozenset()))
    >>> builder = ContextBuilder(reg, EventLog(db))
    >>> now = dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC)
    >>> agent, mission = builder.resolve("a-1", None, now)
    >>> snap, _ = builder.snapshot(agent, mission, now, account="FR76...")
    >>> build_input(snap, {"limit": 5})["counters"]["requests_1h"]
    0
    >>> len(snap.state_hash())
    32
"""

from rsrp.context._builder import (
    SERVER_REQUEST_FIELDS,
    AgentDisabledError,
    ContextBuilder,
    build_input,
    choose_mission,
)
from rsrp.context._db import Database
from rsrp.context._errors import (
    ContextDataError,
    ContextStoreError,
    UnknownAgentError,
    UnknownMissionError,
)
from rsrp.context._events import EventLog, Reservation, account_digest
from rsrp.context._load import (
    ContextData,
    agent_from_value,
    agent_to_value,
    load_directory,
    mission_from_value,
    mission_to_value,
    organisation_from_value,
    organisation_to_value,
)
from rsrp.context._model import (
    Agent,
    ContextSnapshot,
    Counters,
    Level,
    Mission,
    MissionStatus,
    Organisation,
    Perimeter,
)
from rsrp.context._registry import Registry

__all__ = [
    "SERVER_REQUEST_FIELDS",
    "Agent",
    "AgentDisabledError",
    "ContextBuilder",
    "ContextData",
    "ContextDataError",
    "ContextSnapshot",
    "ContextStoreError",
    "Counters",
    "Database",
    "EventLog",
    "Level",
    "Mission",
    "MissionStatus",
    "Organisation",
    "Perimeter",
    "Registry",
    "Reservation",
    "UnknownAgentError",
    "UnknownMissionError",
    "account_digest",
    "agent_from_value",
    "agent_to_value",
    "build_input",
    "choose_mission",
    "load_directory",
    "mission_from_value",
    "mission_to_value",
    "organisation_from_value",
    "organisation_to_value",
]
