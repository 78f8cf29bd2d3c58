"""Shift load benchmark: a night shift on one web process on the default SQLite database.

    .venv/bin/python bench/shift_load.py [--tablets 500] [--minutes 5] [--server both|run|web]

For each server (``run``: ``dispatch run``, the single-process default that ``scripts/demo``
starts, threading; ``web``: the Procfile's gunicorn with one gevent worker), on a fresh
SQLite database with 500 register addresses and N cars (off duty, with device tokens):

- N tablets (python-socketio's asyncio client, websocket) connect, spread over 10 s; each
  goes on duty (``patrol.status`` available) and sends its position at once, then every
  15 s;
- an operator logs a complaint every 2 s at a random address (address search, ``POST
  /api/v1/complaints``) and dispatches it to the nearest available car (``POST
  /api/v1/jobs/{id}/dispatch {}``); that car's tablet acknowledges ``job.assigned`` and
  works it through ``accepted``, ``en_route``, ``on_site`` (``--step-s`` apart) to
  ``job.report``, which frees the car;
- every second a random tablet times a bare Socket.IO ``ping`` with acknowledgement: the
  baseline, measured in the same run under the same load.

Prints, per server: every acknowledgement by outcome (error acknowledgements must be 0; an
error is sent again with back-off, as the tablet does), refusals (a job the queue moved to
another car), jobs dispatched / delivered / reported, dispatch POST sent → ``job.assigned``
at the tablet (p50, p99, max) beside the ping, the serving process's RSS idle, with the
tablets and at the end, and the server log's count of "database is locked" and of errors.
Exit status 1 when any error acknowledgement or logged error occurred.

``--import-rows N``: 20 s into the shift, a new landlord's first register of N rows (made
by ``bench/import_register.py``'s generator) is imported with ``dispatch import-register``
beside the running server, as an administrator would; prints how long it took and the
acknowledgements and complaint POSTs while it ran (the import holds SQLite's one writer's
turn: see issue 12).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import socketio
from _clients import Server, object_id, pct, prepare, rss_mb

NS = "/field"
STEPS = ("accepted", "en_route", "on_site")
# What the tablet sends again (dispatch/static/field/app.js TRANSIENT), and not answering.
TRANSIENT = {"internal_error", "unavailable", "service_unavailable", "database_unavailable",
             "busy", "timeout", "try_again", "no_acknowledgement", "not_connected"}


class Shift:
    """What one run counts."""

    def __init__(self) -> None:
        self.acks: Counter = Counter()  # (event, "ok" or error code)
        self.examples: list[str] = []
        self.sent: dict[int, float] = {}  # job id → dispatch POST sent
        self.arrived: dict[int, float] = {}  # job id → first job.assigned at a tablet
        self.reported: set[int] = set()
        self.pings: list[float] = []
        self.http_errors: Counter = Counter()
        self.queued = 0  # dispatches that found no free car
        self.disconnects = 0  # before the end of the shift
        self.closing = False
        self.working: set[asyncio.Task] = set()
        self.ack_ms: list[tuple[float, float]] = []  # (sent, ms to the acknowledgement)
        self.ack_events: list[str] = []  # ... of which event
        self.post_ms: list[tuple[float, float]] = []  # (sent, ms): POST /complaints
        self.imported: tuple[float, float, int, str] | None = None  # start, end, exit, output

    def answer(self, event: str, answer) -> str:
        ok = isinstance(answer, dict) and answer.get("ok")
        code = "ok" if ok else ((answer or {}).get("error") or {}).get("code", "?") \
            if isinstance(answer, dict) else "?"
        self.acks[(event, code)] += 1
        if code in TRANSIENT and len(self.examples) < 5:
            self.examples.append(f"{event}: {answer}")
        return code

    def errors(self) -> int:
        return sum(n for (_, code), n in self.acks.items() if code in TRANSIENT)


class Tablet:
    """A car's tablet as the app behaves: on duty, positions, each job worked once."""

    def __init__(self, url: str, token: str, call_sign: str, shift: Shift, step_s: float,
                 rng: random.Random):
        self.url, self.token, self.call_sign, self.shift = url, token, call_sign, shift
        self.step_s, self.rng = step_s, rng
        self.client = socketio.AsyncClient(reconnection=True, reconnection_delay_max=5)
        self.client.on("job.assigned", self.on_job, namespace=NS)
        self.client.on("job.revoked", self.on_revoked, namespace=NS)
        self.client.on("disconnect", self.on_disconnect, namespace=NS)
        self.jobs: set[int] = set()
        self.revoked: set[int] = set()
        self.lat, self.lon = 59.25 + rng.random() * 0.15, 17.9 + rng.random() * 0.3
        self.connected_at: float | None = None

    async def on_disconnect(self, *_args) -> None:
        if not self.shift.closing:
            self.shift.disconnects += 1

    async def call(self, event: str, data: dict) -> dict | None:
        """Send with acknowledgement; an error acknowledgement is counted and sent again
        with back-off (1 s, 2 s, 4 s ...), as the tablet does; the final answer."""
        delay = 1.0
        while True:
            started = time.perf_counter()
            try:
                answer = await self.client.call(event, data, namespace=NS, timeout=30)
            except socketio.exceptions.TimeoutError:
                answer = {"ok": False, "error": {"code": "no_acknowledgement"}}
            except (socketio.exceptions.BadNamespaceError,
                    socketio.exceptions.DisconnectedError):
                answer = {"ok": False, "error": {"code": "not_connected"}}
            self.shift.ack_ms.append((started, (time.perf_counter() - started) * 1000))
            self.shift.ack_events.append(event)
            if self.shift.answer(event, answer) not in TRANSIENT or delay > 30:
                return answer
            await asyncio.sleep(delay)
            delay *= 2

    async def connect(self) -> None:
        await self.client.connect(self.url, namespaces=[NS], transports=["websocket"],
                                  auth={"token": self.token, "call_sign": self.call_sign},
                                  wait_timeout=60)
        self.connected_at = time.perf_counter()
        await self.call("patrol.status", {"status": "available"})
        await self.position()

    async def position(self) -> None:
        self.lat += (self.rng.random() - 0.5) * 0.002
        self.lon += (self.rng.random() - 0.5) * 0.004
        await self.call("position", {"lat": self.lat, "lon": self.lon, "accuracy_m": 8,
                                     "at": datetime.now(UTC).isoformat()})

    async def positions(self, stop: asyncio.Event) -> None:
        await asyncio.sleep(self.rng.random() * 15)
        while not stop.is_set():
            await self.position()
            try:
                await asyncio.wait_for(stop.wait(), 15)
            except TimeoutError:
                pass

    async def on_job(self, payload: dict):
        job_id = payload["job_id"]
        self.shift.arrived.setdefault(job_id, time.perf_counter())
        self.revoked.discard(job_id)
        if job_id not in self.jobs:  # the server sends it again until acknowledged
            self.jobs.add(job_id)
            task = asyncio.get_running_loop().create_task(self.work(payload))
            self.shift.working.add(task)
            task.add_done_callback(self.shift.working.discard)
        return {"ok": True}

    async def on_revoked(self, payload: dict):
        self.revoked.add(payload.get("job_id"))
        return {"ok": True}

    async def work(self, payload: dict) -> None:
        job_id = payload["job_id"]
        await self.call("job.ack", {"delivery_id": payload["delivery_id"]})
        for step in STEPS:
            await asyncio.sleep(self.step_s * (0.5 + self.rng.random()))
            if job_id in self.revoked:
                return
            await self.call("job.status", {"job_id": job_id, "status": step,
                                           "at": datetime.now(UTC).isoformat(),
                                           "event_id": f"{job_id}-{step}"})
        await asyncio.sleep(self.step_s * (0.5 + self.rng.random()))
        if job_id in self.revoked:
            return
        now = datetime.now(UTC).isoformat()
        answer = await self.call("job.report", {
            "job_id": job_id, "arrived_at": now, "left_at": now, "observations": "Hög musik",
            "disturber_reached": True, "disturber_response": "Sänkte", "tenant_contacted": True,
            "actions": "Knackade på", "outcome": "stopped", "can_testify": True,
            "text": "Tyst efter besöket."})
        if answer and answer.get("ok"):
            self.shift.reported.add(job_id)

    async def ping(self) -> None:
        started = time.perf_counter()
        answer = await self.client.call("ping", {}, namespace=NS, timeout=30)
        if answer and answer.get("ok"):
            self.shift.pings.append(time.perf_counter() - started)


