"""Finnish e-identification through OpenID Connect (issue 15), against a local OpenID provider
(tests/support/oidc_provider.py): the code flow with PKCE S256, state and nonce; the ID token's
signature, audience and nonce checked; the hetu claim validated with python-stdnum."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import select

from dispatch.models.accounts import TenantIdentification

pytest_plugins = ["tests.support.tenant_accounts"]


def _through_provider(client, purpose="register"):
    """Our start → the provider's authorize (it logs the user in at once) → our callback."""
    client.get("/portal/login?lang=en")
    start = client.get(f"/portal/fi/start?purpose={purpose}")
    assert start.status_code == 302
    authorize = start.headers["Location"]
    back = requests.get(authorize, allow_redirects=False, timeout=10)
    assert back.status_code == 302, back.text
    parts = urlsplit(back.headers["Location"])
    return authorize, client.get(f"{parts.path}?{parts.query}")


def _identifications(db_session):
    return list(db_session.scalars(select(TenantIdentification)))


def test_the_code_flow_uses_pkce_state_and_nonce(client, tenants_register, oidc_provider):
    authorize, _callback = _through_provider(client)
    query = parse_qs(urlsplit(authorize).query)
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) >= 43
    assert query["state"][0] and query["nonce"][0]
    assert "openid" in query["scope"][0].split()
    token_request = oidc_provider.token_requests[-1]
    assert token_request["code_verifier"]  # the provider checked it against the challenge


def test_a_finnish_tenant_identified_goes_on_to_choose_e_mail_and_password(
        client, db_session, tenants_register, oidc_provider):
    _authorize, callback = _through_provider(client)
    assert callback.status_code == 302
    assert callback.headers["Location"].endswith("/portal/register/account")
    [found] = _identifications(db_session)
    assert (found.person_id, found.method) == (tenants_register.finnish.id, "oidc")
    assert "010594Y9032" not in callback.headers["Location"]


@pytest.mark.parametrize("tamper", ["signature", "nonce", "audience"])
def test_a_forged_id_token_is_refused(client, db_session, tenants_register, oidc_provider,
                                      tamper):
    oidc_provider.tamper = tamper
    _authorize, callback = _through_provider(client)
    assert callback.headers["Location"].endswith("/portal/register")
    assert _identifications(db_session) == []
    page = client.get("/portal/register").get_data(as_text=True)
    assert "The identification was not completed. Please try again." in page


def test_an_invalid_hetu_claim_is_refused(client, db_session, tenants_register, oidc_provider):
    oidc_provider.user["hetu"] = "010594Y9033"  # wrong check character
    _authorize, callback = _through_provider(client)
    assert callback.headers["Location"].endswith("/portal/register")
    assert _identifications(db_session) == []
    page = client.get("/portal/register").get_data(as_text=True)
    assert "did not give a valid identity number" in page


def test_a_callback_with_another_state_is_refused(client, db_session, tenants_register,
                                                  oidc_provider):
    client.get("/portal/login?lang=en")
    start = client.get("/portal/fi/start")
    back = requests.get(start.headers["Location"], allow_redirects=False, timeout=10)
    parts = urlsplit(back.headers["Location"])
    code = parse_qs(parts.query)["code"][0]
    answer = client.get(f"{parts.path}?code={code}&state=forged")
    assert answer.headers["Location"].endswith("/portal/register")
    assert _identifications(db_session) == []


def test_a_finnish_e_identification_of_someone_without_an_agreement_is_told_so(
        client, db_session, tenants_register, oidc_provider):
    oidc_provider.user["hetu"] = "131052-308T"  # valid, but no one of the register
    _authorize, callback = _through_provider(client)
    assert callback.headers["Location"].endswith("/portal/register")
    page = client.get("/portal/register").get_data(as_text=True)
    assert "We found no rental agreement in force for you." in page
