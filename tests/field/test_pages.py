"""The tablet app's pages and endpoints: the shell and its service worker, the shift log-in
that issues a device token, revoking it, and the weight of what a tablet downloads."""

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from dispatch.core.extensions import socketio
from dispatch.jobs.dispatching import NewComplaint, assign, create_complaint
from dispatch.jobs.patrols import patrol_json, upsert_patrol
from dispatch.jobs.shapes import job_for_tablet
from dispatch.models import ApiToken, AuditEvent, Patrol, RentalObject, utcnow
from dispatch.register.landlords import get_landlord
from tests.support.factories import flat_row

PASSWORD = "correct horse battery"


@pytest.fixture
def car(db_session):
    return upsert_patrol(db_session, call_sign="Jour 11", name="Jour 11 Söder")


@pytest.fixture
def patrol_user(create_user):
    return create_user(role="patrol", email="patrull@example.se")


def _log_in(client, email="patrull@example.se", password=PASSWORD, call_sign="Jour 11",
            crew=("Anna Andersson", "Bo Berg")):
    return client.post("/api/v1/field/session",
                       json={"email": email, "password": password, "call_sign": call_sign,
                             "crew": list(crew)})


def _connect(app, client, token, call_sign="Jour 11"):
    return socketio.test_client(app, namespace="/field", flask_test_client=client,
                                auth={"token": token, "call_sign": call_sign})


def _fetch(client, url):
    """GET a URL; its status and body (static files must be closed, warnings are errors)."""
    with client.get(url) as response:
        return response.status_code, response.data


def _audit(db_session, action):
    return db_session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


# -- the shell, the service worker, the manifest -------------------------------------------

