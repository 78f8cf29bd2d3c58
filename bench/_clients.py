"""What the field benchmarks share: a fresh SQLite database with a landlord, a register,
patrol cars and their device tokens; the web server started as the Procfile starts it (or as
``dispatch run``); the process's memory; percentiles.
"""

from __future__ import annotations

import asyncio
import os
import random
import shlex
import subprocess
import sys
from pathlib import Path

import aiohttp
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))


def rss_mb(pid: int) -> float:
    """Resident memory of a process, in MiB (from /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def worker_pid(master: int) -> int:
    """gunicorn's (one) worker process under its master."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return int(children[0])


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def prepare(workdir: Path, tablets: int, *, on_duty: bool = True, extra_env: dict | None = None,
            seed: int = 5) -> tuple[dict, list[str], list[tuple[str, str]]]:
    """A migrated SQLite database in ``workdir`` with landlord BENCH, a register of 500
    addresses, ``tablets`` patrol cars and a device token for each; the environment to run
    the server and the CLI with (``OPERATOR_TOKEN`` in it). ``on_duty``: the cars start
    available with a fresh position (else off duty, nowhere: their tablets say so)."""
    from tests.support.servers import free_port

    port = free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{workdir / 'bench.db'}",
           "DISPATCH_INSTANCE": str(workdir), "SECRET_KEY": "bench", "LOG_LEVEL": "WARNING",
           "BASE_URL": f"http://127.0.0.1:{port}", "PORT": str(port), "DELIVERY_RESEND_S": "30",
           "PATROL_POSITION_MAX_AGE_S": "3600", "PATH": f"{BIN}:{os.environ['PATH']}",
           **(extra_env or {})}

    def cli(*args: str) -> str:
        done = subprocess.run([str(BIN / "dispatch"), *args], env=env, capture_output=True,
                              text=True, check=True)
        return done.stdout.strip()

    cli("db", "upgrade")
    cli("create-landlord", "--code", "BENCH", "--name", "Bench", "--oncall-number", "0846500401")
    rng = random.Random(seed)
    register = workdir / "register.csv"
    lines = ["objektsnummer;gatuadress;postnummer;ort;lagenhetsnummer;lat;lon"]
    addresses = []
    for n in range(500):
        lat, lon = 59.25 + rng.random() * 0.15, 17.9 + rng.random() * 0.3
        lines.append(f"B-{n};Benchgatan {n + 1};11846;Stockholm;1102;{lat:.5f};{lon:.5f}")
        addresses.append(n)
    register.write_text("\n".join(lines) + "\n")
    cli("import-register", "--landlord", "BENCH", str(register))
    operator = cli("create-token", "--role", "operator")
    # Patrols and device tokens straight into the database: 2,000 CLI calls would take minutes.
    from dispatch.auth.service import TOKEN_PREFIX, _digest

    engine = create_engine(env["DATABASE_URL"])
    credentials = []
    with engine.begin() as conn:
        now = "2030-01-01 00:00:00.000000"  # far ahead: every position counts as fresh
        conn.execute(text("INSERT INTO users (email, name, role, active, receives_reports, "
                          "created_at) VALUES ('cars@bench', '', 'patrol', 1, 0, :now)"),
                     {"now": now})
        user_id = conn.execute(text("SELECT id FROM users WHERE email='cars@bench'")).scalar()
        for n in range(tablets):
            call_sign = f"B{n:04d}"
            lat, lon = 59.25 + rng.random() * 0.15, 17.9 + rng.random() * 0.3
            if on_duty:
                conn.execute(text("INSERT INTO patrols (call_sign, name, status, updated_at) "
                                  "VALUES (:c, :c, 'available', :now)"),
                             {"c": call_sign, "now": now})
                conn.execute(text("INSERT INTO patrol_presence (patrol_id, lat, lon, "
                                  "position_at) SELECT id, :lat, :lon, :now FROM patrols "
                                  "WHERE call_sign = :c"),
                             {"c": call_sign, "lat": lat, "lon": lon, "now": now})
            else:
                conn.execute(text("INSERT INTO patrols (call_sign, name, status, updated_at) "
                                  "VALUES (:c, :c, 'off_duty', :now)"),
                             {"c": call_sign, "now": now})
            token = f"{TOKEN_PREFIX}bench{n:05d}{rng.getrandbits(64):016x}"
            conn.execute(text("INSERT INTO api_tokens (user_id, token_hash, kind, label, "
                              "created_at) VALUES (:u, :h, 'device', :c, :now)"),
                         {"u": user_id, "h": _digest(token), "c": call_sign, "now": now})
            credentials.append((token, call_sign))
    engine.dispose()
    env["OPERATOR_TOKEN"] = operator
    return env, [str(a) for a in addresses], credentials


