"""Mina sidor's first page at size: 100,000 tenants and 1,200,000 invoices, the page's time
through the Flask test client beside a bare ``GET /healthz`` in the same run (issue 15).

    .venv/bin/python bench/portal.py [--tenants 100000] [--invoices-per 12] [--requests 2000]
                                     [--database sqlite|postgres] [--keep FILE | --reuse FILE]

On a fresh, migrated database (a SQLite file in a temporary folder; or a new PostgreSQL
database on ``TEST_DATABASE_URL`` / the ``dispatch_test`` role, dropped at the end): one landlord,
a property per 50 tenants and an entrance per 20, a flat and (every third tenant) a storage
per agreement, one agreement per tenant (every fifth with a tenant 2), ``--invoices-per``
invoices per agreement (monthly, 2026) and a payment for all but the last. Then
``--requests`` first pages (``GET /portal/``) of random tenants, half as tenant 1 (who also
gets the rent debt) and half as anyone, each followed by a ``GET /healthz``; every answer
must be 200 with the tenant's avtalsnummer. Prints p50/p95/p99/max of both in ms, wall time
and the thread's CPU time (on a shared machine the wall time includes waiting for a core).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

from sqlalchemy import create_engine, insert, make_url, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BATCH = 20_000


def pct(values: list[float], q: float) -> float:
    """The ``q`` quantile, nearest rank (as ``bench/_clients.py`` has it)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


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