def test_the_shell_is_one_small_swedish_page_with_its_files_and_no_cache(client):
    assert client.get("/field").headers["Location"].endswith("/field/")
    response = client.get("/field/", headers={"Accept-Language": "en"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert response.headers["Cache-Control"] == "no-cache"
    assert '<html lang="sv">' in page and "Logga in" in page and "Anropssignal" in page
    assert re.search(r'src="/static/vendor/socket\.io\.min\.js\?v=\w+"', page)
    assert re.search(r'src="/static/field/app\.js\?v=\w+"', page)
    assert re.search(r'href="/static/field/app\.css\?v=\w+"', page)
    assert 'rel="manifest" href="/field/manifest.webmanifest"' in page
    assert "cdn" not in page.lower() and "https://" not in page  # everything from this server
    config = json.loads(re.search(r'<script id="config" type="application/json">(.*?)</script>',
                                  page, re.S).group(1))
    assert config["sw_url"] == "/field/sw.js" and config["scope"] == "/field/"
    assert config["text"]["steps"]["on_site"] and config["outcomes"] == [
        "stopped", "not_stopped", "police_called", "no_disturbance"]


def test_the_service_worker_is_served_inside_the_scope_and_caches_files_that_exist(client):
    response = client.get("/field/sw.js")
    source = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/field/"
    assert response.headers["Cache-Control"] == "no-cache"
    assert "__VERSION__" not in source and "__ASSETS__" not in source
    assets = json.loads(re.search(r"var ASSETS = (\[.*?\]);", source).group(1))
    assert assets[0] == "/field/"
    shell = client.get("/field/").get_data(as_text=True)
    for url in assets[1:]:
        assert url in shell  # the very URLs the shell loads, so that they come from the cache
        assert _fetch(client, url)[0] == 200
    # A change to a file changes the cache's name, so tablets fetch the new version.
    assert re.search(r'var VERSION = "\w{12}";', source)


def test_the_manifest_makes_the_app_installable_dark_and_full_screen(client):
    response = client.get("/field/manifest.webmanifest")
    manifest = json.loads(response.get_data(as_text=True))
    assert response.mimetype == "application/manifest+json"
    assert manifest["start_url"] == manifest["scope"] == "/field/"
    assert manifest["display"] == "standalone" and manifest["background_color"] == "#0b0e12"
    for icon in manifest["icons"]:
        assert _fetch(client, icon["src"])[0] == 200


# -- the shift log-in ------------------------------------------------------------------------

def test_log_in_gives_a_device_token_that_opens_the_field_socket(
    app, client, db_session, car, patrol_user
):
    response = _log_in(client)
    body = response.get_json()
    assert response.status_code == 201, body
    # The car in the contract's patrol shape (the same as /api/v1/patrols gives).
    assert body["patrol"] == patrol_json(car)
    assert (body["patrol"]["patrol_id"], body["patrol"]["call_sign"], body["patrol"]["name"],
            body["patrol"]["status"]) == (car.id, "Jour 11", "Jour 11 Söder", "off_duty")
    assert body["user"]["email"] == "patrull@example.se"
    row = db_session.scalars(select(ApiToken).where(ApiToken.user_id == patrol_user.id)).one()
    assert (row.kind, row.label) == ("device", "Jour 11")
    assert timedelta(days=6, hours=23) < row.expires_at - utcnow() <= timedelta(days=7)
    assert body["token"] not in {row.token_hash}  # only the hash is kept
    ws = _connect(app, client, body["token"])
    assert ws.is_connected("/field")
    assert ws.emit("patrol.status", {"status": "available"}, namespace="/field",
                   callback=True) == {"ok": True, "status": "available"}
    ws.disconnect(namespace="/field")
    assert [e.subject for e in _audit(db_session, "login.succeeded")] == ["patrull@example.se"]
    assert _audit(db_session, "device.session_started")[0].details == {"call_sign": "Jour 11",
                                                                       "crew": 2}


def test_wrong_password_is_a_json_401_and_is_audited(client, db_session, car, patrol_user):
    response = _log_in(client, password="wrong horse")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "invalid_credentials"
    assert [e.subject for e in _audit(db_session, "login.failed")] == ["patrull@example.se"]
    assert db_session.scalars(select(ApiToken)).all() == []


def test_a_user_who_is_not_a_patrol_gets_no_device_token(client, db_session, car, create_user):
    create_user(role="operator", email="op@example.se")
    response = _log_in(client, email="op@example.se")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "invalid_credentials"
    assert db_session.scalars(select(ApiToken)).all() == []
    assert [e.subject for e in _audit(db_session, "login.failed")] == ["op@example.se"]


def test_an_unknown_call_sign_or_a_missing_field_is_refused(client, db_session, car, patrol_user):
    unknown = _log_in(client, call_sign="Jour 99")
    assert unknown.status_code == 400
    assert unknown.get_json()["error"]["code"] == "unknown_call_sign"
    missing = client.post("/api/v1/field/session", json={"email": "patrull@example.se"})
    assert missing.get_json()["error"]["code"] == "missing_fields"
    form = client.post("/api/v1/field/session", data={"email": "patrull@example.se",
                                                      "password": PASSWORD, "call_sign": "Jour 11"})
    assert form.status_code == 400 and form.get_json()["error"]["code"] == "invalid_json"
    assert db_session.scalars(select(ApiToken)).all() == []


def test_the_web_log_in_attempt_limit_holds_for_tablets_too(app, client, car, patrol_user):
    for _ in range(app.config["LOGIN_FAILURES_BEFORE_BACKOFF"]):
        assert _log_in(client, password="guess").status_code == 401
    locked = _log_in(client)  # even the right password, once locked
    assert locked.status_code == 429
    assert locked.get_json()["error"]["code"] == "too_many_attempts"
    wait = int(locked.headers["Retry-After"])
    assert 0 < wait <= app.config["LOGIN_BACKOFF_BASE_S"]
    assert locked.get_json()["error"]["retry_after"] == wait
    # The owner on another tablet (another address) is not locked out.
    elsewhere = client.post("/api/v1/field/session", environ_base={"REMOTE_ADDR": "10.9.8.7"},
                            json={"email": "patrull@example.se", "password": PASSWORD,
                                  "call_sign": "Jour 11", "crew": ["Anna Andersson"]})
    assert elsewhere.status_code == 201, elsewhere.get_json()


def test_the_call_sign_list_is_public_but_holds_only_names(client, car, db_session):
    car.lat, car.lon, car.status = 59.3, 18.0, "available"
    db_session.commit()
    assert client.get("/api/v1/field/patrols").get_json() == [
        {"call_sign": "Jour 11", "name": "Jour 11 Söder"}]


# -- revoking ----------------------------------------------------------------------------------

def test_a_device_session_revoked_by_an_admin_can_no_longer_connect(
    app, client, db_session, car, patrol_user, auth, create_user
):
    token = _log_in(client).get_json()["token"]
    create_user(role="admin", email="admin@example.se")
    auth.login("admin@example.se")
    page = client.get("/admin/devices").get_data(as_text=True)
    assert "Jour 11" in page and "patrull@example.se" in page
    row = db_session.scalars(select(ApiToken).where(ApiToken.kind == "device")).one()
    revoked = client.post(f"/admin/devices/{row.id}/revoke",
                          data={"csrf_token": auth.csrf_token("/admin/devices")})
    assert revoked.status_code == 302
    db_session.refresh(row)
    assert row.revoked_at is not None
    assert _audit(db_session, "device.session_revoked")[0].details["call_sign"] == "Jour 11"
    ws = _connect(app, client, token)
    assert not ws.is_connected("/field")
    # An API token is not a device session: this page cannot touch it.
    other, _user = create_token_for(db_session, create_user)
    assert client.post(f"/admin/devices/{other.id}/revoke",
                       data={"csrf_token": auth.csrf_token("/admin/devices")}).status_code == 404


def create_token_for(db_session, create_user):
    from dispatch.auth.service import create_token

    user = create_user(role="operator")
    create_token(db_session, user)
    return db_session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)).one(), user


