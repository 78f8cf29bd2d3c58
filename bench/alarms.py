"""Alarm load benchmark (issue 19): 2,000 tablets connected to one web process, 50 of them
raise the alarm at the same moment; every console (3) must show all 50 within 2 s.

    .venv/bin/python bench/alarms.py [--tablets 2000] [--alarms 50] [--consoles 3]

Starts the server as the Procfile does (gunicorn, one gevent worker) on a fresh SQLite database
(``_clients.prepare``: a register, the cars, their device tokens), connects every tablet to
``/field`` (python-socketio's asyncio client, 100 at a time) and the consoles to ``/console``
with an operator's token, then lets ``--alarms`` tablets emit ``patrol.alarm`` at once (as the
tablet's outbox sends it: event id, kind, position) and times, per console and alarm, from the
tablet's emit to that console's ``patrol.alarm`` event. Baseline in the same run, before the
alarms: the bare Socket.IO round trip, a tablet's ``ping`` with acknowledgement. Then a console
reloading: ``GET /api/v1/alarms/board`` with every alarm standing.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import socketio
from _clients import Server, pct, prepare, rss_mb

GOAL_S = 2.0


class Tablet:
    def __init__(self, url: str, token: str, call_sign: str):
        self.client = socketio.AsyncClient(reconnection=False)
        self.url, self.token, self.call_sign = url, token, call_sign

    async def connect(self) -> None:
        await self.client.connect(self.url, namespaces=["/field"], transports=["websocket"],
                                  auth={"token": self.token, "call_sign": self.call_sign},
                                  wait_timeout=60)

    async def ping(self) -> float:
        started = time.perf_counter()
        await self.client.call("ping", {}, namespace="/field", timeout=30)
        return time.perf_counter() - started

    async def alarm(self, sent: dict) -> dict:
        sent[self.call_sign] = time.perf_counter()
        return await self.client.call("patrol.alarm", {
            "event_id": f"bench-{self.call_sign}", "kind": "alarm", "lat": 59.31,
            "lon": 18.07, "accuracy_m": 10}, namespace="/field", timeout=60)


class Console:
    """An operator's console: when each car's alarm arrived (its first, unacknowledged one)."""

    def __init__(self, url: str, token: str, wanted: int):
        self.client = socketio.AsyncClient(reconnection=False)
        self.url, self.token, self.wanted = url, token, wanted
        self.arrived: dict[str, float] = {}
        self.all_in = asyncio.Event()
        self.client.on("patrol.alarm", self.on_alarm, namespace="/console")

    async def connect(self) -> None:
        await self.client.connect(self.url, namespaces=["/console"], transports=["websocket"],
                                  auth={"token": self.token}, wait_timeout=60)

    async def on_alarm(self, alarm: dict) -> None:
        if alarm.get("acknowledged_at") is None:
            self.arrived.setdefault(alarm["call_sign"], time.perf_counter())
            if len(self.arrived) >= self.wanted:
                self.all_in.set()


async def run(args) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="bench-alarms-"))
    print(f"alarm benchmark: {args.tablets} tablets, {args.alarms} alarms at once, "
          f"{args.consoles} consoles, in {workdir}")
    env, _addresses, credentials = prepare(workdir, args.tablets)
    server = Server("web", env, workdir)
    url = env["BASE_URL"]
    headers = {"Authorization": f"Bearer {env['OPERATOR_TOKEN']}"}
    try:
        async with aiohttp.ClientSession() as http:
            await server.ready(http)
            worker = server.pid
            before = rss_mb(worker)
            tablets = [Tablet(url, t, c) for t, c in credentials]
            started = time.perf_counter()
            for start in range(0, len(tablets), 100):
                await asyncio.gather(*(t.connect() for t in tablets[start:start + 100]))
            connect_s = time.perf_counter() - started
            consoles = [Console(url, env["OPERATOR_TOKEN"], args.alarms)
                        for _ in range(args.consoles)]
            await asyncio.gather(*(c.connect() for c in consoles))
            after = rss_mb(worker)
            rng = random.Random(19)
            pings = [await rng.choice(tablets).ping() for _ in range(args.pings)]
            raising = rng.sample(tablets, args.alarms)
            sent: dict[str, float] = {}
            fired = time.perf_counter()
            answers = await asyncio.gather(*(t.alarm(sent) for t in raising))
            answered_s = time.perf_counter() - fired
            try:
                await asyncio.wait_for(asyncio.gather(*(c.all_in.wait() for c in consoles)),
                                       timeout=60)
            except TimeoutError:
                pass
            board_started = time.perf_counter()
            async with http.get(f"{url}/api/v1/alarms/board", headers=headers) as r:
                board = await r.json()
            board_ms = (time.perf_counter() - board_started) * 1000
            for t in tablets:
                await t.client.disconnect()
            for c in consoles:
                await c.client.disconnect()
    finally:
        server.stop()
    refused = [a for a in answers if not a.get("ok")]
    latencies, missing = [], 0
    for console in consoles:
        for tablet in raising:
            if tablet.call_sign in console.arrived:
                latencies.append((console.arrived[tablet.call_sign] - sent[tablet.call_sign])
                                 * 1000)
            else:
                missing += 1
    ping_ms = [x * 1000 for x in pings]
    worst = max(latencies) if latencies else float("nan")
    print(f"connected {args.tablets} tablets in {connect_s:.1f} s; "
          f"{args.alarms} alarms answered to their tablets in {answered_s * 1000:.0f} ms "
          f"({len(refused)} refused)")
    print()
    print(f"{'':34}{'ours':>10}{'baseline':>10}")
    print(f"{'p50 latency, ms':34}{pct(latencies, 0.5):10.1f}{pct(ping_ms, 0.5):10.1f}")
    print(f"{'p99 latency, ms':34}{pct(latencies, 0.99):10.1f}{pct(ping_ms, 0.99):10.1f}")
    print(f"{'min latency, ms':34}{min(latencies):10.1f}{min(ping_ms):10.1f}")
    print(f"{'max latency, ms':34}{worst:10.1f}{max(ping_ms):10.1f}")
    print(f"ours: a tablet's patrol.alarm emitted -> patrol.alarm at a console "
          f"({len(latencies)} = {args.alarms} alarms x {args.consoles} consoles, "
          f"{missing} missing)")
    print(f"baseline: a tablet's ping emitted with acknowledgement -> acknowledgement received "
          f"({args.pings} pings, before the alarms)")
    print(f"a console reloading: GET /api/v1/alarms/board with {len(board['standing'])} "
          f"standing in {board_ms:.0f} ms")
    per = (after - before) * 1024 / args.tablets
    print(f"web worker RSS: {before:.0f} MiB idle, {after:.0f} MiB with {args.tablets} tablets "
          f"= {per:.1f} KiB per connected tablet")
    ok = not missing and not refused and worst <= GOAL_S * 1000
    print(f"goal: every console shows all {args.alarms} alarms within {GOAL_S:.0f} s: "
          f"{'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tablets", type=int, default=2000)
    parser.add_argument("--alarms", type=int, default=50)
    parser.add_argument("--consoles", type=int, default=3)
    parser.add_argument("--pings", type=int, default=200)
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
