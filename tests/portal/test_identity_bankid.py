"""BankID RP API v6 (issue 15): the animated QR code against domain-rules.md's vectors, the
local test service over mutual TLS driven by pybankid's own client (a check nobody here wrote),
and our provider's pending → complete and every failure code, with the user's message in
Swedish, Finnish and English."""

from __future__ import annotations

import ssl
import time
import warnings

import httpx
import pytest
from bankid import BankIDClient
from bankid.exceptions import AlreadyInProgressError, InvalidParametersError
from bankid.qr import generate_qr_code_content
from flask_babel import force_locale

from dispatch.auth.identity import Completed, Failed, Pending
from dispatch.auth.identity.bankid import BankIDProvider, qr_text
from dispatch.auth.identity.messages import FAILED, PENDING, failed_message, pending_message

pytest_plugins = ["tests.support.tenant_accounts"]

@pytest.fixture
def provider(app, bankid):
    made = BankIDProvider.from_config(app.config)
    yield made
    made.close()


TOKEN = "67df3917-fa0d-44e5-b327-edcc928297f8"
SECRET = "d28db9a7-4cde-429e-a983-359be676944c"


@pytest.mark.parametrize(("seconds", "digest"), [
    (0, "dc69358e712458a66a7525beef148ae8526b1c71610eff2c16cdffb4cdac9bf8"),
    (1, "949d559bf23403952a94d103e67743126381eda00f0b3cbddbf7c96b1adcbce2"),
])
def test_animated_qr_code_matches_the_domain_rules_vectors(seconds, digest):
    assert qr_text(TOKEN, SECRET, seconds) == f"bankid.{TOKEN}.{seconds}.{digest}"


def test_animated_qr_code_agrees_with_pybankids_own():
    started = time.time() - 7.5  # half a second from either edge of second 7
    assert generate_qr_code_content(TOKEN, started, SECRET) == qr_text(TOKEN, SECRET, 7)


@pytest.fixture
def pybankid_client(bankid):
    """pybankid's own client, pointed at the local service (its constructor pins BankID's
    hosts, and hands httpx the certificate the way httpx deprecates: both replaced)."""
    server = bankid.server
    certs = server.certificates
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        client = BankIDClient(certificates=(certs.client_cert, certs.client_key),
                              test_server=True)
    client.client.close()
    context = ssl.create_default_context(cafile=certs.ca)
    context.load_cert_chain(certs.client_cert, certs.client_key)
    client.client = httpx.Client(verify=context, headers={"Content-Type": "application/json"})
    for name in ("auth", "collect", "cancel", "sign"):
        setattr(client, f"_{name}_endpoint", server.api_url + name)
    yield client
    client.client.close()


def test_pybankid_client_runs_auth_collect_and_cancel_against_the_test_service(
        bankid, pybankid_client):
    client = pybankid_client
    order = client.authenticate(end_user_ip="192.0.2.10")
    assert set(order) == {"orderRef", "autoStartToken", "qrStartToken", "qrStartSecret"}
    pending = client.collect(order["orderRef"])
    assert pending["status"] == "pending" and pending["hintCode"] == "outstandingTransaction"

    qr = client.generate_qr_code_content(order["qrStartToken"], time.time(),
                                         order["qrStartSecret"])
    assert bankid.scan(qrCode=qr).status_code == 200
    assert client.collect(order["orderRef"])["hintCode"] == "userSign"
    bankid.sign(orderRef=order["orderRef"], personalNumber="199001012385",
                name="Tove Tenant", givenName="Tove", surname="Tenant")
    done = client.collect(order["orderRef"])
    assert done["status"] == "complete"
    assert done["completionData"]["user"] == {"personalNumber": "199001012385",
                                              "name": "Tove Tenant", "givenName": "Tove",
                                              "surname": "Tenant"}

    other = client.authenticate(end_user_ip="192.0.2.10")
    assert client.cancel(other["orderRef"]) is True
    with pytest.raises(InvalidParametersError):
        client.collect(other["orderRef"])


