"""Helpers for the report tests: Stockholm times, an SMTP sink, the parts of a mail."""

from __future__ import annotations

import email
import email.policy
import threading
from datetime import datetime
from zoneinfo import ZoneInfo

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def local(*args) -> datetime:
    """A Stockholm wall-clock time as an aware datetime."""
    return datetime(*args, tzinfo=STOCKHOLM)


class Sink:
    """An SMTP handler that keeps every message, and can refuse chosen recipients for a while
    (a 451: try again later), the way a real server under trouble does."""

    def __init__(self):
        self.lock = threading.Lock()
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.defer: set[str] = set()

    def reset(self) -> None:
        with self.lock:
            self.messages.clear()
            self.envelopes.clear()
            self.defer.clear()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address.lower() in self.defer:
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(msg)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        with self.lock:
            return [m for m in self.messages if m["To"] == address]

    def recipients(self) -> list[str]:
        with self.lock:
            return sorted(m["To"] for m in self.messages)


def text_of(msg) -> str:
    return msg.get_body(preferencelist=("plain",)).get_content()


def html_of(msg) -> str:
    return msg.get_body(preferencelist=("html",)).get_content()


def forget_request_state() -> None:
    """The tests' app context outlives each request, and Flask-Login and Flask-WTF keep the
    request's user and CSRF token on it (``g``): forget them before a request that must be
    judged on its own, e.g. from a second client or with another bearer token."""
    from flask import g

    for name in ("_login_user", "csrf_token"):
        g.pop(name, None)
