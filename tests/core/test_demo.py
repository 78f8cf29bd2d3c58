"""``dispatch demo``: realistic, privacy-safe demo data."""

from sqlalchemy import func, select

from dispatch.core.phones import normalise_phone
from dispatch.demo.data import TEST_PERSONNUMMER, fictional_phone_numbers
from dispatch.models import Entrance, Landlord, Patrol, Person, RentalObject, User


def test_demo_fills_an_empty_database_with_every_kind_of_thing(runner, db_session):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert db_session.scalar(select(func.count(Landlord.id))) == 3
    assert 2000 <= db_session.scalar(select(func.count(RentalObject.id))) <= 10000
    assert db_session.scalar(select(func.count(Patrol.id))) == 8
    roles = set(db_session.scalars(select(User.role)))
    assert roles == {"admin", "operator", "patrol", "landlord"}
    for landlord in db_session.scalars(select(Landlord)):
        assert landlord.oncall_numbers
    # Every log-in is printed once, with its password.
    assert result.output.count("@") == db_session.scalar(select(func.count(User.id)))


def test_demo_uses_only_test_personnummer_and_fictional_phone_numbers(runner, db_session):
    runner.invoke(args=["demo"])
    fictional = {normalise_phone(n) for n in fictional_phone_numbers()}
    personnummer = set(
        db_session.scalars(select(Person.personnummer).where(Person.personnummer.is_not(None)))
    )
    phones = set(db_session.scalars(select(Person.phone).where(Person.phone.is_not(None))))
    assert personnummer and personnummer <= set(TEST_PERSONNUMMER)
    assert phones and phones <= fictional


def test_demo_addresses_lie_in_the_stockholm_area_with_lagenhetsnummer(runner, db_session):
    runner.invoke(args=["demo"])
    lat_min, lat_max, lon_min, lon_max = db_session.execute(
        select(
            func.min(Entrance.lat),
            func.max(Entrance.lat),
            func.min(Entrance.lon),
            func.max(Entrance.lon),
        )
    ).one()
    assert 59.2 < lat_min and lat_max < 59.45 and 17.85 < lon_min and lon_max < 18.25
    flats = db_session.scalars(select(RentalObject).limit(50)).all()
    assert all(
        len(o.lagenhetsnummer) == 4 and o.floor == int(o.lagenhetsnummer[:2]) - 10 for o in flats
    )


def test_demo_refuses_a_database_that_has_data(runner, create_landlord):
    create_landlord()
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 1 and "already has landlords" in result.output
