"""Decision service throughput (loopback only; bounded in time; prints, never asserts).

1. HTTPS with mTLS, one uvicorn worker (httptools + the mTLS protocol), in a child
   process: sustained POST /v1/decisions (real policy, counters, V2 envelopes in
   batch mode, durable SQLite ledger append before each answer) next to two empty
   FastAPI endpoints on the same app and stack, same run: a sync one (``def``: run
   in the thread pool) and an async one (``async def``, like the decision route: on
   the event loop); p50/p95/p99 latency and the ratio to each. The client is an
   asyncio load generator in this process with keep-alive connections, one client
   certificate (agent) per connection. Also the server's CPU per request (the
   figure other load on a shared machine bends least), the part of it spent on
   the event loop (the main thread: TLS, HTTP, the app; the rest is mostly the
   thread deciding the queued requests in groups), and the mean group size.
2. In process: the pipeline on batches (decide_many), in batch-signing mode and
   in per-decision composite (ML-DSA-65 + ECDSA P-384) signing mode.

    python bench/service.py [--seconds 4] [--connections 16]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import multiprocessing as mp
import os
import socket
import ssl
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from rsrp.api import (  # noqa: E402
    DecisionRequest,
    Settings,
    create_app,
    decide_many,
    server_ssl_context,
)
from rsrp.api.devpki import ensure_dev_pki  # noqa: E402
from rsrp.cli.serve import EXAMPLE_REQUEST  # noqa: E402
from rsrp.context import Agent, Level, Mission, MissionStatus, Perimeter  # noqa: E402

EXAMPLE = ROOT / "examples" / "bank-registry"
REQUEST = EXAMPLE_REQUEST


def settings_for(tmp: Path, mode: str = "batch") -> Settings:
    return Settings(
        database={"url": f"sqlite:///{tmp}/rsrp.db"},  # type: ignore[arg-type]
        context={"directory": EXAMPLE / "context"},  # type: ignore[arg-type]
        policy={"bundle": EXAMPLE / "policy.rsrp"},  # type: ignore[arg-type]
        keys={
            "store": f"file:{tmp}/keys?jurisdiction=FR",
            "passphrase": "bench passphrase",
            "signing_mode": mode,
        },  # type: ignore[arg-type]
        ledger={"checkpoint_every": 4096, "checkpoint_interval_ms": 500},  # type: ignore[arg-type]
        limits={"rate_per_second": 1e6, "burst": 1_000_000},  # type: ignore[arg-type]
    )


def add_agents(app: Any, n: int) -> list[str]:
    import datetime as dt

    reg = app.state.service.registry
    now = dt.datetime.now(dt.UTC)
    names = [f"bench-{i:03d}" for i in range(n)]
    for name in names:
        reg.put_agent(Agent(name, "dgfip", Level.AGENT, Perimeter.NATIONAL, frozenset()))
        reg.put_mission(
            Mission(f"M-{name}", name, MissionStatus.ACTIVE, now - dt.timedelta(days=1),
                    now + dt.timedelta(days=1), 0, 24, "Europe/Paris")
        )  # fmt: skip
    return names


def _serve(tmp: str, port: int, agents: int, ready: Any) -> None:
    import uvicorn

    from rsrp.api import MtlsHttpToolsProtocol

    pki = Path(tmp) / "pki"
    app = create_app(settings_for(Path(tmp)))
    add_agents(app, agents)

    @app.get("/bench/empty")
    def empty() -> dict[str, str]:
        return {}

    @app.get("/bench/empty-async")
    async def empty_async() -> dict[str, str]:
        return {}

    @app.get("/bench/groups")
    async def groups() -> dict[str, float]:
        """Decision groups so far (rsrp_decision_group_size): count and decisions."""
        h = app.state.service.metrics.group_size
        got = {s.name: s.value for s in h.collect()[0].samples if not s.labels}
        return {"groups": got["rsrp_decision_group_size_count"],
                "decisions": got["rsrp_decision_group_size_sum"]}  # fmt: skip

    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, http=MtlsHttpToolsProtocol, log_level="error",
        access_log=False, ssl_certfile=str(pki / "server.pem"), ssl_keyfile=str(pki / "server.key"),
        ssl_ca_certs=str(pki / "ca.pem"), ssl_cert_reqs=ssl.CERT_REQUIRED,
        ssl_context_factory=server_ssl_context,  # the TLS settings `rsrp serve` uses
    )  # fmt: skip
    server = uvicorn.Server(config)
    gc.freeze()  # as `rsrp serve` does (rsrp.cli.serve.serve_app)
    ready.set()
    server.run()


async def _conn(
    port: int, ctx: ssl.SSLContext, request: bytes, until: float, lat: list[float]
) -> int:
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", port, ssl=ctx, server_hostname="localhost"
    )
    n = 0
    while time.perf_counter() < until:
        t0 = time.perf_counter()
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        body = await reader.readexactly(length)
        if not head.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(head[:200] + body[:200])
        lat.append(time.perf_counter() - t0)
        n += 1
    writer.close()
    return n


def load(
    port: int, pki: Path, agents: list[str], path: str, body: bytes | None, seconds: float
) -> dict[str, float]:
    async def run() -> tuple[int, list[float], float]:
        lat: list[float] = []
        ctxs = []
        for a in agents:
            ctx = ssl.create_default_context(cafile=str(pki / "ca.pem"))
            ctx.load_cert_chain(str(pki / f"client-{a}.pem"), str(pki / f"client-{a}.key"))
            ctxs.append(ctx)
        method = b"POST" if body is not None else b"GET"
        req = method + b" " + path.encode() + b" HTTP/1.1\r\nHost: localhost\r\n"
        if body is not None:
            req += (
                b"Content-Type: application/json\r\nContent-Length: "
                + str(len(body)).encode()
                + b"\r\n"
            )
        req += b"\r\n" + (body or b"")
        # warm-up (handshakes, caches), then measure
        await asyncio.gather(*(_conn(port, c, req, time.perf_counter() + 0.5, []) for c in ctxs))
        t0 = time.perf_counter()
        counts = await asyncio.gather(*(_conn(port, c, req, t0 + seconds, lat) for c in ctxs))
        return sum(counts), lat, time.perf_counter() - t0

    n, lat, elapsed = asyncio.run(run())
    q = statistics.quantiles(lat, n=100)
    return {"rps": n / elapsed, "p50": q[49] * 1e3, "p95": q[94] * 1e3, "p99": q[98] * 1e3, "n": n}


def _get_json(port: int, pki: Path, agent: str, path: str) -> Any:
    import http.client

    ctx = ssl.create_default_context(cafile=str(pki / "ca.pem"))
    ctx.load_cert_chain(str(pki / f"client-{agent}.pem"), str(pki / f"client-{agent}.key"))
    conn = http.client.HTTPSConnection("localhost", port, context=ctx, timeout=10)
    try:
        conn.request("GET", path)
        return json.loads(conn.getresponse().read())
    finally:
        conn.close()


def _cpu_s(pid: int, thread: bool = False) -> float:
    """User + system CPU seconds of process ``pid`` so far (Linux /proc, clock ticks);
    with ``thread``, of its main thread only (the server's event loop)."""
    stat = f"/proc/{pid}/task/{pid}/stat" if thread else f"/proc/{pid}/stat"
    fields = Path(stat).read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def in_process(mode: str, seconds: float, batch: int) -> tuple[float, int, float]:
    """(decisions/s, decisions, CPU µs per decision over all of this process's threads)."""
    tmp = Path(tempfile.mkdtemp(prefix=f"rsrp-bench-{mode}-"))
    app = create_app(settings_for(tmp, mode))
    agents = add_agents(app, 200)
    pipeline = app.state.service.pipeline
    i = n = 0
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        reqs = [
            DecisionRequest(agents[(i + k) % len(agents)], None, f"acct-{i + k}", REQUEST, 5)
            for k in range(batch)
        ]
        n += len(decide_many(pipeline, reqs))
        i += batch
    elapsed = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    app.state.service.close()
    return n / elapsed, n, cpu / n * 1e6


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--batch", type=int, default=256)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="rsrp-bench-http-"))
    agents = [f"bench-{i:03d}" for i in range(args.connections)]
    ensure_dev_pki(tmp / "pki", clients=agents)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    ready = mp.get_context("fork").Event()
    proc = mp.get_context("fork").Process(
        target=_serve, args=(str(tmp), port, args.connections, ready)
    )
    proc.start()
    ready.wait(60)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.is_alive():
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    try:
        body = json.dumps({"request": REQUEST, "account": "FR76..."}).encode()
        phases = {}
        pid = proc.pid
        assert pid is not None
        for path, payload in (
            ("/bench/empty", None),
            ("/bench/empty-async", None),
            ("/v1/decisions", body),
        ):
            # The server's CPU per request: a figure other load on the machine bends less
            # than wall-clock throughput does.
            cpu0, loop0 = _cpu_s(pid), _cpu_s(pid, thread=True)
            r = load(port, tmp / "pki", agents, path, payload, args.seconds)
            r["cpu_us"] = (_cpu_s(pid) - cpu0) / r["n"] * 1e6
            r["loop_us"] = (_cpu_s(pid, thread=True) - loop0) / r["n"] * 1e6
            phases[path] = r
        groups = _get_json(port, tmp / "pki", agents[0], "/bench/groups")
        empty, empty_async = phases["/bench/empty"], phases["/bench/empty-async"]
        decide = phases["/v1/decisions"]
    finally:
        proc.terminate()
        proc.join(10)
    print(
        f"rsrp bench/service.py: loopback, {os.cpu_count()} cores, 1 uvicorn worker, "
        f"{args.connections} keep-alive mTLS connections, {args.seconds:.0f} s per phase"
    )
    print(
        f"{'endpoint':38} {'req/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
        f"{'requests':>9} {'server CPU us/req':>18} {'of which event loop':>20}"
    )
    rows = (
        ("GET /bench/empty (sync def, same app)", empty),
        ("GET /bench/empty-async (async def)", empty_async),
        ("POST /v1/decisions", decide),
    )
    for name, r in rows:
        print(
            f"{name:38} {r['rps']:9.0f} {r['p50']:8.2f} {r['p95']:8.2f} "
            f"{r['p99']:8.2f} {r['n']:9.0f} {r['cpu_us']:18.0f} {r['loop_us']:20.0f}"
        )
    print(
        f"decision endpoint / empty endpoint throughput: {decide['rps'] / empty['rps']:.0%} "
        f"of the sync one, {decide['rps'] / empty_async['rps']:.0%} of the async one; "
        f"server CPU per request: empty/decision {empty['cpu_us'] / decide['cpu_us']:.0%} "
        f"(sync), {empty_async['cpu_us'] / decide['cpu_us']:.0%} (async)"
    )
    if groups["groups"]:
        print(
            f"decisions per group decided together (one ledger commit): "
            f"{groups['decisions'] / groups['groups']:.1f} on average (warm-up included)"
        )
    for mode in ("batch", "per-decision"):
        rate, n, cpu_us = in_process(mode, args.seconds, args.batch)
        print(
            f"in-process pipeline, {mode:12} signing: {rate:9.0f} decisions/s "
            f"({n} in batches of {args.batch}; {cpu_us:.0f} us CPU per decision)"
        )


if __name__ == "__main__":
    main()
