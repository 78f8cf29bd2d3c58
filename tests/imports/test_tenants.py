"""Register import: tenants and agreements as the screen pop (``tenants_by_phone``) sees them
after a re-import."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from dispatch.models import Agreement, Person
from dispatch.register.queries import tenants_by_phone
from tests.imports.test_formats import (
    assert_accepted,
    e164,
    register_row,
    run_import,
    write_register,
)


def _popped(session, landlord, phone: str) -> list[tuple[str, str]]:
    return [(t.name, t.objektsnummer) for t in tenants_by_phone(session, landlord.id, phone)]


@pytest.mark.parametrize("kundnummer", ["K00003", None], ids=["kundnummer", "no-kundnummer"])
def test_a_changed_phone_number_finds_the_tenant_by_the_new_number_only(
        db_session, create_landlord, tmp_path, kundnummer):
    landlord = create_landlord()
    rows = [register_row(i, kundnummer=kundnummer and f"K{i:05d}") for i in range(1, 11)]
    assert_accepted(run_import(db_session, landlord, write_register(tmp_path, rows)))
    assert _popped(db_session, landlord, "070-000 00 03") == [("Anna Lindqvist 3",
                                                               "1234-01-0003")]
    rows[2] = register_row(3, kundnummer=kundnummer, hyresgast_telefon="073-987 65 43")

    summary = run_import(db_session, landlord, write_register(tmp_path, rows, name="second"))

    assert_accepted(summary)
    assert (summary.changed, summary.unchanged) == (1, 9)
    assert _popped(db_session, landlord, "+46739876543") == [("Anna Lindqvist 3",
                                                              "1234-01-0003")]
    assert _popped(db_session, landlord, e164(3)) == []
    people = db_session.scalars(select(Person).where(Person.landlord_id == landlord.id)).all()
    assert len(people) == 10  # the same person, updated, not a new one


@pytest.mark.parametrize("kundnummer", ["K90003", None], ids=["kundnummer", "no-kundnummer"])
def test_a_new_avtalsnummer_ends_the_old_agreement_so_the_old_tenant_no_longer_pops_up(
        db_session, create_landlord, tmp_path, kundnummer):
    landlord = create_landlord()
    rows = [register_row(i, avtal_fran="2020-01-01") for i in range(1, 11)]
    assert_accepted(run_import(db_session, landlord, write_register(tmp_path, rows)))
    rows[2] = register_row(3, avtalsnummer="A90003", kundnummer=kundnummer,
                           hyresgast_namn="Bertil Nyberg", hyresgast_telefon="073-987 65 43",
                           avtal_fran=date.today().isoformat())

    summary = run_import(db_session, landlord, write_register(tmp_path, rows, name="second"))

    assert_accepted(summary)
    assert summary.changed == 1
    assert _popped(db_session, landlord, e164(3)) == []
    assert _popped(db_session, landlord, "073-987 65 43") == [("Bertil Nyberg", "1234-01-0003")]
    old = db_session.scalar(select(Agreement).where(Agreement.avtalsnummer == "A00003"))
    assert old.ends_on == date.today() - timedelta(days=1)
    new = db_session.scalar(select(Agreement).where(Agreement.avtalsnummer == "A90003"))
    assert (new.starts_on, new.ends_on) == (date.today(), None)
    assert [p.person.name for p in new.parties] == ["Bertil Nyberg"]


def test_a_row_without_tenant_or_agreement_ends_the_agreement(db_session, create_landlord,
                                                               tmp_path):
    landlord = create_landlord()
    rows = [register_row(i) for i in range(1, 11)]
    assert_accepted(run_import(db_session, landlord, write_register(tmp_path, rows)))
    rows[4] = register_row(5, avtalsnummer=None, kundnummer=None, hyresgast_namn=None,
                           hyresgast_telefon=None)

    assert_accepted(run_import(db_session, landlord, write_register(tmp_path, rows, name="b")))

    assert _popped(db_session, landlord, e164(5)) == []
    assert _popped(db_session, landlord, e164(6)) == [("Anna Lindqvist 6", "1234-01-0006")]


def test_an_agreement_over_two_objects_keeps_one_set_of_tenants_when_it_changes(
        db_session, create_landlord, tmp_path):
    landlord = create_landlord()

    def flat_and_storage(phone: str) -> list[dict]:
        tenants = {"avtalsnummer": "A00001", "kundnummer": "K00001",
                   "hyresgast_namn": "Anna Lindqvist", "hyresgast_telefon": phone,
                   "hyresgast2_namn": "Bo Lindqvist", "hyresgast2_telefon": "070-555 66 77"}
        return [register_row(1, **tenants),
                register_row(2, objektstyp="förråd", lagenhetsnummer=None, **tenants),
                *[register_row(i) for i in range(3, 11)]]

    assert_accepted(run_import(db_session, landlord,
                               write_register(tmp_path, flat_and_storage("070-111 22 33"))))

    summary = run_import(db_session, landlord,
                         write_register(tmp_path, flat_and_storage("070-999 88 77"), name="b"))

    assert_accepted(summary)
    assert summary.changed == 2
    assert _popped(db_session, landlord, "070-999 88 77") == [
        ("Anna Lindqvist", "1234-01-0001"), ("Anna Lindqvist", "1234-01-0002")]
    assert _popped(db_session, landlord, "070-111 22 33") == []
    assert len(_popped(db_session, landlord, "070-555 66 77")) == 2
    agreement = db_session.scalar(select(Agreement).where(Agreement.avtalsnummer == "A00001"))
    assert [(p.position, p.person.name) for p in agreement.parties] == [
        (1, "Anna Lindqvist"), (2, "Bo Lindqvist")]
    assert len(db_session.scalars(select(Person).where(Person.name == "Bo Lindqvist")).all()) == 1


@pytest.mark.parametrize("kundnummer", ["K00001", None], ids=["kundnummer", "no-kundnummer"])
def test_an_object_added_to_an_existing_agreement_shares_its_tenants(
        db_session, create_landlord, tmp_path, kundnummer):
    landlord = create_landlord()
    tenants = {"avtalsnummer": "A00001", "kundnummer": kundnummer,
               "hyresgast_namn": "Anna Lindqvist", "hyresgast_telefon": "070-111 22 33",
               "hyresgast2_namn": "Bo Lindqvist", "hyresgast2_telefon": "070-555 66 77"}
    rows = [register_row(i, objektstyp="lägenhet") for i in range(3, 11)]
    rows.insert(0, register_row(1, objektstyp="lägenhet", **tenants))
    assert_accepted(run_import(db_session, landlord, write_register(tmp_path, rows)))
    rows.append(register_row(2, objektstyp="förråd", lagenhetsnummer=None, **tenants))

    summary = run_import(db_session, landlord, write_register(tmp_path, rows, name="b"))

    assert_accepted(summary)
    assert (summary.added, summary.changed) == (1, 0)
    assert _popped(db_session, landlord, "070-111 22 33") == [
        ("Anna Lindqvist", "1234-01-0001"), ("Anna Lindqvist", "1234-01-0002")]
    assert len(db_session.scalars(select(Person).where(Person.name == "Bo Lindqvist")).all()) == 1


def test_an_object_moved_to_another_agreement_leaves_the_first_one_in_force_for_the_rest(
        db_session, create_landlord, tmp_path):
    landlord = create_landlord()
    tenants = {"avtalsnummer": "A00001", "kundnummer": "K00001",
               "hyresgast_namn": "Anna Lindqvist", "hyresgast_telefon": "070-111 22 33"}
    rows = [register_row(1, **tenants),
            register_row(2, objektstyp="förråd", lagenhetsnummer=None, **tenants),
            *[register_row(i) for i in range(3, 11)]]
    assert_accepted(run_import(db_session, landlord, write_register(tmp_path, rows)))
    rows[1] = register_row(2, objektstyp="förråd", lagenhetsnummer=None, avtalsnummer="B1",
                           kundnummer="K77777", hyresgast_namn="Cecilia Berg",
                           hyresgast_telefon="070-222 33 44")

    assert_accepted(run_import(db_session, landlord, write_register(tmp_path, rows, name="b")))

    assert _popped(db_session, landlord, "070-111 22 33") == [("Anna Lindqvist", "1234-01-0001")]
    assert _popped(db_session, landlord, "070-222 33 44") == [("Cecilia Berg", "1234-01-0002")]
    first = db_session.scalar(select(Agreement).where(Agreement.avtalsnummer == "A00001"))
    assert first.ends_on is None

    # The last object leaves too: now the agreement has ended.
    rows[0] = register_row(1, avtalsnummer="C1", kundnummer="K88888")
    assert_accepted(run_import(db_session, landlord, write_register(tmp_path, rows, name="c")))
    db_session.refresh(first)
    assert first.ends_on == date.today() - timedelta(days=1)
    assert _popped(db_session, landlord, "070-111 22 33") == []