def test_only_admins_see_the_device_sessions(client, auth, create_user):
    create_user(role="operator", email="op@example.se")
    auth.login("op@example.se")
    assert client.get("/admin/devices").status_code == 403


def test_logging_out_on_the_tablet_ends_its_session(app, client, car, patrol_user, db_session):
    token = _log_in(client).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.delete("/api/v1/field/session", headers=headers).status_code == 204
    assert client.delete("/api/v1/field/session", headers=headers).status_code == 401
    assert not _connect(app, client, token).is_connected("/field")


def test_an_expired_device_session_is_refused(app, client, car, patrol_user, db_session):
    token = _log_in(client).get_json()["token"]
    row = db_session.scalars(select(ApiToken)).one()
    row.expires_at = utcnow() - timedelta(seconds=1)
    db_session.commit()
    assert not _connect(app, client, token).is_connected("/field")


# -- weight ------------------------------------------------------------------------------------

def test_first_load_is_at_most_150_kb(client):
    shell = client.get("/field/").data
    urls = re.findall(rb'(?:src|href)="(/[^"]+)"', shell)
    files = {url.decode(): len(_fetch(client, url.decode())[1]) for url in urls}
    assert any("socket.io.min.js" in u for u in files) and any("app.js" in u for u in files)
    total = len(shell) + sum(files.values())
    print(f"first load: shell {len(shell)} B + {files} = {total} B")
    assert total <= 150 * 1024


def test_a_job_for_the_tablet_is_at_most_5_kb(db_session, create_landlord, build_register):
    landlord = create_landlord(code="ACME")
    build_register(landlord, [
        flat_row("Ringvägen 112B", "1102", portkod="1234#5678", lat="59.3121", lon="18.0713",
                 avtalsnummer="A1", kundnummer="K1",
                 hyresgast_namn="Anna-Karin Andersson-Lindqvist",
                 hyresgast_telefon="070-174 06 05"),
        flat_row("Ringvägen 112B", "1202"),
    ])
    flat, above = db_session.scalars(select(RentalObject).order_by(RentalObject.lagenhetsnummer))
    patrol = Patrol(call_sign="Jour 11", name="Jour 11", status="available")
    db_session.add(patrol)

    def complaint(obj, text):
        return create_complaint(db_session, NewComplaint(
            landlord=get_landlord(db_session, "ACME"), category="party", object_id=obj.id,
            description=text, caller_name="Anna-Karin Andersson-Lindqvist",
            caller_phone="070-174 06 05", disturbed_party="Anna-Karin, lgh 1102",
            suspected_object_id=above.id, suspected_source="Lägenheten ovanför, lgh 1202"),
            user_id=None)

    for n in range(8):
        complaint(flat, f"Tidigare störning {n}")
    long_text = ("Hög musik och skrik från lägenheten ovanför sedan klockan 22, det dunkar i "
                 "taket och grannarna i trapphuset har också hört det. ") * 4
    job = complaint(flat, long_text)
    assign(db_session, job, patrol, user_id=None)
    payload = job_for_tablet(job)
    size = len(json.dumps(payload, ensure_ascii=False).encode())
    print(f"job for the tablet: {size} B")
    assert size <= 5 * 1024
    assert payload["floor"] == 1 and payload["portkod"] == "1234#5678"
    assert payload["suspected"] == {"lagenhetsnummer": "1202", "floor": 2}
    assert len(payload["earlier"]) == 5 and all(e["category"] == "party"
                                                for e in payload["earlier"])


