"""The local BankID service against a second client nobody here wrote (issue 15,
../shared/real-peers.md): the npm package ``bankid`` (``BankIdClientV6``), installed from its
lockfile in tests/support/bankid_peer. Its auth, its own animated QR code (scanned by our
simulated user: the service checks the HMAC), its collect loop until complete, cancel."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

pytest_plugins = ["tests.support.tenant_accounts"]

PEER = Path(__file__).resolve().parents[1] / "support" / "bankid_peer"


@pytest.fixture(scope="module")
def peer_installed():
    if not (PEER / "node_modules" / "bankid").exists():
        subprocess.run([shutil.which("npm") or "npm", "ci", "--no-audit", "--no-fund",
                        "--loglevel=error"], cwd=PEER, check=True, timeout=300)


def test_the_npm_bankid_client_completes_an_order_on_the_local_service(peer_installed,
                                                                       bankid):
    certs = bankid.server.certificates
    process = subprocess.Popen(
        ["node", "client.mjs", bankid.server.api_url, certs.ca, certs.client_cert,
         certs.client_key], cwd=PEER, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    try:
        auth = json.loads(process.stdout.readline())
        assert auth["step"] == "auth", auth
        assert auth["qr"].startswith("bankid.") and auth["qr"].split(".")[2] in ("0", "1")
        # The user's app reads the library's QR code: the service checks it is the order's.
        assert bankid.sign(qrCode=auth["qr"], personalNumber="199001012385",
                           name="Tove Tenant", givenName="Tove", surname="Tenant").is_success
        process.stdin.write("signed\n")
        process.stdin.flush()
        done = json.loads(process.stdout.readline())
        assert done == {"step": "complete", "status": "complete",
                        "user": {"personalNumber": "199001012385", "name": "Tove Tenant",
                                 "givenName": "Tove", "surname": "Tenant"}}
        cancelled = json.loads(process.stdout.readline())
        assert cancelled == {"step": "cancelled", "error": "invalidParameters"}
    finally:
        process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()