def load(session, args, rng: random.Random) -> list[tuple[int, str]]:
    """Insert the register and the invoices; return (person id, avtalsnummer) to visit."""
    from dispatch.models import (
        Agreement,
        AgreementObject,
        AgreementParty,
        Entrance,
        Landlord,
        Person,
        Property,
        RentalObject,
        utcnow,
    )
    from dispatch.models.portal import Invoice, Payment
    from dispatch.portal.rules import ocr_number

    now = utcnow()
    landlord = Landlord(code="BENCH", name="Bench Bostäder")
    session.add(landlord)
    session.flush()
    lid, n = landlord.id, args.tenants

    def chunks(table, rows):
        for start in range(0, len(rows), BATCH):
            session.execute(insert(table), rows[start:start + BATCH])

    chunks(Property, [{"id": i + 1, "landlord_id": lid, "designation": f"Bench {i}:1"}
                      for i in range(n // 50 + 1)])
    chunks(Entrance, [{"id": i + 1, "landlord_id": lid, "property_id": i * 20 // 50 + 1,
                       "street": "Benchgatan", "street_number": i + 1, "street_letter": "",
                       "postnummer": "11846", "ort": "Stockholm", "address_key": f"b|{i}",
                       "lat": 59.3, "lon": 18.0} for i in range(n // 20 + 1)])
    objects, people, agreements, links, parties = [], [], [], [], []
    oid = 0
    for t in range(n):
        entrance = t // 20 + 1
        oid += 1
        objects.append({"id": oid, "landlord_id": lid, "entrance_id": entrance,
                        "objektsnummer": f"{t}-F", "object_type": "lägenhet",
                        "lagenhetsnummer": f"{10 + t % 5}0{t % 4 + 1}", "rooms": 3,
                        "area_m2": 72.5, "created_at": now, "updated_at": now})
        links.append({"agreement_id": t + 1, "object_id": oid})
        if t % 3 == 0:
            oid += 1
            objects.append({"id": oid, "landlord_id": lid, "entrance_id": entrance,
                            "objektsnummer": f"{t}-S", "object_type": "förråd",
                            "created_at": now, "updated_at": now})
            links.append({"agreement_id": t + 1, "object_id": oid})
        people.append({"id": t + 1, "landlord_id": lid, "name": f"Hyresgäst {t}",
                       "kundnummer": f"K{t:07d}", "email": f"t{t}@example.se",
                       "created_at": now, "updated_at": now})
        agreements.append({"id": t + 1, "landlord_id": lid, "avtalsnummer": f"A{t:07d}",
                           "starts_on": date(2015 + t % 10, 1 + t % 12, 1), "created_at": now})
        parties.append({"agreement_id": t + 1, "person_id": t + 1, "position": 1})
    second = []
    for t in range(0, n, 5):
        pid = n + len(second) + 1
        second.append({"id": pid, "landlord_id": lid, "name": f"Sambo {t}",
                       "kundnummer": f"S{t:07d}", "created_at": now, "updated_at": now})
        parties.append({"agreement_id": t + 1, "person_id": pid, "position": 2})
    chunks(RentalObject, objects)
    chunks(Person, people + second)
    chunks(Agreement, agreements)
    chunks(AgreementObject, links)
    chunks(AgreementParty, parties)
    invoices, payments = [], []
    iid = 0
    for t in range(n):
        for m in range(args.invoices_per):
            iid += 1
            month = m % 12 + 1
            ocr = ocr_number(f"{t:07d}{m:03d}", length_digit=True)
            invoices.append({"id": iid, "landlord_id": lid, "agreement_id": t + 1,
                             "invoice_number": f"{t:07d}-{m:03d}", "ocr": ocr,
                             "amount_ore": 845000, "issued_on": date(2026, month, 1),
                             "due_on": date(2026, month, 28), "period": f"2026-{month:02d}",
                             "created_at": now})
            if m < args.invoices_per - 1:
                payments.append({"landlord_id": lid, "agreement_id": t + 1, "invoice_id": iid,
                                 "reference": f"P{iid}", "ocr": ocr, "amount_ore": 845000,
                                 "paid_on": date(2026, month, 27), "created_at": now})
        if len(invoices) >= BATCH:
            session.execute(insert(Invoice), invoices)
            session.execute(insert(Payment), payments)
            invoices, payments = [], []
    if invoices:
        session.execute(insert(Invoice), invoices)
        session.execute(insert(Payment), payments)
    return visits_of(args, rng)


def visits_of(args, rng: random.Random) -> list[tuple[int, str]]:
    """(person id, avtalsnummer) of random tenants, as ``load`` numbered them."""
    n = args.tenants
    visits = []
    for i, t in enumerate(rng.sample(range(n), min(n, args.requests))):
        person = t + 1
        if i % 2 and t % 5 == 0:
            person = n + t // 5 + 1  # tenant 2 of that agreement
        visits.append((person, f"A{t:07d}"))
    return visits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tenants", type=int, default=100_000)
    parser.add_argument("--invoices-per", type=int, default=12)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--keep", type=Path, help="SQLite: keep the loaded database here")
    parser.add_argument("--reuse", type=Path, help="SQLite: time a database kept by --keep "
                        "(same --tenants) instead of loading one")
    args = parser.parse_args()

    from flask_migrate import upgrade

    from dispatch import create_app
    from dispatch.core.extensions import db
    from dispatch.portal.session import ACCOUNT_KEY, PERSON_KEY

    instance = Path(tempfile.mkdtemp(prefix="bench-portal-"))
    os.environ["DISPATCH_INSTANCE"] = str(instance)
    drop = None
    if args.database == "postgres":
        url, drop = fresh_postgres(os.environ.get(
            "TEST_DATABASE_URL",
            "postgresql://dispatch_test:dispatch_test@127.0.0.1:5432/postgres"))
    else:
        url = f"sqlite:///{args.reuse or instance / 'bench.db'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": True,
                      "LOG_LEVEL": "WARNING", "DELIVERY_RESEND_S": 0})
    rng = random.Random(15)
    try:
        with app.app_context():
            upgrade()
            started = time.perf_counter()
            if args.reuse:
                visits = visits_of(args, rng)
            else:
                visits = load(db.session, args, rng)
                db.session.commit()
                db.session.execute(text("ANALYZE"))
                db.session.commit()
            loaded = time.perf_counter() - started
            invoices = db.session.execute(text("SELECT count(*) FROM portal_invoices")).scalar()
            db.session.remove()
        how = f"reused {args.reuse}" if args.reuse else f"loaded in {loaded:.0f} s"
        print(f"{args.database}: {args.tenants:,} tenants, {invoices:,} invoices, {how}")
        client = app.test_client()
        for person, _avtal in visits[:20]:  # warm-up: templates compiled, caches filled
            with client.session_transaction() as session:
                session[PERSON_KEY], session[ACCOUNT_KEY] = person, 1
            client.get("/portal/")
            client.get("/healthz")
        page_ms, health_ms, page_cpu, health_cpu = [], [], [], []
        for person, avtal in visits:
            with client.session_transaction() as session:
                session[PERSON_KEY], session[ACCOUNT_KEY] = person, 1
            t0, c0 = time.perf_counter(), time.thread_time()
            response = client.get("/portal/")
            page_ms.append((time.perf_counter() - t0) * 1000)
            page_cpu.append((time.thread_time() - c0) * 1000)
            assert response.status_code == 200 and avtal in response.get_data(as_text=True)
            t0, c0 = time.perf_counter(), time.thread_time()
            response = client.get("/healthz")
            health_ms.append((time.perf_counter() - t0) * 1000)
            health_cpu.append((time.thread_time() - c0) * 1000)
            assert response.status_code == 200
        # Wall time, and this thread's CPU time (what the request costs, without the time it
        # waited for a core: the machine is shared).
        for label, values in (("GET /portal/ (first page)", page_ms),
                              ("GET /healthz", health_ms),
                              ("  CPU: GET /portal/", page_cpu),
                              ("  CPU: GET /healthz", health_cpu)):
            print(f"{label:28} n={len(values)}  p50 {pct(values, .5):6.2f}  "
                  f"p95 {pct(values, .95):6.2f}  p99 {pct(values, .99):6.2f}  "
                  f"max {max(values):6.2f} ms")
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        if args.keep and not args.reuse and args.database == "sqlite":
            shutil.move(str(instance / "bench.db"), args.keep)
        shutil.rmtree(instance, ignore_errors=True)
        if drop:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
            drop()


if __name__ == "__main__":
    main()
