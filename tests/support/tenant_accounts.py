"""Fixtures for the tenant account tests (issue 15): a register with tenants whose identity
numbers are official test numbers, the local BankID service on HTTPS with mutual TLS (a CA,
server and client certificates made with ``cryptography`` in a temporary folder), a local
OpenID provider (``tests.support.oidc_provider``), and the portal's CSRF helper.

Test modules load it with ``pytest_plugins = ["tests.support.tenant_accounts"]``; plain
helpers and the numbers are in ``tests.support.tenant_helpers``.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from datetime import date, timedelta

import httpx
import pytest

from dispatch.auth.identity.bankid_testserver import BankIDTestService, make_certificates
from dispatch.models import Agreement, AgreementParty, Person, utcnow
from dispatch.models.accounts import LandlordAccountPolicy
from tests.support.tenant_helpers import CURRENT, HETU, SECOND, SIGNED


@dataclass
class Tenants:
    landlord: object
    finnish_landlord: object
    current: Person
    ended: Person
    signed: Person
    finnish: Person
    agreement: Agreement
    signed_agreement: Agreement


@pytest.fixture
def tenants_register(db_session, create_landlord) -> Tenants:
    """Rows made directly (the importer's identity columns are another engineer's work)."""
    today = utcnow().date()
    landlord = create_landlord(code="HEMMA", name="Hemma Bostäder")
    finnish_landlord = create_landlord(code="HEKA", name="Heka")
    finnish_landlord.country = "FI"
    people = {
        key: Person(landlord_id=lid, name=name, kundnummer=k, personnummer=number)
        for key, lid, name, k, number in [
            ("current", landlord.id, "Tove Tenant", "K-1", CURRENT),
            ("ended", landlord.id, "Ulf Ended", "K-2", SECOND),
            ("signed", landlord.id, "Siv Signed", "K-3", SIGNED),
            ("finnish", finnish_landlord.id, "Fia Finne", "F-1", HETU),
        ]}
    db_session.add_all(people.values())
    db_session.flush()

    def agreement(landlord_id, number, person, starts, ends=None):
        row = Agreement(landlord_id=landlord_id, avtalsnummer=number, starts_on=starts,
                        ends_on=ends)
        row.parties = [AgreementParty(person_id=person.id, position=1)]
        db_session.add(row)
        return row

    current = agreement(landlord.id, "A-1", people["current"], date(2020, 1, 1))
    agreement(landlord.id, "A-2", people["ended"], date(2019, 1, 1), today - timedelta(days=30))
    signed = agreement(landlord.id, "A-3", people["signed"], today + timedelta(days=30))
    agreement(finnish_landlord.id, "H-1", people["finnish"], date(2021, 5, 1))
    db_session.add(LandlordAccountPolicy(landlord_id=landlord.id, register_from_signing=True))
    db_session.flush()
    return Tenants(landlord, finnish_landlord, people["current"], people["ended"],
                   people["signed"], people["finnish"], current, signed)


# --- BankID ---------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def bankid_certificates(tmp_path_factory):
    return make_certificates(tmp_path_factory.mktemp("bankid-certs"))


@pytest.fixture(scope="session")
def _bankid_server(bankid_certificates):
    service = BankIDTestService()
    server = service.serve(bankid_certificates).start()
    yield server
    server.stop()


class BankIDControl:
    """The simulated user and the test service's state, over mutual TLS like the API."""

    def __init__(self, server):
        self.server = server
        self.service = server.service
        certs = server.certificates
        context = ssl.create_default_context(cafile=certs.ca)
        context.load_cert_chain(certs.client_cert, certs.client_key)
        self.http = httpx.Client(verify=context, timeout=10)

    def post(self, path: str, **body) -> httpx.Response:
        return self.http.post(self.server.base_url + path, json=body)

    def scan(self, **body) -> httpx.Response:
        return self.post("/control/scan", **body)

    def sign(self, **body) -> httpx.Response:
        return self.post("/control/sign", **body)

    def fail_next(self, **body) -> httpx.Response:
        return self.post("/control/fail-next", **body)


@pytest.fixture
def bankid(app, _bankid_server):
    """The local BankID service, emptied, with the app's BankID settings pointing at it."""
    service = _bankid_server.service
    with service.lock:
        service.orders.clear()
        service.requests.clear()
        service.next_hint = service.next_error = None
        service.auto_sign_after = None
        service.order_ttl = 180.0
    certs = _bankid_server.certificates
    app.config.update(BANKID_URL=_bankid_server.api_url, BANKID_CERT=certs.client_cert,
                      BANKID_KEY=certs.client_key, BANKID_CA=certs.ca)
    control = BankIDControl(_bankid_server)
    yield control
    control.http.close()


# --- OpenID Connect -------------------------------------------------------------------------

@pytest.fixture(scope="session")
def _oidc_provider():
    from tests.support.oidc_provider import OIDCProvider

    provider = OIDCProvider().start()
    yield provider
    provider.stop()


@pytest.fixture
def oidc_provider(app, _oidc_provider):
    """The local OpenID provider, reset, with the app registered as its client."""
    _oidc_provider.reset()
    app.config.update(OIDC_FI_ISSUER=_oidc_provider.issuer, OIDC_FI_CLIENT_ID="dispatch",
                      OIDC_FI_CLIENT_SECRET=_oidc_provider.client_secret)
    app.extensions.pop("tenant_oidc", None)  # registered anew with these settings
    yield _oidc_provider
    app.extensions.pop("tenant_oidc", None)
