"""A small OpenID provider for the tests (issue 15), standing in for a Finnish Trust Network
broker: discovery, JWKS, an authorization endpoint that logs in the user the test chose
(``user``) at once, and a token endpoint that checks the client's secret, the code, the
redirect URI and the PKCE verifier (S256 only) before it signs the ID token (RS256, with
``nonce`` and the ``hetu`` claim) with keys of its own (joserfc, Authlib's JOSE library).

``tamper`` makes the next ID token wrong on purpose: ``"signature"`` (signed with a key not in
the JWKS), ``"nonce"`` (another nonce), ``"audience"`` (for another client).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from urllib.parse import urlencode

from flask import Flask, jsonify, redirect, request
from joserfc import jwt
from joserfc.jwk import RSAKey
from werkzeug.serving import make_server

from tests.support.servers import free_port


class OIDCProvider:
    def __init__(self, client_id: str = "dispatch"):
        self.client_id = client_id
        self.client_secret = secrets.token_urlsafe(16)
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.key = RSAKey.generate_key(2048, parameters={"kid": "k1", "use": "sig"})
        self.other_key = RSAKey.generate_key(2048, parameters={"kid": "k1", "use": "sig"})
        self.reset()
        self.app = self._make_app()
        self.server = make_server("127.0.0.1", self.port, self.app, threaded=True)
        self.thread: threading.Thread | None = None

    def reset(self) -> None:
        self.user = {"sub": "fi-user-1", "hetu": "010594Y9032", "name": "Fia Finne",
                     "given_name": "Fia", "family_name": "Finne"}
        self.tamper: str | None = None
        self.codes: dict[str, dict] = {}
        self.authorize_requests: list[dict] = []
        self.token_requests: list[dict] = []

    def _make_app(self) -> Flask:
        app = Flask("oidc-test-provider")
        provider = self

        @app.get("/.well-known/openid-configuration")
        def discovery():
            return jsonify({
                "issuer": provider.issuer,
                "authorization_endpoint": provider.issuer + "/authorize",
                "token_endpoint": provider.issuer + "/token",
                "jwks_uri": provider.issuer + "/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic",
                                                          "client_secret_post"],
                "scopes_supported": ["openid", "profile"],
            })

        @app.get("/jwks")
        def jwks():
            return jsonify({"keys": [provider.key.as_dict(private=False)]})

        @app.get("/authorize")
        def authorize():
            args = request.args.to_dict()
            provider.authorize_requests.append(args)
            if args.get("client_id") != provider.client_id or args.get("response_type") != "code":
                return jsonify(error="invalid_request"), 400
            if args.get("code_challenge_method") != "S256" or not args.get("code_challenge"):
                return jsonify(error="invalid_request", error_description="PKCE S256 needed"), 400
            code = secrets.token_urlsafe(16)
            provider.codes[code] = {"redirect_uri": args["redirect_uri"],
                                    "challenge": args["code_challenge"],
                                    "nonce": args.get("nonce"), "user": dict(provider.user)}
            query = urlencode({"code": code, "state": args.get("state", "")})
            return redirect(f"{args['redirect_uri']}?{query}")

        @app.post("/token")
        def token():
            form = request.form.to_dict()
            provider.token_requests.append(form)
            auth = request.authorization
            client_id = auth.username if auth else form.get("client_id")
            secret = auth.password if auth else form.get("client_secret")
            if client_id != provider.client_id or secret != provider.client_secret:
                return jsonify(error="invalid_client"), 401
            grant = provider.codes.pop(form.get("code", ""), None)
            if grant is None or form.get("grant_type") != "authorization_code" \
                    or form.get("redirect_uri") != grant["redirect_uri"]:
                return jsonify(error="invalid_grant"), 400
            digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
            if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != grant["challenge"]:
                return jsonify(error="invalid_grant", error_description="PKCE"), 400
            now = int(time.time())
            claims = {"iss": provider.issuer, "aud": provider.client_id, "iat": now,
                      "exp": now + 300, "nonce": grant["nonce"], **grant["user"]}
            key = provider.key
            if provider.tamper == "signature":
                key = provider.other_key
            elif provider.tamper == "nonce":
                claims["nonce"] = "not-the-one-sent"
            elif provider.tamper == "audience":
                claims["aud"] = "someone-else"
            id_token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key)
            return jsonify(access_token=secrets.token_urlsafe(16), token_type="Bearer",
                           expires_in=300, id_token=id_token)

        return app

    def start(self) -> OIDCProvider:
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True,
                                       name="oidc-test-provider")
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
