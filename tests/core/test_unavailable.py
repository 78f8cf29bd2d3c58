"""A database that cannot be reached is a 503 that says so (JSON under /api/, a page in the
user's language elsewhere), never a 500; /healthz tells the database and Redis apart.

The real outages (PostgreSQL restarted under load, Redis killed) are in
``test_faults_postgres.py`` and ``test_faults_redis.py``."""

import pytest
from sqlalchemy.exc import OperationalError

from dispatch.core.errors import database_unavailable


@pytest.fixture
def unreachable(app, monkeypatch):
    """The conftest's /boom routes, failing as a request does while the database is down."""
    def down():
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    app.config["PROPAGATE_EXCEPTIONS"] = False
    monkeypatch.setitem(app.view_functions, "boom", down)
    monkeypatch.setitem(app.view_functions, "api_boom", down)
    yield
    app.config["PROPAGATE_EXCEPTIONS"] = None


def test_an_unreachable_database_is_a_json_503_to_try_again(client, unreachable, caplog):
    response = client.get("/api/v1/boom")
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert response.get_json()["error"]["code"] == "database_unavailable"
    assert "connection refused" not in response.get_data(as_text=True)
    assert "database unavailable" in caplog.text


def test_an_unreachable_database_is_a_friendly_page_outside_the_api(
        client, auth, create_user, unreachable):
    create_user(role="operator", email="op@example.se")
    auth.login("op@example.se")
    response = client.get("/boom")
    page = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "Tjänsten är inte tillgänglig just nu" in page and "Ingenting sparades" in page


def test_only_outages_count_as_the_database_being_unavailable():
    from sqlalchemy.exc import IntegrityError, InterfaceError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    assert database_unavailable(OperationalError("x", {}, Exception("database is locked")))
    assert database_unavailable(InterfaceError("x", {}, Exception("connection closed")))
    assert database_unavailable(PoolTimeout("QueuePool limit reached"))
    assert not database_unavailable(IntegrityError("x", {}, Exception("duplicate key")))
    assert not database_unavailable(ValueError("bug"))


def test_health_check_says_degraded_when_redis_is_configured_but_unreachable(
        app, client, caplog):
    from tests.support.servers import free_port

    before = app.config["REDIS_URL"]
    app.config["REDIS_URL"] = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    app.extensions.pop("dispatch.healthz_redis", None)
    try:
        response = client.get("/healthz")
    finally:
        app.config["REDIS_URL"] = before
        app.extensions.pop("dispatch.healthz_redis", None)
    assert response.status_code == 200
    assert response.get_json() == {"status": "degraded", "redis": "unreachable"}
    assert "redis unreachable" in caplog.text
