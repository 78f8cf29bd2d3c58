"""Real servers for the tests that need them: the Procfile's web process on a fresh database."""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def procfile(kind: str) -> str:
    """The command line of one process type in the Procfile."""
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        if name.strip() == kind:
            return command.strip()
    raise KeyError(kind)


def wait_until(predicate, timeout: float = 20.0, interval: float = 0.05):
    """Poll ``predicate`` until it returns a truthy value; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met within {timeout}s")
        time.sleep(interval)


class LiveServer:
    """The Procfile's ``web`` process, with its own instance folder and database."""

    def __init__(self, database_url: str, instance: Path, extra_env: dict | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
            "DATABASE_URL": database_url,
            "DISPATCH_INSTANCE": str(instance),
            "SECRET_KEY": "live-test-secret",
            "BASE_URL": self.url,
            "PORT": str(self.port),
            "LOG_FORMAT": "json",
            **(extra_env or {}),
        }
        self.log = instance / "web.log"
        self.process: subprocess.Popen | None = None

    def cli(self, *args: str) -> str:
        """Run ``dispatch ARGS`` against this server's database; return its output."""
        done = subprocess.run([str(BIN / "dispatch"), *args], env=self.env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr + done.stdout
        return done.stdout

    def start(self) -> LiveServer:
        self.cli("db", "upgrade")
        command = os.path.expandvars(procfile("web").replace("${PORT:-5000}", str(self.port)))
        command = command.replace("0.0.0.0:", "127.0.0.1:")
        self._log_file = self.log.open("w")
        self.process = subprocess.Popen(
            shlex.split(command), env=self.env, cwd=ROOT,
            stdout=self._log_file, stderr=subprocess.STDOUT,
        )

        try:
            wait_until(self.healthy, timeout=60)
        except BaseException:
            self.stop()
            raise
        return self

    def healthy(self) -> bool:
        """Whether the web process answers /healthz; raises if it has exited."""
        if self.process.poll() is not None:
            raise RuntimeError(f"web process exited: {self.log.read_text()[-2000:]}")
        try:
            return requests.get(f"{self.url}/healthz", timeout=5).ok
        except requests.RequestException:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process:
            self._log_file.close()
