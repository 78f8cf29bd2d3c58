"""Strong identifications under way are kept on the server (issue 15): the browser's session
cookie (signed with itsdangerous, but readable by anyone who holds it) carries only a random
id, never BankID's order reference or QR secret, nor the Finnish e-identification's state,
nonce or PKCE verifier; the row goes when the identification completes or is cancelled, and an
expired one is swept. The flow is one for the portal and the housing queue's joining."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import requests
import time_machine
from sqlalchemy import select

from dispatch.auth.identity import pending
from dispatch.models import utcnow
from dispatch.models.accounts import PendingIdentification
from tests.support.tenant_helpers import CURRENT, csrf_of

pytest_plugins = ["tests.support.tenant_accounts"]


def cookie_session(app, client) -> dict:
    """The session as the cookie carries it, decoded with the app's itsdangerous serializer."""
    cookie = client.get_cookie(app.config.get("SESSION_COOKIE_NAME", "session"))
    assert cookie is not None
    return app.session_interface.get_signing_serializer(app).loads(cookie.value)


def raw_cookie(app, client) -> str:
    return client.get_cookie(app.config.get("SESSION_COOKIE_NAME", "session")).value


def pending_rows(db_session) -> list[PendingIdentification]:
    db_session.expire_all()
    return list(db_session.scalars(select(PendingIdentification)))


def start_bankid(client, path="/portal/bankid/start", page="/portal/register", **form):
    token = csrf_of(client, page)
    answer = client.post(path, data={"csrf_token": token, **form})
    assert answer.status_code == 200
    qr = re.search(r'data-qr="([^"]+)"', answer.get_data(as_text=True)).group(1)
    return token, qr


def test_the_session_cookie_holds_no_bankid_order_reference_or_qr_secret(
        app, client, db_session, tenants_register, bankid):
    start_bankid(client)
    [row] = pending_rows(db_session)
    secret, ref = row.data["qs"], row.data["ref"]
    carried = json.dumps(cookie_session(app, client))
    for value in (secret, ref, row.data["qt"], "qrStartSecret", "orderRef"):
        assert value not in carried
        assert value not in raw_cookie(app, client)
    assert row.id in carried  # only the random id of the row


def test_a_bankid_identification_completes_and_its_order_is_deleted(
        app, client, db_session, tenants_register, bankid):
    token, qr = start_bankid(client)
    assert client.get("/portal/bankid/qr").get_json()["text"].startswith("bankid.")
    assert bankid.sign(qrCode=qr, personalNumber=CURRENT, name="Tove Tenant").is_success
    done = client.post("/portal/bankid/collect", headers={"X-CSRFToken": token}).get_json()
    assert done["status"] == "complete"
    assert done["next"].endswith("/portal/register/account")
    assert pending_rows(db_session) == []
    assert "portal_bankid" not in cookie_session(app, client)


def test_cancelling_a_bankid_order_deletes_it(app, client, db_session, tenants_register,
                                              bankid):
    token, _qr = start_bankid(client)
    assert len(pending_rows(db_session)) == 1
    answer = client.post("/portal/bankid/cancel", headers={"X-CSRFToken": token,
                                                           "Accept": "application/json"})
    assert answer.get_json() == {"status": "cancelled"}
    assert pending_rows(db_session) == []
    assert client.get("/portal/bankid/qr").status_code == 404


def test_a_second_start_replaces_the_first_order(client, db_session, tenants_register, bankid):
    start_bankid(client)
    [first] = pending_rows(db_session)
    first_id = first.id
    start_bankid(client)
    [second] = pending_rows(db_session)
    assert second.id != first_id


def test_an_expired_order_is_refused_and_swept(app, client, db_session, tenants_register,
                                              bankid):
    token, _qr = start_bankid(client)
    with time_machine.travel(utcnow() + timedelta(minutes=11), tick=False):
        assert client.get("/portal/bankid/qr").status_code == 404
        collect = client.post("/portal/bankid/collect", headers={"X-CSRFToken": token})
        assert collect.status_code == 404
        assert pending.sweep(db_session) == 1
    assert pending_rows(db_session) == []


def test_the_sweep_keeps_orders_under_way(db_session):
    row = pending.create(db_session, "bankid", {"ref": "r"})
    old = pending.create(db_session, "oidc", {"state": "s"}, now=utcnow() - timedelta(hours=1))
    old_id, row_id = old.id, row.id
    assert pending.sweep(db_session) == 1
    assert [r.id for r in pending_rows(db_session)] == [row_id]
    assert pending.get(db_session, old_id, "oidc") is None
    assert pending.get(db_session, row_id, "oidc") is None  # another kind: not this flow's


def test_the_session_cookie_holds_no_oidc_state_nonce_or_verifier(
        app, client, db_session, tenants_register, oidc_provider):
    client.get("/portal/login?lang=en")
    start = client.get("/portal/fi/start")
    assert start.status_code == 302
    query = parse_qs(urlsplit(start.headers["Location"]).query)
    [row] = pending_rows(db_session)
    carried = json.dumps(cookie_session(app, client))
    for value in (query["state"][0], query["nonce"][0], row.data["code_verifier"],
                  row.data["nonce"]):
        assert value not in carried
        assert value not in raw_cookie(app, client)
    assert not any(key.startswith("_state_") for key in cookie_session(app, client))
    # ...and the flow still completes, its row gone afterwards.
    back = requests.get(start.headers["Location"], allow_redirects=False, timeout=10)
    parts = urlsplit(back.headers["Location"])
    callback = client.get(f"{parts.path}?{parts.query}")
    assert callback.headers["Location"].endswith("/portal/register/account")
    assert pending_rows(db_session) == []


def test_an_oidc_callback_is_used_once(client, db_session, tenants_register, oidc_provider):
    client.get("/portal/login?lang=en")
    start = client.get("/portal/fi/start")
    back = requests.get(start.headers["Location"], allow_redirects=False, timeout=10)
    parts = urlsplit(back.headers["Location"])
    first = client.get(f"{parts.path}?{parts.query}")
    assert first.headers["Location"].endswith("/portal/register/account")
    again = client.get(f"{parts.path}?{parts.query}")
    assert again.headers["Location"].endswith("/portal/register")


def test_joining_the_queue_keeps_its_bankid_order_server_side_too(
        app, client, db_session, tenants_register, bankid):
    token, qr = start_bankid(client, "/bostad/join/bankid", "/bostad/join")
    [row] = pending_rows(db_session)
    carried = json.dumps(cookie_session(app, client))
    assert row.data["qs"] not in carried and row.data["ref"] not in carried
    assert client.get("/bostad/join/bankid/qr").get_json()["text"].startswith("bankid.")
    assert bankid.sign(qrCode=qr, personalNumber=CURRENT, name="Tove Tenant").is_success
    done = client.post("/bostad/join/bankid/collect", headers={"X-CSRFToken": token}).get_json()
    assert done["status"] == "complete"
    assert pending_rows(db_session) == []


def test_the_scheduled_sweep_deletes_expired_orders(app, db_session):
    from dispatch.auth.jobs import sweep_identifications

    pending.create(db_session, "bankid", {"ref": "old"}, now=utcnow() - timedelta(hours=1))
    kept = pending.create(db_session, "bankid", {"ref": "new"}).id
    assert sweep_identifications(app) == {"deleted": 1}
    assert [row.id for row in pending_rows(db_session)] == [kept]
