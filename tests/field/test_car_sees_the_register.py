"""Issue 13, the car's half: a car on duty reads the register as the console does (search, the
object view, its own job's history), read-only and audited; the shift log-in names the crew;
call attempts reach the job's history through the socket, once however often they are sent;
the door code goes to the assigned car only; an anonymous caller's flat gives the tenant's
phone; the report names the crew and lists the call attempts."""

from __future__ import annotations

import json
import re

import pytest
from flask_babel import refresh
from sqlalchemy import select

from dispatch.core.extensions import socketio
from dispatch.jobs.dispatching import NewComplaint, assign, create_complaint
from dispatch.models import ApiToken, AuditEvent, Delivery, IncidentReport, JobEvent, Patrol, utcnow
from dispatch.register.landlords import get_landlord
from dispatch.reports.nights import service_zone
from dispatch.reports.service import document

PASSWORD = "correct horse battery"
ROWS = [
    {"objektsnummer": "S-1102", "gatuadress": "Sökgatan 4", "postnummer": "118 46",
     "ort": "Stockholm", "lagenhetsnummer": "1102", "portkod": "2580", "lat": "59.3121",
     "lon": "18.0713", "avtalsnummer": "A1", "kundnummer": "K1",
     "hyresgast_namn": "Anna Andersson", "hyresgast_telefon": "070-174 06 05"},
    {"objektsnummer": "S-1202", "gatuadress": "Sökgatan 4", "postnummer": "118 46",
     "ort": "Stockholm", "lagenhetsnummer": "1202", "portkod": "2580", "lat": "59.3121",
     "lon": "18.0713", "avtalsnummer": "A2", "kundnummer": "K2",
     "hyresgast_namn": "Bo Ek", "hyresgast_telefon": "070-174 06 06"},
]


@pytest.fixture
def register(create_landlord, build_register, db_session):
    """Landlord ACME with Sökgatan 4: flat 1102 (Anna Andersson) and 1202 above it (Bo Ek)."""
    landlord = create_landlord(code="ACME")
    build_register(landlord, ROWS)
    from dispatch.models import RentalObject
    objects = {o.lagenhetsnummer: o for o in db_session.scalars(select(RentalObject))}
    return landlord, objects


def _car(db_session, call_sign="Jour 11", status="available"):
    patrol = Patrol(call_sign=call_sign, name=call_sign, status=status, lat=59.314, lon=18.072,
                    position_at=utcnow())
    db_session.add(patrol)
    db_session.flush()
    return patrol


def _log_in(client, create_user, call_sign="Jour 11", crew=("Anna Berg", "Cecilia Dahl")):
    user = create_user(role="patrol")
    response = client.post("/api/v1/field/session", json={
        "email": user.email, "password": PASSWORD, "call_sign": call_sign, "crew": list(crew)})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["token"]


def _bearer(token):
    return {"Authorization": f"Bearer {token}"}


def _job(db_session, landlord, flat, **caller):
    return create_complaint(db_session, NewComplaint(
        landlord=get_landlord(db_session, landlord.code), category="music", object_id=flat.id,
        **caller), user_id=None)


# -- the crew --------------------------------------------------------------------------------

def test_the_shift_log_in_keeps_the_crews_names_with_the_device_token(
        client, create_user, db_session):
    _car(db_session)
    token = _log_in(client, create_user, crew=(" Anna  Berg ", "", "Cecilia Dahl"))
    row = db_session.scalar(select(ApiToken).where(ApiToken.kind == "device"))
    assert row.crew == ["Anna Berg", "Cecilia Dahl"]
    assert token


