"""A car's position report is taken anywhere on the map, its edges included (latitude -90 to
90, longitude -180 to 180), and refused just beyond them (``update_position``)."""

from __future__ import annotations

import pytest

from dispatch.jobs.dispatching import DispatchError, update_position
from dispatch.models import Patrol


@pytest.fixture
def patrol(db_session):
    car = Patrol(call_sign="P1", name="P1", status="available")
    db_session.add(car)
    db_session.flush()
    return car


@pytest.mark.parametrize("lat, lon", [(90, 180), (-90, -180), (90, -180), (-90, 180), (0, 0)])
def test_a_position_on_the_edge_of_the_map_is_taken(db_session, patrol, lat, lon):
    update_position(db_session, patrol, lat=lat, lon=lon)

    assert (patrol.lat, patrol.lon) == (lat, lon)


@pytest.mark.parametrize("lat, lon", [(90.0001, 0), (-90.0001, 0), (0, 180.0001),
                                      (0, -180.0001)])
def test_a_position_beyond_the_map_is_refused(db_session, patrol, lat, lon):
    with pytest.raises(DispatchError) as refused:
        update_position(db_session, patrol, lat=lat, lon=lon)

    assert refused.value.code == "invalid_position"
    assert patrol.lat is None
