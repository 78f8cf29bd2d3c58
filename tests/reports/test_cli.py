"""``dispatch send-morning-reports`` (../shared/CONTRACT.md): the scheduler's 06:00 run on
demand; two of them at once, as two schedulers by mistake, still send every mail once."""

from __future__ import annotations

import email
import email.policy
import json
import subprocess

import sqlalchemy as sa
from sqlalchemy.orm import Session

from dispatch.register.landlords import upsert_landlord
from tests.conftest import _fresh_database_url
from tests.support.reports_helpers import local, text_of
from tests.support.servers import BIN, LiveServer

pytest_plugins = ["tests.support.reports"]


def test_send_morning_reports_sends_and_prints_the_counts(
        app, runner, db_session, smtp, acme, make_report):
    make_report(acme, at=local(2026, 1, 14, 23, 0), released=local(2026, 1, 15, 1, 0))
    first = runner.invoke(args=["send-morning-reports", "--date", "2026-01-15", "--json"])
    assert first.exit_code == 0, first.output
    assert json.loads(first.output) == {"morning": "2026-01-15", "planned": 1, "sent": 1,
                                        "failed": 0, "waiting": 0}
    again = runner.invoke(args=["send-morning-reports", "--date", "2026-01-15"])
    assert again.output.strip() == ("Morgonposten 15 januari 2026: 0 mejl planerade, "
                                    "0 skickade, 0 misslyckades, 0 väntar.")
    assert smtp.recipients() == ["kontakt@acme.se"]


def test_send_morning_reports_refuses_a_morning_that_has_not_come(runner):
    result = runner.invoke(args=["send-morning-reports", "--date", "2999-01-01"])
    assert result.exit_code == 2 and "har inte kommit än" in result.output


def test_without_smtp_the_mails_are_written_to_the_outbox_folder(
        app, runner, db_session, tmp_path, create_landlord, create_user):
    quiet = create_landlord(code="QUIET")
    quiet.quiet_night_mail = True
    create_user(role="landlord", landlord=quiet, email="kontakt@quiet.se")
    before = dict(app.config)
    app.config.update(SMTP_URL=None, OUTBOX_DIR=str(tmp_path / "outbox"))
    try:
        result = runner.invoke(args=["send-morning-reports", "--date", "2026-01-15"])
    finally:
        app.config.update(SMTP_URL=before["SMTP_URL"], OUTBOX_DIR=before["OUTBOX_DIR"])
    assert result.exit_code == 0, result.output
    [eml] = list((tmp_path / "outbox").glob("*.eml"))
    msg = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert msg["To"] == "kontakt@quiet.se" and "/reports/m/20260115" in text_of(msg)


def test_two_schedulers_at_once_send_each_mail_exactly_once(tmp_path_factory, smtp_server, smtp):
    url, drop = _fresh_database_url(tmp_path_factory, "twice")
    server = LiveServer(url, tmp_path_factory.mktemp("twice"), extra_env={
        "SMTP_URL": f"smtp://127.0.0.1:{smtp_server.port}", "LOG_FORMAT": "text"})
    try:
        server.cli("db", "upgrade")
        expected = []
        engine = sa.create_engine(server.env["DATABASE_URL"])
        with Session(engine) as session:
            for n in range(3):
                contacts = [f"k{i}@l{n}.se" for i in range(40)]
                expected += contacts
                landlord = upsert_landlord(session, code=f"L{n}", name=f"Värd {n}",
                                           contacts=contacts)
                landlord.quiet_night_mail = True
            session.commit()
        engine.dispose()
        runs = [subprocess.Popen([str(BIN / "dispatch"), "send-morning-reports", "--json"],
                                 env=server.env, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True) for _ in range(2)]
        outputs = [run.communicate(timeout=120) for run in runs]
        assert all(run.returncode == 0 for run in runs), outputs
        sent = [json.loads(out)["sent"] for out, _ in outputs]
        assert sum(sent) == 120
        assert smtp.recipients() == sorted(expected)
        third = server.cli("send-morning-reports", "--json")
        assert json.loads(third)["sent"] == 0 and len(smtp.messages) == 120
    finally:
        drop()
