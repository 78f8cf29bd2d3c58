"""Real web processes (the Procfile's gunicorn/gevent) behind one Redis (#14): ending a tablet's
session on one process cuts off its socket on the other at once, though the client ignores
the message it is sent; a frame over 1 MiB closes the connection and is logged once."""

from __future__ import annotations

import os
import re

import pytest
import requests
import socketio

from tests.support.servers import LiveServer, wait_until

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    from tests.conftest import _fresh_database_url

    url, drop = _fresh_database_url(tmp_path_factory, "revoke")
    env = {"REDIS_URL": REDIS_URL, "DELIVERY_RESEND_S": "2", "LOG_LEVEL": "INFO"}
    a = LiveServer(url, tmp_path_factory.mktemp("a"), env).start()
    b = LiveServer(url, tmp_path_factory.mktemp("b"), env).start()
    for call_sign in ("Jour 11", "Jour 12", "Jour 13"):
        a.cli("create-patrol", "--call-sign", call_sign)
    a.cli("create-user", "--role", "patrol", "--email", "bil@live.se", "--password", PASSWORD)
    a.cli("create-user", "--role", "admin", "--email", "admin@live.se", "--password", PASSWORD)
    yield a, b
    a.stop()
    b.stop()
    drop()


class HostileTablet:
    """A tablet that records what it gets and ignores ``session.revoked`` (stays connected
    as long as the server lets it)."""

    def __init__(self, server: LiveServer, token: str, call_sign: str):
        self.received: list[str] = []
        self.client = socketio.Client(reconnection=False)
        self.client.on("*", lambda event, *_: self.received.append(event), namespace="/field")
        self.client.connect(server.url, namespaces=["/field"], transports=["websocket"],
                            wait_timeout=10, auth={"token": token, "call_sign": call_sign})
        self.ws = self.client.eio.ws  # kept: the client drops it when the server closes it

    def call(self, event, data):
        return self.client.call(event, data, namespace="/field", timeout=10)

    def close(self):
        self.client.disconnect()
        self.client.eio.disconnect(abort=True)
        self.ws.shutdown()
        if self.client.eio.http is not None:
            self.client.eio.http.close()


def _shift_log_in(server: LiveServer, call_sign: str) -> str:
    response = requests.post(f"{server.url}/api/v1/field/session", timeout=10, json={
        "email": "bil@live.se", "password": PASSWORD, "call_sign": call_sign,
        "crew": ["Anna Andersson"]})
    assert response.status_code == 201, response.text
    return response.json()["token"]


def _csrf(page: str) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


def _revoke_at_admin_page(server: LiveServer, call_sign: str) -> None:
    with requests.Session() as admin:
        login = admin.get(f"{server.url}/login", timeout=10).text
        assert admin.post(f"{server.url}/login", timeout=10, data={
            "email": "admin@live.se", "password": PASSWORD, "csrf_token": _csrf(login)}).ok
        page = admin.get(f"{server.url}/admin/devices", timeout=10).text
        [action] = [re.search(r'action="(/admin/devices/\d+/revoke)"', row).group(1)
                    for row in page.split("<tr")[1:] if call_sign in row and "/revoke" in row]
        assert admin.post(f"{server.url}{action}", timeout=10,
                          data={"csrf_token": _csrf(page)}).ok


def test_a_revoked_tablet_is_cut_off_on_the_other_process_at_once(pair):
    a, b = pair
    on_b = HostileTablet(b, _shift_log_in(a, "Jour 11"), "Jour 11")
    logging_out = _shift_log_in(b, "Jour 12")
    on_a = HostileTablet(a, logging_out, "Jour 12")
    try:
        assert on_b.call("ping", {})["ok"] and on_a.call("ping", {})["ok"]
        _revoke_at_admin_page(a, "Jour 11")  # on A; its socket is on B
        wait_until(lambda: not on_b.client.connected, timeout=10)
        assert "session.revoked" in on_b.received
        assert on_a.client.connected  # another car's tablet is left alone
        # The tablet's log-out on B cuts off its socket on A.
        ended = requests.delete(f"{b.url}/api/v1/field/session", timeout=10,
                                headers={"Authorization": f"Bearer {logging_out}"})
        assert ended.status_code == 204
        wait_until(lambda: not on_a.client.connected, timeout=10)
        assert "session.revoked" in on_a.received
    finally:
        on_b.close()
        on_a.close()


def test_a_frame_over_one_mebibyte_closes_the_connection_and_is_logged_once(pair):
    a, _ = pair
    token = a.cli("create-token", "--role", "patrol", "--call-sign", "Jour 13").strip()
    tablet = HostileTablet(a, token, "Jour 13")
    try:
        assert tablet.call("position", {"lat": 59.3, "lon": 18.0, "pad": "x" * 900_000})["ok"]
        tablet.client.emit("job.report", {"job_id": 1, "text": "x" * (1 << 20)},
                           namespace="/field")
        wait_until(lambda: not tablet.client.connected, timeout=10)
    finally:
        tablet.close()
    wait_until(lambda: "socket frame over the size limit" in a.log.read_text(), timeout=10)
    assert a.log.read_text().count("socket frame over the size limit") == 1
    again = HostileTablet(a, token, "Jour 13")  # the tablet itself is not shut out
    try:
        assert again.call("ping", {})["ok"]
    finally:
        again.close()