@pytest.mark.parametrize("crew", [None, [], ["", "  "], ["A", "B", "C"], "x" * 81, [1]])
def test_a_shift_log_in_without_one_or_two_crew_names_is_refused_and_issues_no_token(
        client, create_user, db_session, crew):
    _car(db_session)
    user = create_user(role="patrol")
    body = {"email": user.email, "password": PASSWORD, "call_sign": "Jour 11"}
    if crew is not None:
        body["crew"] = crew
    response = client.post("/api/v1/field/session", json=body)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] in ("missing_crew", "invalid_crew")
    assert db_session.scalars(select(ApiToken)).all() == []


# -- the register, read-only, for a car on duty ---------------------------------------------

def test_a_car_on_duty_searches_the_register_as_the_console_does_without_the_score(
        client, create_user, db_session, register):
    _car(db_session)
    token = _log_in(client, create_user)
    hits = client.get("/api/v1/field/search?q=Sökgatan 4 1202", headers=_bearer(token))
    assert hits.status_code == 200
    first = hits.get_json()[0]
    assert (first["address"], first["lagenhetsnummer"]) == ("Sökgatan 4", "1202")
    assert all("score" not in h for h in hits.get_json())


def test_the_object_view_on_the_tablet_has_tenants_neighbours_and_history_but_no_door_code(
        client, create_user, db_session, register):
    landlord, objects = register
    _job(db_session, landlord, objects["1102"])  # an earlier complaint at the object
    _car(db_session)
    token = _log_in(client, create_user)
    view = client.get(f"/api/v1/field/objects/{objects['1102'].id}", headers=_bearer(token))
    assert view.status_code == 200
    body = view.get_json()
    assert [(t["name"], t["phone_display"]) for t in body["tenants"]] == [
        ("Anna Andersson", "070-174 06 05")]
    assert [(n["relation"], n["lagenhetsnummer"], n["tenants"]) for n in body["neighbours"]] == [
        ("above", "1202", ["Bo Ek"])]
    assert [h["role"] for h in body["history"]] == ["complainant"]
    assert "door_code" not in body and "2580" not in view.get_data(as_text=True)
    assert view.headers["Cache-Control"] == "private, no-store"
    entrance = client.get(f"/api/v1/field/entrances/{objects['1102'].entrance_id}",
                          headers=_bearer(token)).get_json()
    assert [o["lagenhetsnummer"] for o in entrance["objects"]] == ["1102", "1202"]


def test_the_tablets_reads_of_tenant_data_are_audited_with_the_call_sign(
        client, create_user, db_session, register):
    _, objects = register
    _car(db_session)
    token = _log_in(client, create_user)
    client.get(f"/api/v1/field/objects/{objects['1102'].id}", headers=_bearer(token))
    client.get(f"/api/v1/field/entrances/{objects['1102'].entrance_id}", headers=_bearer(token))
    audited = db_session.scalars(select(AuditEvent).where(
        AuditEvent.action.in_(("object.viewed", "entrance.viewed"))).order_by(AuditEvent.id)).all()
    assert [(a.action, a.subject, a.details["call_sign"]) for a in audited] == [
        ("object.viewed", f"object:{objects['1102'].id}", "Jour 11"),
        ("entrance.viewed", f"entrance:{objects['1102'].entrance_id}", "Jour 11")]


def test_an_off_duty_car_is_refused_the_register_with_a_clear_code(
        client, create_user, db_session, register):
    _, objects = register
    _car(db_session, status="off_duty")
    token = _log_in(client, create_user)
    for path in ("/api/v1/field/search?q=Sökgatan", f"/api/v1/field/objects/{objects['1102'].id}"):
        refused = client.get(path, headers=_bearer(token))
        assert refused.status_code == 403
        assert refused.get_json()["error"]["code"] == "off_duty"
    assert db_session.scalars(select(AuditEvent).where(
        AuditEvent.action == "object.viewed")).all() == []


