"""For the fault tests: a web process that can be killed with -9 and started again on the
same port and database, a world to work in (a landlord with one flat, a car, an operator
and a tablet), tablets and consoles as Socket.IO clients, and private Redis and PostgreSQL
servers that a test may kill or restart without disturbing the rest of the suite."""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import requests
import socketio
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests.support.servers import ROOT, LiveServer, free_port, procfile, wait_until

GOTGATAN = (59.3121, 18.0713)
PASSWORD = "correct horse battery"


class RestartableServer(LiveServer):
    """The Procfile's web process, which a test may kill with -9 and launch again.

    Killed as a machine or a container dies: gunicorn's master and its worker at once (the
    process group). Killing the master alone leaves the worker serving on the port until it
    notices its parent is gone, and the next master cannot bind it meanwhile."""

    def kill9(self) -> None:
        group = self.process.pid  # its own session: see relaunch
        os.killpg(group, signal.SIGKILL)
        self.process.wait(timeout=10)
        self._log_file.close()

        def gone():
            try:
                os.killpg(group, 0)
            except ProcessLookupError:
                return True
            return False

        wait_until(gone, timeout=10)

    def relaunch(self) -> RestartableServer:
        """Start the web process again (same port, database and instance; no migration)."""
        self.launch()
        wait_until(self.healthy, timeout=60)
        return self

    def launch(self) -> None:
        """Start the web process; ``healthy`` says when it serves (launch several, then wait
        for each: they start side by side)."""
        command = os.path.expandvars(procfile("web").replace("${PORT:-5000}", str(self.port)))
        command = command.replace("0.0.0.0:", "127.0.0.1:")
        self._log_file = self.log.open("a")
        self.process = subprocess.Popen(shlex.split(command), env=self.env, cwd=ROOT,
                                        stdout=self._log_file, stderr=subprocess.STDOUT,
                                        start_new_session=True)

    def stop(self) -> None:
        """Gone at once: these processes are thrown away (nothing of a graceful stop is
        tested here, and it waits for open connections)."""
        if self.process and self.process.poll() is None:
            self.kill9()


@dataclass
class World:
    """What the fault tests work with, made straight in the database (no CLI round trips)."""

    object_id: int
    patrol_id: int
    operator_token: str
    patrol_token: str
    call_sign: str = "Jour 11"

    @property
    def operator(self) -> dict:
        return {"Authorization": f"Bearer {self.operator_token}"}


def make_world(database_url: str, tmp_path: Path) -> World:
    """ACME with one flat at Götgatan 12B, the car Jour 11, an operator and a patrol."""
    from dispatch.auth.service import create_token, upsert_user
    from dispatch.jobs.patrols import upsert_patrol
    from dispatch.models import RentalObject
    from dispatch.register.landlords import upsert_landlord
    from imports.service import import_register

    register = tmp_path / "acme.csv"
    register.write_text(
        "objektsnummer;gatuadress;postnummer;ort;lagenhetsnummer;portkod;lat;lon\n"
        f"1-1102;Götgatan 12B;118 46;Stockholm;1102;4711;{GOTGATAN[0]};{GOTGATAN[1]}\n",
        encoding="utf-8")
    engine = sa.create_engine(database_url)
    try:
        with Session(engine) as session:
            acme = upsert_landlord(session, code="ACME", name="Acme Bostäder",
                                   oncall_numbers=["08-46500401"])
            summary = import_register(session, acme, register, actor="test")
            assert summary.status == "accepted", summary
            patrol = upsert_patrol(session, call_sign="Jour 11", name="Jour 11")
            operator = upsert_user(session, email="op@faults.se", role="operator",
                                   password=PASSWORD)
            crew = upsert_user(session, email="crew@faults.se", role="patrol")
            world = World(
                object_id=session.scalars(sa.select(RentalObject.id)).one(),
                patrol_id=patrol.id,
                operator_token=create_token(session, operator),
                patrol_token=create_token(session, crew, kind="device", label="Jour 11"))
            session.commit()
    finally:
        engine.dispose()
    return world


