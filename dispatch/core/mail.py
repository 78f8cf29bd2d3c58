"""Sending mail: real SMTP when ``SMTP_URL`` is set, else ``.eml`` files in the outbox folder.

``SMTP_URL`` is ``smtp://host:port`` (plain; add ``?starttls=1`` for STARTTLS) or
``smtps://host:port`` (TLS from the start), with an optional ``user:password@``. A mailer keeps
one connection open for many messages, which is what makes the morning run fast, and opens it
again when the server drops it. Messages carry ids and counts, never personal data; errors are
reported by class and SMTP code, never with the recipient's address.
"""

from __future__ import annotations

import base64
import logging
import os
import secrets
import smtplib
import ssl
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.header import Header
from email.headerregistry import Address
from email.utils import format_datetime, formataddr, parseaddr
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from dispatch.models import utcnow

log = logging.getLogger(__name__)


class MailError(Exception):
    """A message that could not be handed over; ``code`` is short and holds no address."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to connect, parsed from ``SMTP_URL``."""

    host: str
    port: int
    tls: bool = False  # smtps://: TLS from the first byte
    starttls: bool = False
    user: str | None = None
    password: str | None = None
    timeout: float = 30.0


def parse_smtp_url(url: str) -> SmtpSettings:
    """``smtp://[user:password@]host[:port][?starttls=1]`` or ``smtps://...``."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("SMTP_URL must look like smtp://host:port or smtps://host:port")
    tls = parts.scheme == "smtps"
    query = parse_qs(parts.query)
    starttls = (query.get("starttls", ["0"])[0].lower() in ("1", "true", "yes"))
    return SmtpSettings(
        host=parts.hostname,
        port=parts.port or (465 if tls else 25),
        tls=tls,
        starttls=starttls and not tls,
        user=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


class OutgoingMessage:
    """A message ready to send: its envelope and its bytes (MIME, CRLF line ends).

    Built by hand rather than with ``email.message``: the standard library's generator folds
    and re-encodes every header of every message, which cost more than the SMTP round trip in
    the morning run. The shape is plain: ASCII headers (RFC 2047 where a name or subject needs
    it), a text part and an optional HTML part, each UTF-8 in base64 (76-character lines).
    """

    def __init__(self, *, sender: str, to: str, headers: list[tuple[str, str]],
                 parts: list[tuple[str, str]]):
        self.sender, self.to = sender, to
        self.headers, self.parts = headers, parts

    def __getitem__(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def as_bytes(self) -> bytes:
        lines = [f"{k}: {v}" for k, v in self.headers]
        lines.append("MIME-Version: 1.0")
        if len(self.parts) == 1:
            lines += _part_lines(*self.parts[0])
        else:
            boundary = "=_" + secrets.token_hex(16)
            lines.append(f'Content-Type: multipart/alternative; boundary="{boundary}"')
            lines.append("")
            for subtype, body in self.parts:
                lines.append(f"--{boundary}")
                lines += _part_lines(subtype, body)
            lines.append(f"--{boundary}--")
        return ("\r\n".join(lines) + "\r\n").encode("ascii")


def _part_lines(subtype: str, body: str) -> list[str]:
    encoded = base64.encodebytes(body.encode("utf-8")).decode("ascii")
    return [f'Content-Type: text/{subtype}; charset="utf-8"',
            "Content-Transfer-Encoding: base64", "", *encoded.splitlines()]


def _header_text(value: str) -> str:
    return value if value.isascii() else Header(value, "utf-8").encode(linesep="\r\n")


def build_message(*, sender: str, to: str, subject: str, text: str, html: str | None = None,
                  message_id: str | None = None, headers: dict | None = None
                  ) -> OutgoingMessage:
    """A plain-text message, with an HTML alternative when ``html`` is given."""
    name, addr = parseaddr(sender)
    if any(ch in to for ch in "\r\n") or "@" not in to:
        raise MailError("bad_recipient")
    fields = [("From", formataddr((name, addr), charset="utf-8") if name else addr),
              ("To", to), ("Subject", _header_text(subject)),
              ("Date", format_datetime(utcnow()))]
    if message_id:
        fields.append(("Message-ID", message_id))
    fields += [(k, _header_text(v)) for k, v in (headers or {}).items()]
    parts = [("plain", text)] + ([("html", html)] if html is not None else [])
    return OutgoingMessage(sender=addr, to=to, headers=fields, parts=parts)


class SmtpMailer:
    """Sends over one SMTP connection, opened on first use and again after a disconnect."""

    def __init__(self, settings: SmtpSettings):
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        try:
            if s.tls:
                smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout,
                                        context=ssl.create_default_context())
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
                if s.starttls:
                    smtp.starttls(context=ssl.create_default_context())
            if s.user:
                smtp.login(s.user, s.password or "")
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(f"connect:{type(exc).__name__}") from exc
        return smtp

    def send(self, msg: OutgoingMessage) -> None:
        """Hand one message to the server; raise MailError if it is not accepted."""
        data = msg.as_bytes()
        for attempt in (1, 2):
            if self._smtp is None:
                self._smtp = self._connect()
            try:
                refused = self._smtp.sendmail(msg.sender, [msg.to], data)
            except smtplib.SMTPServerDisconnected as exc:
                self._smtp = None
                if attempt == 2:
                    raise MailError("disconnected") from exc
                continue  # the server closed an idle connection: once more on a new one
            except smtplib.SMTPResponseException as exc:
                self._reset()
                raise MailError(f"smtp:{exc.smtp_code}") from exc
            except smtplib.SMTPRecipientsRefused as exc:
                self._reset()
                codes = sorted({code for code, _ in exc.recipients.values()})
                raise MailError("refused:" + ",".join(map(str, codes))) from exc
            except (OSError, smtplib.SMTPException) as exc:
                self.close()
                raise MailError(type(exc).__name__) from exc
            if refused:
                raise MailError("refused")
            return

    def _reset(self) -> None:
        try:
            if self._smtp is not None:
                self._smtp.rset()
        except (OSError, smtplib.SMTPException):
            self.close()

    def close(self) -> None:
        """Say goodbye to the server (quietly, if it is already gone)."""
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (OSError, smtplib.SMTPException):
                self._smtp.close()
            self._smtp = None

    def __enter__(self) -> SmtpMailer:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()


class OutboxMailer:
    """Writes each message as an ``.eml`` file into the outbox folder (no SMTP configured)."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)

    def send(self, msg: OutgoingMessage) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        stamp = utcnow().strftime("%Y%m%dT%H%M%S%f")
        # Written under a temporary name and renamed, so a reader never sees half a message.
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".", suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(msg.as_bytes())
        os.replace(tmp, self.folder / f"{stamp}-{Path(tmp).stem.lstrip('.')}.eml")

    def close(self) -> None:
        pass

    def __enter__(self) -> OutboxMailer:
        return self

    def __exit__(self, *_exc) -> None:
        pass


