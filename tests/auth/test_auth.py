"""Log-in, sessions, CSRF, attempt limits, bearer tokens and role checks."""

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy import select

from dispatch.auth.service import create_token, revoke_token, user_for_token
from dispatch.models import AuditEvent, utcnow


def _audit(db_session, action):
    return db_session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def test_staff_log_in_with_right_password_and_reach_start_page(auth, client, create_user):
    create_user(role="operator", email="op@example.se")
    response = auth.login("op@example.se")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert "op@example.se" in page and "Operatör" in page


def test_login_goes_on_to_the_page_asked_for_but_never_to_another_site(auth, client, create_user):
    create_user(email="op@example.se")
    token = auth.csrf_token()
    form = {"email": "op@example.se", "password": "correct horse battery", "csrf_token": token}
    ok = client.post("/login?next=/healthz", data=form)
    assert ok.headers["Location"] == "/healthz"
    client.post("/logout", data={"csrf_token": auth.csrf_token("/")})
    form["csrf_token"] = auth.csrf_token()
    evil = client.post("/login?next=//evil.example/x", data=form)
    assert evil.headers["Location"] == "/"


def test_wrong_password_answers_401_keeps_the_email_and_audits(auth, create_user, db_session):
    create_user(email="op@example.se")
    response = auth.login("op@example.se", password="wrong password")
    page = response.get_data(as_text=True)
    assert response.status_code == 401
    assert "Fel e-postadress eller lösenord." in page
    assert 'value="op@example.se"' in page
    assert [e.subject for e in _audit(db_session, "login.failed")] == ["op@example.se"]


def test_unknown_email_gets_the_same_answer_as_a_wrong_password(auth):
    response = auth.login("nobody@example.se")
    assert response.status_code == 401
    assert "Fel e-postadress eller lösenord." in response.get_data(as_text=True)


def test_form_without_values_shows_what_is_missing(auth):
    response = auth._client.post("/login", data={"csrf_token": auth.csrf_token()})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Ange din e-postadress." in page and "Ange ditt lösenord." in page


def test_login_without_csrf_token_is_refused(client, create_user):
    create_user(email="op@example.se")
    response = client.post(
        "/login", data={"email": "op@example.se", "password": "correct horse battery"}
    )
    assert response.status_code == 400
    assert client.get("/").status_code == 302  # still not logged in


def test_successful_login_is_audited_with_address(auth, create_user, db_session):
    user = create_user(email="op@example.se")
    auth.login("op@example.se")
    [event] = _audit(db_session, "login.succeeded")
    assert (event.user_id, event.ip) == (user.id, "127.0.0.1")
    assert user.last_login_at is not None


def test_password_is_stored_as_argon2id_hash(create_user):
    user = create_user(password="correct horse battery")
    assert user.password_hash.startswith("$argon2id$")
    assert "correct horse" not in user.password_hash


def test_session_cookie_is_httponly_and_samesite(auth, create_user):
    create_user(email="op@example.se")
    cookie = auth.login("op@example.se").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # served over plain http in tests


def test_session_cookie_is_secure_when_served_over_https(tmp_path):
    from dispatch.core import settings

    config = settings.load(tmp_path)
    assert config["SESSION_COOKIE_SECURE"] is False
    import os

    os.environ["BASE_URL"] = "https://jour.example.se"
    try:
        assert settings.load(tmp_path)["SESSION_COOKIE_SECURE"] is True
    finally:
        del os.environ["BASE_URL"]


def test_logout_needs_post_with_csrf(auth, client, create_user):
    create_user(email="op@example.se")
    auth.login("op@example.se")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    client.post("/logout", data={"csrf_token": auth.csrf_token("/")})
    assert client.get("/").status_code == 302


def test_pages_send_an_anonymous_browser_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/")


def test_bearer_token_authenticates_api_calls(client, create_token):
    token, user = create_token(role="operator")
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.get_json() == {
        "id": user.id,
        "email": user.email,
        "role": "operator",
        "landlord": None,
    }


def test_api_without_credentials_answers_json_401(client):
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_revoked_or_expired_or_unknown_token_is_refused(db_session, create_user, client):
    user = create_user()
    live = create_token(db_session, user)
    expired = create_token(db_session, user, expires_at=utcnow() - timedelta(seconds=1))
    revoked = create_token(db_session, user)
    assert revoke_token(db_session, revoked)
    assert user_for_token(db_session, live) == user
    for token in (expired, revoked, "dsp_made-up", "not-even-ours"):
        assert user_for_token(db_session, token) is None
        assert (
            client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code
            == 401
        )


def test_only_the_token_hash_is_stored(db_session, create_user):
    from dispatch.models import ApiToken

    token = create_token(db_session, create_user())
    stored = db_session.scalars(select(ApiToken.token_hash)).all()
    assert token not in stored and all(len(h) == 64 for h in stored)


def test_roles_are_checked_landlord_cannot_list_patrols(client, create_token, create_landlord):
    landlord = create_landlord()
    token, _ = create_token(role="landlord", landlord=landlord)
    response = client.get("/api/v1/patrols", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"


def test_admin_passes_every_role_check(client, create_token):
    token, _ = create_token(role="admin")
    response = client.get("/api/v1/patrols", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


def test_deactivated_user_cannot_log_in_or_use_tokens(auth, client, create_user, db_session):
    user = create_user(email="gone@example.se")
    token = create_token(db_session, user)
    user.active = False
    db_session.flush()
    assert auth.login("gone@example.se").status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_browser_session_must_send_csrf_on_api_writes(auth, client, create_user):
    user = create_user(email="op@example.se")
    auth.login("op@example.se")
    refused = client.post("/api/v1/me/locale", json={"locale": "fi"})
    assert refused.status_code == 400
    assert refused.get_json()["error"]["code"] == "csrf_failed"
    accepted = client.post(
        "/api/v1/me/locale", json={"locale": "fi"}, headers={"X-CSRFToken": auth.csrf_token("/")}
    )
    assert accepted.status_code == 200 and user.locale == "fi"


def test_bearer_token_writes_need_no_csrf_and_bad_input_gets_json_error(client, create_token):
    token, user = create_token(role="patrol")
    headers = {"Authorization": f"Bearer {token}"}
    bad = client.post("/api/v1/me/locale", json={"locale": "de"}, headers=headers)
    assert bad.status_code == 400
    assert bad.get_json()["error"] == {
        "code": "invalid_locale",
        "message": "locale must be one of sv, en, fi",
    }
    assert (
        client.post("/api/v1/me/locale", json={"locale": "en"}, headers=headers).status_code == 200
    )
    assert user.locale == "en"


def test_a_bearer_token_and_its_user_are_read_in_one_statement(db_session, create_user):
    user = create_user()
    token = create_token(db_session, user)
    db_session.flush()
    user_id = user.id
    db_session.expunge_all()  # nothing in the session's identity map: a cold request
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    engine = db_session.get_bind()
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        found = user_for_token(db_session, token)
        assert found.id == user_id and found.active  # the user's columns, already loaded
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(reads) == 1, reads