def test_only_a_token_bound_to_a_car_reads_the_register_on_the_tablets_api(
        client, create_token, db_session, register):
    _car(db_session)
    operator, _ = create_token(role="operator")
    unbound, _ = create_token(role="patrol")  # a patrol token with no call sign
    for token, status, code in ((operator, 403, "not_a_car"), (unbound, 403, "not_a_car"),
                                ("nonsense", 401, "unauthorized")):
        answer = client.get("/api/v1/field/search?q=Sökgatan", headers=_bearer(token))
        assert (answer.status_code, answer.get_json()["error"]["code"]) == (status, code)
    assert client.get("/api/v1/field/search?q=Sökgatan").status_code == 401


def test_a_car_reads_the_history_of_its_own_job_and_not_another_cars(
        client, create_user, db_session, register):
    landlord, objects = register
    mine, theirs = _car(db_session), _car(db_session, "Jour 12")
    token = _log_in(client, create_user)
    job, other = _job(db_session, landlord, objects["1102"]), _job(db_session, landlord,
                                                                    objects["1202"])
    assign(db_session, job, mine, user_id=None)
    assign(db_session, other, theirs, user_id=None)
    history = client.get(f"/api/v1/field/jobs/{job.id}/history", headers=_bearer(token))
    assert [(e["kind"], e["call_sign"]) for e in history.get_json()["events"]] == [
        ("created", None), ("assigned", "Jour 11")]
    refused = client.get(f"/api/v1/field/jobs/{other.id}/history", headers=_bearer(token))
    assert refused.status_code == 404 and refused.get_json()["error"]["code"] == "unknown_job"


# -- the job's payload -----------------------------------------------------------------------

def _payloads(db_session, patrol):
    return [d.payload for d in db_session.scalars(
        select(Delivery).where(Delivery.patrol_id == patrol.id).order_by(Delivery.id))]


def test_the_door_code_goes_to_the_assigned_car_and_not_to_the_car_it_was_moved_from(
        db_session, register):
    landlord, objects = register
    first, second = _car(db_session), _car(db_session, "Jour 12")
    job = _job(db_session, landlord, objects["1102"])
    assign(db_session, job, first, user_id=None)
    assign(db_session, job, second, user_id=None)
    to_first, to_second = _payloads(db_session, first), _payloads(db_session, second)
    assert [p.get("portkod") for p in to_first] == ["2580", None]
    assert set(to_first[1]) <= {"job_id", "reason"}  # the revocation: no door code, nothing of it
    assert [p["portkod"] for p in to_second] == ["2580"]


def test_an_anonymous_callers_job_carries_the_tenants_phone_from_the_register(
        db_session, register):
    landlord, objects = register
    car = _car(db_session)
    anonymous = _job(db_session, landlord, objects["1102"])
    assign(db_session, anonymous, car, user_id=None)
    [payload] = _payloads(db_session, car)
    assert payload["caller"]["phone"] is None
    assert payload["tenants"] == [{"name": "Anna Andersson", "phone": "+46701740605",
                                   "phone_display": "070-174 06 05"}]
    assert payload["object_id"] == objects["1102"].id


def test_a_caller_who_left_a_number_is_called_on_it_and_no_register_phone_is_sent(
        db_session, register):
    landlord, objects = register
    car = _car(db_session)
    job = _job(db_session, landlord, objects["1102"], caller_name="Anna Andersson",
               caller_phone="070-174 06 05")
    assign(db_session, job, car, user_id=None)
    [payload] = _payloads(db_session, car)
    assert payload["caller"]["phone_display"] == "070-174 06 05"
    assert payload["tenants"] == []


# -- call attempts through the socket, and the report -------------------------------------

def _socket(app, client, token, call_sign="Jour 11"):
    ws = socketio.test_client(app, namespace="/field", flask_test_client=client,
                              auth={"token": token, "call_sign": call_sign})
    assert ws.is_connected("/field")
    return ws


def _emit(ws, event, data):
    return ws.emit(event, data, namespace="/field", callback=True)