async def operator(http, url: str, headers: dict, addresses: list[str], shift: Shift,
                   rng: random.Random) -> None:
    """One complaint logged and dispatched to the nearest car."""
    try:
        target = await object_id(http, url, headers, rng.choice(addresses))
        posted = time.perf_counter()
        async with http.post(f"{url}/api/v1/complaints", headers=headers, json={
                "landlord": "BENCH", "object_id": target, "category": "music",
                "description": "Hög musik"}) as r:
            answer = await r.json()
            shift.post_ms.append((posted, (time.perf_counter() - posted) * 1000))
            if r.status != 201 and r.status != 200:
                shift.http_errors[f"POST /complaints {r.status}"] += 1
                return
            job_id = answer["job_id"]
        shift.sent[job_id] = time.perf_counter()
        async with http.post(f"{url}/api/v1/jobs/{job_id}/dispatch", headers=headers,
                             json={}) as r:
            answer = await r.json()
            if r.status != 200:
                shift.http_errors[f"POST /dispatch {r.status}"] += 1
            elif answer.get("patrol_id") is None:
                shift.queued += 1
    except aiohttp.ClientError as exc:
        shift.http_errors[type(exc).__name__] += 1


async def first_import(env: dict, register: Path, after_s: float, shift: Shift) -> None:
    """A landlord's first register imported with the CLI beside the running server."""
    from _clients import BIN

    await asyncio.sleep(after_s)
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        str(BIN / "dispatch"), "import-register", "--landlord", "BIG", str(register), env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    output, _ = await process.communicate()
    shift.imported = (started, time.perf_counter(), process.returncode,
                      output.decode(errors="replace").strip()[-300:])


