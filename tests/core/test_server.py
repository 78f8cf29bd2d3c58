"""The Procfile's web process really serves pages, the API and websockets."""

import re

import requests
import socketio


def test_procfile_web_serves_the_swedish_login_page(live_server):
    page = requests.get(f"{live_server.url}/login", timeout=5)
    assert page.status_code == 200
    assert "<title>Logga in · Störningsjour</title>" in page.text


def test_procfile_web_logs_in_through_the_form(live_server):
    http = requests.Session()
    form = http.get(f"{live_server.url}/login", timeout=5).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
    response = http.post(f"{live_server.url}/login", timeout=5, data={
        "email": "operator@live.example.se", "password": "correct horse battery",
        "csrf_token": token,
    })
    assert response.status_code == 200 and "Acme Bostäder" in response.text


def test_procfile_web_accepts_a_websocket_with_a_token_and_refuses_one_without(live_server):
    token = live_server.cli("create-token", "--role", "operator",
                            "--email", "operator@live.example.se").strip()
    client = socketio.Client(reconnection=False)
    client.connect(live_server.url, namespaces=["/console"], auth={"token": token},
                   transports=["websocket"], wait_timeout=10)
    try:
        assert client.connected and client.transport() == "websocket"
    finally:
        client.disconnect()
    refused = socketio.Client(reconnection=False)
    try:
        refused.connect(live_server.url, namespaces=["/console"], transports=["websocket"],
                        wait_timeout=10)
        connected = refused.connected and "/console" in refused.namespaces
    except socketio.exceptions.ConnectionError:
        connected = False
    finally:
        refused.disconnect()
    assert not connected


def test_api_answers_json_with_a_bearer_token(live_server):
    token = live_server.cli("create-token", "--role", "operator").strip()
    landlords = requests.get(f"{live_server.url}/api/v1/landlords", timeout=5,
                             headers={"Authorization": f"Bearer {token}"}).json()
    # The live server is shared by the session: other tests may have added their landlords.
    assert {"code": "ACME", "name": "Acme Bostäder",
            "oncall_numbers": ["+46846500401"]} in landlords


def test_dispatch_run_serves_pages_and_websockets_in_one_process(live_server, tmp_path):
    import subprocess

    from tests.support.servers import BIN, free_port, wait_until

    port = free_port()
    env = {**live_server.env, "DISPATCH_INSTANCE": str(tmp_path)}
    with (tmp_path / "run.log").open("w") as log:
        process = subprocess.Popen([str(BIN / "dispatch"), "run", "--port", str(port)], env=env,
                                   stdout=log, stderr=subprocess.STDOUT)
        try:
            def up():
                try:
                    return requests.get(f"http://127.0.0.1:{port}/login", timeout=5)
                except requests.RequestException:
                    return None

            page = wait_until(up, timeout=30)
            assert "Logga in" in page.text
            token = live_server.cli("create-token", "--role", "operator").strip()
            client = socketio.Client(reconnection=False)
            client.connect(f"http://127.0.0.1:{port}", namespaces=["/console"],
                           auth={"token": token}, transports=["websocket"], wait_timeout=10)
            assert client.connected
            client.disconnect()
        finally:
            process.terminate()
            process.wait(timeout=10)
