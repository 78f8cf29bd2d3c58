"""Fixtures shared by the tablet-side tests."""

import pytest
from sqlalchemy import select

from dispatch.models import RentalObject


@pytest.fixture
def flat(create_landlord, build_register, db_session):
    """One flat of landlord ACME, with a door code and a position."""
    landlord = create_landlord(code="ACME")
    build_register(landlord, [
        {"objektsnummer": "1-1102", "gatuadress": "Götgatan 12B", "postnummer": "118 46",
         "ort": "Stockholm", "lagenhetsnummer": "1102", "portkod": "4711", "lat": "59.3121",
         "lon": "18.0713"}])
    return db_session.scalars(select(RentalObject)).one()
