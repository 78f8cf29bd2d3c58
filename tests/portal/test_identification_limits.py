"""Starting a strong identification is limited per client address (issue 15): past
TENANT_IDENTIFICATION_STARTS_PER_ADDRESS starts within the window, BankID and the Finnish
e-identification answer 429 with the reason on the page in the user's language (other
addresses go on); BankID's polling endpoint answers a JSON error when asked faster than its
script does, and the order goes on."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from dispatch.models import AuditEvent, utcnow
from tests.support.reports_helpers import forget_request_state
from tests.support.tenant_helpers import csrf_of

pytest_plugins = ["tests.support.tenant_accounts"]


@pytest.fixture
def limit_of_two(app):
    app.config.update(TENANT_IDENTIFICATION_STARTS_PER_ADDRESS=2,
                      TENANT_IDENTIFICATION_WINDOW_MINUTES=10)


def _start_bankid(client, purpose="register", ip="203.0.113.7"):
    token = csrf_of(client, "/portal/register")
    return client.post("/portal/bankid/start", data={"csrf_token": token, "purpose": purpose},
                       environ_base={"REMOTE_ADDR": ip})


@pytest.mark.parametrize(("lang", "words"), [
    ("sv", "För många identifieringar"), ("fi", "Liian monta tunnistautumista"),
    ("en", "Too many identifications")])
def test_a_third_bankid_start_from_one_address_answers_429_with_the_reason_translated(
        client, db_session, tenants_register, bankid, limit_of_two, lang, words):
    client.get(f"/portal/register?lang={lang}")
    assert _start_bankid(client).status_code == 200
    assert _start_bankid(client).status_code == 200

    refused = _start_bankid(client)

    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    page = refused.get_data(as_text=True)
    assert words in page and 'role="alert"' in page
    assert len(bankid.service.orders) == 2  # no order made for the refused start
    assert db_session.scalar(select(AuditEvent).where(
        AuditEvent.action == "tenant.identification_limited")) is not None


def test_another_address_may_still_start_and_the_limit_lifts_after_the_window(
        app, client, tenants_register, bankid, limit_of_two):
    _start_bankid(client)
    _start_bankid(client)
    assert _start_bankid(client).status_code == 429
    assert _start_bankid(client, ip="198.51.100.9").status_code == 200
    with time_machine.travel(utcnow() + timedelta(minutes=11), tick=False):
        forget_request_state()
        assert _start_bankid(client).status_code == 200


def test_the_log_in_page_shows_the_refusal_for_a_log_in(client, tenants_register, bankid,
                                                        limit_of_two):
    _start_bankid(client, purpose="login")
    _start_bankid(client, purpose="login")
    refused = _start_bankid(client, purpose="login")
    assert refused.status_code == 429
    assert 'name="password"' in refused.get_data(as_text=True)  # the log-in form


def test_the_finnish_e_identification_start_is_limited_too(client, tenants_register,
                                                           oidc_provider, limit_of_two):
    client.get("/portal/register?lang=fi")
    for _ in range(2):
        assert client.get("/portal/fi/start").status_code == 302
    refused = client.get("/portal/fi/start")
    assert refused.status_code == 429
    assert "Liian monta tunnistautumista" in refused.get_data(as_text=True)
    assert "Location" not in refused.headers


def test_polling_faster_than_the_page_does_is_a_json_error_and_the_order_goes_on(
        client, tenants_register, bankid):
    with time_machine.travel(utcnow(), tick=False) as clock:
        assert _start_bankid(client).status_code == 200
        token = csrf_of(client, "/portal/register")
        headers = {"X-CSRFToken": token, "Accept": "application/json"}
        for _ in range(5):  # a burst, as a page reloaded or a slow network gives
            first = client.post("/portal/bankid/collect", headers=headers)
            assert first.status_code == 200 and first.get_json()["status"] == "pending"

        again = client.post("/portal/bankid/collect", headers=headers)

        assert again.status_code == 429
        answer = again.get_json()
        assert answer["error"] == "too_many_requests" and answer["status"] == "pending"
        assert answer["message"] and int(again.headers["Retry-After"]) >= 1
        clock.shift(timedelta(seconds=2))
        later = client.post("/portal/bankid/collect", headers=headers)
        assert later.status_code == 200 and later.get_json()["status"] == "pending"


def test_a_limit_of_zero_refuses_every_start_with_a_whole_window_to_wait(
        app, client, tenants_register, bankid):
    app.config.update(TENANT_IDENTIFICATION_STARTS_PER_ADDRESS=0,
                      TENANT_IDENTIFICATION_WINDOW_MINUTES=10)
    refused = _start_bankid(client)
    assert refused.status_code == 429
    assert 590 <= int(refused.headers["Retry-After"]) <= 600
