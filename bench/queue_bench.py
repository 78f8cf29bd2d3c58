"""Benchmark: the housing queue's selection and nightly sweep at a large landlord's size
(issue 16 names it ``bench/queue.py``; it is ``bench/queue_bench.py`` so that no file in
``bench/`` has a standard library module's name: a ``queue.py`` there shadowed the standard
``queue`` for every script started from the folder).

    .venv/bin/python bench/queue_bench.py [--applicants 700000] [--interested 10000]
                                          [--runs 200] [--postgres SERVER_URL] [--keep]
                                          [--reuse SQLITE_FOLDER_OR_DATABASE_NAME]

Builds a fresh, migrated database (SQLite in a temporary folder; with ``--postgres`` a new
database on that server, dropped at the end) with one landlord, ``--applicants`` people
registered in its queue (registered over the last eight years, renewed at some time in the
last thirteen months: about one in thirteen has lapsed), and one listing with ``--interested``
interests from random applicants (not timed).

Timed, each ``--runs`` times in the same run, with the session's identity map emptied before
each:

* **offer list**: ``housing.service.offer_list`` — the listing's interests ranked by points
  from the dates (the five-year cycle: one index range per rising stretch of it), registration
  date and the listing's lottery, then the customer assessment (age from the personnummer,
  blocks, lapse, income, earlier disturbances) of as many rows as the five offers need;
* **precomputed**: a plain ``ORDER BY points DESC LIMIT 5`` over a table holding the same
  interests with their points already computed (the reference: what a stored counter would
  cost);
* **staff page (200)**: the case officer's ranked list, the first 200 interests assessed
  (``ranked(limit=200)``), a tenth as many runs.

Then, once: the nightly sweep (``remove_lapsed``: one UPDATE over all applicants) and the
reminder selection of a day.

``--keep`` keeps what was built (the SQLite folder, or the PostgreSQL database, whose name it
prints) and ``--reuse`` runs the timings again on it without building (with ``--postgres``:
the database's name; else the folder). On a kept or reused database the sweep is rolled back,
so the next run sees the same applicants.

Goals (issue 16): offer list p99 <= 100 ms; sweep <= 30 s. Exit status 1 when one fails.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

OFFER_GOAL_MS = 100.0
SWEEP_GOAL_S = 30.0
SEED = 20261126
# Skatteverket's test personnummer only.
NUMBERS = ("199001012385", "199908072391", "200002292399", "201701012393")


def fresh_database(args, folder: Path) -> tuple[str, callable]:
    if not args.postgres:
        return f"sqlite:///{folder / 'queue.db'}", lambda: None
    url = sa.engine.make_url(args.postgres.replace("postgresql://", "postgresql+psycopg://", 1))
    if args.reuse:
        return url.set(database=args.reuse).render_as_string(hide_password=False), lambda: None
    name = f"bench_queue_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    if args.keep:
        print(f"kept: PostgreSQL database {name} (--reuse {name})")
        admin.dispose()
        return url.set(database=name).render_as_string(hide_password=False), lambda: None

    def drop():
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url.set(database=name).render_as_string(hide_password=False), drop


PRECOMPUTED = sa.Table(
    "bench_precomputed", sa.MetaData(),
    sa.Column("listing_id", sa.Integer, nullable=False, index=True),
    sa.Column("applicant_id", sa.Integer, nullable=False),
    sa.Column("points", sa.Integer, nullable=False))


def build(session, *, applicants: int, interested: int, today: date) -> int:
    """The landlord, its queue and one listing; returns the listing's id."""
    from decimal import Decimal

    from sqlalchemy import insert, select, text

    from dispatch.housing import service
    from dispatch.models import Entrance, Landlord, Person, RentalObject
    from dispatch.models.housing import HousingApplicant, HousingInterest

    rng = random.Random(SEED)
    landlord = Landlord(code="HAMB", name="Hammaröbostäder", country="SE")
    session.add(landlord)
    session.flush()
    entrance = Entrance(landlord_id=landlord.id, street="Örsholmsvägen", street_number=3,
                        postnummer="66330", ort="Skoghall", address_key="örsholmsvägen|3")
    session.add(entrance)
    session.flush()
    flat = RentalObject(landlord_id=landlord.id, entrance_id=entrance.id,
                        objektsnummer="H-1101", lagenhetsnummer="1101", floor=1,
                        rooms=Decimal(3), rent_sek=Decimal(7500))
    session.add(flat)
    session.flush()
    now = datetime.now(UTC)
    chunk = 50_000
    dates: dict[int, tuple[date, date]] = {}  # applicant id → (registered, points from)
    first_person = (session.scalar(select(Person.id).order_by(Person.id.desc()).limit(1))
                    or 0) + 1
    for start in range(0, applicants, chunk):
        size = min(chunk, applicants - start)
        session.execute(insert(Person), [
            {"id": first_person + start + i, "name": f"Sökande {start + i}",
             "personnummer": NUMBERS[(start + i) % 4 if (start + i) % 50 else 3],
             "created_at": now, "updated_at": now} for i in range(size)])
        rows = []
        for i in range(size):
            registered = today - timedelta(days=rng.randrange(1, 8 * 365))
            renewed = max(registered, today - timedelta(days=rng.randrange(0, 395)))
            dates[start + i + 1] = (registered, registered)
            rows.append({"id": start + i + 1, "landlord_id": landlord.id,
                         "person_id": first_person + start + i, "registered_on": registered,
                         "points_from": registered, "renewed_on": renewed, "status": "active",
                         "areas": [], "income_kinds": ["employment"],
                         "yearly_income": rng.choice((150_000, 300_000, 450_000)),
                         "needs_lift": False, "subscribes": False, "adults": 1, "children": 0,
                         "created_at": now, "updated_at": now})
        session.execute(insert(HousingApplicant), rows)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT setval(pg_get_serial_sequence('people', 'id'), "
                             "(SELECT max(id) FROM people))"))
        session.execute(text("SELECT setval(pg_get_serial_sequence('housing_applicants', "
                             "'id'), (SELECT max(id) FROM housing_applicants))"))
    listing = service.publish(session, flat, now=now - timedelta(hours=1),
                              vacant_on=today + timedelta(days=30), days=7)
    chosen = rng.sample(range(1, applicants + 1), interested)
    session.execute(insert(HousingInterest), [
        {"listing_id": listing.id, "applicant_id": a, "created_at": now - timedelta(seconds=i),
         "registered_on": dates[a][0], "points_from": dates[a][1]}
        for i, a in enumerate(chosen)])
    # The reference: the same interests with their points stored in a column.
    PRECOMPUTED.create(session.connection())
    points = service.points_expression(session, today)
    session.execute(insert(PRECOMPUTED).from_select(
        ["listing_id", "applicant_id", "points"],
        select(HousingInterest.listing_id, HousingApplicant.id, points)
        .join(HousingApplicant, HousingApplicant.id == HousingInterest.applicant_id)
        .where(HousingInterest.listing_id == listing.id)))
    session.execute(text("ANALYZE"))
    return listing.id


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def timed(runs: int, work) -> list[float]:
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        out.append((time.perf_counter() - started) * 1000)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--applicants", type=int, default=700_000)
    parser.add_argument("--interested", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--postgres", help="a PostgreSQL server URL (a database is made on it)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the SQLite folder or the PostgreSQL database")
    parser.add_argument("--reuse", help="time again what --keep kept (the SQLite folder; "
                        "with --postgres the database's name), without building")
    args = parser.parse_args()

    folder = Path(args.reuse) if args.reuse and not args.postgres \
        else Path(tempfile.mkdtemp(prefix="bench-queue-"))
    url, drop = fresh_database(args, folder)
    try:
        return run(args, url, folder)
    finally:
        drop()
        if not args.keep and not args.reuse and not args.postgres:
            import shutil

            shutil.rmtree(folder, ignore_errors=True)
        elif args.keep and not args.postgres:
            print(f"kept: {folder} (--reuse {folder})")


def run(args, url: str, folder: Path) -> int:
    import os
    from zoneinfo import ZoneInfo

    from flask_migrate import upgrade

    os.environ["DISPATCH_INSTANCE"] = str(folder / "instance")
    from dispatch import create_app
    from dispatch.core.database import unit_of_work
    from dispatch.core.extensions import db
    from dispatch.housing import service
    from dispatch.models.housing import HousingListing

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench",
                      "LOG_LEVEL": "WARNING"})
    tz = ZoneInfo(app.config["DISPATCH_TZ"])
    today = service.local_today(tz)
    database = "PostgreSQL" if args.postgres else "SQLite"
    kept = bool(args.keep or args.reuse)
    with app.app_context():
        if args.reuse:
            listing_id = db.session.scalar(sa.select(sa.func.max(HousingListing.id)))
            args.applicants = db.session.scalar(sa.text(
                "SELECT count(*) FROM housing_applicants"))
            args.interested = db.session.scalar(sa.text(
                "SELECT count(*) FROM housing_interests"))
            db.session.rollback()
        else:
            upgrade()
            started = time.perf_counter()
            with unit_of_work():
                listing_id = build(db.session, applicants=args.applicants,
                                   interested=args.interested, today=today)
            print(f"built {args.applicants:,} applicants, {args.interested:,} interests on "
                  f"{database} in {time.perf_counter() - started:.1f} s (not timed)")
        session = db.session
        listing = session.get(HousingListing, listing_id)

        def offers():
            session.expire_all()
            found = service.offer_list(session, listing, today=today, count=5,
                                       retention_days=90)
            assert len(found) == 5

        plain = (sa.select(PRECOMPUTED.c.applicant_id)
                 .where(PRECOMPUTED.c.listing_id == listing_id)
                 .order_by(PRECOMPUTED.c.points.desc()).limit(5))

        def precomputed():
            rows = session.execute(plain).all()
            assert len(rows) == 5

        def staff_page():
            session.expire_all()
            service.ranked(session, listing, today=today, retention_days=90, limit=200)

        offers()
        precomputed()  # warm both
        rounds = {"offer list": [], "precomputed": []}
        for _ in range(args.runs):  # interleaved: both see the same machine load
            rounds["offer list"] += timed(1, offers)
            rounds["precomputed"] += timed(1, precomputed)
        rounds["staff page (200)"] = timed(max(10, args.runs // 10), staff_page)
        session.rollback()

        started = time.perf_counter()
        with unit_of_work():
            due = sum(1 for _ in service.due_reminders(db.session, today, 30))
        reminders_s = time.perf_counter() - started
        started = time.perf_counter()
        if kept:  # timed to the UPDATE's end, then rolled back: the next run sees the same
            removed = service.remove_lapsed(db.session, today)
            db.session.flush()
            sweep_s = time.perf_counter() - started
            db.session.rollback()
        else:
            with unit_of_work():
                removed = service.remove_lapsed(db.session, today)
            sweep_s = time.perf_counter() - started

    print(f"\nhousing queue, {database}, {datetime.now(UTC):%Y-%m-%d}, "
          f"{args.applicants:,} applicants, {args.interested:,} interested, {args.runs} runs")
    print(f"{'what':<18} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}  goal")
    print("-" * 56)
    failed = False
    for name, values in rounds.items():
        goal = ""
        if name == "offer list":
            ok = percentile(values, 0.99) <= OFFER_GOAL_MS
            failed |= not ok
            goal = f"p99 <= {OFFER_GOAL_MS:.0f} ms {'PASS' if ok else 'FAIL'}"
        print(f"{name:<18} {statistics.median(values):8.1f} {percentile(values, 0.99):8.1f} "
              f"{max(values):8.1f}  {goal}")
    ok = sweep_s <= SWEEP_GOAL_S
    failed |= not ok
    print(f"sweep: {removed:,} of {args.applicants:,} removed in {sweep_s:.2f} s "
          f"(goal <= {SWEEP_GOAL_S:.0f} s {'PASS' if ok else 'FAIL'}); "
          f"reminder selection: {due:,} due in {reminders_s * 1000:.0f} ms")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
