"""The browser's side of a strong identification, one flow for the tenant portal and the
housing queue (each blueprint's routes call it with its own session key and addresses).

* ``BankIDFlow``: ``start`` makes the order and shows the QR page
  (``portal/account/bankid.html``, on the caller's layout); its script
  (``static/portal/account/bankid.js``) asks ``qr`` every second for the animated QR code and
  ``collect`` every two seconds (our server collects from BankID; faster is refused, 429 JSON),
  and ``cancel`` ends the order. A completed order goes to the caller's ``done(identity,
  purpose)``, which answers the address the page goes on to.
* ``OIDCFlow``: ``start`` answers the redirect to the Finnish e-identification's provider,
  ``finish`` the outcome on the callback (and the purpose it started with).

The order itself (BankID's reference and QR secret; OpenID Connect's state, nonce and PKCE
verifier) is kept on the server (``identity.pending``); the session holds only its random id
under the caller's key, and the row is deleted when the flow ends. Flask request code (no
routes); imports core, models and the identity modules.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import segno
from flask import abort, current_app, flash, jsonify, redirect, render_template, request, session
from flask_babel import gettext as _

from dispatch.auth.identity import Completed, Failed, Identity, Outcome, Pending, oidc, pending
from dispatch.auth.identity.bankid import BankIDProvider, autostart_url, qr_text
from dispatch.auth.identity.messages import failed_message, pending_message
from dispatch.core.extensions import db

# The page's script collects every 2 s: an order may be collected COLLECT_BURST times at once
# and once a second on average after that; faster is refused (429, JSON).
COLLECT_INTERVAL_S = 1.0
COLLECT_BURST = 5


def _qr(token: str, secret: str, started: float) -> dict:
    text = qr_text(token, secret, max(0, int(time.time() - started)))
    return {"text": text, "image": segno.make(text, error="l").svg_data_uri(scale=5)}


@dataclass
class BankIDFlow:
    """``key``: the session key of this flow's order id; ``urls``: the page script's
    addresses (``qr``, ``collect``, ``cancel``); ``back(purpose)``: the page to return to on a
    failure or cancel; ``done(identity, purpose)``: where a completed identification goes;
    ``layout``/``context``: the QR page's base template and extra context."""

    key: str
    urls: Callable[[], dict]
    back: Callable[[str], str]
    done: Callable[[Identity, str], str]
    layout: str
    context: dict = field(default_factory=dict)

    @staticmethod
    def provider() -> BankIDProvider:
        provider = BankIDProvider.for_app(current_app)
        if provider is None:
            abort(404)
        return provider

    def _order(self):
        return pending.get(db.session, session.get(self.key), "bankid")

    def _end(self) -> None:
        pending.remove(db.session, session.pop(self.key, None))

    def start(self, purpose: str, end_user_ip: str | None):
        """A new order (one before it in this session is cancelled) and the QR page."""
        provider = self.provider()
        previous = self._order()
        if previous is not None:
            provider.cancel(previous.data["ref"])
        self._end()
        pending.sweep(db.session)
        answer = provider.start(end_user_ip=end_user_ip or "127.0.0.1")
        if isinstance(answer, Failed):
            flash(failed_message(answer.reason), "error")
            return redirect(self.back(purpose))
        started = time.time()
        row = pending.create(db.session, "bankid", {
            "ref": answer.order_ref, "qt": answer.qr_start_token,
            "qs": answer.qr_start_secret, "at": started, "polls": 0, "purpose": purpose})
        session[self.key] = row.id
        urls = {**self.urls(), "retry": self.back(purpose)}
        return render_template("portal/account/bankid.html", base=self.layout, urls=urls,
                               autostart=autostart_url(answer.auto_start_token),
                               message=pending_message(None, qr=True),
                               qr=_qr(answer.qr_start_token, answer.qr_start_secret, started),
                               **self.context)

    def qr(self):
        """The animated QR code of this second."""
        order = self._order()
        if order is None:
            return jsonify(error="no_order"), 404
        data = order.data
        return jsonify(_qr(data["qt"], data["qs"], float(data["at"])))

    def collect(self):
        """Collect the order from BankID: pending (with the hint in the user's language),
        failed, or complete with the address to go on to."""
        order = self._order()
        if order is None:
            return jsonify(status="failed", message=failed_message("cancelled")), 404
        data = order.data
        polls = int(data.get("polls", 0))
        allowed = COLLECT_BURST + (time.time() - float(data["at"])) / COLLECT_INTERVAL_S
        if polls >= allowed:
            # Faster than the page's script asks: the order stays, the caller waits.
            wait = max(1, math.ceil((polls + 1 - allowed) * COLLECT_INTERVAL_S))
            return jsonify(status="pending", error="too_many_requests", retry_after=wait,
                           message=_("Too many requests. Wait a moment; the identification "
                                     "goes on.")), 429, {"Retry-After": str(wait)}
        pending.update(order, polls=polls + 1)
        outcome = self.provider().poll(data["ref"])
        if isinstance(outcome, Pending):
            return jsonify(status="pending", hint=outcome.hint_code,
                           message=pending_message(outcome.hint_code, qr=True))
        self._end()
        if isinstance(outcome, Failed):
            return jsonify(status="failed", hint=outcome.reason,
                           message=failed_message(outcome.reason))
        assert isinstance(outcome, Completed)
        return jsonify(status="complete",
                       next=self.done(outcome.identity, data.get("purpose", "register")))

    def cancel(self):
        order = self._order()
        purpose = order.data.get("purpose", "register") if order is not None else "register"
        if order is not None:
            self.provider().cancel(order.data["ref"])
        self._end()
        if request.accept_mimetypes.best == "application/json":
            return jsonify(status="cancelled")
        flash(failed_message("cancelled"), "info")
        return redirect(self.back(purpose))


@dataclass(frozen=True)
class OIDCFlow:
    """``key``: the session key of this flow's pending id."""

    key: str

    def start(self, redirect_uri: str, *, purpose: str, locale: str | None):
        """The redirect to the provider; state, nonce and verifier kept on the server."""
        if not oidc.configured(current_app.config):
            abort(404)
        pending.remove(db.session, session.pop(self.key, None))
        pending.sweep(db.session)
        url, kept = oidc.start(redirect_uri, locale=locale)
        row = pending.create(db.session, "oidc", {**kept, "purpose": purpose})
        session[self.key] = row.id
        return redirect(url)

    def finish(self) -> tuple[Outcome, str]:
        """The outcome of the callback and the purpose the flow started with; the pending
        row is gone afterwards whatever the outcome (a callback is used once)."""
        if not oidc.configured(current_app.config):
            abort(404)
        pending_id = session.pop(self.key, None)
        row = pending.get(db.session, pending_id, "oidc")
        kept = dict(row.data) if row is not None else None
        pending.remove(db.session, pending_id)
        purpose = (kept or {}).get("purpose", "register")
        return oidc.finish(kept), purpose
