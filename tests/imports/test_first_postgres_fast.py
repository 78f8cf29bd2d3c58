"""A first register on PostgreSQL, fast path (imports.first.postgres): when the role may set
``session_replication_role`` (scripts/test grants it, as production should), the COPYs run
with the foreign-key triggers off for the import's transaction and the import checks the keys
itself afterwards. It builds exactly what the checked path builds; a reference that does not
hold refuses the file as the checked path does, and leaves the register as it was; without
the grant, or beside a trigger that ``replica`` would silence, the checked path runs; other
sessions keep their own checks meanwhile and neither readers nor writers wait for it."""

from __future__ import annotations

import polars as pl
import pytest
from flask_babel import force_locale
from sqlalchemy import text

from imports import messages
from imports.first import postgres
from tests.imports.test_first import register_of, varied_rows
from tests.imports.test_formats import register_row, run_import, write_register

pytestmark = pytest.mark.postgres_only  # COPY, session_replication_role

NOWHERE = 2_000_000_000  # an id no table holds


@pytest.fixture
def raw(db_session):
    raw = db_session.connection().connection.driver_connection
    # The fast path needs the grant scripts/test gives the test role (PostgreSQL 15+).
    assert postgres.may_set_replication_role(raw), (
        "the test role may not set session_replication_role: run scripts/test's set-up")
    return raw


def test_the_grant_is_read_from_postgresql(raw):
    granted = raw.execute("SELECT has_parameter_privilege(current_user, "
                          "'session_replication_role', 'SET')").fetchone()[0]
    superuser = raw.execute("SELECT rolsuper FROM pg_roles "
                            "WHERE rolname = current_user").fetchone()[0]

    assert postgres.may_set_replication_role(raw) is (granted or superuser) is True
    assert postgres.may_skip_checks(raw)  # and nothing else on the tables stands in the way


def without_grant(monkeypatch) -> None:
    """The role as one without the grant: PostgreSQL's answer to the privilege is no."""
    monkeypatch.setattr(postgres, "may_set_replication_role", lambda raw: False)


def roles_while_copying(monkeypatch) -> list[str]:
    """The session's replication role at each COPY, in order."""
    seen = []
    real = postgres.Copier._copy

    def copy(copier, name, columns, data):
        seen.append(copier.raw.execute("SHOW session_replication_role").fetchone()[0])
        real(copier, name, columns, data)

    monkeypatch.setattr(postgres.Copier, "_copy", copy)
    return seen


def role_now(session) -> str:
    return session.execute(text("SHOW session_replication_role")).scalar()


def test_the_fast_path_builds_exactly_the_register_the_checked_path_builds(
        db_session, raw, create_landlord, tmp_path, monkeypatch):
    rows = varied_rows(300, seed=5)
    path = write_register(tmp_path, rows)
    fast, checked = create_landlord("FAST"), create_landlord("CHECKED")
    roles = roles_while_copying(monkeypatch)

    by_fast = run_import(db_session, fast, path)
    fast_roles = list(roles)
    roles.clear()
    without_grant(monkeypatch)
    by_checked = run_import(db_session, checked, path)

    assert set(fast_roles) == {"replica"} and set(roles) == {"origin"}
    assert (by_fast.status, by_fast.added, by_fast.errors) == (
        by_checked.status, by_checked.added, by_checked.errors)
    assert by_fast.status == "accepted" and by_fast.added > 250
    built = register_of(db_session, fast.id)
    assert built == register_of(db_session, checked.id)
    assert built["objects"] and built["people"] and built["agreements"]
    assert role_now(db_session) == "origin"  # the triggers are on again for what follows


def test_without_the_grant_the_checked_path_runs(
        db_session, raw, create_landlord, tmp_path, monkeypatch):
    path = write_register(tmp_path, [register_row(n) for n in range(1, 21)])
    roles = roles_while_copying(monkeypatch)
    without_grant(monkeypatch)

    summary = run_import(db_session, create_landlord(), path)

    assert summary.status == "accepted" and summary.added == 20
    assert roles and set(roles) == {"origin"}


def test_a_trigger_replica_would_silence_keeps_the_checked_path(
        db_session, raw, create_landlord, tmp_path, monkeypatch):
    db_session.execute(text("CREATE TEMP TABLE people_seen (n int)"))
    db_session.execute(text(
        "CREATE FUNCTION pg_temp.count_person() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN INSERT INTO people_seen VALUES (1); RETURN NEW; END $$"))
    db_session.execute(text("CREATE TRIGGER count_person AFTER INSERT ON people "
                            "FOR EACH ROW EXECUTE FUNCTION pg_temp.count_person()"))
    path = write_register(tmp_path, [register_row(n) for n in range(1, 11)])
    roles = roles_while_copying(monkeypatch)

    summary = run_import(db_session, create_landlord(), path)

    assert summary.status == "accepted"
    assert set(roles) == {"origin"}
    assert db_session.execute(text("SELECT count(*) FROM people_seen")).scalar() == 10


