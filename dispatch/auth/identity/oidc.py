"""OpenID Connect for Finnish e-identification (an FTN broker: bank codes or mobile ID) with
Authlib's Flask client: the code flow with PKCE (S256), ``state``, ``nonce`` and the verifier
handed to the caller, who keeps them on the server (``identity.pending``; Authlib's own
keeping would put them in the signed but readable session cookie), and the ID token's
signature checked against the provider's JWKS (with ``iss``, ``aud``, ``exp`` and the
``nonce``). The person's henkilötunnus comes in the
``hetu`` claim and is validated with python-stdnum.

Settings: ``OIDC_FI_ISSUER`` (its ``/.well-known/openid-configuration`` is read),
``OIDC_FI_CLIENT_ID``, ``OIDC_FI_CLIENT_SECRET``.
"""

from __future__ import annotations

import hmac
import logging
import secrets

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.flask_client import OAuth
from flask import current_app, request

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


def start(redirect_uri: str, *, locale: str | None = None) -> tuple[str, dict]:
    """The provider's authorization URL and what the callback needs to check its answer
    (``state``, ``nonce``, the PKCE ``code_verifier``, ``redirect_uri``): the caller keeps that
    on the server (``identity.pending``), never in the browser's session."""
    extra = {"ui_locales": locale} if locale else {}
    made = _client().create_authorization_url(redirect_uri, nonce=secrets.token_urlsafe(24),
                                              **extra)
    return made["url"], {"state": made["state"], "nonce": made["nonce"],
                         "code_verifier": made["code_verifier"], "redirect_uri": redirect_uri}


def finish(kept: dict | None) -> Outcome:
    """On the callback: the ``state`` compared with the one kept at the start, the code
    exchanged with the PKCE verifier, the ID token checked (signature against the provider's
    JWKS, ``iss``, ``aud``, ``exp``, the kept ``nonce``), the identity read."""
    args = request.args
    if args.get("error"):
        log.warning("oidc provider answered an error")
        return Failed("oidc_error")
    state, code = args.get("state") or "", args.get("code") or ""
    if not kept or not code or not hmac.compare_digest(state.encode(),
                                                       str(kept.get("state")).encode()):
        log.warning("oidc callback refused: state does not match")
        return Failed("oidc_error")
    client = _client()
    try:
        token = client.fetch_access_token(redirect_uri=kept["redirect_uri"], code=code,
                                          state=state, code_verifier=kept["code_verifier"])
        if "id_token" not in token:
            return Failed("oidc_error")
        claims = client.parse_id_token(token, nonce=kept["nonce"], leeway=120)
    except (AuthlibBaseError, requests.RequestException, ValueError, KeyError) as exc:
        log.warning("oidc callback refused: %s", type(exc).__name__)
        return Failed("oidc_error")
    except Exception as exc:  # joserfc's errors (a bad signature) share no base with Authlib's
        if type(exc).__module__.startswith(("joserfc", "authlib")):
            log.warning("oidc id token refused: %s", type(exc).__name__)
            return Failed("oidc_error")
        raise
    claims = claims or {}
    try:
        number = finnish(str(claims.get("hetu") or ""))
    except InvalidNumber:
        return Failed("invalid_identity")
    name = claims.get("name") or " ".join(
        p for p in (claims.get("given_name"), claims.get("family_name")) if p)
    return Completed(Identity(number, name or "", "FI"))
