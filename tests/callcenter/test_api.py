"""The call centre's HTTP API and the events it sends to consoles and tablets."""

from datetime import timedelta

import pytest

from dispatch.core.extensions import socketio
from dispatch.models import Patrol, utcnow
from tests.support.factories import flat_row


@pytest.fixture
def acme(create_landlord, build_register):
    landlord = create_landlord(code="ACME", oncall_numbers=["08-46 500 401"])
    build_register(landlord, [
        flat_row("Götgatan 12B", "1102", portkod="4711", lat="59.3121", lon="18.0713",
                 avtalsnummer="A1", kundnummer="K1", hyresgast_namn="Anna Andersson",
                 hyresgast_telefon="070-174 06 05"),
        flat_row("Götgatan 12B", "1202", avtalsnummer="A2", kundnummer="K2",
                 hyresgast_namn="Bo Ek", hyresgast_telefon="070-174 06 06"),
    ])
    return landlord


@pytest.fixture
def operator(create_token):
    token, user = create_token(role="operator")
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def patrols(db_session):
    now = utcnow()
    near = Patrol(call_sign="Jour 11", name="Jour 11", status="available", lat=59.3140,
                  lon=18.0720, position_at=now)
    far = Patrol(call_sign="Jour 12", name="Jour 12", status="available", lat=59.3420,
                 lon=18.0480, position_at=now - timedelta(seconds=30))
    db_session.add_all([near, far])
    db_session.flush()
    return near, far


@pytest.fixture
def sockets(app, client, create_token):
    opened = []

    def connect(namespace, role, call_sign=None):
        # A tablet's token is bound to its car (its shift log-in's device token).
        bound = {"kind": "device", "label": call_sign} if call_sign else {}
        token, _ = create_token(role=role, **bound)
        auth = {"token": token, **({"call_sign": call_sign} if call_sign else {})}
        ws = socketio.test_client(app, namespace=namespace, auth=auth, flask_test_client=client)
        assert ws.is_connected(namespace)
        opened.append((ws, namespace))
        return ws

    yield connect
    for ws, namespace in opened:
        if ws.is_connected(namespace):
            ws.disconnect(namespace=namespace)


def _events(ws, namespace, name):
    return [e["args"][0] for e in ws.get_received(namespace) if e["name"] == name]


def test_call_pops_up_landlord_and_tenant_on_every_console(client, acme, operator, sockets):
    first, second = sockets("/console", "operator"), sockets("/console", "operator")
    response = client.post("/api/v1/calls", headers=operator,
                           json={"dialled_number": "0046846500401", "caller_number": "46701740605"})
    pop = response.get_json()
    assert response.status_code == 201
    assert pop["landlord"] == {"code": "ACME", "name": "Acme Bostäder"}
    assert [(t["name"], t["address"], t["lagenhetsnummer"]) for t in pop["tenants"]] == [
        ("Anna Andersson", "Götgatan 12B, 118 46 Stockholm", "1102")]
    for console in (first, second):
        assert [p["call_id"] for p in _events(console, "/console", "call.incoming")] == [
            pop["call_id"]]


def test_call_from_an_unknown_number_pops_up_the_landlord_without_tenants(
    client, acme, operator
):
    pop = client.post("/api/v1/calls", headers=operator,
                      json={"dialled_number": "08-46 500 401", "caller_number": "+4631390600"})
    assert pop.get_json()["landlord"]["code"] == "ACME" and pop.get_json()["tenants"] == []
    nobody = client.post("/api/v1/calls", headers=operator,
                         json={"dialled_number": "0800-123", "caller_number": None})
    assert nobody.status_code == 201 and nobody.get_json()["landlord"] is None


def test_call_without_dialled_number_is_a_json_error(client, operator):
    response = client.post("/api/v1/calls", headers=operator, json={"caller_number": "1"})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "dialled_number_required"
    not_json = client.post("/api/v1/calls", headers=operator, data="x")
    assert not_json.get_json()["error"]["code"] == "invalid_json"


def test_address_search_answers_the_contract_fields_best_first(client, acme, operator):
    hits = client.get("/api/v1/addresses/search?q=gotg 12 b lgh 1202&landlord=acme",
                      headers=operator).get_json()
    assert hits[0]["address"] == "Götgatan 12B" and hits[0]["lagenhetsnummer"] == "1202"
    assert set(hits[0]) >= {"object_id", "objektsnummer", "landlord", "address", "postnummer",
                            "ort", "lagenhetsnummer", "floor", "lat", "lon", "score"}
    assert hits[0]["postnummer"] == "118 46" and hits[0]["floor"] == 2


