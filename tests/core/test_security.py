"""Security headers on every kind of response (issue 14, finding 5), the policy's sources, no
inline script on any page, HSTS under https, and the trusted proxies (finding 6's ProxyFix)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from flask import Flask
from sqlalchemy import select

from dispatch.admin.imports import uploads_dir
from dispatch.auth.routes import client_ip
from dispatch.core import security
from dispatch.models import AuditEvent
from imports.service import import_register
from tests.support.reports_helpers import local

pytest_plugins = ["tests.support.reports"]

ANONYMOUS = ["/login", "/reports/login", "/field/", "/field/sw.js", "/field/manifest.webmanifest",
             "/healthz", "/static/app.css", "/static/console/main.js", "/no-such-page",
             "/api/v1/me", "/api/v1/openapi.json", "/console"]


def policy(response) -> dict[str, list[str]]:
    """The response's Content-Security-Policy as directive → sources, after checking the
    other headers every response carries."""
    headers = response.headers
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Content-Type-Options"] == "nosniff"
    directives = {}
    for part in headers["Content-Security-Policy"].split(";"):
        name, *sources = part.split()
        directives[name] = sources
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["script-src"][0] == "'self'"
    assert not any("unsafe" in s for sources in directives.values() for s in sources)
    return directives


class InlineScripts(HTMLParser):
    """What in a page would run as inline script: a script element without ``src`` that is not
    a JSON data block, and ``on…=`` attributes; with the nonce each script carries."""

    def __init__(self):
        super().__init__()
        self.inline: list[tuple[str, str | None]] = []
        self.handlers: list[str] = []
        self.style_attributes: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.handlers += [name for name in attrs if name.startswith("on")]
        if "style" in attrs:
            self.style_attributes.append(tag)
        if tag == "script" and "src" not in attrs and attrs.get("type") != "application/json":
            self.inline.append((attrs.get("type") or "text/javascript", attrs.get("nonce")))


def check_page(response) -> dict[str, list[str]]:
    """The headers, and the page's inline scripts: none, or each with the policy's nonce."""
    assert response.status_code in (200, 404), response.status_code
    directives = policy(response)
    if response.mimetype == "text/html":
        page = InlineScripts()
        page.feed(response.get_data(as_text=True))
        assert page.handlers == [] and page.style_attributes == []
        nonces = [s for s in directives["script-src"] if s.startswith("'nonce-")]
        for _type, nonce in page.inline:
            assert nonce and f"'nonce-{nonce}'" in nonces
        assert len(nonces) == (1 if page.inline else 0)
    return directives


@pytest.mark.parametrize("path", ANONYMOUS)
def test_every_response_an_anonymous_browser_gets_has_the_headers(client, path):
    response = client.get(path)
    if response.status_code in (301, 302, 401):
        policy(response)
    else:
        check_page(response)
    response.close()  # a static file is streamed from disk


def test_the_tablet_shell_runs_its_import_map_by_a_fresh_nonce(client):
    first, second = client.get("/field/"), client.get("/field/")
    nonces = []
    for response in (first, second):
        [nonce] = [s for s in check_page(response)["script-src"] if s.startswith("'nonce-")]
        page = response.get_data(as_text=True)
        assert f'<script type="importmap" nonce="{nonce[7:-1]}">' in page
        nonces.append(nonce)
    assert nonces[0] != nonces[1]


def test_the_policy_names_the_map_tiles_the_websocket_and_nothing_else(client, app):
    directives = check_page(client.get("/login"))
    assert directives["default-src"] == ["'self'"]
    assert directives["img-src"] == ["'self'", "data:", "https://tile.openstreetmap.org"]
    assert directives["connect-src"] == ["'self'", "ws://localhost"]
    assert directives["form-action"] == ["'self'"] and directives["base-uri"] == ["'none'"]
    secure = client.get("/login", base_url="https://dispatch.example:8443")
    assert policy(secure)["connect-src"] == ["'self'", "wss://dispatch.example:8443"]
    forged = client.get("/login", headers={"Host": "evil; script-src *"})
    assert policy(forged)["connect-src"] == ["'self'"]


@pytest.mark.parametrize(("url", "source"), [
    ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "https://tile.openstreetmap.org"),
    ("https://{s}.tile.example.com/{z}/{x}/{y}.png", "https://*.tile.example.com"),
    ("http://tiles.local:8080/{z}/{x}/{y}.png", "http://tiles.local:8080"),
    ("https://tiles-{s}.example.com/{z}/{x}/{y}.png", "https://*.example.com"),
    ("https://a.{s}.example.com/{z}.png", "https:"),
    ("/tiles/{z}/{x}/{y}.png", None),
    ("", None),
    (None, None),
])
def test_tile_source(url, source):
    assert security.tile_source(url) == source


def test_hsts_only_when_the_base_url_is_https(client, app, monkeypatch):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    monkeypatch.setitem(app.config, "BASE_URL", "https://jour.example.se")
    assert client.get("/login").headers["Strict-Transport-Security"] == "max-age=31536000"


@pytest.fixture
def released(acme, make_report):
    return make_report(acme, at=local(2026, 1, 14, 23, 10), released=local(2026, 1, 15, 1, 0))


def test_every_page_of_a_landlord_contact(client, auth, released):
    auth.login("kontakt@acme.se")
    for path in ["/", "/reports/", "/reports/morning/2026-01-15", f"/reports/{released.id}",
                 f"/reports/{released.id}/print", "/reports/expiring",
                 f"/reports/{released.id}.pdf",
                 "/reports/export.csv?from=2026-01-14&to=2026-01-14"]:
        response = client.get(path)
        assert response.status_code in (200, 302), path
        check_page(response) if response.status_code == 200 else policy(response)


def test_every_page_of_an_operator(client, auth, create_user, acme, make_report):
    waiting = make_report(acme, at=local(2026, 1, 14, 23, 0), released=None)
    create_user(role="operator", email="op@example.se")
    auth.login("op@example.se")
    for path in ["/", "/console", "/console/figures", "/reports/review",
                 f"/reports/{waiting.id}/edit", "/reports/?all=1", "/admin/imports"]:
        response = client.get(path)
        assert response.status_code == (403 if path.startswith("/admin") else 200), path
        check_page(response) if response.status_code == 200 else policy(response)


def test_every_page_of_an_admin(app, client, auth, create_user, create_landlord, db_session,
                                tmp_path):
    create_user(role="admin", email="admin@example.se")
    auth.login("admin@example.se")
    path = tmp_path / "acme.csv"
    path.write_text("objektsnummer;gatuadress;postnummer;ort;lagenhetsnummer\n"
                    "A-1;Götgatan 12B;118 46;Stockholm;1102\nA-2;Götgatan 9;1;Stockholm;1\n",
                    encoding="utf-8")
    summary = import_register(db_session, create_landlord(code="ACME"), path, actor="admin")
    (uploads_dir(app.instance_path) / "abc123").mkdir(parents=True, exist_ok=True)
    for page in ["/admin/imports", "/admin/devices", f"/admin/imports/{summary.import_id}",
                 f"/admin/imports/{summary.import_id}/errors.csv", "/admin/imports/run/abc123",
                 "/admin/imports/run/abc123.json", "/console"]:
        response = client.get(page)
        assert response.status_code == 200, page
        check_page(response)


def test_the_import_progress_and_print_scripts_are_files_now(client, auth, released):
    auth.login("kontakt@acme.se")
    page = client.get(f"/reports/{released.id}/print").get_data(as_text=True)
    assert re.search(r'<script src="/static/reports/print\.js[^"]*" defer>', page)
    assert "<button type=\"button\" data-print>" in page


# -- the trusted proxies ------------------------------------------------------------------------

def _proxied_app(proxies: int) -> Flask:
    """A bare app with the security set-up and one page that says ``client_ip()``."""
    bare = Flask(__name__)
    bare.config.update(TRUSTED_PROXIES=proxies, MAP_TILE_URL=None, BASE_URL="http://x")
    security.init_app(bare)
    bare.add_url_rule("/ip", "ip", lambda: {"ip": client_ip(), "scheme": _scheme()})
    return bare


def _scheme() -> str:
    from flask import request

    return request.scheme


FORWARDED = {"X-Forwarded-For": "198.51.100.7, 203.0.113.9", "X-Forwarded-Proto": "https"}


def test_without_trusted_proxies_x_forwarded_for_is_ignored(client, create_user, db_session,
                                                            auth):
    token = auth.csrf_token()
    client.post("/login", headers=FORWARDED, environ_base={"REMOTE_ADDR": "10.0.0.5"},
                data={"email": "nobody@example.se", "password": "x", "csrf_token": token})
    failed = db_session.scalars(select(AuditEvent).where(
        AuditEvent.action == "login.failed")).all()
    assert [e.ip for e in failed] == ["10.0.0.5"]
    answer = _proxied_app(0).test_client().get(
        "/ip", headers=FORWARDED, environ_base={"REMOTE_ADDR": "10.0.0.5"})
    assert answer.get_json() == {"ip": "10.0.0.5", "scheme": "http"}


def test_with_one_trusted_proxy_its_x_forwarded_for_is_the_client(app):
    assert app.config["TRUSTED_PROXIES"] == 0  # the default: nobody is believed
    answer = _proxied_app(1).test_client().get(
        "/ip", headers=FORWARDED, environ_base={"REMOTE_ADDR": "10.0.0.5"})
    # The address nginx appended, not the one the client wrote in front of it.
    assert answer.get_json() == {"ip": "203.0.113.9", "scheme": "https"}
    two = _proxied_app(2).test_client().get(
        "/ip", headers=FORWARDED, environ_base={"REMOTE_ADDR": "10.0.0.5"})
    assert two.get_json()["ip"] == "198.51.100.7"
