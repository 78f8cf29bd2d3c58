"""Sending an SMS (issue 19): one small interface, ``send(to, text, callback_url) -> gateway
id``, and the backends behind it, chosen by ``SMS_BACKEND``:

- ``log`` (the default): nothing leaves the machine; the log says an SMS would have gone (its
  length and the id it is given, never the number or the text).
- ``http``: a 46elks-style gateway: ``POST {SMS_GATEWAY_URL}/sms`` with basic auth
  (``SMS_GATEWAY_USER``/``SMS_GATEWAY_PASSWORD``) and the form fields ``from`` (``SMS_FROM``),
  ``to`` (E.164), ``message`` and ``whendelivered`` (where the gateway posts the delivery
  status); it answers JSON with ``id`` and ``status``. Each request waits at most
  ``SMS_GATEWAY_TIMEOUT_S``.

A failure is an ``SmsError`` that says whether trying again may help (``retry``): a timeout,
a connection refused, a 5xx or a 429 may; a 4xx (bad credentials, a number the gateway
refuses) will not. Who sends, retries and records is ``jobs.escalation``.
"""

from __future__ import annotations

import logging
import uuid
from typing import Protocol

import requests

log = logging.getLogger(__name__)


class SmsError(Exception):
    """The gateway did not take the message. ``code`` is short and safe to store and log (no
    number, no text); ``retry`` whether a later attempt may succeed."""

    def __init__(self, code: str, *, retry: bool):
        super().__init__(code)
        self.code, self.retry = code, retry


class SmsBackend(Protocol):
    def send(self, to: str, text: str, callback_url: str | None = None) -> str:
        """Hand the message to the gateway; return the gateway's id for it."""


class LogBackend:
    """Sends nothing: says in the log that a message would have gone."""

    def send(self, to: str, text: str, callback_url: str | None = None) -> str:
        gateway_id = f"log-{uuid.uuid4().hex}"
        log.info("sms not sent (SMS_BACKEND=log)",
                 extra={"gateway_id": gateway_id, "chars": len(text)})
        return gateway_id


class HttpBackend:
    """A 46elks-style HTTP gateway (see the module's text)."""

    def __init__(self, url: str, user: str | None, password: str | None, sender: str,
                 timeout_s: float = 10):
        self.url = url.rstrip("/") + "/sms"
        self.auth = (user or "", password or "")
        self.sender, self.timeout_s = sender, timeout_s

    def send(self, to: str, text: str, callback_url: str | None = None) -> str:
        form = {"from": self.sender, "to": to, "message": text}
        if callback_url:
            form["whendelivered"] = callback_url
        try:
            answer = requests.post(self.url, data=form, auth=self.auth, timeout=self.timeout_s)
        except requests.Timeout:
            raise SmsError("timeout", retry=True) from None
        except requests.RequestException as exc:
            raise SmsError(f"unreachable: {type(exc).__name__}", retry=True) from None
        if answer.status_code >= 500 or answer.status_code == 429:
            raise SmsError(f"http_{answer.status_code}", retry=True)
        if answer.status_code >= 400:
            raise SmsError(f"http_{answer.status_code}", retry=False)
        try:
            body = answer.json()
        except ValueError:
            raise SmsError("not_json", retry=True) from None
        gateway_id = body.get("id") if isinstance(body, dict) else None
        if not isinstance(gateway_id, str) or not gateway_id:
            raise SmsError("no_id", retry=True)
        if body.get("status") == "failed":
            raise SmsError("gateway_failed", retry=False)
        return gateway_id[:80]


def backend(config) -> SmsBackend:
    """The backend ``SMS_BACKEND`` names (``log`` or ``http``); anything else is an error."""
    kind = (config.get("SMS_BACKEND") or "log").lower()
    if kind == "log":
        return LogBackend()
    if kind == "http":
        if not config.get("SMS_GATEWAY_URL") or not config.get("SMS_GATEWAY_USER") or not (
                config.get("SMS_GATEWAY_PASSWORD")):
            raise RuntimeError("SMS_BACKEND=http needs SMS_GATEWAY_URL, SMS_GATEWAY_USER and "
                               "SMS_GATEWAY_PASSWORD")
        return HttpBackend(config["SMS_GATEWAY_URL"], config.get("SMS_GATEWAY_USER"),
                           config.get("SMS_GATEWAY_PASSWORD"), config.get("SMS_FROM") or "Jouren",
                           timeout_s=config.get("SMS_GATEWAY_TIMEOUT_S", 10))
    raise RuntimeError(f"SMS_BACKEND must be log or http, got {kind!r}")
