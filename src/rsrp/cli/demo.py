"""``rsrp demo``: a scripted scenario against the running service, then an offline audit.

Several agents, a suspended mission, a regional perimeter, a quota breach that
first asks for approval and then blocks, a supervisor approval, an out-of-hours
attempt. Then it fetches a receipt and verifies it offline, and verifies the
whole ledger from the database with only the log's public key.
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets
import ssl
import time
import zoneinfo
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.table import Table

from rsrp.api import load_settings
from rsrp.api.devpki import issue_client, load_ca
from rsrp.api.offline import verify_ledger, verify_receipt
from rsrp.cli._errors import exit_on_rsrp_error
from rsrp.cli.serve import EXAMPLE_REQUEST, VAR
from rsrp.errors import ConfigError, ServiceError

__all__ = ["demo"]

console = Console(highlight=False, width=120)


@dataclass
class Step:
    scene: str
    agent: str
    decision: str
    code: str
    index: str


class _Demo:
    def __init__(self, url: str, var: Path) -> None:
        self.url = url
        self.pki = var / "pki"
        self.steps: list[Step] = []

    def client(self, principal: str) -> httpx.Client:
        ctx = ssl.create_default_context(cafile=str(self.pki / "ca.pem"))
        cert = self.pki / f"client-{principal}.pem"
        if not cert.exists():
            # A demo-only agent: the dev CA (which only `rsrp run` uses) certifies it.
            issue_client(load_ca(self.pki), principal).write(self.pki, f"client-{principal}")
        ctx.load_cert_chain(str(cert), str(self.pki / f"client-{principal}.key"))
        return httpx.Client(base_url=self.url, verify=ctx, timeout=30)

    def decide(self, scene: str, agent: str, **request: object) -> dict[str, Any]:
        with self.client(agent) as c:
            r = c.post(
                "/v1/decisions",
                json={"request": {**EXAMPLE_REQUEST, **request}, "account": f"FR76-{agent}"},
            )
        if r.status_code != 200:
            raise ServiceError(f"{scene}: HTTP {r.status_code}: {r.text[:200]}")
        d: dict[str, Any] = r.json()
        self.steps.append(Step(scene, agent, d["decision"], d["code"], str(d["ledger_index"])))
        return d

    def admin(self, method: str, path: str, body: dict[str, object]) -> None:
        with self.client("admin") as c:
            r = c.request(method, path, json=body)
        if r.status_code != 200:
            raise ServiceError(f"admin {path}: HTTP {r.status_code}: {r.text[:200]}")

    def new_agent(self, prefix: str, hours: tuple[int, int]) -> str:
        agent = f"{prefix}-{secrets.token_hex(3)}"
        self.admin(
            "PUT",
            f"/v1/agents/{agent}",
            {"org": "dgfip", "level": "AGENT", "perimeter": "NATIONAL", "departments": []},
        )
        now = dt.datetime.now(dt.UTC)
        self.admin(
            "PUT",
            f"/v1/missions/M-{agent}",
            {
                "agent": agent, "status": "ACTIVE", "timezone": "Europe/Paris",
                "start": (now - dt.timedelta(days=1)).isoformat(),
                "end": (now + dt.timedelta(days=30)).isoformat(),
                "hours_start": hours[0], "hours_end": hours[1],
            },
        )  # fmt: skip
        return agent


def _scenario(d: _Demo) -> tuple[str, str]:
    first = d.decide("routine account lookup", "agent-001")
    d.decide(
        "name search without justification",
        "agent-001",
        query_type="SEARCH_BY_NAME",
        justification=None,
    )
    d.decide("bulk extraction", "agent-001", query_type="BULK_EXTRACT")
    d.decide("regional agent, own department", "agent-002", account_department=92)
    d.decide("regional agent, other department", "agent-002", account_department=13)
    d.decide("suspended mission", "agent-003")
    paris_hour = dt.datetime.now(zoneinfo.ZoneInfo("Europe/Paris")).hour
    night = d.new_agent("agent-night", ((paris_hour + 1) % 24, (paris_hour + 2) % 24))
    d.decide("out-of-hours attempt", night)
    busy = d.new_agent("agent-busy", (0, 24))
    pending: str | None = None
    for i in range(1, 53):
        with d.client(busy) as c:
            r = c.post(
                "/v1/decisions",
                json={"request": {**EXAMPLE_REQUEST, "limit": 20}, "account": f"acct-{i}"},
            )
        body = r.json()
        step = Step(
            f"quota: request #{i}", busy, body["decision"], body["code"], str(body["ledger_index"])
        )
        if body["decision"] == "APPROVAL_REQUIRED" and pending is None:
            pending = body["request_id"]
            d.steps.append(step)
        if body["code"] == "VOLUME_EXCEEDED":
            d.steps.append(step)
            break
    if pending is None:
        raise ServiceError("the quota scenario never asked for approval")
    with d.client("supervisor-001") as c:
        listed = [a["decision_id"] for a in c.get("/v1/approvals").json()]
        if pending not in listed:
            raise ServiceError("the pending approval is not listed")
        r = c.post(
            f"/v1/approvals/{pending}",
            json={"decision": "APPROVE", "reason": "volume justified by case 2026-0142"},
        )
    a = r.json()
    d.steps.append(
        Step(
            "supervisor approves",
            "supervisor-001",
            a["decision"],
            a["code"],
            str(a["ledger_index"]),
        )
    )
    return first["request_id"], first["envelope"]


def demo(
    url: Annotated[str, typer.Option(help="The running service.")] = "https://127.0.0.1:8443",
    var: Annotated[Path, typer.Option(help="The directory `rsrp run` created.")] = VAR,
) -> None:
    """Run the scripted scenario against the service, then verify the ledger offline."""
    with exit_on_rsrp_error():
        if not (var / "log.vkey").exists():
            raise ConfigError(f"{var}/log.vkey not found: start the service with `rsrp run` first")
        settings = load_settings(var / "rsrp.toml")
        vkeys = [
            (var / name).read_text(encoding="utf-8").strip()
            for name in ("log.vkey", "log-mldsa44.vkey")
            if (var / name).exists()
        ]
        d = _Demo(url, var)
        request_id, _ = _scenario(d)
        with d.client("auditor-001") as c:
            for _ in range(100):
                r = c.get(f"/v1/decisions/{request_id}/receipt")
                if r.status_code == 200:
                    break
                time.sleep(0.1)
        rec = r.json()
        verified = verify_receipt(base64.b64decode(rec["envelope"]), rec["proof"], vkeys)
        table = Table(title="rsrp demo: decisions (every one is in the ledger)")
        for col in ("scene", "agent", "decision", "code", "ledger index"):
            table.add_column(col)
        for s in d.steps:
            table.add_row(s.scene, s.agent, s.decision, s.code, s.index)
        console.print(table)
        size = verified.inclusion.tree_size if verified.inclusion else "?"
        console.print(
            f"receipt of the first decision verified offline: index {rec['ledger_index']}, "
            f"evidence {verified.evidence}, checkpoint size {size}"
        )
        time.sleep(settings.ledger.checkpoint_interval_ms / 1000 * 2 + 0.2)
        report = verify_ledger(settings.database.url, vkeys)
        console.print(
            f"[bold green]ledger verified offline[/]: {report.size} entries, "
            f"checkpoint covers {report.checkpoint_size} (root {report.root.hex()[:16]}…), "
            f"outcomes {report.outcomes}, not yet checkpointed {report.uncovered}"
        )
