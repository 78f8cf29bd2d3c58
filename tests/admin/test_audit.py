"""The audit log: operators reading tenant data (screen pop, object view, an address opened
from the search, a door code shown) and the creation of landlords, users, tokens and patrol
cars are audited; admins read the log filtered by who, what, subject and time, a page at a
time, and export it as CSV in which nothing is a formula."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from flask_babel import refresh
from sqlalchemy import func, select

from dispatch.admin.audit import PAGE_SIZE
from dispatch.core.audit import record
from dispatch.models import AuditEvent, Entrance, RentalObject
from tests.support.factories import flat_row
from tests.support.reports_helpers import forget_request_state


def _actions(db_session, action):
    return db_session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                              .order_by(AuditEvent.id)).all()


@pytest.fixture
def acme(create_landlord, build_register):
    landlord = create_landlord(code="ACME", oncall_numbers=["08-46 500 401"])
    build_register(landlord, [
        flat_row("Götgatan 12B", "1102", portkod="4711", lat="59.3121", lon="18.0713",
                 avtalsnummer="A1", kundnummer="K1", hyresgast_namn="Anna Andersson",
                 hyresgast_telefon="070-174 06 05")])
    return landlord


@pytest.fixture
def operator(create_token):
    token, user = create_token(role="operator")
    return {"Authorization": f"Bearer {token}"}, user


def test_an_operator_reading_tenant_data_is_audited_and_the_door_code_needs_a_show(
        client, auth, db_session, acme, operator, create_user):
    headers, user = operator
    flat = db_session.scalars(select(RentalObject)).one()
    entrance = db_session.scalars(select(Entrance)).one()

    pop = client.post("/api/v1/calls", headers=headers, json={
        "dialled_number": "08-46 500 401", "caller_number": "070-174 06 05"})
    assert pop.status_code == 201
    view = client.get(f"/api/v1/objects/{flat.id}", headers=headers).get_json()
    assert "door_code" not in view and view["door_code_known"] is True
    assert client.get(f"/api/v1/entrances/{entrance.id}", headers=headers).status_code == 200

    create_user(role="operator", email="op@jour.se")
    forget_request_state()  # the bearer token's user, not the browser's
    auth.login("op@jour.se")
    token = auth.csrf_token("/console/")
    shown = client.post(f"/console/objects/{flat.id}/door-code", json={},
                        headers={"X-CSRFToken": token})
    assert shown.status_code == 200 and shown.get_json()["door_code"] == "4711"

    (screen_pop,) = _actions(db_session, "call.screen_pop")
    assert screen_pop.user_id == user.id and screen_pop.details == {"tenants": 1}
    (viewed,) = _actions(db_session, "object.viewed")
    assert (viewed.subject, viewed.user_id) == (f"object:{flat.id}", user.id)
    (opened,) = _actions(db_session, "entrance.viewed")
    assert opened.subject == f"entrance:{entrance.id}"
    (door,) = _actions(db_session, "door_code.shown")
    assert door.subject == f"object:{flat.id}" and door.details == {"entrance_id": entrance.id}
    everything = repr([(e.subject, e.details) for e in db_session.scalars(select(AuditEvent))])
    assert "4711" not in everything and "Anna" not in everything and "070" not in everything


def test_the_door_code_is_for_operators_only(client, auth, db_session, acme, create_user):
    flat = db_session.scalars(select(RentalObject)).one()
    create_user(role="landlord", landlord=acme, email="kontakt@acme.se")
    auth.login("kontakt@acme.se")
    token = auth.csrf_token("/reports/?all=1")
    answer = client.post(f"/console/objects/{flat.id}/door-code", json={},
                         headers={"X-CSRFToken": token})
    assert answer.status_code in (302, 403) and b"4711" not in answer.data
    assert _actions(db_session, "door_code.shown") == []


def test_creating_landlords_users_tokens_and_patrols_is_audited(app, db_session):
    runner = app.test_cli_runner()
    for args in (["create-landlord", "--code", "BRAVO", "--name", "Bravo AB"],
                 ["create-user", "--role", "operator", "--email", "ny@jour.se",
                  "--password", "correct horse battery"],
                 ["create-patrol", "--call-sign", "Jour 31"],
                 ["create-token", "--role", "operator", "--email", "ny@jour.se"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
    db_session.expire_all()
    lines = {e.action: e for e in db_session.scalars(select(AuditEvent).where(
        AuditEvent.action.endswith(".created")))}
    assert lines["landlord.created"].subject == "landlord:BRAVO"
    assert lines["user.created"].subject == "ny@jour.se"
    assert lines["user.created"].details["role"] == "operator"
    assert lines["patrol.created"].subject == "patrol:Jour 31"
    assert lines["token.created"].subject == "ny@jour.se"
    assert all(e.details["via"] == "command" for e in lines.values())


@pytest.fixture
def admin(client, auth, create_user):
    user = create_user(role="admin", email="admin@jour.se")
    auth.login("admin@jour.se")
    return user


@pytest.fixture
def log(db_session, create_user):
    """A log with lines of two operators, several actions and subjects, on two days."""
    anna = create_user(role="operator", email="anna@jour.se")
    bo = create_user(role="operator", email="bo@jour.se")
    day1 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    day2 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    for i in range(3):
        record(db_session, "object.viewed", subject=f"object:{i + 1}", user_id=anna.id
               ).at = day1
    record(db_session, "door_code.shown", subject="object:2", user_id=bo.id).at = day2
    record(db_session, "report.read", subject="=HYPERLINK(\"http://x\")", user_id=bo.id,
           details={"format": "html"}).at = day2
    db_session.flush()
    return anna, bo


def _rows(page: str) -> list[str]:
    body = page[page.index("<tbody>"):page.index("</tbody>")]
    return [row for row in body.split("<tr>")[1:] if "colspan" not in row]


def test_admin_filters_the_log_by_who_what_subject_and_time(client, admin, log):
    by_anna = client.get("/admin/audit?who=anna").get_data(as_text=True)
    assert len(_rows(by_anna)) == 3 and "bo@jour.se" not in by_anna
    doors = client.get("/admin/audit?what=door_code").get_data(as_text=True)
    assert len(_rows(doors)) == 1 and ">Objekt 2<" in doors
    subject = client.get("/admin/audit?subject=object:2").get_data(as_text=True)
    assert len(_rows(subject)) == 2
    on_day2 = client.get("/admin/audit?since=2026-11-21&until=2026-11-22&what=object"
                         ).get_data(as_text=True)
    assert _rows(on_day2) == []
    on_day1 = client.get("/admin/audit?since=2026-11-20&until=2026-11-20").get_data(True)
    assert len(_rows(on_day1)) == 3


def test_a_filter_that_is_no_date_is_said_next_to_its_field(client, admin, log):
    answer = client.get("/admin/audit?since=20-11-2026&who=anna")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert "has-error" in page and 'value="anna"' in page  # what was typed is kept


def test_the_log_comes_a_page_at_a_time_newest_first(client, admin, db_session, create_user):
    anna = create_user(role="operator", email="anna@jour.se")
    start = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    for i in range(PAGE_SIZE + 5):
        record(db_session, "object.viewed", subject=f"object:{i}", user_id=anna.id
               ).at = start + timedelta(minutes=i)
    db_session.flush()
    first = client.get("/admin/audit?what=object.viewed").get_data(as_text=True)
    assert len(_rows(first)) == PAGE_SIZE and f">Objekt {PAGE_SIZE + 4}<" in first
    assert 'rel="next"' in first and "what=object.viewed" in first
    second = client.get("/admin/audit?what=object.viewed&page=2").get_data(as_text=True)
    assert len(_rows(second)) == 5 and ">Objekt 0<" in second and 'rel="prev"' in second


def test_the_csv_export_keeps_the_filter_and_no_cell_is_a_formula(
        client, admin, db_session, log):
    answer = client.get("/admin/audit.csv?who=bo")
    assert answer.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(answer.get_data(as_text=True).lstrip("\ufeff")),
                           delimiter=";"))
    assert rows[0][:4] == ["När", "Vem", "Vad", "Gäller"]
    assert {r[2] for r in rows[1:]} == {"door_code.shown", "report.read"}
    assert "'=HYPERLINK(\"http://x\")" in [r[3] for r in rows[1:]]
    assert db_session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "audit.export")) == 1


def test_only_admins_read_the_audit_log(client, auth, create_user, log):
    create_user(role="operator", email="op@jour.se")
    auth.login("op@jour.se")
    for path in ("/admin/audit", "/admin/audit.csv"):
        assert client.get(path).status_code == 403


def _cells(page: str, name: str) -> list[str]:
    """The text of each row's cell of class ``name``, tags out, no-break spaces as spaces."""
    found = re.findall(rf'<td class="{name}">(.*?)</td>', page, flags=re.S)
    return [" ".join(html.unescape(re.sub(r"<[^>]+>", "", cell.replace("<br>", " "))).split())
            for cell in found]


