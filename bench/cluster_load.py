"""Cluster load benchmark: 10,000 tablets through nginx over the three web processes of
``scripts/cluster``, time from the dispatch POST to ``job.assigned`` beside a ping baseline.

    .venv/bin/python bench/cluster_load.py [--tablets 10000] [--jobs 500] [--server URL]

Starts ``scripts/cluster`` (nginx, three Procfile web processes, Redis, one scheduler) in a
temporary state folder on a fresh PostgreSQL database (created on ``--server``, default
``TEST_DATABASE_URL`` or the ``dispatch_test`` role that ``scripts/test`` makes; dropped at
the end). Patrols and device tokens go straight into the database; the tablets (python-socketio
asyncio clients, websocket transport, ``bench/field_delivery.py``'s ``Tablet``; helpers from
``bench/_clients.py``) connect through
nginx, which spreads them over the web processes. Then, as in ``field_delivery.py``, for each
job: ``POST /api/v1/complaints``, ``POST /api/v1/jobs/{id}/dispatch`` ``{}`` (the nearest car) and
the wait for ``job.assigned`` at that car's tablet, which acknowledges it and reports it done.
The operator's requests and the tablets' sockets land on any process; Redis carries the event
to the right one. Baseline in the same run: a tablet's ``ping`` with acknowledgement, through
nginx too. Prints, per web process, the tablets it holds and its worker's RSS; the load
average at the start, before the jobs and at the end (the machine is shared: the figures are
only comparable beside it); and nginx's own time for the dispatch POSTs (``rt=`` in the
cluster's access log: from nginx reading the request to its last byte out). The client runs
on uvloop when it is installed (dev extras), waits for each ``job.assigned`` on a future (no
polling), freezes its connected tablets' objects out of its garbage collections once they are
connected, and prints its own stalls while it measured (its collections, and how late its
event loop woke a 10 ms sleeper): what of the p99 is the client's and not the servers'.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from socketio import exceptions as socketio_errors
from sqlalchemy import create_engine, insert, make_url, text
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

from _clients import (  # noqa: E402
    Arrivals,
    ClientStalls,
    fast_event_loop,
    insert_patrols,
    object_id,
    pct,
    rss_mb,
    worker_pid,
)
from field_delivery import Tablet  # noqa: E402

from tests.support.servers import free_port  # noqa: E402

GOAL_P99_MS = 50


def fresh_database(server: str) -> tuple[str, callable]:
    """A new database on the PostgreSQL server ``server``; and how to drop it."""
    url = make_url(server.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"dispatch_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url.set(database=name).render_as_string(hide_password=False), drop


class Cluster:
    def __init__(self, state: Path, database_url: str):
        self.state, self.port = state, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "DISPATCH_CLUSTER_DIR": str(state),
                    "CLUSTER_PORT": str(self.port), "CLUSTER_DATABASE_URL": database_url,
                    "LOG_LEVEL": "WARNING", "DELIVERY_RESEND_S": "30",
                    "PATROL_POSITION_MAX_AGE_S": "3600",
                    "PATH": f"{BIN}:{os.environ.get('PATH', '')}"}

    def run(self, *args: str) -> str:
        done = subprocess.run([str(ROOT / "scripts" / "cluster"), *args], env=self.env,
                              capture_output=True, text=True, cwd=ROOT, stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            raise RuntimeError(f"scripts/cluster {' '.join(args)}:\n{done.stdout}{done.stderr}")
        return done.stdout.strip()

    def web(self) -> dict[str, tuple[int, int]]:
        """web process name -> (its port, its gunicorn worker's pid)."""
        env = (self.state / "cluster.env").read_text()
        ports = next(line for line in env.splitlines() if line.startswith("WEB_PORTS="))
        found = {}
        for n, port in enumerate(ports.split("=", 1)[1].strip("\"'").split(), start=1):
            master = int((self.state / f"web-{n}.pid").read_text())
            found[f"web-{n}"] = (int(port), worker_pid(master))
        return found


def established_to(port: int) -> int:
    """Established TCP connections whose local end is ``port`` (nginx's to one web process)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "01" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                count += 1
    return count


def add_patrols(database_url: str, tablets: int) -> list[tuple[str, str]]:
    """Patrols on duty with a fresh position, and a device token each: (token, call sign)."""
    from dispatch.auth.service import TOKEN_PREFIX, _digest
    from dispatch.models import ApiToken, User

    rng = random.Random(5)
    far = datetime(2030, 1, 1, tzinfo=UTC)  # every position counts as fresh
    engine = create_engine(database_url)
    credentials = []
    with Session(engine) as session, session.begin():
        user = User(email="cars@bench", name="", role="patrol", receives_reports=False)
        session.add(user)
        session.flush()
        patrols, tokens = [], []
        for n in range(tablets):
            call_sign = f"B{n:05d}"
            token = f"{TOKEN_PREFIX}bench{n:05d}{rng.getrandbits(64):016x}"
            patrols.append({"call_sign": call_sign, "name": call_sign, "status": "available",
                            "lat": 59.25 + rng.random() * 0.15, "lon": 17.9 + rng.random() * 0.3,
                            "position_at": far, "last_seen_at": far, "updated_at": far})
            tokens.append({"user_id": user.id, "token_hash": _digest(token), "kind": "device",
                           "label": call_sign, "created_at": far})
            credentials.append((token, call_sign))
        insert_patrols(session, patrols)
        session.execute(insert(ApiToken), tokens)
    engine.dispose()
    return credentials


def explain_lost(database_url: str, lost: list[int], tablets: list[Tablet]) -> list[str]:
    """For each job that never arrived: its delivery as the database has it, and whether
    its car's tablet is still connected."""
    by_call_sign = {t.call_sign: t for t in tablets}
    engine = create_engine(database_url)
    lines = []
    with engine.connect() as conn:
        for job_id in lost:
            rows = conn.execute(text(
                "SELECT p.call_sign, d.event, d.sent_count, d.last_sent_at, d.acked_at "
                "FROM deliveries d JOIN patrols p ON p.id = d.patrol_id "
                "WHERE d.job_id = :j ORDER BY d.id"), {"j": job_id}).all()
            for call_sign, event, sent_count, last_sent, acked in rows:
                tablet = by_call_sign.get(call_sign)
                lines.append(f"job {job_id}: {event} to {call_sign} (tablet connected: "
                             f"{tablet.client.connected if tablet else None}), re-sent "
                             f"{sent_count} times, last {last_sent}, acknowledged {acked}")
            if not rows:
                lines.append(f"job {job_id}: no delivery")
    engine.dispose()
    return lines


# ``--gc-log``: a sitecustomize put on the cluster processes' PYTHONPATH that appends each
# garbage collection longer than 2 ms (wall) to GC_PROBE_DIR/gc-<pid>.txt: "epoch generation
# wall_ms cpu_ms" (CPU: the collecting thread's own time; wall beyond it is waiting for a core).
GC_PROBE = """
import os
if os.environ.get("GC_PROBE_DIR"):
    import gc, time
    _at = [0.0, 0.0]
    def _probe(phase, info):
        if phase == "start":
            _at[0], _at[1] = time.perf_counter(), time.thread_time()
            return
        wall = (time.perf_counter() - _at[0]) * 1000
        if wall > 2:
            cpu = (time.thread_time() - _at[1]) * 1000
            path = os.path.join(os.environ["GC_PROBE_DIR"], f"gc-{os.getpid()}.txt")
            with open(path, "a") as f:  # the pid now: a gunicorn worker is forked
                f.write(f"{time.time():.4f} {info['generation']} {wall:.1f} {cpu:.1f}\\n")
    gc.callbacks.append(_probe)
"""


def gc_pauses(folder: Path, pid: int) -> list[tuple[float, int, float, float]]:
    """(start epoch, generation, wall ms, CPU ms) of one process's logged collections."""
    path = folder / f"gc-{pid}.txt"
    if not path.exists():
        return []
    found = []
    for line in path.read_text().splitlines():
        end, generation, wall, cpu = line.split()
        found.append((float(end) - float(wall) / 1000, int(generation), float(wall), float(cpu)))
    return found


def gc_report(folder: Path, web: dict, timed: list[tuple[float, float, int]]) -> list[str]:
    """Per web process, its collections while the jobs ran; and for the slowest 1 % of the
    jobs (``timed``: sent and arrived, epoch seconds, job id), the collections that overlapped
    them in any web process."""
    if not timed:
        return []
    begin, end = min(t[0] for t in timed), max(t[1] for t in timed)
    lines, pauses = [], {}
    for name, (_port, pid) in web.items():
        pauses[name] = [p for p in gc_pauses(folder, pid) if begin <= p[0] <= end]
        mine = pauses[name]
        full = [p for p in mine if p[1] == 2]
        lines.append(f"{name}: {len(mine)} collections over 2 ms while the jobs ran "
                     f"({len(full)} full), longest {max((p[2] for p in mine), default=0):.0f} "
                     f"ms wall / {max((p[3] for p in mine), default=0):.0f} ms CPU, "
                     f"{sum(p[2] for p in mine):.0f} ms wall in all")
    slowest = sorted(timed, key=lambda t: t[0] - t[1])[:max(1, len(timed) // 100)]
    for sent, arrived, job_id in slowest:
        hits = [f"{name} gen{p[1]} {p[2]:.0f} ms" for name, found in pauses.items()
                for p in found if p[0] < arrived and p[0] + p[2] / 1000 > sent]
        lines.append(f"job {job_id}: {(arrived - sent) * 1000:.0f} ms; collections "
                     f"meanwhile: {', '.join(hits) or 'none'}")
    return lines


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def nginx_times(state: Path, marker: str) -> list[float]:
    """nginx's ``rt=`` (seconds) of each logged request whose request line holds ``marker``."""
    path = state / "logs" / "nginx-access.log"
    if not path.exists():
        return []
    return [float(line.rsplit("rt=", 1)[1]) for line in path.read_text().splitlines()
            if marker in line and "rt=" in line]


def register(workdir: Path) -> Path:
    rng = random.Random(5)
    path = workdir / "register.csv"
    lines = ["objektsnummer;gatuadress;postnummer;ort;lagenhetsnummer;lat;lon"]
    for n in range(500):
        lat, lon = 59.25 + rng.random() * 0.15, 17.9 + rng.random() * 0.3
        lines.append(f"B-{n};Benchgatan {n + 1};11846;Stockholm;1102;{lat:.5f};{lon:.5f}")
    path.write_text("\n".join(lines) + "\n")
    return path


async def run(args) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard < args.tablets + 500:
        print(f"this process may open {hard} files (ulimit -Hn): not enough for "
              f"{args.tablets} tablets; try --tablets {hard - 500}")
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    print(f"cluster load benchmark: {args.tablets} tablets, {args.jobs} jobs, in {workdir}; "
          f"{os.cpu_count()} CPUs, load average {load()}")
    database_url, drop = fresh_database(args.server)
    cluster = Cluster(workdir / "cluster", database_url)
    probe = workdir / "gc"
    if args.gc_log:
        (probe / "logs").mkdir(parents=True)
        (probe / "sitecustomize.py").write_text(GC_PROBE)
        cluster.env.update(PYTHONPATH=os.pathsep.join(
            filter(None, [str(probe), os.environ.get("PYTHONPATH")])),
            GC_PROBE_DIR=str(probe / "logs"))
    timed: list[tuple[float, float, int]] = []  # sent, arrived (epoch s), job id
    tablets: list[Tablet] = []
    stalls = ClientStalls()
    try:
        cluster.run("start")
        cluster.run("dispatch", "create-landlord", "--code", "BENCH", "--name", "Bench",
                    "--oncall-number", "0846500401")
        cluster.run("dispatch", "import-register", "--landlord", "BENCH",
                    str(register(workdir)))
        operator = cluster.run("dispatch", "create-token", "--role", "operator").splitlines()[-1]
        credentials = add_patrols(database_url, args.tablets)
        web = cluster.web()
        idle = {name: rss_mb(pid) for name, (_port, pid) in web.items()}
        url = cluster.url
        headers = {"Authorization": f"Bearer {operator}"}
        arrivals = Arrivals()
        tablets = [Tablet(url, token, call_sign, arrivals) for token, call_sign in credentials]
        started = time.perf_counter()
        for start in range(0, len(tablets), args.batch):
            await asyncio.gather(*(t.connect() for t in tablets[start:start + args.batch]))
        connect_s = time.perf_counter() - started
        held = {name: established_to(port) for name, (port, _pid) in web.items()}
        loaded = {name: rss_mb(pid) for name, (_port, pid) in web.items()}
        load_before_jobs = load()
        # From here on the client's own pauses are measured (and its connected tablets'
        # objects frozen out of its garbage collections): the figures should be the servers'.
        stalls.quiet()
        stalls.start()
        rng = random.Random(9)
        dropped = sum(not t.client.connected for t in tablets)
        pings, failed_pings = [], 0
        while len(pings) < args.jobs and failed_pings < args.jobs:
            try:  # a tablet cut off meanwhile (the client reconnects it) is no baseline
                pings.append(await rng.choice(
                    [t for t in tablets if t.client.connected]).ping())
            except socketio_errors.TimeoutError:
                failed_pings += 1
        latencies, answered, lost = [], [], []
        async with aiohttp.ClientSession() as http:
            for _ in range(args.jobs):
                flat = await object_id(http, url, headers, str(rng.randrange(500)))
                async with http.post(f"{url}/api/v1/complaints", headers=headers, json={
                        "landlord": "BENCH", "object_id": flat,
                        "category": "music"}) as r:
                    job_id = (await r.json())["job_id"]
                sent = time.perf_counter()
                async with http.post(f"{url}/api/v1/jobs/{job_id}/dispatch", headers=headers,
                                     json={}) as r:
                    answer = await r.json()
                answered.append(time.perf_counter() - sent)
                assert answer.get("patrol_id") is not None, answer
                arrived = await arrivals.wait(job_id, sent + args.lost_after
                                              - time.perf_counter())
                if arrived is not None:
                    latencies.append(arrived[0] - sent)
                    epoch = time.time() - time.perf_counter()
                    timed.append((sent + epoch, arrived[0] + epoch, job_id))
                else:
                    lost.append(job_id)
        stalls.stop()
        lost_report = explain_lost(database_url, lost, tablets)
        nginx_ms = [x * 1000 for x in nginx_times(cluster.state, "/dispatch HTTP")]
    finally:
        await asyncio.gather(*(t.client.disconnect() for t in tablets), return_exceptions=True)
        try:
            cluster.run("stop")
        finally:
            drop()
    loop_kind = args.loop
    ms = [x * 1000 for x in latencies]
    ping_ms = [x * 1000 for x in pings]
    p99 = pct(ms, 0.99)
    print(f"connected {args.tablets} tablets through nginx in {connect_s:.1f} s; "
          f"{dropped} of them not connected when the jobs began, {failed_pings} pings "
          "unanswered within 30 s")
    print()
    print(f"{'':34}{'ours':>10}{'baseline':>10}")
    print(f"{'p50 latency, ms':34}{pct(ms, 0.5):10.2f}{pct(ping_ms, 0.5):10.2f}")
    print(f"{'p99 latency, ms':34}{p99:10.2f}{pct(ping_ms, 0.99):10.2f}")
    print(f"{'mean latency, ms':34}{statistics.mean(ms):10.2f}{statistics.mean(ping_ms):10.2f}")
    answered_ms = [x * 1000 for x in answered]
    print(f"{'dispatch POST answered, p50/p99 ms':34}{pct(answered_ms, 0.5):10.2f}"
          f"{pct(answered_ms, 0.99):10.2f}")
    if nginx_ms:
        print(f"{'dispatch POST in nginx, p50/p99 ms':34}{pct(nginx_ms, 0.5):10.2f}"
              f"{pct(nginx_ms, 0.99):10.2f}")
    print("ours: dispatch POST sent -> job.assigned received at the nearest tablet")
    print("baseline: a tablet's ping emitted with acknowledgement -> acknowledgement received")
    print("(both through nginx; the operator and the tablet on any of the web processes)")
    print(f"the bench client ({loop_kind} event loop, one process) while it measured: "
          f"{stalls.summary()}")
    print()
    for name in web:
        per = (loaded[name] - idle[name]) * 1024 / max(held[name], 1)
        print(f"{name}: {held[name]:6d} connections from nginx (tablets), worker RSS "
              f"{idle[name]:.0f} MiB idle, {loaded[name]:.0f} MiB loaded = {per:.1f} KiB each")
    if args.gc_log:
        print("garbage collections in the web processes (--gc-log):")
        for line in gc_report(probe / "logs", web, timed):
            print(f"  {line}")
    if lost:
        print(f"LOST: {len(lost)} of {args.jobs} jobs never reached a tablet within "
              f"{args.lost_after} s:")
        for line in lost_report:
            print(f"  {line}")
    print(f"load average: {load_before_jobs} before the jobs, {load()} at the end "
          f"({os.cpu_count()} CPUs)")
    ok = p99 <= GOAL_P99_MS and not lost
    print(f"goal p99 <= {GOAL_P99_MS} ms with {args.tablets} tablets over {len(web)} web "
          f"processes: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tablets", type=int, default=10_000)
    parser.add_argument("--jobs", type=int, default=500)
    parser.add_argument("--batch", type=int, default=200, help="tablets connecting at once")
    parser.add_argument("--lost-after", type=float, default=15.0,
                        help="seconds after which a job that has not arrived counts as lost")
    parser.add_argument("--gc-log", action="store_true",
                        help="log the web processes' garbage collections and print those "
                             "that overlapped the slowest jobs")
    parser.add_argument("--server", default=os.environ.get(
        "TEST_DATABASE_URL",
        "postgresql://dispatch_test:dispatch_test@127.0.0.1:5432/postgres"),
        help="a PostgreSQL server URL whose role may create databases")
    args = parser.parse_args()
    args.loop = fast_event_loop()
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