def mailer_for(config) -> SmtpMailer | OutboxMailer:
    """The mailer the settings ask for: SMTP_URL, else the instance folder's outbox."""
    url = config.get("SMTP_URL")
    if url:
        return SmtpMailer(parse_smtp_url(url))
    return OutboxMailer(config["OUTBOX_DIR"])


def send_one(config, msg: OutgoingMessage) -> None:
    """Send a single message (a log-in code) on its own connection."""
    with mailer_for(config) as mailer:
        mailer.send(msg)


def sender_address(config) -> str:
    """MAIL_FROM, checked to be an address so that a typo fails at the first mail, loudly."""
    sender = config["MAIL_FROM"]
    name, addr = parseaddr(sender)
    if "@" not in addr:
        raise ValueError("MAIL_FROM must be an e-mail address")
    return str(Address(display_name=name, addr_spec=addr)) if name else addr


def purge_outbox(folder: str | os.PathLike, *, older_than: timedelta,
                 now: datetime | None = None) -> int:
    """Delete ``.eml`` files older than the retention period from the outbox folder."""
    path = Path(folder)
    if not path.is_dir():
        return 0
    cutoff = ((now or utcnow()) - older_than).timestamp()
    removed = 0
    for item in path.glob("*.eml"):
        if item.stat().st_mtime < cutoff:
            item.unlink(missing_ok=True)
            removed += 1
    return removed
