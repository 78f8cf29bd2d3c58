"""Errors: JSON under /api/, HTML pages in the user's language elsewhere, never a trace."""


import pytest


def test_unknown_api_path_answers_the_contract_error_shape(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.get_json() == {
        "error": {"code": "not_found", "message": response.get_json()["error"]["message"]}
    }


def test_unknown_page_shows_a_swedish_error_page(client):
    response = client.get("/finns-inte")
    assert response.status_code == 404
    assert "Sidan finns inte" in response.get_data(as_text=True)


@pytest.fixture
def boom(app):
    # The /boom routes are added by conftest's app fixture, before the first request.
    app.config["PROPAGATE_EXCEPTIONS"] = False
    yield
    app.config["PROPAGATE_EXCEPTIONS"] = None


def test_a_crash_in_the_api_gives_json_500_without_the_trace(client, boom, caplog):
    response = client.get("/api/v1/boom")
    body = response.get_json()
    assert response.status_code == 500 and body["error"]["code"] == "internal_error"
    assert "secret internals" not in response.get_data(as_text=True)
    assert "secret internals" in caplog.text  # but the log has it


def test_a_crash_on_a_page_gives_an_html_500_with_the_request_id(client, boom):
    response = client.get("/boom", headers={"X-Request-Id": "abc123"})
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Något gick fel" in page and "abc123" in page and "secret internals" not in page


def test_health_check_reports_the_database_reachable(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_a_nul_in_any_api_query_is_a_json_400_invalid_text(client, create_token):
    token, _user = create_token(role="operator")
    response = client.get("/api/v1/addresses/search?q=G%C3%B6t%00gatan",
                          headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_text"


def test_an_unpaired_surrogate_in_any_api_json_body_is_a_json_400_invalid_text(
        client, create_token):
    token, _user = create_token(role="operator")
    response = client.post("/api/v1/calls", data='{"dialled_number": "\\ud800"}',
                           content_type="application/json",
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_text"


def test_a_nul_in_a_page_form_is_a_swedish_400_page_and_nothing_else_happens(app, client):
    app.config["WTF_CSRF_ENABLED"] = False  # the CSRF check comes first; this is the next
    response = client.post("/login", data={"email": "a\x00@example.org", "password": "x"})
    assert response.status_code == 400
    assert "Texten kan inte sparas" in response.get_data(as_text=True)