@pytest.fixture
def worded_log(db_session, create_landlord, create_user):
    """Lines whose actions, subjects and details the page must say in words."""
    soderbo = create_landlord(code="SODERBO", name="Söderbo")
    anna = create_user(role="operator", email="anna@jour.se")
    at = datetime(2026, 11, 26, 22, 3, tzinfo=UTC)
    lines = [
        ("login.succeeded", "anna@jour.se", None),
        ("report.list", "morning:2026-11-27", {"count": 1, "reports": [4]}),
        ("report.list", None, {"count": 1, "scope": "mornings"}),
        ("report.read", "report:4", {"format": "html"}),
        ("patrol.phone_changed", "patrol:Jour 31", {"has_phone": True}),
        ("register.import", "landlord:SODERBO",
         {"import_id": 7, "status": "accepted", "dry_run": False, "added": 1,
          "changed": 2474, "retired": 0, "skipped": 0}),
        ("portal.import", f"landlord:{soderbo.id}", {"kind": "invoices", "added": 3}),
        ("checkin.setting_changed", "checkin_setting:2",
         {"landlord_id": soderbo.id, "category": "music", "interval_s": 600, "before_s": None}),
        ("some.future_action", "thing:9", {"odd_key": "v"}),
    ]
    for i, (action, subject, details) in enumerate(lines):
        record(db_session, action, subject=subject, user_id=anna.id, details=details
               ).at = at - timedelta(minutes=i)
    db_session.flush()