def log_complaint(server, world: World, **extra) -> dict:
    """POST /api/v1/complaints for the world's flat; the answer's JSON (201 asserted)."""
    response = requests.post(f"{server.url}/api/v1/complaints", headers=world.operator,
                             timeout=10, json={"landlord": "ACME", "object_id": world.object_id,
                                               "category": "music", **extra})
    assert response.status_code == 201, response.text
    return response.json()


@dataclass
class TabletClient:
    """A tablet as the app behaves: it acknowledges every job.assigned (as an event, which any
    web process records) and keeps what arrived."""

    url: str
    world: World
    received: list = field(default_factory=list)
    client: socketio.Client | None = None

    def connect(self, *, reconnection: bool = False) -> TabletClient:
        self.client = socketio.Client(reconnection=reconnection, reconnection_delay=0.2,
                                      reconnection_delay_max=1)

        @self.client.on("job.assigned", namespace="/field")
        def on_job(payload):
            self.received.append(payload)
            if "/field" in self.client.namespaces:  # not yet during the connect's flush
                self.client.emit("job.ack", {"delivery_id": payload["delivery_id"]},
                                 namespace="/field")
            return True  # the Socket.IO acknowledgement, which re-sent messages ask for

        self.client.connect(self.url, namespaces=["/field"], transports=["websocket"],
                            wait_timeout=10,
                            auth={"token": self.world.patrol_token,
                                  "call_sign": self.world.call_sign})
        return self

    def call(self, event: str, data: dict | None = None) -> dict:
        return self.client.call(event, data or {}, namespace="/field", timeout=10)

    def answers(self) -> bool:
        """Whether the socket is up and the server answers a ping on it."""
        try:
            return self.call("ping")["ok"]
        except Exception:
            return False

    def go_on_duty(self, lat: float, lon: float) -> None:
        assert self.call("position", {"lat": lat, "lon": lon})["ok"]
        assert self.call("patrol.status", {"status": "available"})["ok"]

    def disconnect(self) -> None:
        if self.client is not None:
            self.client.disconnect()


# -- private servers to kill ----------------------------------------------------------------

class PrivateRedis:
    """``redis-server`` on a free port, no persistence; killed and started again at will."""

    def __init__(self, tmp_path: Path):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.dir = tmp_path
        self.process: subprocess.Popen | None = None

    def start(self) -> PrivateRedis:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed (scripts/test installs it)"
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(self.answers, timeout=20)
        return self

    def answers(self) -> bool:
        import redis

        try:
            return redis.Redis(port=self.port, socket_connect_timeout=1).ping()
        except redis.RedisError:
            return False

    def kill9(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


class PrivatePostgres:
    """A PostgreSQL server of its own (initdb in a temporary folder, a free port), so that a
    test may stop and start it without touching the suite's server. Run as ``postgres`` when
    the tests run as root (initdb refuses root)."""

    def __init__(self):
        versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
        if not versions:
            raise FileNotFoundError("no /usr/lib/postgresql/*/bin/initdb")
        self.bin = versions[-1].parent
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="dispatch-pg-"))
        self.data = self.root / "data"
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=120, check=check)

    def init(self) -> PrivatePostgres:
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "--no-sync", "-E", "UTF8", "--locale=C")
        return self

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-w", "-t", "60", "-l",
                  str(self.root / "server.log"), "-o",
                  f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off",
                  "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-w", "-t", "60", "-m", "fast", "stop",
                  check=False)

    def create_database(self, name: str) -> str:
        """A new database on this server; its URL (with the driver, as the suite's are)."""
        server = self.url.replace("postgresql://", "postgresql+psycopg://")
        engine = sa.create_engine(server, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        return server.rsplit("/", 1)[0] + f"/{name}"

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
