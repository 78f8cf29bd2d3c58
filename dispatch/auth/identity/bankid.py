"""BankID Relying Party API v6 (auth, collect every 2 s, cancel) through the kept client
``pybankid`` (v6 only since 1.0; it speaks the protocol as BankID's spec says: JSON POSTs over
mutual TLS to ``/rp/v6.0/{auth,collect,cancel}``, errors as ``{errorCode, details}``).

pybankid fixes its base URL and the server's CA to BankID's own two environments; ``Client``
lets both come from the settings (``BANKID_URL``, ``BANKID_CA``), so that the same client runs
against BankID's test or production service, or ``dispatch bankid-test-server`` here.

The animated QR code is ``qr_text``: ``bankid.{qrStartToken}.{t}.{HMAC-SHA256(qrStartSecret,
str(t))}``, t = whole seconds since the auth answer (the vectors of domain-rules.md are in
tests/portal/test_identity_bankid.py).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import ssl
from dataclasses import dataclass
from urllib.parse import urljoin

import httpx
from bankid import BankIDClient
from bankid.baseclient import BankIDClientBaseclass
from bankid.exceptions import BankIDError

from dispatch.auth.identity import Completed, Failed, Identity, Outcome, Pending
from dispatch.auth.identity.numbers import InvalidNumber, swedish

log = logging.getLogger(__name__)


def qr_text(qr_start_token: str, qr_start_secret: str, seconds: int) -> str:
    """The animated QR code's content ``seconds`` whole seconds after the auth answer."""
    digest = hmac.new(qr_start_secret.encode(), str(seconds).encode(), hashlib.sha256)
    return f"bankid.{qr_start_token}.{seconds}.{digest.hexdigest()}"


def autostart_url(auto_start_token: str, redirect: str = "null") -> str:
    """The same-device link that opens the BankID app (``redirect=null``: the app returns to
    the browser that opened it)."""
    return f"https://app.bankid.com/?autostarttoken={auto_start_token}&redirect={redirect}"


class Client(BankIDClient):
    """pybankid's v6 client on a base URL and CA of our choosing (its own constructor pins
    BankID's hosts and hands httpx the certificate the way httpx 0.28 deprecates; the TLS
    context here carries the client certificate instead)."""

    def __init__(self, base_url: str, cert: tuple[str, str], ca: str | None,
                 timeout: float = 10):
        BankIDClientBaseclass.__init__(self, cert, test_server=True,
                                       request_timeout=int(timeout))
        self.api_url = base_url.rstrip("/") + "/"
        for name in ("auth", "sign", "collect", "cancel"):
            setattr(self, f"_{name}_endpoint", urljoin(self.api_url, name))
        self._phone_auth_endpoint = urljoin(self.api_url, "phone/auth")
        self._phone_sign_endpoint = urljoin(self.api_url, "phone/sign")
        context = ssl.create_default_context(cafile=ca) if ca else ssl.create_default_context()
        context.load_cert_chain(*cert)
        self.client = httpx.Client(verify=context, timeout=timeout,
                                   headers={"Content-Type": "application/json"})


@dataclass(frozen=True)
class Order:
    """An auth order as the browser's page needs it (kept in the tenant's session)."""

    order_ref: str
    auto_start_token: str
    qr_start_token: str
    qr_start_secret: str


def _error_code(exc: BankIDError) -> str:
    return str((exc.json or {}).get("errorCode") or "internalError")


class BankIDProvider:
    """start → poll (collect) → Completed | Failed; cancel."""

    name = "bankid"

    def __init__(self, client: Client):
        self.client = client

    @classmethod
    def for_app(cls, app) -> BankIDProvider | None:
        """The app's provider, made once per set of settings (its connections are kept)."""
        key = tuple(app.config.get(k) for k in ("BANKID_URL", "BANKID_CERT", "BANKID_KEY",
                                                  "BANKID_CA"))
        made = app.extensions.get("tenant_bankid")
        if made is None or made[0] != key:
            if made is not None and made[1] is not None:
                made[1].close()
            made = (key, cls.from_config(app.config))
            app.extensions["tenant_bankid"] = made
        return made[1]

    @classmethod
    def from_config(cls, config) -> BankIDProvider | None:
        """The provider the settings describe; None when BankID is not set up."""
        if not config.get("BANKID_URL") or not config.get("BANKID_CERT"):
            return None
        cert = (config["BANKID_CERT"], config.get("BANKID_KEY") or config["BANKID_CERT"])
        return cls(Client(config["BANKID_URL"], cert, config.get("BANKID_CA")))

    def start(self, end_user_ip: str) -> Order | Failed:
        try:
            answer = self.client.authenticate(end_user_ip=end_user_ip)
        except BankIDError as exc:
            return Failed(_error_code(exc))
        except httpx.HTTPError as exc:
            log.warning("bankid auth unreachable: %s", type(exc).__name__)
            return Failed("unavailable")
        return Order(answer["orderRef"], answer["autoStartToken"], answer["qrStartToken"],
                     answer["qrStartSecret"])

    def poll(self, order_ref: str) -> Outcome:
        try:
            answer = self.client.collect(order_ref)
        except BankIDError as exc:
            return Failed(_error_code(exc))
        except httpx.HTTPError as exc:
            log.warning("bankid collect unreachable: %s", type(exc).__name__)
            return Failed("unavailable")
        status = answer.get("status")
        if status == "pending":
            return Pending(answer.get("hintCode") or "outstandingTransaction")
        if status == "failed":
            return Failed(answer.get("hintCode") or "internalError")
        user = (answer.get("completionData") or {}).get("user") or {}
        try:
            number = swedish(user.get("personalNumber", ""))
        except InvalidNumber:
            return Failed("invalid_identity")
        return Completed(Identity(number, user.get("name") or "", "SE"))

    def close(self) -> None:
        self.client.client.close()

    def cancel(self, order_ref: str) -> None:
        try:
            self.client.cancel(order_ref)
        except (BankIDError, httpx.HTTPError):
            pass  # already finished or gone: nothing left to cancel
