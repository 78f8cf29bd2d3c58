"""Nearest-car benchmark: a dispatch's read of the nearest available car with 10,000 cars on
duty, in one process, on SQLite and PostgreSQL, beside the read of every car on duty.

    .venv/bin/python bench/nearest_car.py [--cars 10000] [--reads 500] [--database both]

On a fresh, migrated database (a SQLite file; a new PostgreSQL database on ``--server``,
default ``TEST_DATABASE_URL`` or the ``dispatch_test`` role, dropped at the end): ``--cars``
available cars, present and with a fresh position, spread as ``cluster_load.py`` spreads them
(Stockholm, 17 x 17 km). Then ``--reads`` random addresses in that area, timed per read, each
in its own transaction as a request has it:

- ours: ``nearest_available(session, lat, lon, limit=1)``, the dispatch's read (a box around
  the address through ``ix_patrol_presence_lat_lon``), and ``limit=3``, the complaint's
  recommendation;
- baseline: ``PatrolPositions.available(session).nearest(lat, lon, limit=1)``, every car on
  duty read and measured (the dispatch's read before issue 12's cluster work).

Every answer of ours is checked against the baseline's (the same car). Then a whole dispatch
in-process (``create_complaint`` + ``dispatch_nearest`` + commit, ``--dispatches`` times), with
the time of each SQL statement it ran (SQLAlchemy cursor events), and the presence upkeep's
statement (``mark_seen``) for a third of the cars, one web process's share in the cluster.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import random
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, event, make_url, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _clients import insert_patrols, pct  # noqa: E402

FRESH = timedelta(hours=1)
AREA = ((59.25, 0.15), (17.9, 0.3))  # south, height; west, width (degrees): cluster_load's


def point(rng: random.Random) -> tuple[float, float]:
    (south, height), (west, width) = AREA
    return south + rng.random() * height, west + rng.random() * width


def fresh_postgres(server: str) -> tuple[str, callable]:
    url = make_url(server.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"dispatch_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url.set(database=name).render_as_string(hide_password=False), drop


def timed(values_ms: list[float]) -> str:
    return (f"p50 {pct(values_ms, 0.5):7.2f}  p99 {pct(values_ms, 0.99):7.2f}  "
            f"max {max(values_ms):7.2f} ms")


def bench(label: str, url: str, args) -> None:
    from flask_migrate import upgrade

    from dispatch import create_app
    from dispatch.core.extensions import db
    from dispatch.jobs.dispatching import (
        NewComplaint,
        PatrolPositions,
        create_complaint,
        dispatch_nearest,
        nearest_available,
    )
    from dispatch.jobs.patrols import mark_seen
    from dispatch.models import Entrance, Landlord, RentalObject, utcnow

    instance = Path(tempfile.mkdtemp(prefix="bench-nearest-"))
    os.environ["DISPATCH_INSTANCE"] = str(instance)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": True,
                      "LOG_LEVEL": "WARNING", "DELIVERY_RESEND_S": 0})
    rng = random.Random(5)
    with app.app_context():
        upgrade()
        now = utcnow()
        far = datetime(2030, 1, 1, tzinfo=UTC)  # present and fresh all run, as in cluster_load
        cars = []
        for n in range(args.cars):
            lat, lon = point(rng)
            cars.append({"call_sign": f"B{n:05d}", "name": f"B{n:05d}", "status": "available",
                         "lat": lat, "lon": lon, "position_at": far, "last_seen_at": far,
                         "updated_at": now})
        insert_patrols(db.session, cars)
        landlord = Landlord(code="BENCH", name="Bench")
        db.session.add(landlord)
        db.session.flush()
        entrances = []
        for n in range(50):
            lat, lon = point(rng)
            entrances.append(Entrance(landlord_id=landlord.id, street="Benchgatan",
                                      street_number=n + 1, postnummer="11846", ort="Stockholm",
                                      address_key=f"benchgatan {n + 1}", lat=lat, lon=lon))
        db.session.add_all(entrances)
        db.session.flush()
        # A flat in each, as cluster_load's register has: a complaint about a flat (object_id)
        # makes the tablet's payload read the flat's history and its tenants' phones too.
        flats = [RentalObject(landlord_id=landlord.id, entrance_id=e.id, objektsnummer=f"B-{n}",
                              lagenhetsnummer="1102", floor=1)
                 for n, e in enumerate(entrances)]
        db.session.add_all(flats)
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("ANALYZE patrols"))
            db.session.execute(text("ANALYZE patrol_presence"))
            db.session.commit()
        landlord_id, object_ids = landlord.id, [f.id for f in flats]

        points = [point(rng) for _ in range(args.reads)]
        for lat, lon in points[:20]:  # warm-up: caches, the first statement's preparation
            nearest_available(db.session, lat, lon, max_age=FRESH)
            PatrolPositions.available(db.session, max_age=FRESH).nearest(lat, lon, limit=1)
            db.session.rollback()
        ours, ours3, base, rows = [], [], [], []
        for lat, lon in points:
            t0 = time.perf_counter()
            best = nearest_available(db.session, lat, lon, limit=1, max_age=FRESH)
            ours.append((time.perf_counter() - t0) * 1000)
            db.session.rollback()
            t0 = time.perf_counter()
            nearest_available(db.session, lat, lon, limit=3, max_age=FRESH)
            ours3.append((time.perf_counter() - t0) * 1000)
            db.session.rollback()
            t0 = time.perf_counter()
            every = PatrolPositions.available(db.session, max_age=FRESH)
            want = every.nearest(lat, lon, limit=1)
            base.append((time.perf_counter() - t0) * 1000)
            db.session.rollback()
            assert best == want, (lat, lon, best, want)
        # How many rows a read of ours takes (the box and its growth), counted apart.
        original = PatrolPositions.__init__

        def counting(self, patrols):
            rows.append(len(patrols))
            original(self, patrols)

        PatrolPositions.__init__ = counting
        try:
            for lat, lon in points[:100]:
                before = len(rows)
                nearest_available(db.session, lat, lon, limit=1, max_age=FRESH)
                rows[before:] = [sum(rows[before:])]
                db.session.rollback()
        finally:
            PatrolPositions.__init__ = original

        # A whole dispatch, each SQL statement timed.
        statements: dict[str, list[float]] = defaultdict(list)
        starts: list[float] = []
        recording = [False]

        def before_cursor(conn, cursor, statement, parameters, context, executemany):
            starts.append(time.perf_counter())

        post_statements: dict[str, list[float]] = defaultdict(list)

        def after_cursor(conn, cursor, statement, parameters, context, executemany):
            key = " ".join(statement.split())[:90]
            if recording[0]:
                target = post_statements if recording[0] == "post" else statements
                target[key].append((time.perf_counter() - starts.pop()) * 1000)

        whole = []
        event.listen(db.engine, "before_cursor_execute", before_cursor)
        event.listen(db.engine, "after_cursor_execute", after_cursor)
        landlord = db.session.get(Landlord, landlord_id)
        for n in range(args.dispatches):
            job = create_complaint(db.session, NewComplaint(
                landlord=landlord, category="music", object_id=rng.choice(object_ids)),
                user_id=None)
            db.session.commit()
            recording[0] = n > 0  # the first one warms up
            t1 = time.perf_counter()
            job, best = dispatch_nearest(db.session, job, user_id=None, max_age=FRESH)
            db.session.commit()
            recording[0] = False
            whole.append((time.perf_counter() - t1) * 1000)
            assert best is not None

        # The HTTP requests in-process (test client, operator bearer token): wall and CPU.
        from dispatch.auth.service import create_token, upsert_user

        operator = create_token(db.session, upsert_user(db.session, email="op@bench",
                                                         role="operator"))
        db.session.commit()
        http = app.test_client()
        headers = {"Authorization": f"Bearer {operator}"}
        posts: dict[str, list[tuple[float, float]]] = defaultdict(list)
        profile = cProfile.Profile() if args.profile else None
        for n in range(args.requests + 1):
            w0, c0 = time.perf_counter(), time.process_time()
            answer = http.post("/api/v1/complaints", headers=headers, json={
                "landlord": "BENCH", "object_id": rng.choice(object_ids),
                "category": "music"})
            w1, c1 = time.perf_counter(), time.process_time()
            assert answer.status_code == 201, answer.get_json()
            if profile and n:
                profile.enable()
            recording[0] = "post" if n else False
            answer = http.post(f"/api/v1/jobs/{answer.get_json()['job_id']}/dispatch",
                               headers=headers, json={})
            recording[0] = False
            if profile and n:
                profile.disable()
            w2, c2 = time.perf_counter(), time.process_time()
            assert answer.status_code == 200 and answer.get_json()["patrol_id"], answer
            if n:  # the first warms up
                posts["POST /complaints"].append(((w1 - w0) * 1000, (c1 - c0) * 1000))
                posts["POST /jobs/{id}/dispatch"].append(((w2 - w1) * 1000, (c2 - c1) * 1000))
        event.remove(db.engine, "before_cursor_execute", before_cursor)
        event.remove(db.engine, "after_cursor_execute", after_cursor)
        db.session.remove()

        share = list(range(1, args.cars + 1, 3))
        stamp = []
        for _ in range(5):
            t0 = time.perf_counter()
            mark_seen(db.session, share)
            db.session.commit()
            stamp.append((time.perf_counter() - t0) * 1000)
        db.session.remove()
        db.engine.dispose()

    print(f"\n{label}: {args.cars:,} cars on duty, {args.reads} reads")
    print(f"  ours, nearest_available limit 1      {timed(ours)}")
    print(f"  ours, nearest_available limit 3      {timed(ours3)}")
    print(f"  baseline, every car on duty read     {timed(base)}")
    print(f"  rows read by ours: mean {sum(rows) / len(rows):.1f}, max {max(rows)} "
          f"(baseline: {args.cars:,}); answers equal to the baseline's: {len(points)}/"
          f"{len(points)}")
    print(f"  a whole dispatch (dispatch_nearest + commit), {args.dispatches - 1} timed: "
          f"{timed(whole[1:])}")
    print("  its SQL statements (mean ms per dispatch, count per dispatch):")
    runs = max(1, args.dispatches - 1)
    for key, values in sorted(statements.items(), key=lambda kv: -sum(kv[1])):
        print(f"    {sum(values) / runs:7.3f} {len(values) / runs:4.1f}x  {key}")
    print("  the dispatch POST's SQL statements (mean ms per request, count per request):")
    for key, values in sorted(post_statements.items(), key=lambda kv: -sum(kv[1])):
        print(f"    {sum(values) / args.requests:7.3f} {len(values) / args.requests:4.1f}x  {key}")
    for name, values in posts.items():
        print(f"  {name:26} (test client, {len(values)}): wall {timed([w for w, _ in values])}"
              f"; CPU p50 {pct([c for _, c in values], 0.5):.2f} ms")
    if profile:
        stats = io.StringIO()
        pstats.Stats(profile, stream=stats).sort_stats(args.profile_sort).print_stats(args.profile)
        print(stats.getvalue())
    print(f"  presence upkeep, mark_seen of {len(share):,} cars + commit: {timed(stamp)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cars", type=int, default=10_000)
    parser.add_argument("--reads", type=int, default=500)
    parser.add_argument("--dispatches", type=int, default=101)
    parser.add_argument("--requests", type=int, default=100,
                        help="complaint and dispatch POSTs through the test client")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="print the N costliest functions of the dispatch POSTs")
    parser.add_argument("--profile-sort", default="cumulative",
                        help="pstats order of --profile's list (cumulative, tottime, ...)")
    parser.add_argument("--database", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--server", default=os.environ.get(
        "TEST_DATABASE_URL",
        "postgresql://dispatch_test:dispatch_test@127.0.0.1:5432/postgres"))
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    if args.database in ("sqlite", "both"):
        folder = Path(tempfile.mkdtemp(prefix="bench-nearest-"))
        bench("SQLite", f"sqlite:///{folder / 'bench.db'}", args)
    if args.database in ("postgres", "both"):
        url, drop = fresh_postgres(args.server)
        try:
            bench("PostgreSQL", url, args)
        finally:
            drop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
