"""The address search at national scale (issue 17): one index over every landlord's register,
kept as files a web process maps, built off the request path. Here in-process, on the test's
database (SQLite or PostgreSQL); tests/register/test_search_live.py runs a real web process
through an import."""

from __future__ import annotations

import numpy as np
import pytest

from dispatch.register.index_files import read_index, write_index
from dispatch.register.search import (
    AddressSearch,
    RegisterIndex,
    _Entrance,
    build_arrays,
    parse_query,
    register_state,
    search_index,
)
from tests.register.test_search import ACME_REGISTER


class RecordingWarmer:
    """Stands in for index_files.Warmer: records what searches told it, builds nothing."""

    def __init__(self):
        self.noticed: list[str] = []

    def notice(self, state: str) -> None:
        self.noticed.append(state)


@pytest.fixture
def register(db_session, create_landlord, tmp_path):
    from imports.service import import_register
    from tests.register.test_search import write_register

    counter = iter(range(1, 1000))
    landlords = {}

    def factory(rows=ACME_REGISTER, code="ACME"):
        landlord = landlords.get(code) or create_landlord(code=code, name=f"{code} Bostäder")
        landlords[code] = landlord
        path = write_register(tmp_path / f"{code}-{next(counter)}.csv", rows)
        summary = import_register(db_session, landlord, path, actor="test", force=True)
        assert summary.status == "accepted", summary.message
        db_session.flush()
        return landlord

    return factory


def addresses(hits) -> list[str]:
    return [f"{h.landlord} {h.address}, {h.ort}" for h in hits]


# -- no request builds ----------------------------------------------------------------------


def test_while_the_first_index_is_built_a_search_answers_from_the_database(
        db_session, register):
    register()
    search = AddressSearch()
    search.warmer = RecordingWarmer()

    hits = search.search(db_session, "gotgatan 12b lgh 1102")

    assert search.index is None  # the request built nothing
    assert search.status() == "warming"
    assert (hits[0].address, hits[0].objektsnummer) == ("Götgatan 12B", "A-1102")
    assert search.warmer.noticed == [register_state(db_session)]


def test_a_new_register_version_is_noticed_and_the_old_index_keeps_answering(
        db_session, register):
    register()
    search = AddressSearch()
    state, arrays = build_arrays(db_session)
    search.swap(RegisterIndex.from_arrays(arrays, state))
    search.warmer = RecordingWarmer()
    assert search.status() == "ready"
    register([*ACME_REGISTER, ("A-9301", "Hornsgatan 1", "118 20", "Stockholm", "1001")])

    hits = search.search(db_session, "Hornsgatan 1")

    assert "ACME Hornsgatan 1, Stockholm" not in addresses(hits)  # the old index, as it was
    assert search.index.version == state
    assert search.warmer.noticed == [register_state(db_session)] != [state]


def test_a_landlords_first_register_is_found_before_the_new_index_is_built(
        db_session, register):
    register()
    search = AddressSearch()
    state, arrays = build_arrays(db_session)
    search.swap(RegisterIndex.from_arrays(arrays, state))
    search.warmer = RecordingWarmer()
    register([("B-1001", "Kyrkogatan 4", "652 24", "Karlstad", "1001")], code="BETA")

    hits = search.search(db_session, "kyrkogatan 4", landlord="BETA")

    assert addresses(hits)[:1] == ["BETA Kyrkogatan 4, Karlstad"]  # from the database
    assert search.index.version == state  # the old index still serves; nothing built here


def test_health_check_says_warming_until_the_index_is_ready(client, db_session, register):
    from dispatch.register.search import address_search

    register()
    address_search.warmer = RecordingWarmer()
    try:
        warming = client.get("/healthz")
        state, arrays = build_arrays(db_session)
        address_search.swap(RegisterIndex.from_arrays(arrays, state))
        ready = client.get("/healthz")
    finally:
        address_search.warmer = None

    assert (warming.status_code, warming.get_json()["status"]) == (200, "warming")
    assert warming.get_json()["search"] == "warming"
    assert (ready.status_code, ready.get_json()["status"]) == (200, "ok")


# -- the files ------------------------------------------------------------------------------


def test_the_index_read_back_from_its_files_answers_as_the_one_built(
        db_session, register, tmp_path):
    register()
    register([("B-1", "Storgatan 5", "111 22", "Stockholm", "1201"),
              ("B-2", "Hornsgatan 1", "118 20", "Stockholm", "1001")], code="BOVI")
    state, arrays = build_arrays(db_session)
    built = RegisterIndex.from_arrays(arrays, state)

    path = write_index(tmp_path, "idx", arrays, state)
    mapped = read_index(path)

    assert mapped.version == state
    assert isinstance(mapped.o_key.base, np.memmap)  # mapped, not read into this process
    for raw, landlord in [("Götgatan 12B lgh 1102", None), ("Drotninggatan 3", None),
                          ("Storgatan 5, Stockholm", None), ("Storgatan 5", "BOVI"),
                          ("Hornsgatan 1", "ACME"), ("Ringv. 100 A", "ACME")]:
        query = parse_query(raw)
        assert search_index(mapped, query, 5, landlord=landlord) == search_index(
            built, query, 5, landlord=landlord), raw


