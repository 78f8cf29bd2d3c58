"""A local SMS gateway that answers like 46elks (issue 19): ``POST /a1/sms`` with basic auth and
the form fields ``from``, ``to``, ``message``, ``whendelivered``; it answers JSON with ``id``
and ``status: created``, records every request, can refuse the next ones (a status code, or
no answer within the client's timeout) and posts the delivery report to ``whendelivered`` as
46elks does (``id``, ``status``, ``delivered``), by hand (``report``) or at once
(``auto_deliver``).

    with FakeSmsGateway(user="u", password="p") as gateway:
        config["SMS_GATEWAY_URL"] = gateway.url      # http://127.0.0.1:PORT/a1
        ...
        gateway.wait_for(1)                            # the messages it took
"""

from __future__ import annotations

import base64
import json
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import requests

from tests.support.servers import wait_until


@dataclass
class Sent:
    """One message the gateway took (or refused: ``refused`` is the status it answered)."""

    id: str
    sender: str
    to: str
    message: str
    whendelivered: str | None
    refused: int | None = None
    extra: dict = field(default_factory=dict)


class FakeSmsGateway:
    def __init__(self, user: str = "elks-user", password: str = "elks-secret", *,
                 auto_deliver: bool = False):
        self.user, self.password, self.auto_deliver = user, password, auto_deliver
        self.requests: list[Sent] = []
        self.reports: list[tuple[str, int]] = []  # (sms id, our server's answer)
        self._refuse: list[int] = []  # status codes for the next requests (0: hang)
        self._lock = threading.Lock()
        self._stopped = threading.Event()  # a hanging answer hangs until the gateway stops
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):  # noqa: N802
                gateway._post(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/a1"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeSmsGateway:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stopped.set()
        self.server.shutdown()
        self.server.server_close()

    start = __enter__

    def stop(self) -> None:
        self.__exit__()

    def refuse_next(self, *statuses: int) -> None:
        """Answer the next requests with these statuses (0: answer nothing until the gateway
        stops)."""
        with self._lock:
            self._refuse.extend(statuses)

    @property
    def taken(self) -> list[Sent]:
        """The messages it accepted."""
        with self._lock:
            return [s for s in self.requests if s.refused is None]

    def wait_for(self, count: int, timeout: float = 30) -> list[Sent]:
        """Wait until it has accepted ``count`` messages (no sleeps of a fixed length)."""
        wait_until(lambda: len(self.taken) >= count, timeout=timeout)
        return self.taken

    def report(self, sent: Sent, status: str = "delivered") -> requests.Response:
        """Post the delivery report for ``sent`` to its ``whendelivered``, as 46elks does."""
        answer = requests.post(sent.whendelivered, timeout=10, data={
            "id": sent.id, "status": status,
            "delivered": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")})
        with self._lock:
            self.reports.append((sent.id, answer.status_code))
        return answer

    # -- the server side ---------------------------------------------------------------------
    def _authorised(self, handler) -> bool:
        expected = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        return handler.headers.get("Authorization") == f"Basic {expected}"

    def _post(self, handler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(handler.rfile.read(length).decode()).items()}
        if handler.path.rstrip("/") != "/a1/sms":
            return self._answer(handler, 404, {"error": "not found"})
        if not self._authorised(handler):
            return self._answer(handler, 401, {"error": "API access denied"})
        sent = Sent(id="s" + uuid.uuid4().hex, sender=form.get("from", ""),
                    to=form.get("to", ""), message=form.get("message", ""),
                    whendelivered=form.get("whendelivered"))
        with self._lock:
            refuse = self._refuse.pop(0) if self._refuse else None
            sent.refused = refuse
            self.requests.append(sent)
        if refuse == 0:
            # No answer: the client's timeout is the test's subject. Held until the gateway
            # stops (a condition, not a fixed time), at most a minute.
            self._stopped.wait(60)
            return None
        if refuse is not None:
            return self._answer(handler, refuse, {"error": "refused by the test"})
        if not sent.to.startswith("+") or not sent.message:
            return self._answer(handler, 403, {"error": "Invalid to number"})
        self._answer(handler, 200, {
            "status": "created", "direction": "outgoing", "from": sent.sender, "to": sent.to,
            "message": sent.message, "id": sent.id, "parts": 1, "cost": 3500,
            "created": datetime.now(UTC).isoformat()})
        if self.auto_deliver and sent.whendelivered:
            threading.Thread(target=self._deliver_soon, args=(sent,), daemon=True).start()
        return None

    def _deliver_soon(self, sent: Sent) -> None:
        # After our answer has reached the client (the report may still overtake its commit:
        # the server must take it either way).
        try:
            self.report(sent)
        except requests.RequestException:
            pass

    @staticmethod
    def _answer(handler, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)