def break_one(monkeypatch, table: str, column: str, value: int = NOWHERE) -> None:
    """The first row COPYed into ``table`` points, by ``column``, at ``value`` (by default an
    id no table holds)."""
    real = postgres.Copier._encode
    done = []

    def encode(copier, name, frame):
        if name == table and not done:
            done.append(1)
            first = pl.int_range(pl.len()) == 0
            frame = frame.with_columns(pl.when(first).then(pl.lit(value)).otherwise(column)
                                       .cast(frame.schema[column]).alias(column))
        return real(copier, name, frame)

    monkeypatch.setattr(postgres.Copier, "_encode", encode)


@pytest.mark.parametrize("grant", ["fast", "checked"])
@pytest.mark.parametrize(("table", "column", "parent"), [
    ("agreement_parties", "person_id", "people"),
    ("agreement_objects", "agreement_id", "agreements"),
    ("objects", "entrance_id", "entrances"),
])
def test_a_broken_reference_refuses_the_file_and_leaves_the_register_as_it_was(
        db_session, raw, app, create_landlord, tmp_path, monkeypatch, table, column, parent,
        grant):
    other = create_landlord("OTHER")
    run_import(db_session, other, write_register(tmp_path, [
        register_row(n, objektsnummer=f"9999-01-{n:04d}") for n in range(1, 6)], name="other"))
    others_before = register_of(db_session, other.id)
    landlord = create_landlord("NEW")
    path = write_register(tmp_path, [register_row(n) for n in range(1, 31)])
    if grant == "checked":
        without_grant(monkeypatch)
    roles = roles_while_copying(monkeypatch)
    break_one(monkeypatch, table, column)

    summary = run_import(db_session, landlord, path)

    assert set(roles) == {"replica" if grant == "fast" else "origin"}
    assert (summary.status, summary.reason) == ("rejected", "broken_reference")
    assert summary.message == messages.text(messages.BROKEN_REFERENCE, 1, rows=1, table=table,
                                            parent=parent, column=column)
    with app.test_request_context("/"), force_locale("sv"):
        assert messages.localise(summary.message) == (
            f"Registret sparades inte: 1 ny rad i {table} pekar inte på någon rad i {parent} "
            f"({column}). Inget ändrades.")
    empty = register_of(db_session, -1)
    assert register_of(db_session, landlord.id) == empty
    for name in ("objects", "people", "agreements", "entrances", "properties"):
        assert db_session.execute(text(f"SELECT count(*) FROM {name} "  # noqa: S608
                                       "WHERE landlord_id = :l"), {"l": landlord.id}).scalar() == 0
    assert register_of(db_session, other.id) == others_before
    assert role_now(db_session) == "origin"
    monkeypatch.undo()  # the same file, whole, goes in afterwards
    again = run_import(db_session, landlord, path)
    assert (again.status, again.added) == ("accepted", 30)


def test_a_row_written_outside_the_reserved_ids_refuses_the_file(
        db_session, raw, create_landlord, tmp_path, monkeypatch):
    landlord = create_landlord()
    path = write_register(tmp_path, [register_row(n) for n in range(1, 11)])
    break_one(monkeypatch, "people", "id")  # a person with an id nobody reserved

    summary = run_import(db_session, landlord, path)

    assert (summary.status, summary.reason) == ("rejected", "broken_reference")
    assert summary.message == messages.text(messages.ROWS_MISSING, table="people", rows=9,
                                            total=10)
    assert register_of(db_session, landlord.id) == register_of(db_session, -1)