def test_a_file_written_twice_is_one_index(db_session, register, tmp_path):
    register()
    state, arrays = build_arrays(db_session)

    first = write_index(tmp_path / "files", "idx", arrays, state)
    second = write_index(tmp_path / "files", "idx", arrays, state)

    assert first == second and read_index(second).objects == len(ACME_REGISTER)
    assert [p.name for p in (tmp_path / "files").iterdir()] == ["idx"]  # none half-written


# -- one structure, the landlord a filter ---------------------------------------------------


def many_landlords(count: int) -> RegisterIndex:
    """``count`` landlords, each with its own ten streets and a Storgatan of its own."""
    entrances = []
    for n in range(count):
        code = f"L{n:03d}"
        for s, street in enumerate([f"Gata{n:03d}väg{s}" for s in range(10)] + ["Storgatan"]):
            entrances.append(_Entrance(len(entrances) + 1, code, street, 5, "", "11122",
                                       "Stockholm", "stockholm", 59.3, 18.0,
                                       {"1001": (len(entrances) + 1, f"{code}-{s}", 0)}))
    return RegisterIndex("ALL", 1, entrances)


def test_three_hundred_landlords_are_one_index_with_the_landlord_as_a_filter():
    index = many_landlords(300)

    everyone = search_index(index, parse_query("Storgatan 5"), 300)
    one = search_index(index, parse_query("Storgatan 5"), 5, landlord="L123")
    own_street = search_index(index, parse_query("Gata123vag7 5"), 5, landlord="L123")
    others_street = search_index(index, parse_query("Gata124vag7 5"), 5, landlord="L123")

    assert len(index.landlords) == 300 and len(index.streets) == 3001
    assert {h.landlord for h in everyone} == {f"L{n:03d}" for n in range(300)}
    assert len({h.score for h in everyone}) == 1  # the same address, equally good everywhere
    assert [(h.landlord, h.address) for h in one] == [("L123", "Storgatan 5")]
    assert (own_street[0].landlord, own_street[0].address) == ("L123", "Gata123väg7 5")
    assert all(h.landlord == "L123" for h in others_street)
    assert search_index(index, parse_query("Storgatan 5"), 5, landlord="NOSUCH") == []


def test_an_index_costs_well_under_a_hundred_bytes_an_object(db_session, register):
    register()
    index = many_landlords(50)
    object_bytes = sum(index.arrays[name].nbytes for name in index.arrays
                       if name.startswith("o_") or name == "onr")

    assert object_bytes / index.objects < 100


# -- one build a state, on one machine ------------------------------------------------------


def test_each_register_state_is_built_once_and_a_new_version_is_a_new_index(tmp_path):
    """What the warmer's child does (``build_index_files``), on a database of its own: the
    child reads committed rows, which a test's rolled-back session never has."""
    import sqlalchemy as sa

    from dispatch.models import Base, Entrance, Landlord, RentalObject
    from dispatch.register.index_files import build_index_files

    url = f"sqlite:///{tmp_path / 'own.db'}"
    engine = sa.create_engine(url)
    Base.metadata.create_all(engine)
    with sa.orm.Session(engine) as session:
        acme = Landlord(code="ACME", name="Acme Bostäder", register_version=1)
        session.add(acme)
        session.flush()
        entrance = Entrance(landlord_id=acme.id, street="Götgatan", street_number=12,
                            street_letter="B", postnummer="11846", ort="Stockholm",
                            address_key="gotgatan|12|b|11846")
        session.add(entrance)
        session.flush()
        session.add(RentalObject(landlord_id=acme.id, entrance_id=entrance.id,
                                 objektsnummer="A-1102", lagenhetsnummer="1102", floor=1))
        session.commit()
    folder = tmp_path / "index"

    first = build_index_files(url, folder)
    built_at = (folder / first / "o_key.npy").stat().st_mtime_ns
    again = build_index_files(url, folder)  # another web process, the same state
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE landlords SET register_version = 2"))
    after_import = build_index_files(url, folder)
    engine.dispose()

    assert again == first and (folder / first / "o_key.npy").stat().st_mtime_ns == built_at
    assert after_import != first
    hits = search_index(read_index(folder / after_import), parse_query("gotgatan 12b 1102"), 5)
    assert (hits[0].address, hits[0].objektsnummer) == ("Götgatan 12B", "A-1102")


def test_with_a_message_queue_a_new_index_in_one_process_wakes_the_others(app):
    """Every web process's warmer listens on Redis: one that swapped a new index in says so,
    and the others look at once instead of at their next poll."""
    import os
    import threading

    import redis

    from dispatch.register.index_files import CHANNEL, Warmer
    from tests.support.servers import wait_until

    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    app.config["REDIS_URL"] = url
    listening, announcing = Warmer(app, AddressSearch()), Warmer(app, AddressSearch())
    listener = threading.Thread(target=listening.listen, daemon=True)
    listener.start()
    try:
        assert not listening._wake.is_set()

        def announced_and_woken() -> bool:
            # Said again until heard: the listener may not have subscribed yet.
            announcing._announce("a-new-state")
            return listening._wake.wait(0.2)

        assert wait_until(announced_and_woken, timeout=10)
        assert CHANNEL in {c.decode() for c in redis.Redis.from_url(url).pubsub_channels()}
    finally:
        listening.stopped.set()
        listener.join(timeout=10)
    assert not listener.is_alive()
