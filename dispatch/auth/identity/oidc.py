"""OpenID Connect for Finnish e-identification (an FTN broker: bank codes or mobile ID) with
Authlib's Flask client: the code flow with PKCE (S256), ``state`` and ``nonce`` kept in the
user's session by Authlib, and the ID token's signature checked against the provider's JWKS
(with ``iss``, ``aud``, ``exp`` and the ``nonce``). The person's henkilötunnus comes in the
``hetu`` claim and is validated with python-stdnum.

Settings: ``OIDC_FI_ISSUER`` (its ``/.well-known/openid-configuration`` is read),
``OIDC_FI_CLIENT_ID``, ``OIDC_FI_CLIENT_SECRET``.
"""

from __future__ import annotations

import logging
import secrets

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.flask_client import OAuth
from flask import current_app

from dispatch.auth.identity import Completed, Failed, Identity, Outcome
from dispatch.auth.identity.numbers import InvalidNumber, finnish

log = logging.getLogger(__name__)
NAME = "fi_eid"


def configured(config) -> bool:
    return bool(config.get("OIDC_FI_ISSUER") and config.get("OIDC_FI_CLIENT_ID"))


def _client():
    oauth = current_app.extensions.get("tenant_oidc")
    if oauth is None:
        oauth = OAuth(current_app)
        current_app.extensions["tenant_oidc"] = oauth
    client = oauth.create_client(NAME)
    if client is None:
        config = current_app.config
        issuer = config["OIDC_FI_ISSUER"].rstrip("/")
        client = oauth.register(
            NAME,
            client_id=config["OIDC_FI_CLIENT_ID"],
            client_secret=config.get("OIDC_FI_CLIENT_SECRET"),
            server_metadata_url=f"{issuer}/.well-known/openid-configuration",
            client_kwargs={"scope": "openid profile", "code_challenge_method": "S256"},
        )
    return client


def start(redirect_uri: str, *, locale: str | None = None):
    """The redirect to the provider (state, nonce and the PKCE verifier go to the session)."""
    extra = {"ui_locales": locale} if locale else {}
    return _client().authorize_redirect(redirect_uri, nonce=secrets.token_urlsafe(24), **extra)


def finish() -> Outcome:
    """On the callback: the code exchanged, the ID token checked, the identity read."""
    try:
        token = _client().authorize_access_token()
    except (AuthlibBaseError, requests.RequestException, ValueError, KeyError) as exc:
        log.warning("oidc callback refused: %s", type(exc).__name__)
        return Failed("oidc_error")
    except Exception as exc:  # joserfc's errors (a bad signature) share no base with Authlib's
        if type(exc).__module__.startswith(("joserfc", "authlib")):
            log.warning("oidc id token refused: %s", type(exc).__name__)
            return Failed("oidc_error")
        raise
    claims = token.get("userinfo") or {}
    try:
        number = finnish(str(claims.get("hetu") or ""))
    except InvalidNumber:
        return Failed("invalid_identity")
    name = claims.get("name") or " ".join(
        p for p in (claims.get("given_name"), claims.get("family_name")) if p)
    return Completed(Identity(number, name or "", "FI"))