def test_a_tablets_shift_log_in_connects_as_its_own_car_only(app, client, db_session):
    from dispatch.auth.service import create_token, upsert_user
    from dispatch.core.extensions import socketio
    from dispatch.jobs.patrols import upsert_patrol

    upsert_patrol(db_session, call_sign="Jour 11", name="Jour 11")
    upsert_patrol(db_session, call_sign="Jour 12", name="Jour 12")
    user = upsert_user(db_session, email="car@example.se", role="patrol")
    token = create_token(db_session, user, kind="device", label="Jour 11")
    db_session.commit()
    own = socketio.test_client(app, namespace="/field", flask_test_client=client,
                               auth={"token": token, "call_sign": "Jour 11"})
    other = socketio.test_client(app, namespace="/field", flask_test_client=client,
                                 auth={"token": token, "call_sign": "Jour 12"})
    try:
        assert own.is_connected("/field")
        assert not other.is_connected("/field")
    finally:
        own.disconnect(namespace="/field")


# -- the end of a shift takes the car off duty ---------------------------------------------------

@pytest.fixture
def console(app, client, create_token):
    token, _ = create_token(role="operator")
    ws = socketio.test_client(app, namespace="/console", auth={"token": token},
                              flask_test_client=client)
    yield ws
    ws.disconnect(namespace="/console")


def _patrol_updates(console):
    return [e["args"][0] for e in console.get_received("/console")
            if e["name"] == "patrol.updated"]


def test_logging_out_takes_the_car_off_duty_and_tells_the_consoles(
        client, car, patrol_user, db_session, console):
    token = _log_in(client).get_json()["token"]
    car.status = "available"
    db_session.commit()
    console.get_received("/console")
    assert client.delete("/api/v1/field/session",
                         headers={"Authorization": f"Bearer {token}"}).status_code == 204
    db_session.refresh(car)
    assert car.status == "off_duty"
    assert [(u["patrol_id"], u["status"]) for u in _patrol_updates(console)] == [
        (car.id, "off_duty")]
    assert _audit(db_session, "device.session_ended")[0].details == {"call_sign": "Jour 11"}


def test_revoking_the_cars_current_tablet_takes_it_off_duty_but_an_older_one_does_not(
        client, car, patrol_user, db_session, console, auth, create_user):
    _log_in(client)  # yesterday's tablet, never logged out
    _log_in(client)  # the tablet in the car now
    old, current = db_session.scalars(select(ApiToken).where(ApiToken.kind == "device")
                                      .order_by(ApiToken.id)).all()
    car.status = "available"
    db_session.commit()
    create_user(role="admin", email="admin@example.se")
    auth.login("admin@example.se")
    console.get_received("/console")

    def revoke(row):
        return client.post(f"/admin/devices/{row.id}/revoke",
                           data={"csrf_token": auth.csrf_token("/admin/devices")})

    assert revoke(old).status_code == 302
    db_session.refresh(car)
    assert car.status == "available" and _patrol_updates(console) == []
    assert revoke(current).status_code == 302
    db_session.refresh(car)
    assert car.status == "off_duty"
    assert [u["status"] for u in _patrol_updates(console)] == ["off_duty"]
