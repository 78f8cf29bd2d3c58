"""CSRF on the API whatever headers come with the cookie (issue 14, finding 7): a request
that a cookie logs in (session or remember-me) must send the CSRF token even with an
``Authorization: Bearer`` header; a bearer token is honoured without one only when no cookie
logs anyone in, as tablets and integrations send it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from dispatch.models import Job, RentalObject
from tests.support.factories import flat_row

PASSWORD = "correct horse battery"


@pytest.fixture
def complaint(db_session, create_landlord, build_register):
    """The body of a complaint at a flat of ACME's register."""
    landlord = create_landlord(code="ACME", oncall_numbers=["08-46 500 401"])
    build_register(landlord, [flat_row("Götgatan 12B", "1102", lat="59.3121", lon="18.0713")])
    object_id = db_session.scalar(select(RentalObject.id))
    return {"landlord": "ACME", "object_id": object_id, "category": "music",
            "description": "Hög musik"}


def _post(app, client, path, **kwargs):
    """POST in an app context of its own, as every request has outside the tests (the test's
    context would otherwise keep the user Flask-Login loaded for an earlier request)."""
    with app.app_context():
        return client.post(path, **kwargs)


def _jobs(db_session) -> int:
    return db_session.scalar(select(func.count(Job.id)))


def test_junk_bearer_beside_the_session_cookie_no_longer_skips_csrf(
        auth, client, create_user, complaint, db_session):
    create_user(role="operator", email="op@example.se")
    auth.login("op@example.se")
    before = _jobs(db_session)
    refused = client.post("/api/v1/complaints", json=complaint,
                          headers={"Authorization": "Bearer junk"})
    assert refused.status_code == 400
    assert refused.get_json()["error"]["code"] == "csrf_failed"
    assert _jobs(db_session) == before
    # The console's own request, with its token from the page, still works.
    accepted = client.post("/api/v1/complaints", json=complaint, headers={
        "Authorization": "Bearer junk", "X-CSRFToken": auth.csrf_token("/")})
    assert accepted.status_code == 201 and _jobs(db_session) == before + 1


def test_a_valid_bearer_beside_the_cookie_excuses_nothing(
        auth, client, create_user, create_token, complaint):
    create_user(role="operator", email="op@example.se")
    token, _ = create_token(role="operator")
    auth.login("op@example.se")
    refused = client.post("/api/v1/complaints", json=complaint,
                          headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 400
    assert refused.get_json()["error"]["code"] == "csrf_failed"


def test_a_remember_me_cookie_alone_logs_in_so_it_needs_csrf_too(auth, client, create_user):
    create_user(role="patrol", email="jour@example.se")  # patrols are remembered
    auth.login("jour@example.se")
    assert client.get_cookie("remember_token") is not None
    client.delete_cookie("session")
    refused = client.post("/api/v1/me/locale", json={"locale": "fi"},
                          headers={"Authorization": "Bearer junk"})
    assert refused.status_code == 400
    assert refused.get_json()["error"]["code"] == "csrf_failed"


def test_integrations_and_tablets_with_a_bearer_token_and_no_cookie_still_work(
        app, create_token, complaint, db_session):
    token, _ = create_token(role="operator")
    created = _post(app, app.test_client(), "/api/v1/complaints", json=complaint,
                    headers={"Authorization": f"Bearer {token}"})
    assert created.status_code == 201, created.get_json()
    device, patrol = create_token(role="patrol", kind="device", label="Jour 11")
    answer = _post(app, app.test_client(), "/api/v1/me/locale", json={"locale": "en"},
                   headers={"Authorization": f"Bearer {device}"})
    assert answer.status_code == 200 and patrol.locale == "en"


def test_a_cookie_that_logs_no_one_in_does_not_stop_a_bearer_token(
        app, create_token, auth, client):
    # A browser that has only opened the log-in page has a session cookie (its CSRF token in
    # it) but is nobody: its bearer token decides, as with no cookie at all.
    token, user = create_token(role="operator")
    auth.csrf_token("/login")
    assert client.get_cookie("session") is not None
    answer = _post(app, client, "/api/v1/me/locale", json={"locale": "fi"},
                   headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200 and user.locale == "fi"
    # Without any credentials the CSRF check still answers first, as before.
    nobody = _post(app, client, "/api/v1/me/locale", json={"locale": "fi"})
    assert nobody.get_json()["error"]["code"] == "csrf_failed"
