"""Websocket namespaces admit only their roles; events go out only after commit."""

import pytest

from dispatch.core.extensions import socketio
from dispatch.core.realtime import publish
from dispatch.jobs.patrols import upsert_patrol


@pytest.fixture
def connect(app, client):
    clients = []

    def factory(namespace, token=None, call_sign=None):
        auth = {"token": token} if token else None
        if call_sign:
            auth = {**(auth or {}), "call_sign": call_sign}
        ws = socketio.test_client(app, namespace=namespace, auth=auth, flask_test_client=client)
        clients.append(ws)
        return ws

    yield factory
    for ws in clients:
        if ws.is_connected("/console") or ws.is_connected("/field"):
            ws.disconnect(namespace="/console" if ws.is_connected("/console") else "/field")


def test_console_admits_an_operator_token_and_refuses_others(connect, create_token):
    operator, _ = create_token(role="operator")
    patrol, _ = create_token(role="patrol")
    assert connect("/console", operator).is_connected("/console")
    assert not connect("/console", patrol).is_connected("/console")
    assert not connect("/console", "dsp_bogus").is_connected("/console")
    assert not connect("/console").is_connected("/console")


def test_field_admits_a_patrol_with_its_call_sign_and_not_an_operator(
    connect, create_token, db_session
):
    upsert_patrol(db_session, call_sign="Jour 11", name="Jour 11")
    patrol, _ = create_token(role="patrol", kind="device", label="Jour 11")
    operator, _ = create_token(role="operator")
    assert connect("/field", patrol, "Jour 11").is_connected("/field")
    assert not connect("/field", patrol).is_connected("/field")  # which car?
    assert not connect("/field", patrol, "Jour 99").is_connected("/field")
    assert not connect("/field", operator, "Jour 11").is_connected("/field")


def test_console_admits_a_logged_in_browser_session(connect, auth, create_user):
    create_user(role="operator", email="op@example.se")
    auth.login("op@example.se")
    assert connect("/console").is_connected("/console")


def test_published_event_reaches_consoles_only_after_commit(connect, create_token, db_session):
    operator, _ = create_token(role="operator")
    first, second = connect("/console", operator), connect("/console", operator)
    upsert_patrol(db_session, call_sign="Jour 11", name="Jour 11")
    tablet = connect("/field", create_token(role="patrol", kind="device", label="Jour 11")[0],
                     "Jour 11")
    publish(db_session, "patrol.updated", {"patrol_id": 7}, namespace="/console")
    assert first.get_received("/console") == []
    db_session.commit()
    for console in (first, second):
        assert [(e["name"], e["args"]) for e in console.get_received("/console")] == [
            ("patrol.updated", [{"patrol_id": 7}])
        ]
    assert tablet.get_received("/field") == []


def test_published_event_is_dropped_when_the_transaction_rolls_back(
    connect, create_token, db_session
):
    console = connect("/console", create_token(role="operator")[0])
    nested = db_session.begin_nested()
    publish(db_session, "job.updated", {"job_id": 1}, namespace="/console")
    nested.rollback()
    db_session.rollback()
    db_session.commit()
    assert console.get_received("/console") == []


def test_event_to_a_patrol_reaches_only_that_car(connect, create_token, db_session):
    car_a = upsert_patrol(db_session, call_sign="Jour 11", name="Jour 11")
    upsert_patrol(db_session, call_sign="Jour 12", name="Jour 12")
    a = connect("/field", create_token(role="patrol", kind="device", label="Jour 11")[0],
                "Jour 11")
    b = connect("/field", create_token(role="patrol", kind="device", label="Jour 12")[0],
                "Jour 12")
    publish(db_session, "job.assigned", {"job_id": 3}, namespace="/field", to=f"patrol:{car_a.id}")
    db_session.commit()
    assert [e["name"] for e in a.get_received("/field")] == ["job.assigned"]
    assert b.get_received("/field") == []