def test_the_swedish_page_says_actions_subjects_and_details_in_words(client, admin, worded_log):
    page = client.get("/admin/audit").get_data(as_text=True)
    actions, subjects = _cells(page, "action"), _cells(page, "subject")
    details, times = _cells(page, "details"), _cells(page, "when")
    for phrase in ("Inloggning lyckades", "Rapportlistan lästes", "Rapporten lästes",
                   "Bilens telefonnummer ändrades", "Registerfil importerades",
                   "Intervall för avstämning sattes"):
        assert any(a.startswith(phrase) for a in actions), (phrase, actions)
    assert "Rapportlistan lästes report.list" in actions  # the code, small, for support staff
    assert "some.future_action" in actions  # an unknown action: its code
    for subject in ("Rapport 4", "Morgonen 27 november 2026", "Hyresvärd SODERBO",
                    "Patrullbil Jour 31", "anna@jour.se", "thing:9"):
        assert any(s.startswith(subject) for s in subjects), (subject, subjects)
    assert f"Hyresvärd SODERBO landlord:{worded_log_id(page)}" in subjects  # by id, its code
    (imported,) = [d for d in details if "Tillagda" in d and "Ändrade" in d]
    for pair in ("Tillagda: 1", "Ändrade: 2 474", "Provkörning: nej", "Avregistrerade: 0"):
        assert pair in imported, imported
    assert "Omfattning: listan över morgnar · Antal: 1" in details
    assert "Antal: 1 · Rapporter: 4" in details
    assert "Telefonnummer angivet: ja" in details and "Format: webbsida" in details
    assert any("Kategori: Musik" in d and "Intervall: 10 minuter" in d
               and "Hyresvärd: SODERBO" in d for d in details), details
    assert "odd_key: v" in details  # an unknown detail: key and value
    body = page[page.index("<tbody>"):page.index("</tbody>")]
    assert "{" not in body and "}" not in body and '"count"' not in body
    assert "26 nov. 2026 23:03" in times
    assert "26\u00a0nov.\u00a02026\u00a023:03" in page  # one line: no-break spaces


def worded_log_id(page: str) -> str:
    """The id of the landlord the invoice import's line names (its code shown instead)."""
    return re.search(r"landlord:(\d+)", page)[1]


def test_every_option_of_the_what_filter_is_in_words(client, admin, log, worded_log):
    page = client.get("/admin/audit").get_data(as_text=True)
    select = page[page.index('<select id="what"'):page.index("</select>")]
    options = re.findall(r'<option[^>]*value="([^"]*)"[^>]*>([^<]*)</option>', select)
    groups = re.findall(r'<optgroup label="([^"]*)"', select)
    labels = dict(options)
    assert len(options) > 20 and groups
    for value, label in options[1:]:
        if value == "some.future_action":
            assert label == value  # unknown: its code
            continue
        assert label != value and not re.fullmatch(r"[a-z_.:]+", label), (value, label)
    assert labels["report"] == "Rapporter: alla" and labels["register"] == "Registerimport: alla"
    assert labels["report.read"] == "Rapporten lästes"
    assert labels["door_code.shown"] == "Portkoden visades"
    assert "Registerimport" in groups and "register" not in groups
    filtered = client.get("/admin/audit?what=register").get_data(as_text=True)
    assert _cells(filtered, "action") == ["Registerfil importerades register.import"]


def test_the_page_speaks_the_readers_language(client, admin, worded_log):
    refresh()  # the tests' app context outlives a request: forget its language
    finnish = client.get("/admin/audit?lang=fi").get_data(as_text=True)
    assert "Kirjautuminen onnistui" in finnish and "Aamu 27. marraskuuta 2026" in finnish
    refresh()
    english = client.get("/admin/audit?lang=en").get_data(as_text=True)
    assert "Log-in succeeded" in english and "Changed:&nbsp;2,474" in english


def test_typed_numbers_in_a_read_of_the_log_are_neither_kept_nor_shown(client, admin,
                                                                       db_session):
    """A filter someone typed is in the line of their read; a personal identity number or a
    phone number in it is not written to the log, nor shown."""
    client.get("/admin/audit?subject=19900101-2385")
    client.get("/admin/audit?who=070-174+06+05")
    kept = json.dumps(ensure_ascii=False, obj=[e.details for e in db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "audit.read"))])
    assert "2385" not in kept and "174" not in kept and "•••" in kept, kept
    page = client.get("/admin/audit?what=audit").get_data(as_text=True)
    assert "2385" not in page
    assert "174 06" not in page and "Gäller: •••" in " ".join(_cells(page, "details"))
