"""Finnish e-identification against a real peer (issue 15, ../shared/real-peers.md): the npm
package ``oidc-provider``, a certified OpenID provider nobody here wrote, started on a loopback
port with our client registered (tests/support/oidc_peer). Our Authlib client must do the code
flow with PKCE as it requires, check the ID token it signs with its own keys (JWKS), and read
the ``hetu`` claim."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from sqlalchemy import select

from dispatch.models.accounts import TenantIdentification
from tests.support.servers import free_port, wait_until

pytest_plugins = ["tests.support.tenant_accounts"]

PEER = Path(__file__).resolve().parents[1] / "support" / "oidc_peer"
ACCOUNT = {"sub": "fi-user-1", "hetu": "010594Y9032", "name": "Fia Finne",
           "given_name": "Fia", "family_name": "Finne"}


@pytest.fixture(scope="module")
def oidc_peer(tmp_path_factory):
    """oidc-provider on a free port (installed from its lockfile on first use)."""
    if not (PEER / "node_modules" / "oidc-provider").exists():
        subprocess.run([shutil.which("npm") or "npm", "ci", "--no-audit", "--no-fund",
                        "--loglevel=error"], cwd=PEER, check=True, timeout=300)
    port = free_port()
    secret = "peer-client-secret"
    log = (tmp_path_factory.mktemp("oidc-peer") / "provider.log").open("w")
    process = subprocess.Popen(
        ["node", "provider.mjs", str(port), "http://localhost/portal/fi/callback", secret,
         json.dumps(ACCOUNT)], cwd=PEER, stdout=log, stderr=subprocess.STDOUT)
    issuer = f"http://127.0.0.1:{port}"

    def up():
        try:
            return requests.get(issuer + "/.well-known/openid-configuration", timeout=2).ok
        except requests.RequestException:
            return False

    try:
        wait_until(up, timeout=30, interval=0.1)
        yield issuer, secret
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


@pytest.fixture
def peer_app(app, oidc_peer):
    issuer, secret = oidc_peer
    app.config.update(OIDC_FI_ISSUER=issuer, OIDC_FI_CLIENT_ID="dispatch",
                      OIDC_FI_CLIENT_SECRET=secret)
    app.extensions.pop("tenant_oidc", None)
    yield app
    app.extensions.pop("tenant_oidc", None)


def test_a_finnish_tenant_identifies_through_oidc_provider_and_goes_on_to_register(
        client, db_session, tenants_register, peer_app):
    client.get("/portal/login?lang=en")
    start = client.get("/portal/fi/start?purpose=register")
    assert start.status_code == 302
    authorize = start.headers["Location"]
    query = parse_qs(urlsplit(authorize).query)
    assert query["code_challenge_method"] == ["S256"] and query["nonce"] and query["state"]

    # The user's browser at the provider: its interactions log the account in at once.
    browser = requests.Session()
    url = authorize
    for _ in range(10):
        answer = browser.get(url, allow_redirects=False, timeout=10)
        assert answer.status_code in (302, 303), answer.text[:500]
        url = urljoin(url, answer.headers["Location"])
        if url.startswith("http://localhost/portal/fi/callback"):
            break
    else:
        pytest.fail("the provider never sent the browser back")
    parts = urlsplit(url)
    assert "code=" in parts.query
    callback = client.get(f"{parts.path}?{parts.query}")
    assert callback.status_code == 302
    assert callback.headers["Location"].endswith("/portal/register/account"), \
        client.get("/portal/register").get_data(as_text=True)[-1500:]
    [found] = db_session.scalars(select(TenantIdentification)).all()
    assert (found.person_id, found.method) == (tenants_register.finnish.id, "oidc")


def test_a_code_replayed_at_oidc_provider_is_refused(client, db_session, tenants_register,
                                                     peer_app):
    client.get("/portal/login?lang=en")
    start = client.get("/portal/fi/start")
    browser = requests.Session()
    url = start.headers["Location"]
    while not url.startswith("http://localhost/"):
        url = urljoin(url, browser.get(url, allow_redirects=False, timeout=10)
                      .headers["Location"])
    parts = urlsplit(url)
    assert client.get(f"{parts.path}?{parts.query}").headers["Location"].endswith(
        "/portal/register/account")
    # The same code and state again: our session no longer holds the state, and the
    # provider would refuse the code anyway.
    again = client.get(f"{parts.path}?{parts.query}")
    assert again.headers["Location"].endswith("/portal/register")
    assert len(db_session.scalars(select(TenantIdentification)).all()) == 1
