"""The morning mail against a real scheduler process (``dispatch scheduler``) on a moved clock:
a scheduler that was down across 06:00 and starts at 06:20 sends the morning's mail once (a
start after that sends nothing more); one killed with -9 in the middle of sending resumes,
once the dead sender's claim has run out, without mailing anyone twice. (Two schedulers at
once: ``test_cli.py``.)"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import signal
import subprocess
import threading
from datetime import datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from dispatch.models import MorningMail
from dispatch.register.landlords import upsert_landlord
from tests.conftest import _fresh_database_url
from tests.support.reports_helpers import local
from tests.support.servers import BIN, ROOT, LiveServer, free_port, wait_until

MORNING = "2026-01-15"


class GatedSink:
    """An SMTP server's handler that accepts the first ``open_for`` messages and holds the
    next one unanswered until ``release()``; then it refuses it (451) and keeps nothing of it
    (the sender died waiting, and no server counts a message it never confirmed), and accepts
    everything from then on."""

    def __init__(self, open_for: int | None = None):
        self.lock = threading.Lock()
        self.messages: list[email.message.EmailMessage] = []
        self.open_for = open_for
        self.holding = threading.Event()
        self.released = threading.Event()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        with self.lock:
            full = self.open_for is not None and len(self.messages) >= self.open_for
        if full or self.holding.is_set() and not self.released.is_set():
            self.holding.set()
            while not self.released.is_set():
                await asyncio.sleep(0.02)
            return "451 4.3.0 Try again later"
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(msg)
        return "250 Message accepted"

    def recipients(self) -> list[str]:
        with self.lock:
            return sorted(m["To"] for m in self.messages)

    def release(self) -> None:
        with self.lock:
            self.open_for = None
        self.released.set()


@pytest.fixture
def smtp_gate():
    """Factory: an SMTP server on a free port with a ``GatedSink``; stopped afterwards."""
    from aiosmtpd.controller import Controller

    controllers = []

    def start(open_for=None):
        sink = GatedSink(open_for)
        controller = Controller(sink, hostname="127.0.0.1", port=free_port())
        controller.start()
        controllers.append((controller, sink))
        return controller, sink

    yield start
    for controller, sink in controllers:
        sink.release()
        controller.stop()


@pytest.fixture
def world(tmp_path_factory):
    """A migrated database with landlords that want the mail even after a quiet night."""
    url, drop = _fresh_database_url(tmp_path_factory, "mailfault")
    server = LiveServer(url, tmp_path_factory.mktemp("mailfault"))  # its env; never started
    server.cli("db", "upgrade")
    yield server
    drop()


def _contacts(server, n: int) -> list[str]:
    engine = sa.create_engine(server.env["DATABASE_URL"])
    addresses = [f"k{i:02d}@quiet.se" for i in range(n)]
    with Session(engine) as session:
        landlord = upsert_landlord(session, code="QUIET", name="Tyst AB", contacts=addresses)
        landlord.quiet_night_mail = True
        session.commit()
    engine.dispose()
    return addresses


class Scheduler:
    """``dispatch scheduler`` started at a given Stockholm wall-clock time of the morning."""

    def __init__(self, server, smtp_port: int, at: datetime, log):
        self.log = log
        env = {**server.env, "SMTP_URL": f"smtp://127.0.0.1:{smtp_port}", "LOG_FORMAT": "json"}
        with log.open("w") as stderr:
            self.process = subprocess.Popen(
                [str(BIN / "python"), "-m", "tests.support.at_time", at.isoformat(),
                 "scheduler"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=stderr)

    def runs_finished(self, job: str) -> list[dict]:
        """The outcomes this process logged for ``job`` so far."""
        found = []
        for line in self.log.read_text().splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("msg") == "job finished" and entry.get("job") == job:
                found.append(entry["outcome"])
        return found

    def stop(self, sig=signal.SIGTERM) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        self.process.wait(timeout=20)


def _rows(server) -> list[tuple[str, int]]:
    engine = sa.create_engine(server.env["DATABASE_URL"])
    with Session(engine) as session:
        rows = session.execute(sa.select(MorningMail.status, MorningMail.attempts)
                               .order_by(MorningMail.id)).all()
    engine.dispose()
    return [tuple(r) for r in rows]


def test_a_scheduler_down_at_six_and_back_at_0620_sends_the_mail_once(
        world, smtp_gate, tmp_path):
    addresses = _contacts(world, 5)
    controller, sink = smtp_gate()
    first = Scheduler(world, controller.port, local(2026, 1, 15, 6, 20), tmp_path / "s1.log")
    try:
        outcome = wait_until(lambda: first.runs_finished("morning-mail"), timeout=60)
    finally:
        first.stop()
    assert outcome[0]["morning"] == MORNING and outcome[0]["sent"] == 5
    assert sink.recipients() == addresses
    # Restarted again later that morning: the catch-up run finds nothing left to send.
    again = Scheduler(world, controller.port, local(2026, 1, 15, 6, 40), tmp_path / "s2.log")
    try:
        outcome = wait_until(lambda: again.runs_finished("morning-mail"), timeout=60)
    finally:
        again.stop()
    assert (outcome[0]["planned"], outcome[0]["sent"]) == (0, 0)
    assert sink.recipients() == addresses
    assert _rows(world) == [("sent", 1)] * 5


def test_a_scheduler_killed_mid_send_resumes_without_mailing_anyone_twice(
        world, smtp_gate, tmp_path):
    addresses = _contacts(world, 30)
    controller, sink = smtp_gate(open_for=10)
    dying = Scheduler(world, controller.port, local(2026, 1, 15, 6, 20), tmp_path / "s1.log")
    try:
        wait_until(sink.holding.is_set, timeout=60)  # ten sent, the eleventh on its way
    finally:
        dying.stop(signal.SIGKILL)
    sink.release()
    assert len(sink.recipients()) == 10
    # Started again once the dead sender's claim (15 minutes) has run out.
    resumed = Scheduler(world, controller.port, local(2026, 1, 15, 6, 37), tmp_path / "s2.log")
    try:
        outcome = wait_until(lambda: resumed.runs_finished("morning-mail"), timeout=60)
    finally:
        resumed.stop()
    assert outcome[0]["sent"] == 20 and outcome[0]["waiting"] == 0
    assert sink.recipients() == addresses  # each contact once: the ten sent are not again
    assert sorted(status for status, _ in _rows(world)) == ["sent"] * 30