def test_a_second_order_for_the_same_person_is_already_in_progress_and_cancels_both(
        pybankid_client):
    client = pybankid_client
    requirement = {"personalNumber": "199001012385"}
    first = client.authenticate(end_user_ip="192.0.2.10", requirement=requirement)
    with pytest.raises(AlreadyInProgressError):
        client.authenticate(end_user_ip="192.0.2.10", requirement=requirement)
    answer = client.collect(first["orderRef"])
    assert (answer["status"], answer["hintCode"]) == ("failed", "cancelled")


def test_the_test_service_refuses_a_client_without_a_certificate(bankid):
    context = ssl.create_default_context(cafile=bankid.server.certificates.ca)
    with pytest.raises(httpx.HTTPError), httpx.Client(verify=context) as anonymous:
        anonymous.post(bankid.server.api_url + "auth", json={"endUserIp": "192.0.2.10"})


def test_the_test_service_refuses_a_qr_code_with_a_wrong_hmac(provider, bankid):
    order = provider.start("192.0.2.10")
    forged = qr_text(order.qr_start_token, "not-the-secret", 0)
    assert bankid.scan(qrCode=forged).status_code == 400
    assert bankid.scan(qrCode=qr_text(order.qr_start_token, order.qr_start_secret, 0)).is_success




def test_provider_is_pending_until_the_user_signs_then_gives_the_verified_identity(
        provider, bankid):
    order = provider.start("192.0.2.10")
    assert provider.poll(order.order_ref) == Pending("outstandingTransaction")
    bankid.sign(qrCode=qr_text(order.qr_start_token, order.qr_start_secret, 0),
                personalNumber="199001012385", name="Tove Tenant")
    outcome = provider.poll(order.order_ref)
    assert isinstance(outcome, Completed)
    assert (outcome.identity.number, outcome.identity.name, outcome.identity.country) == (
        "199001012385", "Tove Tenant", "SE")
    assert "199001012385" not in repr(outcome)  # never in a log line or a traceback


@pytest.mark.parametrize("hint", ["certificateErr", "startFailed", "userCancel",
                                  "expiredTransaction"])
def test_provider_reports_each_failure_code_of_the_order(provider, bankid, hint):
    bankid.fail_next(hintCode=hint)
    order = provider.start("192.0.2.10")
    assert provider.poll(order.order_ref) == Failed(hint)


def test_an_order_nobody_signs_expires(provider, bankid):
    bankid.service.order_ttl = 0
    order = provider.start("192.0.2.10")
    assert provider.poll(order.order_ref) == Failed("expiredTransaction")


def test_provider_reports_already_in_progress_at_the_start(provider, bankid):
    bankid.fail_next(errorCode="alreadyInProgress")
    assert provider.start("192.0.2.10") == Failed("alreadyInProgress")


def test_without_a_client_certificate_bankid_is_off(app):
    assert BankIDProvider.from_config({**app.config, "BANKID_URL": "https://127.0.0.1:9/",
                                       "BANKID_CERT": None}) is None


def test_provider_reports_an_unreachable_service(app, bankid):
    from tests.support.servers import free_port

    config = {**app.config, "BANKID_URL": f"https://127.0.0.1:{free_port()}/rp/v6.0/"}
    provider = BankIDProvider.from_config(config)
    try:
        assert provider.start("192.0.2.10") == Failed("unavailable")
    finally:
        provider.close()


def test_a_cancelled_order_cannot_be_collected(provider, bankid):
    order = provider.start("192.0.2.10")
    provider.cancel(order.order_ref)
    assert provider.poll(order.order_ref) == Failed("invalidParameters")


CODES = [*PENDING, *FAILED]


@pytest.mark.parametrize("locale", ["sv", "fi"])
def test_every_hint_code_has_a_message_in_the_users_language(app, locale):
    with app.test_request_context(), force_locale(locale):
        for code in PENDING:
            translated = pending_message(code)
            with force_locale("en"):
                assert translated != pending_message(code), (locale, code)
        for code in FAILED:
            translated = failed_message(code)
            with force_locale("en"):
                assert translated != failed_message(code), (locale, code)


def test_the_qr_page_says_scan_and_a_failure_says_what_to_do_in_swedish(app):
    with app.test_request_context(), force_locale("sv"):
        assert pending_message("outstandingTransaction", qr=True) == (
            "Starta BankID-appen och skanna QR-koden.")
        assert failed_message("userCancel") == "Åtgärden avbruten."
        assert failed_message("some-new-code") == "Okänt fel. Försök igen."