@pytest.mark.parametrize("grant", ["fast", "checked"])
def test_a_reference_to_a_row_the_import_did_not_write_is_kept_where_that_row_exists(
        db_session, raw, create_landlord, tmp_path, monkeypatch, grant):
    other = create_landlord("OTHER")
    run_import(db_session, other, write_register(tmp_path, [
        register_row(n, objektsnummer=f"9999-01-{n:04d}") for n in range(1, 3)], name="other"))
    somebody = db_session.execute(text("SELECT min(id) FROM people WHERE landlord_id = :l"),
                                  {"l": other.id}).scalar()
    landlord = create_landlord("NEW")
    if grant == "checked":
        without_grant(monkeypatch)
    break_one(monkeypatch, "agreement_parties", "person_id", somebody)

    summary = run_import(db_session, landlord, write_register(tmp_path, [
        register_row(n) for n in range(1, 11)]))

    # Not a broken reference: the set-wise check looks the value up as PostgreSQL would.
    assert (summary.status, summary.added) == ("accepted", 10)
    assert db_session.execute(text(
        "SELECT count(*) FROM agreement_parties ap JOIN agreements a ON a.id = ap.agreement_id "
        "WHERE a.landlord_id = :l AND ap.person_id = :p"),
        {"l": landlord.id, "p": somebody}).scalar() == 1


def test_other_sessions_keep_their_checks_and_do_not_wait_during_a_fast_import(
        db_session, raw, create_landlord, tmp_path, monkeypatch, request):
    other = db_session.connection().engine.connect()  # another session, as a web request's
    request.addfinalizer(other.close)
    seen = {}
    real = postgres.Copier._copy

    def copy(copier, name, columns, data):
        real(copier, name, columns, data)
        if name == "objects" and not seen:  # the import's rows are in, its checks off
            with other.begin() as work:
                run = other.exec_driver_sql
                run("SET LOCAL lock_timeout = '5s'")  # a wait fails the test, not hangs it
                seen["role"] = run("SHOW session_replication_role").scalar()
                seen["objects"] = run("SELECT count(*) FROM objects").scalar()  # a reader
                landlord = run("INSERT INTO landlords (code, name, country, quiet_night_mail, "
                               "register_version, created_at) VALUES ('ELSE', 'Else', 'SE', "
                               "false, 0, now()) RETURNING id").scalar()
                insert = "INSERT INTO properties (landlord_id, designation) VALUES (%s, %s)"
                run(insert, (landlord, "Else 1:1"))  # a writer
                try:
                    with other.begin_nested():
                        run(insert, (NOWHERE, "Nowhere 1:1"))
                except Exception as exc:  # noqa: BLE001 (its name is the point)
                    seen["broken"] = type(exc.orig).__name__
                work.rollback()

    monkeypatch.setattr(postgres.Copier, "_copy", copy)

    summary = run_import(db_session, create_landlord(), write_register(tmp_path, [
        register_row(n) for n in range(1, 21)]))

    assert summary.status == "accepted"
    assert seen == {"role": "origin", "objects": 0, "broken": "ForeignKeyViolation"}



def test_an_import_holds_its_landlord_against_a_second_import_not_against_a_complaint(
        db_session, request):
    """The import's lock on the landlord's row (``Bulk.lock``, taken for its whole
    transaction) is FOR NO KEY UPDATE: a second import of that landlord waits, but a row that
    refers to it (a complaint an operator logs meanwhile: its foreign key takes KEY SHARE)
    goes in at once. Two sessions of their own, as the import and a web request are."""
    from sqlalchemy.orm import Session

    from imports.bulk import Bulk

    engine = db_session.connection().engine
    importing, web = engine.connect(), engine.connect()
    request.addfinalizer(web.close)
    request.addfinalizer(importing.close)
    with web.begin():  # committed, so that both sessions see it
        landlord_id = web.exec_driver_sql(
            "INSERT INTO landlords (code, name, country, quiet_night_mail, register_version, "
            "created_at) VALUES ('BESIDE', 'Beside', 'SE', false, 0, now()) RETURNING id"
        ).scalar()

    def remove():
        importing.rollback()
        with web.begin():
            web.exec_driver_sql("DELETE FROM properties WHERE landlord_id = %s", (landlord_id,))
            web.exec_driver_sql("DELETE FROM landlords WHERE id = %s", (landlord_id,))

    request.addfinalizer(remove)
    Bulk(Session(bind=importing)).lock(landlord_id)  # as an import's transaction holds it

    with web.begin() as work:
        run = web.exec_driver_sql
        run("SET LOCAL lock_timeout = '5s'")  # a wait fails the test, not hangs it
        run("INSERT INTO properties (landlord_id, designation) VALUES (%s, %s)",
            (landlord_id, "Beside 1:1"))  # refers to the landlord being imported
        try:
            with web.begin_nested():
                run("SELECT id FROM landlords WHERE id = %s FOR NO KEY UPDATE NOWAIT",
                    (landlord_id,))  # what a second import's lock does
            second = "went through"
        except Exception as exc:  # noqa: BLE001 (its name is the point)
            second = type(exc.orig).__name__
        work.rollback()

    assert second == "LockNotAvailable"