class Server:
    """The web server on the prepared database: ``web``, the Procfile's process (gunicorn,
    one gevent worker), or ``run``, the single-process ``dispatch run`` (threading)."""

    def __init__(self, kind: str, env: dict, workdir: Path):
        from tests.support.servers import procfile

        self.kind, self.env, self.url = kind, env, env["BASE_URL"]
        if kind == "web":
            command = procfile("web").replace("${PORT:-5000}", env["PORT"])
            args = shlex.split(command.replace("0.0.0.0:", "127.0.0.1:"))  # noqa: S104
        else:
            args = [str(BIN / "dispatch"), "run", "--port", env["PORT"]]
        self.log_path = workdir / f"{kind}.log"
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(args, env=env, cwd=ROOT, stdout=self._log,
                                        stderr=subprocess.STDOUT)

    async def ready(self, http: aiohttp.ClientSession) -> None:
        for _ in range(600):
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited: {self.log_path.read_text()[-2000:]}")
            try:
                async with http.get(f"{self.url}/healthz") as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
        raise RuntimeError("the server did not come up within 60 s")

    @property
    def pid(self) -> int:
        """The process that serves: gunicorn's worker, or ``dispatch run`` itself."""
        return worker_pid(self.process.pid) if self.kind == "web" else self.process.pid

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()


async def object_id(http: aiohttp.ClientSession, url: str, headers: dict, n: str) -> int:
    """The object id of the register's address ``n`` (through the address search)."""
    async with http.get(f"{url}/api/v1/addresses/search", headers=headers,
                        params={"q": f"Benchgatan {int(n) + 1} lgh 1102",
                                "landlord": "BENCH"}) as r:
        return (await r.json())[0]["object_id"]


PRESENCE = ("lat", "lon", "accuracy_m", "position_at", "last_seen_at")


def insert_patrols(session, rows: list[dict]) -> list[int]:
    """Insert cars given as ``Patrol`` columns plus their presence (``lat``, ``lon``,
    ``position_at``, ``last_seen_at``...), which go to ``patrol_presence``; returns the ids."""
    from sqlalchemy import insert

    from dispatch.models import Patrol, PatrolPresence

    cars = [{k: v for k, v in row.items() if k not in PRESENCE} for row in rows]
    ids = list(session.scalars(insert(Patrol).returning(Patrol.id, sort_by_parameter_order=True),
                               cars))
    presence = [{"patrol_id": i, **{k: v for k, v in row.items() if k in PRESENCE}}
                for i, row in zip(ids, rows, strict=True)]
    session.execute(insert(PatrolPresence), presence)
    return ids


class Arrivals(dict):
    """job id -> (time the ``job.assigned`` arrived, call sign): a dict that also wakes the one
    waiting for that job (``wait``), so the benchmark's main loop sleeps until the event
    arrives instead of polling every half millisecond on the cores the servers need."""

    def __init__(self):
        super().__init__()
        self._waiting: dict[int, asyncio.Future] = {}

    def __setitem__(self, job_id, value) -> None:
        super().__setitem__(job_id, value)
        future = self._waiting.pop(job_id, None)
        if future is not None and not future.done():
            future.set_result(value)

    async def wait(self, job_id: int, timeout: float):
        """The arrival of ``job_id``, or None when it has not come within ``timeout`` s."""
        if job_id in self:
            return self[job_id]
        future = self._waiting[job_id] = asyncio.get_running_loop().create_future()
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            return None
        finally:
            self._waiting.pop(job_id, None)


def fast_event_loop() -> str:
    """uvloop's event loop for the client when it is installed (dev extras), else asyncio's
    own; returns which. The client holds thousands of websockets on the servers' cores."""
    try:
        import uvloop
    except ImportError:
        return "asyncio"
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return "uvloop"


class ClientStalls:
    """The benchmark client's own stalls while it measures, to tell them from the servers':
    its garbage collections (``gc.callbacks``) and how late its event loop wakes a task that
    sleeps 10 ms (a loop busy with other sockets delivers an arriving event late by as much).
    ``quiet()`` first: collect, freeze what the connected tablets hold (thousands of clients'
    objects) and switch the collector off until ``stop()`` (what the timed phase leaves is
    small; a collection then would be a pause of the client counted as the servers')."""

    def __init__(self):
        self.pauses_ms: list[float] = []
        self.lags_ms: list[float] = []
        self._started = 0.0
        self._ticker: asyncio.Task | None = None

    @staticmethod
    def quiet() -> None:
        import gc

        gc.collect()
        gc.freeze()
        gc.disable()

    def _gc(self, phase: str, _info: dict) -> None:
        import time

        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.pauses_ms.append((time.perf_counter() - self._started) * 1000)

    async def _tick(self) -> None:
        import time

        while True:
            before = time.perf_counter()
            await asyncio.sleep(0.01)
            self.lags_ms.append((time.perf_counter() - before - 0.01) * 1000)

    def start(self) -> None:
        import gc

        gc.callbacks.append(self._gc)
        self._ticker = asyncio.get_running_loop().create_task(self._tick())

    def stop(self) -> None:
        import gc

        if self._gc in gc.callbacks:
            gc.callbacks.remove(self._gc)
        gc.enable()
        if self._ticker is not None:
            self._ticker.cancel()

    def summary(self) -> str:
        longest = max(self.pauses_ms, default=0.0)
        return (f"{len(self.pauses_ms)} garbage collections (longest {longest:.1f} ms); "
                f"event loop late p50 {pct(self.lags_ms, 0.5):.2f} / p99 "
                f"{pct(self.lags_ms, 0.99):.2f} / max {max(self.lags_ms, default=0.0):.2f} ms")