def test_a_call_attempt_is_stored_once_however_often_the_outbox_sends_it(
        app, client, create_user, db_session, register):
    landlord, objects = register
    car = _car(db_session)
    token = _log_in(client, create_user)
    job = _job(db_session, landlord, objects["1102"])
    assign(db_session, job, car, user_id=None)
    db_session.commit()
    ws = _socket(app, client, token)
    try:
        attempt = {"job_id": job.id, "number": "+46701740605", "answered": False,
                   "at": utcnow().isoformat(), "event_id": "call-1"}
        assert _emit(ws, "job.call_attempt", attempt) == {"ok": True, "changed": True}
        assert _emit(ws, "job.call_attempt", attempt) == {"ok": True, "changed": False}
        answered = {**attempt, "answered": True, "event_id": "call-2"}
        assert _emit(ws, "job.call_attempt", answered)["ok"]
    finally:
        ws.disconnect(namespace="/field")
    calls = db_session.scalars(select(JobEvent).where(
        JobEvent.job_id == job.id, JobEvent.kind == "call_attempt").order_by(JobEvent.id)).all()
    assert [(c.details, c.patrol_id) for c in calls] == [
        ({"number": "+46701740605", "answered": False}, car.id),
        ({"number": "+46701740605", "answered": True}, car.id)]


@pytest.mark.parametrize("change", [{"number": "ring mig"}, {"number": None},
                                    {"answered": "yes"}, {"event_id": None}, {"job_id": 99999}])
def test_a_malformed_call_attempt_is_refused_and_nothing_is_stored(
        app, client, create_user, db_session, register, change):
    landlord, objects = register
    car = _car(db_session)
    token = _log_in(client, create_user)
    job = _job(db_session, landlord, objects["1102"])
    assign(db_session, job, car, user_id=None)
    db_session.commit()
    ws = _socket(app, client, token)
    try:
        answer = _emit(ws, "job.call_attempt", {"job_id": job.id, "number": "070-174 06 05",
                                                "answered": True, "event_id": "c1", **change})
    finally:
        ws.disconnect(namespace="/field")
    assert answer["ok"] is False
    assert answer["error"]["code"] in ("invalid_call", "unknown_job")
    assert db_session.scalars(select(JobEvent).where(JobEvent.kind == "call_attempt")).all() == []


def test_a_car_cannot_log_calls_on_a_job_moved_to_another_car(
        app, client, create_user, db_session, register):
    landlord, objects = register
    first, second = _car(db_session), _car(db_session, "Jour 12")
    token = _log_in(client, create_user)
    job = _job(db_session, landlord, objects["1102"])
    assign(db_session, job, first, user_id=None)
    assign(db_session, job, second, user_id=None)
    db_session.commit()
    ws = _socket(app, client, token)
    try:
        answer = _emit(ws, "job.call_attempt", {"job_id": job.id, "number": "070-174 06 05",
                                                "answered": True, "event_id": "c1"})
    finally:
        ws.disconnect(namespace="/field")
    assert answer["error"]["code"] == "not_your_job"


def test_the_report_names_the_crew_at_submission_and_lists_the_call_attempts(
        app, client, create_user, db_session, register):
    landlord, objects = register
    car = _car(db_session)
    token = _log_in(client, create_user, crew=("Anna Berg", "Cecilia Dahl"))
    job = _job(db_session, landlord, objects["1102"])
    assign(db_session, job, car, user_id=None)
    db_session.commit()
    ws = _socket(app, client, token)
    try:
        for n, answered in enumerate((False, True)):
            assert _emit(ws, "job.call_attempt", {
                "job_id": job.id, "number": "070-174 06 05", "answered": answered,
                "event_id": f"c{n}"})["ok"]
        sent = _emit(ws, "job.report", {"job_id": job.id, "outcome": "stopped",
                                        "can_testify": True, "text": "Musiken sänktes."})
        assert sent["ok"], sent
    finally:
        ws.disconnect(namespace="/field")
    report = db_session.scalar(select(IncidentReport).where(IncidentReport.job_id == job.id))
    assert report.crew == ["Anna Berg", "Cecilia Dahl"]
    with app.test_request_context():
        doc = document(db_session, report, service_zone())
    assert doc["crew"] == doc["written_by"] == doc["witnesses"] == ["Anna Berg", "Cecilia Dahl"]
    assert [a["answered"] for a in doc["call_attempts"]] == [False, True]
    assert "070" not in str(doc["call_attempts"])  # the number stays in the call centre


