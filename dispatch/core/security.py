"""Security headers on every response, the script nonce a page may need, and the trusted
reverse proxies (``TRUSTED_PROXIES``).

The Content-Security-Policy lets a page run only this site's own script files: no inline
script, no ``on…=`` attribute, no ``eval``. A page that cannot avoid an inline script (the
tablet's import map) marks it with ``nonce="{{ csp_nonce() }}"``; the nonce is in the policy
only of a response whose page asked for one. Styles come only from this site's style sheets
(scripts may still set ``element.style``, which the policy does not govern); images from this
site, the map tiles' host (``MAP_TILE_URL``) and ``data:`` (Leaflet blanks a tile it drops
with a ``data:`` image). The page talks only to this site, its Socket.IO websocket included,
and no other site may frame it.
"""

from __future__ import annotations

import re
import secrets
from urllib.parse import urlsplit

from flask import Flask, current_app, request
from flask.wrappers import Response
from werkzeug.middleware.proxy_fix import ProxyFix

HSTS_MAX_AGE_S = 365 * 24 * 3600
_NONCE = "dispatch.csp_nonce"
# A Host header goes into the policy (the websocket's origin) only if it is a plain host[:port].
_PLAIN_HOST = re.compile(r"(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")


def csp_nonce() -> str:
    """This response's script nonce, made on first use (in a template:
    ``<script nonce="{{ csp_nonce() }}">``). A response that never asks has none in its policy."""
    # Kept with the request, not in ``g``: one app context may serve several requests (tests).
    return request.environ.setdefault(_NONCE, secrets.token_urlsafe(18))


def tile_source(url: str | None) -> str | None:
    """The CSP source of the map tiles' host in ``MAP_TILE_URL``: its scheme and host, a
    ``{s}`` sub-domain as ``*``. None for no tiles or tiles from this site (``'self'``)."""
    if not url:
        return None
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    host = parts.netloc.rpartition("@")[2]
    first, dot, rest = host.partition(".")
    if "{" in rest or "}" in rest:
        return f"{parts.scheme}:"  # a placeholder deeper in the name: no narrower source fits
    if "{" in first:
        host = f"*.{rest}" if dot else "*"
    return f"{parts.scheme}://{host}"


def content_security_policy(tile_url: str | None, nonce: str | None) -> str:
    """The policy of one response (see the module's docstring for why each source is there)."""
    scripts = ["'self'"] + ([f"'nonce-{nonce}'"] if nonce else [])
    images = ["'self'", "data:"] + [s for s in [tile_source(tile_url)] if s]
    sockets = ["'self'"]
    # 'self' covers ws: and wss: to this host in CSP 3 browsers; older WebKit needs it said.
    if _PLAIN_HOST.fullmatch(request.host):
        sockets.append(f"{'wss' if request.is_secure else 'ws'}://{request.host}")
    directives = {
        "default-src": ["'self'"],
        "script-src": scripts,
        "style-src": ["'self'"],
        "img-src": images,
        "connect-src": sockets,
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


def _set_headers(response: Response) -> Response:
    """Add the security headers to a response (a view's own value of one wins)."""
    config = current_app.config
    headers = response.headers
    headers.setdefault("Content-Security-Policy",
                       content_security_policy(config.get("MAP_TILE_URL"),
                                               request.environ.get(_NONCE)))
    headers.setdefault("X-Frame-Options", "DENY")  # for browsers without frame-ancestors
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    if str(config.get("BASE_URL", "")).startswith("https://"):
        headers.setdefault("Strict-Transport-Security", f"max-age={HSTS_MAX_AGE_S}")
    return response


def init_app(app: Flask) -> None:
    """Add the headers to every response, offer ``csp_nonce()`` to templates, and believe the
    ``TRUSTED_PROXIES`` nearest proxies' X-Forwarded-For and -Proto (the client's address,
    https). Called after the Socket.IO set-up, so that the websockets see them too."""
    app.after_request(_set_headers)
    app.add_template_global(csp_nonce)
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies > 0:
        # Host is not taken from X-Forwarded-Host: nginx passes the browser's Host as it is.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)