def test_complaint_answers_job_and_nearest_patrols_and_consoles_see_it(
    client, acme, operator, patrols, sockets, db_session
):
    near, far = patrols
    console = sockets("/console", "operator")
    object_id = client.get("/api/v1/addresses/search?q=Götgatan 12B lgh 1102",
                           headers=operator).get_json()[0]["object_id"]
    response = client.post("/api/v1/complaints", headers=operator, json={
        "landlord": "ACME", "object_id": object_id, "category": "music",
        "description": "Hög musik sedan 23", "priority": 2,
        "caller": {"name": "Anna Andersson", "phone": "070-174 06 05"},
    })
    body = response.get_json()
    assert response.status_code == 201
    assert [r["patrol_id"] for r in body["recommended"]] == [near.id, far.id]
    assert body["recommended"][0]["distance_m"] < 300
    [update] = _events(console, "/console", "job.updated")
    assert (update["job_id"], update["status"]) == (body["job_id"], "queued")


def test_complaint_with_bad_input_is_refused_with_a_reason(client, acme, operator):
    bad = client.post("/api/v1/complaints", headers=operator, json={
        "landlord": "ACME", "category": "music"})
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "address_required"
    unknown = client.post("/api/v1/complaints", headers=operator, json={
        "landlord": "NOPE", "category": "music", "object_id": 1})
    assert unknown.get_json()["error"]["code"] == "unknown_landlord"


def _job(client, operator, category="music"):
    object_id = client.get("/api/v1/addresses/search?q=Götgatan 12B lgh 1102",
                           headers=operator).get_json()[0]["object_id"]
    return client.post("/api/v1/complaints", headers=operator, json={
        "landlord": "ACME", "object_id": object_id, "category": category}).get_json()["job_id"]


def test_dispatch_with_empty_body_sends_the_nearest_and_only_its_tablet_hears(
    client, acme, operator, patrols, sockets
):
    near, far = patrols
    near_tablet = sockets("/field", "patrol", "Jour 11")
    far_tablet = sockets("/field", "patrol", "Jour 12")
    job_id = _job(client, operator)
    answer = client.post(f"/api/v1/jobs/{job_id}/dispatch", headers=operator, json={})
    assert answer.status_code == 200
    assert answer.get_json()["patrol_id"] == near.id and answer.get_json()["distance_m"] < 300
    [sent] = _events(near_tablet, "/field", "job.assigned")
    assert (sent["job_id"], sent["portkod"], sent["lagenhetsnummer"]) == (job_id, "4711", "1102")
    assert far_tablet.get_received("/field") == []


def test_reassigning_tells_both_tablets(client, acme, operator, patrols, sockets):
    near, far = patrols
    near_tablet = sockets("/field", "patrol", "Jour 11")
    far_tablet = sockets("/field", "patrol", "Jour 12")
    job_id = _job(client, operator)
    client.post(f"/api/v1/jobs/{job_id}/dispatch", headers=operator, json={})
    near_tablet.get_received("/field")
    moved = client.post(f"/api/v1/jobs/{job_id}/dispatch", headers=operator,
                        json={"patrol_id": far.id})
    assert moved.get_json()["patrol_id"] == far.id
    assert [e["job_id"] for e in _events(near_tablet, "/field", "job.revoked")] == [job_id]
    assert [j["job_id"] for j in _events(far_tablet, "/field", "job.assigned")] == [job_id]


def test_job_shows_its_status_history(client, acme, operator, patrols):
    job_id = _job(client, operator)
    client.post(f"/api/v1/jobs/{job_id}/dispatch", headers=operator, json={})
    job = client.get(f"/api/v1/jobs/{job_id}", headers=operator).get_json()
    assert job["status"] == "assigned"
    assert [h["kind"] for h in job["history"]] == ["created", "assigned"]


def test_dispatching_unknown_or_closed_jobs_is_refused(client, acme, operator, patrols,
                                                        db_session):
    assert client.post("/api/v1/jobs/999999/dispatch", headers=operator,
                       json={}).status_code == 404
    from dispatch.models import Job

    job_id = _job(client, operator)
    db_session.get(Job, job_id).status = "done"
    db_session.flush()
    closed = client.post(f"/api/v1/jobs/{job_id}/dispatch", headers=operator, json={})
    assert closed.status_code == 409 and closed.get_json()["error"]["code"] == "job_closed"


def test_landlord_users_cannot_use_the_call_centre_api(client, acme, create_token):
    token, _ = create_token(role="landlord", landlord=acme)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.post("/api/v1/calls", headers=headers,
                       json={"dialled_number": "1"}).status_code == 403
    assert client.get("/api/v1/addresses/search?q=got", headers=headers).status_code == 403


def test_a_complaint_with_text_no_database_stores_is_a_json_400(client, create_token):
    token, _ = create_token(role="operator")
    for bad in ("Götgatan\x00", "\ud8de"):
        response = client.post("/api/v1/complaints", headers={"Authorization": f"Bearer {token}"},
                               json={"landlord": bad, "object_id": 1, "category": "music"})
        assert response.status_code == 400
        assert response.get_json()["error"]["code"] == "invalid_text"