def test_nobody_is_named_as_able_to_testify_when_the_patrol_says_no(
        app, client, create_user, db_session, register):
    landlord, objects = register
    car = _car(db_session)
    token = _log_in(client, create_user, crew=("Anna Berg",))
    job = _job(db_session, landlord, objects["1102"])
    assign(db_session, job, car, user_id=None)
    db_session.commit()
    ws = _socket(app, client, token)
    try:
        assert _emit(ws, "job.report", {"job_id": job.id, "outcome": "stopped",
                                        "can_testify": False})["ok"]
    finally:
        ws.disconnect(namespace="/field")
    report = db_session.scalar(select(IncidentReport).where(IncidentReport.job_id == job.id))
    with app.test_request_context():
        doc = document(db_session, report, service_zone())
    assert doc["crew"] == ["Anna Berg"] and doc["witnesses"] == []


def test_the_consoles_hear_of_a_call_attempt_as_of_any_step_of_the_job(
        app, client, create_user, create_token, db_session, register):
    landlord, objects = register
    car = _car(db_session)
    token = _log_in(client, create_user)
    job = _job(db_session, landlord, objects["1102"])
    assign(db_session, job, car, user_id=None)
    db_session.commit()
    operator, _ = create_token(role="operator")
    console = socketio.test_client(app, namespace="/console", auth={"token": operator},
                                   flask_test_client=client)
    ws = _socket(app, client, token)
    try:
        console.get_received("/console")
        assert _emit(ws, "job.call_attempt", {"job_id": job.id, "number": "070-174 06 05",
                                              "answered": False, "event_id": "c1"})["ok"]
        updates = [e["args"][0] for e in console.get_received("/console")
                   if e["name"] == "job.updated" and e["args"][0]["job_id"] == job.id]
    finally:
        ws.disconnect(namespace="/field")
        console.disconnect(namespace="/console")
    assert updates and updates[-1]["history"][-1]["kind"] == "call_attempt"


@pytest.mark.parametrize("lang, words", [
    ("sv", {"search_open": "Sök i registret", "no_answer": "Svarade inte",
            "outcome_required": "Välj resultat.", "label": "Personal i bilen",
            "off_duty": "Gå i tjänst för att använda registret."}),
    ("fi", {"search_open": "Hae rekisteristä", "no_answer": "Ei vastannut",
            "outcome_required": "Valitse lopputulos.", "label": "Auton henkilökunta",
            "off_duty": "Siirry päivystykseen käyttääksesi rekisteriä."}),
])
def test_the_tablets_new_words_are_swedish_and_finnish(client, lang, words):
    refresh()  # (the tests' app context outlives requests: forget its cached locale)
    page = client.get(f"/field/?lang={lang}").get_data(as_text=True)
    config = json.loads(re.search(r'<script id="config" type="application/json">(.*?)</script>',
                                  page, re.S).group(1))
    text = config["text"]
    assert text["search_open"] == words["search_open"]
    assert text["no_answer"] == words["no_answer"]
    assert text["outcome_required"] == words["outcome_required"]
    assert text["errors"]["off_duty"] == words["off_duty"]
    assert f'<label for="login-crew1">{words["label"]}</label>' in page
    # The outcome's error says the label's word.
    legend = re.search(r'<fieldset class="outcomes"><legend>(.*?)</legend>', page).group(1)
    assert legend.lower() in words["outcome_required"].lower()