def _window(samples: list[tuple[float, float]], start: float = 0.0,
            end: float = float("inf")) -> str:
    ms = [v for t, v in samples if start <= t <= end]
    return (f"{len(ms):,} samples, p50 {pct(ms, 0.5):.1f} ms, p99 {pct(ms, 0.99):.1f} ms, "
            f"max {pct(ms, 1.0):.1f} ms")


async def _sample_rss(server: Server, series: list[float]) -> None:
    series.append(rss_mb(server.pid))


async def every(seconds: float, until: float, action) -> None:
    """Call ``action()`` (not awaited: a slow answer must not slow the rate) every
    ``seconds`` until ``until`` (perf_counter)."""
    tasks = set()
    due = time.perf_counter()
    while due < until:
        task = asyncio.get_running_loop().create_task(action())
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        due += seconds
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
    if tasks:
        await asyncio.wait(tasks, timeout=60)


async def run_shift(kind: str, args) -> bool:
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-shift-{kind}-"))
    name = {"run": "dispatch run (threading)", "web": "Procfile web (gunicorn, gevent)"}[kind]
    print(f"\nshift load: {name}, SQLite, {args.tablets} tablets, {args.minutes:g} min, "
          f"in {workdir}", flush=True)
    env, addresses, credentials = prepare(workdir, args.tablets, on_duty=False, extra_env={
        "PATROL_POSITION_MAX_AGE_S": "300", "DELIVERY_RESEND_S": "10"})
    register = None
    if args.import_rows:
        import subprocess

        from _clients import BIN
        from import_register import generate

        register = workdir / "big.csv"
        generate(register, args.import_rows)
        subprocess.run([str(BIN / "dispatch"), "create-landlord", "--code", "BIG", "--name",
                        "Big"], env=env, check=True, capture_output=True)
    server = Server(kind, env, workdir)
    url = env["BASE_URL"]
    headers = {"Authorization": f"Bearer {env['OPERATOR_TOKEN']}"}
    shift = Shift()
    rng = random.Random(11)
    tablets = [Tablet(url, token, call_sign, shift, args.step_s, random.Random(n))
               for n, (token, call_sign) in enumerate(credentials)]
    stop = asyncio.Event()
    try:
        timeout = aiohttp.ClientTimeout(total=60)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            await server.ready(http)
            rss_idle = rss_mb(server.pid)
            started = time.perf_counter()

            async def arrive(tablet: Tablet, at: float) -> None:
                await asyncio.sleep(at)
                try:
                    await tablet.connect()
                except socketio.exceptions.ConnectionError as exc:
                    shift.http_errors[f"connect: {exc}"] += 1

            spread = args.connect_s / max(1, len(tablets))
            await asyncio.gather(*(arrive(t, n * spread) for n, t in enumerate(tablets)))
            connected = [t for t in tablets if t.connected_at is not None]
            connect_s = max((t.connected_at for t in connected), default=started) - started
            rss_connected = rss_mb(server.pid)
            rss_series: list[float] = []
            moving = [asyncio.create_task(t.positions(stop)) for t in connected]
            until = time.perf_counter() + args.minutes * 60

            async def ping() -> None:
                await rng.choice(connected).ping()

            await asyncio.gather(
                every(args.complaint_s, until,
                      lambda: operator(http, url, headers, addresses, shift, rng)),
                every(1.0, until, ping),
                every(60.0, until, lambda: _sample_rss(server, rss_series)),
                *([first_import(env, register, args.import_after_s, shift)] if register else []))
            # The last jobs are worked to their reports before the tablets go.
            deadline = time.perf_counter() + 5 * args.step_s * 1.5 + 60
            while shift.working and time.perf_counter() < deadline:
                await asyncio.wait(set(shift.working), timeout=1)
            stop.set()
            await asyncio.gather(*moving)
            rss_end = rss_mb(server.pid)
            shift.closing = True
            for t in tablets:
                if t.client.connected:
                    await t.client.disconnect()
    finally:
        stop.set()
        server.stop()

    with (workdir / "acks.csv").open("w") as f:  # for a closer look: when, what, how long
        f.write("t_s,event,ms\n")
        for (t, ms), event in zip(shift.ack_ms, shift.ack_events, strict=True):
            f.write(f"{t - started:.3f},{event},{ms:.1f}\n")
        for t, ms in shift.post_ms:
            f.write(f"{t - started:.3f},POST /complaints,{ms:.1f}\n")
        if shift.imported:
            f.write(f"{shift.imported[0] - started:.3f},import started,0\n"
                    f"{shift.imported[1] - started:.3f},import ended,0\n")
    log = server.log_path.read_text(errors="replace")
    locked = log.count("database is locked")
    logged_errors = sum(1 for line in log.splitlines()
                        if '"level": "error"' in line or "Traceback" in line)
    latencies = [(shift.arrived[j] - sent) * 1000 for j, sent in shift.sent.items()
                 if j in shift.arrived and shift.arrived[j] >= sent]
    from_queue = sum(1 for j, sent in shift.sent.items()
                     if j in shift.arrived and shift.arrived[j] < sent)
    ping_ms = [x * 1000 for x in shift.pings]
    total = sum(shift.acks.values())
    errors = shift.errors()
    by_event = Counter()
    for (event, _code), n in shift.acks.items():
        by_event[event] += n
    refusals = {f"{event} {code}": n for (event, code), n in sorted(shift.acks.items())
                if code != "ok" and code not in TRANSIENT}

    print(f"connected           {len(connected)} of {len(tablets)} tablets, the last "
          f"{connect_s:.1f} s after the first began")
    print(f"acknowledgements    {total:,}: " + ", ".join(
        f"{event} {n:,}" for event, n in sorted(by_event.items())))
    print(f"error acks          {errors}" + (f"  e.g. {shift.examples}" if errors else ""))
    print(f"refusals            {refusals or 0}  (not_your_job: a job the queue gave to a "
          "car coming free, then moved by the dispatch)")
    print(f"jobs                {len(shift.sent)} dispatched, {len(shift.arrived)} reached a "
          f"tablet ({from_queue} from the queue before the dispatch), {len(shift.reported)} "
          f"reports acknowledged; {shift.queued} found no free car")
    print(f"HTTP errors         {dict(shift.http_errors) or 0}; websocket disconnects "
          f"{shift.disconnects}")
    print(f"{'':20}{'ours':>10}{'ping':>10}")
    for label, q in (("p50, ms", 0.5), ("p99, ms", 0.99), ("max, ms", 1.0)):
        print(f"{label:20}{pct(latencies, q):10.1f}{pct(ping_ms, q):10.1f}")
    print(f"{'samples':20}{len(latencies):10}{len(ping_ms):10}")
    print("ours: dispatch POST sent -> job.assigned at the tablet; ping: a tablet's bare "
          "Socket.IO ping with acknowledgement, same run")
    print(f"every ack           {_window(shift.ack_ms)}")
    print(f"POST /complaints    {_window(shift.post_ms)}")
    if shift.imported:
        start, end, status, output = shift.imported
        print(f"first import        {args.import_rows:,} rows, {end - start:.1f} s, exit "
              f"{status}: {output.splitlines()[-1] if output else ''}")
        print(f"  acks during it    {_window(shift.ack_ms, start, end)}")
        print(f"  POSTs during it   {_window(shift.post_ms, start, end)}")
    print(f"server RSS          {rss_idle:.0f} MiB idle, {rss_connected:.0f} MiB with the "
          f"tablets, {rss_end:.0f} MiB at the end; each minute: "
          + " ".join(f"{x:.0f}" for x in rss_series))
    print(f"server log          'database is locked' {locked}, errors logged {logged_errors}")
    ok = errors == 0 and locked == 0 and logged_errors == 0 and len(connected) == len(tablets)
    print(f"0 error acknowledgements, nothing locked, every tablet connected: "
          f"{'PASS' if ok else 'FAIL'}", flush=True)
    return ok


async def run(args) -> int:
    kinds = ("run", "web") if args.server == "both" else (args.server,)
    results = [await run_shift(kind, args) for kind in kinds]
    return 0 if all(results) else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tablets", type=int, default=500)
    parser.add_argument("--minutes", type=float, default=5)
    parser.add_argument("--server", choices=("both", "run", "web"), default="both")
    parser.add_argument("--connect-s", type=float, default=10,
                        help="the tablets connect spread over this many seconds")
    parser.add_argument("--complaint-s", type=float, default=2,
                        help="one complaint every this many seconds")
    parser.add_argument("--step-s", type=float, default=5,
                        help="mean time between a job's statuses at the tablet")
    parser.add_argument("--import-rows", type=int, default=0,
                        help="import a first register of this many rows during the shift")
    parser.add_argument("--import-after-s", type=float, default=20,
                        help="... this many seconds after the tablets have connected")
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
