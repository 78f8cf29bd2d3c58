"""Mail transport: SMTP_URL parsed, one connection for many messages, log-in when the URL has
a user, errors by class and code without addresses, the outbox folder without SMTP."""

from __future__ import annotations

import email
import email.policy
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from dispatch.core.mail import (
    MailError,
    OutboxMailer,
    SmtpMailer,
    build_message,
    parse_smtp_url,
    purge_outbox,
)
from tests.support.reports_helpers import Sink, text_of
from tests.support.servers import free_port


def _msg(to="a@example.se"):
    return build_message(sender="Störningsjouren <noreply@example.se>", to=to,
                         subject="Rapporter för 15 januari", text="Hej åäö", html="<p>Hej</p>")


@pytest.mark.parametrize(("url", "expected"), [
    ("smtp://localhost:1025", ("localhost", 1025, False, False, None, None)),
    ("smtp://mail.example.se", ("mail.example.se", 25, False, False, None, None)),
    ("smtps://u%40x.se:p%3Ass@mail.example.se", ("mail.example.se", 465, True, False,
                                                "u@x.se", "p:ss")),
    ("smtp://u:p@mail.example.se:587?starttls=1", ("mail.example.se", 587, False, True,
                                                   "u", "p")),
])
def test_smtp_url_gives_host_port_tls_and_credentials(url, expected):
    s = parse_smtp_url(url)
    assert (s.host, s.port, s.tls, s.starttls, s.user, s.password) == expected


def test_a_smtp_url_of_another_scheme_is_refused():
    with pytest.raises(ValueError):
        parse_smtp_url("http://localhost:1025")


def test_a_message_has_plain_text_and_html_and_survives_swedish_letters():
    msg = email.message_from_bytes(_msg().as_bytes(), policy=email.policy.default)
    assert msg.get_body(preferencelist=("plain",)).get_content().strip() == "Hej åäö"
    assert "<p>Hej</p>" in msg.get_body(preferencelist=("html",)).get_content()
    assert msg["Subject"] == "Rapporter för 15 januari"
    assert msg["From"] == "Störningsjouren <noreply@example.se>"


@pytest.fixture
def server_with_login():
    sink = Sink()

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == b"jour" and auth_data.password == b"hemligt"
        return AuthResult(success=ok)

    controller = Controller(sink, hostname="127.0.0.1", port=free_port(),
                            authenticator=authenticator, auth_require_tls=False)
    controller.start()
    yield controller
    controller.stop()


def test_smtp_with_user_and_password_logs_in_and_sends(server_with_login):
    port = server_with_login.port
    with SmtpMailer(parse_smtp_url(f"smtp://jour:hemligt@127.0.0.1:{port}")) as mailer:
        mailer.send(_msg("a@example.se"))
        mailer.send(_msg("b@example.se"))
    assert server_with_login.handler.recipients() == ["a@example.se", "b@example.se"]
    assert text_of(server_with_login.handler.messages[0]).strip() == "Hej åäö"


def test_a_server_that_is_down_is_a_mail_error():
    mailer = SmtpMailer(parse_smtp_url(f"smtp://127.0.0.1:{free_port()}"))
    with pytest.raises(MailError) as failed:
        mailer.send(_msg())
    assert failed.value.code == "connect:ConnectionRefusedError"


def test_a_dropped_connection_is_opened_again_for_the_next_message(server_with_login):
    port = server_with_login.port
    with SmtpMailer(parse_smtp_url(f"smtp://jour:hemligt@127.0.0.1:{port}")) as mailer:
        mailer.send(_msg("a@example.se"))
        mailer._smtp.sock.close()  # the server (or a firewall) hung up on an idle connection
        mailer.send(_msg("b@example.se"))
    assert server_with_login.handler.recipients() == ["a@example.se", "b@example.se"]


def test_the_outbox_writes_whole_eml_files_and_purge_removes_old_ones(tmp_path):
    outbox = OutboxMailer(tmp_path / "outbox")
    outbox.send(_msg("a@example.se"))
    outbox.send(_msg("b@example.se"))
    files = sorted((tmp_path / "outbox").iterdir())
    assert [f.suffix for f in files] == [".eml", ".eml"]
    assert "To: a@example.se" in "".join(f.read_text() for f in files)
    assert purge_outbox(tmp_path / "outbox", older_than=timedelta(days=90)) == 0
    assert purge_outbox(tmp_path / "outbox", older_than=timedelta(seconds=-1)) == 2
    assert list((tmp_path / "outbox").iterdir()) == []
