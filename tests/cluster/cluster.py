"""``scripts/cluster`` driven from a test: start and stop it in a folder of its own, run
``dispatch`` on its database, and read nginx's access log to tell which web process served
what (each line names its upstream and its sticky route key)."""

from __future__ import annotations

import itertools
import json
import os
import re
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

import requests

from tests.support.servers import BIN, ROOT, free_port, wait_until

LINE = re.compile(r'^\S+ (?P<status>\d+) "(?P<method>\S+) (?P<target>\S+)[^"]*" '
                  r"upstream=(?P<upstream>.*?) route=(?P<route>\S+) ")


@dataclass(frozen=True)
class Served:
    """One line of nginx's access log."""

    status: int
    method: str
    target: str
    upstream: str  # the last address nginx tried (it lists each one it tried)
    route: str

    @property
    def sid(self) -> str | None:
        match = re.search(r"[?&]sid=([^&]+)", self.target)
        return match.group(1) if match else None


class Cluster:
    """nginx, three web processes, Redis, the scheduler, on a database of the test's."""

    def __init__(self, state: Path, database_url: str):
        self.state = state
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "DISPATCH_CLUSTER_DIR": str(state),
                    "CLUSTER_PORT": str(self.port), "CLUSTER_DATABASE_URL": database_url,
                    "PATH": f"{BIN}:{os.environ.get('PATH', '')}"}
        self.web: dict[str, int] = {}  # web process name -> port

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run([str(ROOT / "scripts" / "cluster"), *args], env=self.env,
                              capture_output=True, text=True, timeout=300, cwd=ROOT,
                              stdin=subprocess.DEVNULL)
        if check:
            assert done.returncode == 0, f"scripts/cluster {' '.join(args)}:\n" \
                                         f"{done.stdout}\n{done.stderr}"
        return done

    def start(self) -> Cluster:
        self.run("start")
        ports = re.search(r"^WEB_PORTS=['\"]?([\d ]+)", (self.state / "cluster.env").read_text(),
                          re.M).group(1).split()
        self.web = {f"web-{n}": int(port) for n, port in enumerate(ports, start=1)}
        return self

    def stop(self) -> None:
        self.run("stop")

    def dispatch(self, *args: str) -> str:
        """``dispatch ARGS`` on the cluster's database (``scripts/cluster dispatch``)."""
        return self.run("dispatch", *args).stdout.strip()

    def commands(self, *commands: list[str]) -> list[str]:
        """Several ``dispatch`` commands in one process (a process each takes seconds on a
        busy machine), with the cluster's settings; the last line each printed."""
        script = (
            "import json, sys\n"
            "from dispatch import create_app\n"
            "runner = create_app().test_cli_runner()\n"
            "out = []\n"
            "for args in json.loads(sys.argv[1]):\n"
            "    result = runner.invoke(args=args)\n"
            "    assert result.exit_code == 0, (args, result.output, result.exception)\n"
            "    out.append((result.output.strip().splitlines() or [''])[-1])\n"
            "print(json.dumps(out))\n")
        done = subprocess.run(
            ["bash", "-c", 'set -a && . "$1" && exec "$2" -c "$3" "$4"', "-",
             str(self.state / "cluster.env"), str(BIN / "python"), script,
             json.dumps(list(commands))],
            env=self.env, capture_output=True, text=True, timeout=120, cwd=ROOT)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout.splitlines()[-1])

    def kill(self, name: str) -> None:
        """``kill -9`` the web process ``name``: its gunicorn master and worker at once."""
        os.killpg(int((self.state / f"{name}.pid").read_text()), signal.SIGKILL)

    # -- nginx's access log ---------------------------------------------------------------

    def served(self) -> list[Served]:
        path = self.state / "logs" / "nginx-access.log"
        lines = path.read_text().splitlines() if path.exists() else []
        found = []
        for line in lines:
            match = LINE.match(line)
            if match:
                found.append(Served(int(match["status"]), match["method"], match["target"],
                                    match["upstream"].split(",")[-1].strip(), match["route"]))
        return found

    def process_at(self, upstream: str) -> str | None:
        """The web process behind an upstream address (None: nginx served it itself)."""
        for name, port in self.web.items():
            if upstream == f"127.0.0.1:{port}":
                return name
        return None

    def processes_of_sid(self, sid: str) -> set[str]:
        """The web processes that served a Socket.IO session's requests with its id in the
        URL (the websocket: logged when it closes)."""
        return {self.process_at(s.upstream) for s in self.served() if s.sid == sid}

    def processes_of_route(self, route: str) -> set[str]:
        """The web processes that served Socket.IO requests on a sticky route key."""
        return {self.process_at(s.upstream) for s in self.served()
                if s.route == route and s.target.startswith("/socket.io/")}

    def route_keys(self, per_process: int) -> dict[str, list[str]]:
        """Sticky-route cookie values that nginx sends to each web process, found by asking:
        a request with the cookie, then its line in the log."""
        keys: dict[str, list[str]] = {name: [] for name in self.web}
        for n in itertools.count():
            assert n < 500, f"nginx spreads route keys unevenly: {keys}"
            key = f"probe-{n}"
            requests.get(f"{self.url}/healthz", cookies={"dispatch_route": key},
                         timeout=10).raise_for_status()
            line = wait_until(lambda key=key: next(
                (s for s in self.served() if s.route == key), None), timeout=10)
            name = self.process_at(line.upstream)
            if len(keys[name]) < per_process:
                keys[name].append(key)
            if all(len(found) == per_process for found in keys.values()):
                return keys
        raise AssertionError("unreachable")
