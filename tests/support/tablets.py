"""A car's tablet scripted over Socket.IO for tests against a real server process: it connects
to ``/field`` with the car's token and call sign, reports a position, goes available, and
acknowledges the delivery of every job it is sent (``job.assigned``) or told is gone
(``job.revoked``), recording each as (event, job id); ``call`` sends an event and expects an
ok acknowledgement. It never accepts or checks in by itself."""

from __future__ import annotations

import socketio


class ScriptedTablet:
    def __init__(self, url: str, token: str, call_sign: str, position: tuple[float, float]):
        self.events: list[tuple[str, int]] = []
        self.call_sign = call_sign
        self.sio = socketio.Client(reconnection=False)
        for name in ("job.assigned", "job.revoked"):
            self.sio.on(name, self._taker(name), namespace="/field")
        self.sio.connect(url, namespaces=["/field"], transports=["websocket"],
                         wait_timeout=10, auth={"token": token, "call_sign": call_sign})
        self.call("position", {"lat": position[0], "lon": position[1]})
        self.call("patrol.status", {"status": "available"})

    @property
    def jobs(self) -> list[int]:
        """The ids of the jobs it was sent, in order."""
        return [job_id for name, job_id in self.events if name == "job.assigned"]

    def _taker(self, name):
        def take(payload):
            self.events.append((name, payload["job_id"]))
            self.sio.emit("job.ack", {"delivery_id": payload["delivery_id"]}, namespace="/field")
        return take

    def call(self, event: str, data: dict) -> dict:
        answer = self.sio.call(event, data, namespace="/field", timeout=10)
        assert answer["ok"], answer
        return answer
