"""Benchmark: the register importer against raw ``sqlite3.executemany`` (SQLite) or a raw
``COPY`` (PostgreSQL).

    .venv/bin/python bench/import_register.py [--rows 1000000] [--keep]
    .venv/bin/python bench/import_register.py --postgres [--postgres-url URL] [--rows N]
    .venv/bin/python bench/import_register.py --beside-web [--rows N] [--before REV|none]

Generates a realistic register of ``--rows`` rows (fixed seed; not timed), then runs each
measured phase in its own child process, so that each phase's peak RSS is its own:

* baseline  - stdlib ``sqlite3``: one plain table, one TEXT column per CSV column, in a fresh
              database file with the app's PRAGMAs (journal_mode=WAL, synchronous=NORMAL).
              Timed: opening the CSV, ``csv.reader`` over it and ``executemany`` of every row
              in one transaction, through COMMIT.
* first     - ``imports.service.import_register`` into a fresh, migrated SQLite database with
              one landlord. Timed: ``import_register(...)`` + ``db.session.commit()``; building
              the app, the schema and the landlord happen before the clock starts.
* reimport  - the same database (a new process, as a monthly CLI import would be), a second
              file with 1 % of rows changed (a tenant's phone number or the rent). Timed as
              ``first``.

The import phases import a copy of ``dispatch/`` and ``imports/`` taken at the start, so that
edits to the tree during a run of several minutes cannot mix code versions.

With ``--postgres`` the same phases run on PostgreSQL, in a database the bench creates on the
server of ``--postgres-url`` (default ``$BENCH_POSTGRES_URL``, else the local cluster as
dispatch_test) and drops at the end:

* baseline  - psycopg 3: one plain table, one TEXT column per CSV column. Timed: opening the
              CSV and ``COPY register FROM STDIN (FORMAT csv, DELIMITER ';', HEADER)`` of the
              file in 1 MB blocks, through COMMIT.
* first, reimport - as above, into the migrated PostgreSQL database. The phase also reports
              the CPU seconds of its PostgreSQL backend (``/proc/PID/stat`` of
              ``pg_backend_pid()``), which does the inserts, index updates and foreign-key
              checks.

Goal (the issue): ours <= 3x the baseline's seconds for ``first`` and ``reimport``, and peak
RSS <= 1 GB (1024 MiB) per phase. The exit status is 1 if a goal or a count check fails.

With ``--beside-web`` (SQLite): for the code of ``--before`` (a git revision; default the last
one before issue 12's staged apply) and of this tree, each on a fresh database: ``dispatch run``
serves; an operator POSTs a complaint (``POST /api/v1/complaints``) every 0.25 s, first for
``--quiet-s`` seconds with no import, then while ``dispatch import-register`` imports a new
landlord's first register of ``--rows`` rows beside it. Prints p50/p99/max of the POSTs with
no import and during the import, failed POSTs, and the import's own time (CLI process wall
time, and ``import_register``'s seconds). Exit status 1 if this tree's import fails or any of
its POSTs fails.

Internal use: ``--phase baseline|baseline-copy|first|reimport --db PATH-OR-URL --csv PATH``
runs one phase and prints one JSON line (seconds, peak RSS, counts) on stdout.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SEED = 20240611
RATIO_GOAL = 3.0
RSS_GOAL_MB = 1024.0
CHANGED_SHARE = 0.01
LANDLORD_CODE = "BENCH"
# The packages the import phases run. They are copied into the temporary directory at the
# start and the phases import the copy, so that a tree being edited during a run of several
# minutes cannot make the first import and the re-import measure different code.
SNAPSHOT = ("dispatch", "imports")
# --beside-web compares with this revision: the last one whose SQLite import read and wrote
# in one transaction that held the writer's turn throughout (issue 12 then staged it).
BEFORE_REV = "ff8d087"
POST_EVERY_S = 0.25  # --beside-web: a complaint POST every so many seconds
DEFAULT_POSTGRES = "postgresql://dispatch_test:dispatch_test@127.0.0.1:5432/postgres"

COLUMNS = [
    "objektsnummer", "objektstyp", "gatuadress", "postnummer", "ort", "fastighetsbeteckning",
    "lagenhetsnummer", "portkod", "lat", "lon", "rum", "yta", "hyra", "avtalsnummer",
    "kundnummer", "hyresgast_namn", "hyresgast_telefon", "hyresgast_epost", "avtal_fran",
    "hyresgast2_namn", "hyresgast2_telefon", "hyresgast2_epost",
]
COL = {name: i for i, name in enumerate(COLUMNS)}


# -- generating a register ------------------------------------------------------------------

STREET_FIRST = [
    "Björk", "Ek", "Lind", "Gran", "Tall", "Asp", "Al", "Rönn", "Hassel", "Sälg", "Alm", "Ask",
    "Lönn", "Hägg", "Syren", "Fläder", "Nypon", "Ljung", "Mossa", "Sjö", "Strand", "Berg",
    "Dal", "Äng", "Åker", "Skogs", "Kvarn", "Kyrk", "Torg", "Bro", "Hamn", "Fyr", "Skepps",
    "Sol", "Mån", "Stjärn", "Vind", "Regn", "Snö", "Is", "Vår", "Sommar", "Höst", "Vinter",
    "Kungs", "Drottning", "Prins", "Greve", "Riddar", "Smed", "Snickar", "Murar", "Bagar",
    "Fiskar", "Jägar", "Bonde", "Präst", "Skol", "Post", "Tull", "Malm", "Silver", "Guld",
    "Koppar", "Järn", "Sten", "Flint", "Kalk", "Lera", "Sand", "Grus", "Ängs", "Hag", "Lund",
]
STREET_MIDDLE = [
    "", "backs", "bergs", "dals", "hags", "holms", "lunds", "mosse", "näs", "sunds", "viks",
    "ängs", "åkers", "bo", "by", "hems", "ås", "stens", "ekes", "torps", "gårds", "hults",
    "fors", "kulle", "lids", "mark", "ryds", "sjö", "skogs", "strands", "tuna", "vallens",
    "vreta", "ö", "berga", "höjds", "sätra", "löten", "hage", "gläntans",
]
STREET_SUFFIX = [
    "vägen", "gatan", "gränd", "stigen", "backen", "allén", "torget", "plan", "slingan",
    "liden", "gången", "vägen", "gatan",
]
ORTER = [
    ("Stockholm", "1"), ("Solna", "17"), ("Sundbyberg", "17"), ("Nacka", "13"),
    ("Huddinge", "14"), ("Täby", "18"), ("Järfälla", "17"), ("Sollentuna", "19"),
    ("Haninge", "13"), ("Botkyrka", "14"), ("Lidingö", "18"), ("Danderyd", "18"),
]
DISTRICTS = ["Söder", "Kungsholmen", "Vasastaden", "Östermalm", "Norrmalm", "Bromma",
             "Farsta", "Skärholmen", "Vällingby", "Spånga", "Hägersten", "Enskede"]
FIRST_NAMES = [
    "Anna", "Eva", "Maria", "Karin", "Sara", "Lena", "Emma", "Kerstin", "Ingrid", "Marie",
    "Erik", "Lars", "Karl", "Anders", "Johan", "Per", "Nils", "Mikael", "Jan", "Hans",
    "Åsa", "Örjan", "Björn", "Göran", "Märta", "Mohammed", "Ali", "Fatima", "Aino", "Mikko",
    "Zeynep", "Ahmed", "Sofia", "Elin", "Oskar", "Linnéa", "Hugo", "Alice", "Liam", "Ella",
]
LAST_NAMES = [
    "Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson",
    "Persson", "Svensson", "Gustafsson", "Pettersson", "Jonsson", "Jansson", "Hansson",
    "Bengtsson", "Jönsson", "Lindberg", "Jakobsson", "Magnusson", "Lindström", "Öberg",
    "Åberg", "Hassan", "Ali", "Mohammed", "Virtanen", "Korhonen", "Yilmaz", "Nguyen",
    "Ström", "Sandberg", "Forsberg", "Sjöberg", "Wallin", "Engström", "Eklund", "Danielsson",
]
MAIL_DOMAINS = ["example.se", "mail.example.com", "post.example.net", "exempel.se"]
ASCII = str.maketrans({"å": "a", "ä": "a", "ö": "o", "é": "e", "Å": "a", "Ä": "a", "Ö": "o"})


def _phone(rnd: random.Random) -> str:
    """A Swedish number written the ways landlords type them."""
    if rnd.random() < 0.8:  # mobile
        prefix = rnd.choice(("70", "72", "73", "76", "79"))
        rest = f"{rnd.randrange(10_000_000):07d}"
        style = rnd.randrange(4)
        if style == 0:
            return f"0{prefix}-{rest[:3]} {rest[3:5]} {rest[5:]}"
        if style == 1:
            return f"+46{prefix}{rest}"
        if style == 2:
            return f"0{prefix}{rest}"
        return f"0046 {prefix} {rest[:3]} {rest[3:]}"
    rest = f"{rnd.randrange(10_000_000, 100_000_000):08d}"  # Stockholm 08 + 8 digits
    style = rnd.randrange(3)
    if style == 0:
        return f"08-{rest[:3]} {rest[3:6]} {rest[6:]}"
    if style == 1:
        return f"+468{rest}"
    return f"0046 8 {rest}"


def _tenant(rnd: random.Random) -> tuple[str, str, str]:
    first, last = rnd.choice(FIRST_NAMES), rnd.choice(LAST_NAMES)
    phone = _phone(rnd) if rnd.random() < 0.95 else ""
    email = ""
    if rnd.random() < 0.85:
        local = f"{first}.{last}".lower().translate(ASCII)
        email = f"{local}{rnd.randrange(1000)}@{rnd.choice(MAIL_DOMAINS)}"
    return f"{first} {last}", phone, email


def _coordinate(value: float, rnd: random.Random) -> str:
    text = f"{value:.6f}"
    return text.replace(".", ",") if rnd.random() < 0.3 else text


def _entrances(rnd: random.Random, count: int) -> list[dict]:
    """``count`` distinct entrances on ~30,000+ distinct streets."""
    streets = sorted({f + m + s for f in STREET_FIRST for m in STREET_MIDDLE
                      for s in STREET_SUFFIX})
    rnd.shuffle(streets)
    street_info: dict[str, tuple[str, str, float, float]] = {}
    seen: set[tuple[str, int, str]] = set()
    result = []
    while len(result) < count:
        street = streets[rnd.randrange(len(streets))]
        info = street_info.get(street)
        if info is None:
            ort, lead = rnd.choice(ORTER)
            digits = lead + "".join(str(rnd.randrange(10)) for _ in range(5 - len(lead)))
            info = (ort, f"{digits[:3]} {digits[3:]}",
                    rnd.uniform(59.20, 59.45), rnd.uniform(17.80, 18.25))
            street_info[street] = info
        number = rnd.randrange(1, 160)
        letter = rnd.choice("ABCD") if rnd.random() < 0.25 else ""
        if (street, number, letter) in seen:
            continue
        seen.add((street, number, letter))
        ort, postnummer, lat, lon = info
        if not result or rnd.random() < 0.4:  # a property has one to a few entrances
            designation = (f"{rnd.choice(DISTRICTS)} {rnd.randrange(1, 900)}:"
                           f"{rnd.randrange(1, 60)}")
        space = " " if letter and rnd.random() < 0.3 else ""
        result.append({
            "address": f"{street} {number}{space}{letter}",
            "postnummer": postnummer if rnd.random() < 0.8 else postnummer.replace(" ", ""),
            "ort": ort,
            "property": designation,
            "portkod": f"{rnd.randrange(10000):04d}" if rnd.random() < 0.9 else "",
            # ~1 % of entrances have no coordinates at all: imported, "not on the map".
            "lat": lat + rnd.uniform(-0.002, 0.002) if rnd.random() < 0.99 else None,
            "lon": lon + rnd.uniform(-0.002, 0.002),
        })
    return result


def generate(path: Path, rows: int, seed: int = SEED) -> None:
    """Write a register of ``rows`` rows (UTF-8, ``;``): ~20 objects per entrance."""
    rnd = random.Random(seed)
    entrances = _entrances(rnd, max(1, rows // 20))
    customer = 1_000_000
    agreement = 5_000_000
    first_day = date(1985, 1, 1).toordinal()
    last_day = date(2025, 12, 1).toordinal()
    written = 0
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, delimiter=";", lineterminator="\r\n")
        writer.writerow(COLUMNS)
        for number, entrance in enumerate(entrances, start=1):
            # Spread the rows over the entrances: 20 each on average, 8 to 32.
            remaining_entrances = len(entrances) - number + 1
            want = (rows - written) // remaining_entrances
            if remaining_entrances > 1:
                want = max(1, min(rows - written, want + rnd.randrange(-12, 13)))
            for k in range(want):
                floor, position = divmod(k, 4)
                kind = "lägenhet"
                lgh = f"{10 + floor:02d}{position + 1:02d}"
                if rnd.random() < 0.04:
                    kind = rnd.choice(("lokal", "parkering", "förråd", "Lägenhet", "lgh"))
                    if kind in ("parkering", "förråd"):
                        lgh = ""
                objektsnummer = f"{number:05d}-{k // 100:02d}-{lgh or f'X{k:03d}'}"
                lat = lon = ""
                if entrance["lat"] is not None and rnd.random() < 0.95:
                    lat = _coordinate(entrance["lat"], rnd)
                    lon = _coordinate(entrance["lon"], rnd)
                rooms = str(rnd.randrange(1, 6))
                area = int(rooms) * 22 + rnd.randrange(0, 200) / 10
                rent = int(area * rnd.uniform(95, 140))
                if kind in ("parkering", "förråd"):
                    rooms, area, rent = "", rnd.randrange(20, 150) / 10, rnd.randrange(150, 1600)
                values = [
                    objektsnummer, kind, entrance["address"], entrance["postnummer"],
                    entrance["ort"], entrance["property"], lgh, entrance["portkod"], lat, lon,
                    rooms, f"{area:.1f}".replace(".", ","), str(rent),
                    "", "", "", "", "", "", "", "", "",
                ]
                if kind != "förråd" and rnd.random() < 0.96:  # else vacant
                    agreement += 1
                    customer += 1
                    name, phone, email = _tenant(rnd)
                    start = date.fromordinal(rnd.randrange(first_day, last_day))
                    values[COL["avtalsnummer"]] = f"H{agreement}"
                    values[COL["kundnummer"]] = str(customer)
                    values[COL["hyresgast_namn"]] = name
                    values[COL["hyresgast_telefon"]] = phone
                    values[COL["hyresgast_epost"]] = email
                    values[COL["avtal_fran"]] = start.isoformat()
                    if rnd.random() < 0.15:
                        name2, phone2, email2 = _tenant(rnd)
                        values[COL["hyresgast2_namn"]] = name2
                        values[COL["hyresgast2_telefon"]] = phone2
                        values[COL["hyresgast2_epost"]] = email2
                writer.writerow(values)
                written += 1


def change_rows(source: Path, target: Path, share: float = CHANGED_SHARE,
                seed: int = SEED + 1) -> int:
    """Copy ``source`` to ``target`` with ``share`` of the rows changed: a tenant's phone
    number (rows with a tenant phone) or the rent (+125 SEK). Returns how many rows changed."""
    with source.open(encoding="utf-8", newline="") as f:
        total = sum(1 for _ in f) - 1
    rnd = random.Random(seed)
    chosen = set(rnd.sample(range(total), round(total * share)))
    with (source.open(encoding="utf-8", newline="") as src,
          target.open("w", encoding="utf-8", newline="") as dst):
        reader = csv.reader(src, delimiter=";")
        writer = csv.writer(dst, delimiter=";", lineterminator="\r\n")
        writer.writerow(next(reader))
        for index, values in enumerate(reader):
            if index in chosen:
                if values[COL["hyresgast_telefon"]] and rnd.random() < 0.5:
                    phone = values[COL["hyresgast_telefon"]]
                    while phone == values[COL["hyresgast_telefon"]]:
                        phone = _phone(rnd)
                    values[COL["hyresgast_telefon"]] = phone
                else:
                    values[COL["hyra"]] = str(int(values[COL["hyra"]]) + 125)
            writer.writerow(values)
    return len(chosen)


# -- the phases (each in its own process) ---------------------------------------------------

def _peak_rss_mb() -> float:
    """This process's peak RSS plus the largest of its children's (a first import's stage
    process runs beside it): an upper bound of what the phase held at once."""
    # ru_maxrss is in KiB on Linux (bytes on macOS).
    peak = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            + resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _cpu_seconds() -> tuple[float, float]:
    """CPU seconds (user + system) of this process and of its finished children."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (me.ru_utime + me.ru_stime, children.ru_utime + children.ru_stime)


def phase_baseline(db_path: Path, csv_path: Path) -> dict:
    """Raw sqlite3: one plain table, csv.reader + executemany, one transaction."""
    connection = sqlite3.connect(db_path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute(
        "CREATE TABLE register (" + ", ".join(f"{c} TEXT" for c in COLUMNS) + ")"
    )
    started = time.perf_counter()
    with csv_path.open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f, delimiter=";")
        next(reader)
        connection.execute("BEGIN")
        connection.executemany(
            f"INSERT INTO register VALUES ({', '.join('?' * len(COLUMNS))})",  # noqa: S608
            reader,
        )
        connection.execute("COMMIT")
    seconds = time.perf_counter() - started
    rows = connection.execute("SELECT count(*) FROM register").fetchone()[0]
    connection.close()
    return {"seconds": seconds, "rows": rows}


def phase_baseline_copy(url: str, csv_path: Path) -> dict:
    """Raw PostgreSQL: one plain table, COPY of the file as it is, one transaction."""
    import psycopg

    with psycopg.connect(url) as connection:
        connection.execute(
            "CREATE TABLE register (" + ", ".join(f"{c} TEXT" for c in COLUMNS) + ")")
        connection.commit()
        backend = connection.info.backend_pid
        backend_before, cpu_before = _proc_cpu(backend), _cpu_seconds()[0]
        started = time.perf_counter()
        with csv_path.open("rb") as f, connection.cursor() as cursor:
            with cursor.copy("COPY register FROM STDIN "
                             "(FORMAT csv, DELIMITER ';', HEADER true)") as copy:
                while block := f.read(1 << 20):
                    copy.write(block)
        connection.commit()
        seconds = time.perf_counter() - started
        cpu_self = _cpu_seconds()[0] - cpu_before
        cpu_backend = _proc_cpu(backend) - backend_before
        rows = connection.execute("SELECT count(*) FROM register").fetchone()[0]
        # Not part of the import's database: gone before the import phases run.
        connection.execute("DROP TABLE register")
        connection.commit()
    return {"seconds": seconds, "rows": rows, "cpu_self": cpu_self, "cpu_children": 0.0,
            "cpu_backend": cpu_backend}


def _is_url(target: str) -> bool:
    return target.startswith("postgresql")


def _app(target: str, instance: Path):
    os.environ["DISPATCH_INSTANCE"] = str(instance)
    from dispatch import create_app

    uri = (target.replace("postgresql://", "postgresql+psycopg://", 1) if _is_url(target)
           else f"sqlite:///{target}")
    return create_app({"SQLALCHEMY_DATABASE_URI": uri, "LOG_FORMAT": "text"})


def _backend_cpu(session) -> tuple[int | None, float]:
    """The PostgreSQL backend of ``session`` and its CPU seconds so far (server on this machine;
    None where /proc does not show it)."""
    from sqlalchemy import text

    if session.get_bind().dialect.name != "postgresql":
        return None, 0.0
    pid = session.execute(text("SELECT pg_backend_pid()")).scalar()
    return pid, _proc_cpu(pid)


def _other_backends(session, backend: int | None) -> list[int]:
    """The PostgreSQL backends of this database other than ``backend`` (the bench's database
    is the phase's own: they are the import's other connections)."""
    from sqlalchemy import text

    if backend is None:
        return []
    return list(session.execute(text(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> :p "
        "AND backend_type = 'client backend'"), {"p": backend}).scalars())


def _proc_cpu(pid: int | None) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError, TypeError):
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def phase_import(target: str, csv_path: Path, first: bool, instance: Path) -> dict:
    """import_register into the app's database; time import + commit."""
    from flask_migrate import upgrade

    from dispatch.core.extensions import db
    from dispatch.register.landlords import get_landlord, upsert_landlord
    from imports.service import import_register

    app = _app(target, instance)
    with app.app_context():
        if first:
            upgrade()
            upsert_landlord(db.session, code=LANDLORD_CODE, name="Bench")
            db.session.commit()
        landlord = get_landlord(db.session, LANDLORD_CODE)
        checks = None
        if first and _is_url(target):  # which path a first import takes (the role's grant)
            from imports.first import postgres

            raw = db.session.connection().connection.driver_connection
            checks = ("set-wise after the COPYs (fast path: the role may set "
                      "session_replication_role)" if postgres.may_skip_checks(raw) else
                      "row by row by PostgreSQL (checked path: no grant)")
        backend, backend_before = _backend_cpu(db.session)
        others_before = {pid: _proc_cpu(pid) for pid in _other_backends(db.session, backend)}
        cpu_before = _cpu_seconds()
        started = time.perf_counter()
        summary = import_register(db.session, landlord, csv_path, actor="bench")
        db.session.commit()
        seconds = time.perf_counter() - started
        cpu = [after - before for after, before in zip(_cpu_seconds(), cpu_before, strict=True)]
        cpu_backend = _proc_cpu(backend) - backend_before if backend else None
        # The import's other connections (a first import reserves its ids on one of its own).
        cpu_others = (sum(_proc_cpu(pid) - others_before.get(pid, 0.0)
                          for pid in _other_backends(db.session, backend))
                      if backend else None)
        report = summary.as_json()
        counts = {k: report[k] for k in (
            "status", "rows", "added", "changed", "unchanged", "retired", "skipped",
            "not_placed", "error_count")}
        counts["errors"] = report["errors"][:5]
        counts["message"] = summary.message
        counts["module"] = sys.modules["imports.service"].__file__
        db.session.remove()
        db.engine.dispose()
    return {"seconds": seconds, "cpu_self": cpu[0], "cpu_children": cpu[1],
            "cpu_backend": cpu_backend, "cpu_other_backends": cpu_others, "checks": checks,
            **counts}


def run_phase(phase: str, target: str, csv_path: Path) -> None:
    if phase == "baseline":
        result = phase_baseline(Path(target), csv_path)
    elif phase == "baseline-copy":
        result = phase_baseline_copy(target, csv_path)
    else:
        result = phase_import(target, csv_path, first=phase == "first",
                              instance=csv_path.parent / "instance")
    result["peak_rss_mb"] = _peak_rss_mb()
    result["peak_rss_self_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["peak_rss_child_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps(result), flush=True)


def _child(phase: str, target: Path | str, csv_path: Path, code: Path) -> dict:
    """Run one phase in a child process; if it crashes, the end of its traceback instead."""
    # -P: not the bench folder first on sys.path (its queue.py would hide the standard one).
    command = [sys.executable, "-P", str(Path(__file__).resolve()), "--phase", phase,
               "--db", str(target), "--csv", str(csv_path)]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(code), *filter(None, [os.environ.get("PYTHONPATH")])]))
    done = subprocess.run(command, cwd=code, env=env, capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        # The exception line (SQLAlchemy appends its SQL and parameters after it).
        error = next((line for line in lines if line[:1].isalpha() and "Error" in line
                      and not line.startswith("Traceback")), lines[-1] if lines else "")
        return {"crashed": True, "error": error.strip()[:400] or f"exit {done.returncode}",
                "returncode": done.returncode}
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- the report -----------------------------------------------------------------------------

def _check_counts(name: str, result: dict, expected: dict) -> list[str]:
    if result.get("crashed"):
        return [f"{name}: crashed: {result['error']}"]
    return [f"{name}: {key} = {result.get(key)!r}, expected {want!r}"
            for key, want in expected.items() if result.get(key) != want]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Register importer benchmark against raw sqlite3.executemany "
                    "(or a raw COPY, with --postgres).")
    parser.add_argument("--rows", type=int, default=1_000_000,
                        help="rows in the generated register (default 1,000,000)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the temporary directory (CSV files, databases, code copy) "
                             "and the PostgreSQL database")
    parser.add_argument("--postgres", action="store_true",
                        help="run on PostgreSQL, against a raw COPY of the file")
    parser.add_argument("--postgres-url",
                        default=os.environ.get("BENCH_POSTGRES_URL") or DEFAULT_POSTGRES,
                        help="a PostgreSQL server (any database on it) where the role may "
                             "CREATE DATABASE; default $BENCH_POSTGRES_URL, else "
                             f"{DEFAULT_POSTGRES.replace(':dispatch_test@', ':***@')}")
    parser.add_argument("--beside-web", action="store_true",
                        help="time POST /api/v1/complaints on a running `dispatch run` with no "
                             "import, then during a first import of --rows rows; for the code "
                             "of --before and of this tree, each on a fresh database")
    parser.add_argument("--before", default=BEFORE_REV,
                        help="with --beside-web: the git revision to compare with "
                             f"(default {BEFORE_REV}, before issue 12's staged apply; "
                             "'none' to skip)")
    parser.add_argument("--quiet-s", type=float, default=15.0,
                        help="with --beside-web: seconds of POSTs with no import (default 15)")
    parser.add_argument("--phase", choices=("baseline", "baseline-copy", "first", "reimport"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--csv", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.phase:
        run_phase(args.phase, args.db, args.csv)
        return 0

    workdir = Path(tempfile.mkdtemp(prefix="bench-import-"))
    if args.beside_web:
        try:
            return beside_web(args.rows, workdir, args.before, args.quiet_s)
        finally:
            if args.keep:
                print(f"\nfiles kept in {workdir}")
            else:
                shutil.rmtree(workdir, ignore_errors=True)
    database = drop = None
    try:
        if args.postgres:
            database, drop = _create_database(args.postgres_url)
        return _run(args.rows, workdir, database)
    finally:
        if args.keep:
            print(f"\nfiles kept in {workdir}")
            if database:
                print(f"database kept: {_hide_password(database)}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
            if drop:
                drop()


def _hide_password(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _create_database(server: str):
    """A new database on ``server`` for this run, and the function that drops it."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(server)
    name = f"bench_import_{os.getpid()}_{random.randrange(16 ** 6):06x}"
    admin = url.render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        # An autovacuum worker (after a million rows) may hold the database for a while; it
        # cannot be stopped by a role without pg_signal_backend: wait for it.
        for _attempt in range(120):
            try:
                with psycopg.connect(admin, autocommit=True) as connection:
                    connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                return
            except (psycopg.errors.InsufficientPrivilege, psycopg.errors.ObjectInUse):
                time.sleep(1)
        print(f"could not drop database {name} (in use); drop it by hand")

    return url.set(database=name).render_as_string(hide_password=False), drop


def _snapshot(target: Path) -> str:
    """Copy the packages the phases import to ``target``; return the commit they came from."""
    for package in SNAPSHOT:
        shutil.copytree(REPO / package, target / package,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, check=True,
                                capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", *SNAPSHOT], cwd=REPO,
                               check=True, capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown commit"
    return commit + (" + uncommitted changes" if dirty else "")


def _server_version(url: str) -> str:
    import psycopg

    with psycopg.connect(url) as connection:
        return connection.execute("SHOW server_version").fetchone()[0].split()[0]


def _run(rows: int, workdir: Path, database: str | None = None) -> int:
    first_csv, second_csv = workdir / "register.csv", workdir / "register-1pct.csv"
    engine = (f"PostgreSQL {_server_version(database)}, database {_hide_password(database)}"
              if database else f"SQLite {sqlite3.sqlite_version}")
    print(f"register importer benchmark: {rows:,} rows, Python {sys.version.split()[0]}, "
          f"{engine}, {os.cpu_count()} CPUs, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}, in {workdir}")
    code = workdir / "code"
    print(f"code: {_snapshot(code)}, copied to {code} for the import phases")
    started = time.perf_counter()
    generate(first_csv, rows)
    changed = change_rows(first_csv, second_csv)
    print(f"generated {first_csv.name} ({first_csv.stat().st_size / 1e6:.0f} MB) and "
          f"{second_csv.name} ({changed:,} rows changed) in "
          f"{time.perf_counter() - started:.1f} s (not measured)", flush=True)

    app_db = database or workdir / "app.db"
    baseline_phase, baseline_db = (("baseline-copy", database) if database
                                   else ("baseline", workdir / "baseline.db"))
    results = {}
    for phase, db_path, csv_path in (("baseline", baseline_db, first_csv),
                                     ("first", app_db, first_csv),
                                     ("reimport", app_db, second_csv)):
        print(f"phase {phase} ...", flush=True)
        results[phase] = _child(baseline_phase if phase == "baseline" else phase, db_path,
                                csv_path, code)
    baseline, first, again = results["baseline"], results["first"], results["reimport"]

    problems = _check_counts("baseline", baseline, {"rows": rows})
    for name in ("first", "reimport"):
        module = results[name].get("module")
        if module and not module.startswith(str(code)):
            problems.append(f"{name}: imported {module}, not the snapshot")
    problems += _check_counts("first", first, {
        "status": "accepted", "rows": rows, "added": rows, "changed": 0, "unchanged": 0,
        "retired": 0, "skipped": 0})
    problems += _check_counts("reimport", again, {
        "status": "accepted", "rows": rows, "added": 0, "changed": changed,
        "unchanged": rows - changed, "retired": 0, "skipped": 0})

    base = None if baseline.get("crashed") else baseline["seconds"]
    goal = f"<= {RATIO_GOAL:g}x, <= {RSS_GOAL_MB:.0f} MB"
    header = (f"{'phase':<10} {'seconds':>9} {'x baseline':>10} {'peak RSS MB':>12}  "
              f"{'goal':<22} result")
    print()
    print(header)
    print("-" * len(header))
    failed = bool(problems)
    for name, result in results.items():
        if result.get("crashed"):
            failed = True
            print(f"{name:<10} {'-':>9} {'-':>10} {'-':>12}  "
                  f"{'(reference)' if name == 'baseline' else goal:<22} ERROR")
            continue
        ratio = result["seconds"] / base if base else float("nan")
        if name == "baseline":
            verdict, goal_text = "-", "(reference)"
        else:
            missed = [what for what, ok in (("time", ratio <= RATIO_GOAL),
                                            ("memory", result["peak_rss_mb"] <= RSS_GOAL_MB))
                      if not ok]
            failed |= bool(missed)
            verdict = f"FAIL ({', '.join(missed)})" if missed else "PASS"
            goal_text = goal
        print(f"{name:<10} {result['seconds']:>9.2f} {ratio:>10.2f} "
              f"{result['peak_rss_mb']:>12.0f}  {goal_text:<22} {verdict}")
    print()
    if database:
        print("baseline timed: open CSV + COPY FROM STDIN (FORMAT csv) of the file in 1 MB "
              "blocks into one TEXT table + COMMIT (psycopg 3)")
    else:
        print("baseline timed: open CSV + csv.reader + executemany into one TEXT table + "
              "COMMIT")
    print("ours timed: import_register() + db.session.commit() "
          "(app, schema and landlord set up before the clock starts)")
    print("peak RSS: ru_maxrss of each phase's own process plus that of its largest child "
          "(a first import's stage process), MB = MiB"
          + ("; the PostgreSQL server's processes are not counted" if database else ""))
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    # On a busy machine the seconds include waiting for a CPU; the CPU seconds of the busiest
    # process of a phase are about what its seconds would be on an idle one.
    base_busiest = None
    if "cpu_self" in baseline:
        base_busiest = max(baseline["cpu_self"], baseline.get("cpu_backend") or 0.0)
        print(f"baseline CPU seconds: client {baseline['cpu_self']:.1f}, PostgreSQL backend "
              f"{baseline['cpu_backend']:.1f}, wall {baseline['seconds']:.1f}")
    for name in ("first", "reimport"):
        result = results.get(name, {})
        if "cpu_self" in result:
            backend = result.get("cpu_backend")
            busiest = max(result["cpu_self"], result["cpu_children"], backend or 0.0)
            line = (f"{name} CPU seconds: writer (this process) {result['cpu_self']:.1f}, "
                    f"stage process {result['cpu_children']:.1f}")
            if backend is not None:
                line += f", PostgreSQL backend {backend:.1f}"
            if result.get("cpu_other_backends"):  # e.g. the first import's id reservations
                line += f" (+ its other connections' {result['cpu_other_backends']:.1f})"
            line += f", wall {result['seconds']:.1f}"
            if base_busiest:
                line += (f"; busiest process {busiest:.1f} = {busiest / base_busiest:.2f}x "
                         f"the baseline's busiest")
            print(line)
        if "peak_rss_self_mb" in result:
            print(f"{name} peak RSS MB: writer {result['peak_rss_self_mb']:.0f}, "
                  f"stage process {result['peak_rss_child_mb']:.0f}")
        if result.get("checks"):
            print(f"{name} foreign keys checked {result['checks']}")
    for name, result in (("first", first), ("reimport", again)):
        if result.get("crashed"):
            print(f"{name}: CRASHED: {result['error']}")
            continue
        print(f"{name}: status {result['status']}, rows {result['rows']:,}, "
              f"added {result['added']:,}, changed {result['changed']:,}, "
              f"unchanged {result['unchanged']:,}, retired {result['retired']:,}, "
              f"skipped {result['skipped']:,}, not on the map {result['not_placed']:,}")
        if result.get("errors"):
            print(f"  first errors: {result['errors']}")
        if result.get("message"):
            print(f"  message: {result['message']}")
    if problems:
        print("\nCHECKS FAILED:")
        for problem in problems:
            print(f"  {problem}")
    return 1 if failed else 0



# -- --beside-web: complaint POSTs on a live server, without and during a first import --------

def _code_of(revision: str | None, target: Path) -> str:
    """The packages the server and the import run: this tree's (``revision`` None) or a git
    revision's, in ``target``; return what they are."""
    if revision is None:
        return _snapshot(target)
    target.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", revision, *SNAPSHOT], cwd=REPO, check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return f"revision {revision}"


async def _posts_beside_import(env: dict, register: Path, workdir: Path,
                               quiet_s: float) -> dict:
    """Start ``dispatch run``; POST a complaint every POST_EVERY_S for ``quiet_s`` seconds,
    then import ``register`` as landlord BIG with the CLI and POST on until it ends."""
    import asyncio

    import aiohttp
    from _clients import BIN, Server, object_id

    server = Server("run", env, workdir)
    url, headers = env["BASE_URL"], {"Authorization": f"Bearer {env['OPERATOR_TOKEN']}"}
    samples: list[tuple[float, float, int]] = []  # (sent, ms, HTTP status or 0)
    tasks: set = set()
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as http:
            await server.ready(http)
            targets = [await object_id(http, url, headers, str(n)) for n in range(20)]

            async def post(n: int) -> None:
                sent = time.perf_counter()
                try:
                    async with http.post(f"{url}/api/v1/complaints", headers=headers, json={
                            "landlord": "BENCH", "object_id": targets[n % len(targets)],
                            "category": "music", "description": "Hög musik"}) as r:
                        await r.read()
                        status = r.status
                except aiohttp.ClientError:
                    status = 0
                samples.append((sent, (time.perf_counter() - sent) * 1000, status))

            async def post_until(done) -> None:
                n, due = 0, time.perf_counter()
                while not done():
                    task = asyncio.get_running_loop().create_task(post(n))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                    n, due = n + 1, due + POST_EVERY_S
                    await asyncio.sleep(max(0.0, due - time.perf_counter()))

            quiet_start = time.perf_counter()
            await post_until(lambda: time.perf_counter() > quiet_start + quiet_s)
            if tasks:
                await asyncio.wait(tasks, timeout=120)
            quiet_end = import_start = time.perf_counter()
            process = await asyncio.create_subprocess_exec(
                str(BIN / "dispatch"), "import-register", "--landlord", "BIG", str(register),
                "--json", env=env, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE)
            waiting = asyncio.get_running_loop().create_task(process.communicate())
            await post_until(waiting.done)
            output, errors = await waiting
            import_end = time.perf_counter()
            if tasks:
                await asyncio.wait(tasks, timeout=120)
    finally:
        server.stop()
    try:
        summary = json.loads(output)
    except ValueError:
        summary = {"status": f"failed (exit {process.returncode}): "
                             f"{errors.decode(errors='replace')[-500:]}"}
    return {"quiet": [s for s in samples if quiet_start <= s[0] < quiet_end],
            "during": [s for s in samples if import_start <= s[0] <= import_end],
            "import_s": import_end - import_start, "summary": summary}


def _latency(samples: list[tuple[float, float, int]]) -> str:
    from _clients import pct

    ms = [s[1] for s in samples]
    failed = sum(1 for s in samples if s[2] not in (200, 201))
    return (f"{len(ms):>4} POSTs  p50 {pct(ms, 0.5):8.1f}  p99 {pct(ms, 0.99):8.1f}  "
            f"max {pct(ms, 1.0):8.1f} ms  failed {failed}")


def beside_web(rows: int, workdir: Path, before: str, quiet_s: float) -> int:
    """``--beside-web``: what a first import of ``rows`` rows does to complaint POSTs on a
    running ``dispatch run`` (SQLite), for the code before issue 12's staged apply and now."""
    import asyncio

    # bench/ last: its queue.py must not hide the standard queue module (urllib3 needs it).
    here = str(Path(__file__).resolve().parent)
    sys.path[:] = [p for p in sys.path if p not in (here, "")] + [here]
    from _clients import BIN, prepare

    print(f"complaint POSTs beside a first import: {rows:,} rows, dispatch run on SQLite "
          f"{sqlite3.sqlite_version}, a POST every {POST_EVERY_S:g} s, {os.cpu_count()} CPUs, "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}, in {workdir}")
    register = workdir / "register.csv"
    started = time.perf_counter()
    generate(register, rows)
    print(f"generated {register.name} ({register.stat().st_size / 1e6:.0f} MB) in "
          f"{time.perf_counter() - started:.1f} s (not measured)", flush=True)
    versions = [] if before == "none" else [("before", before)]
    versions.append(("now", None))
    results, problems = {}, []
    for name, revision in versions:
        run = workdir / name
        run.mkdir()
        code = run / "code"
        print(f"\n{name}: {_code_of(revision, code)}", flush=True)
        env, _addresses, _cars = prepare(run, 0, extra_env={"PYTHONPATH": str(code)})
        subprocess.run([str(BIN / "dispatch"), "create-landlord", "--code", "BIG", "--name",
                        "Big"], env=env, check=True, capture_output=True)
        result = results[name] = asyncio.run(
            _posts_beside_import(env, register, run, quiet_s))
        summary = result["summary"]
        print(f"  no import      {_latency(result['quiet'])}")
        print(f"  during import  {_latency(result['during'])}")
        print(f"  import: {result['import_s']:.1f} s wall (CLI process), "
              f"{summary.get('seconds', float('nan'))} s in import_register, "
              f"status {summary.get('status')}, added {summary.get('added')}", flush=True)
        if summary.get("status") != "accepted" or summary.get("added") != rows:
            problems.append(f"{name}: the import did not add every row: {summary}")
        if revision is None and any(s[2] not in (200, 201)
                                    for s in result["quiet"] + result["during"]):
            problems.append(f"{name}: complaint POSTs failed")
    print("\nversion  import s  POST ms no import p99 / max  during import p99 / max  failed")
    from _clients import pct

    for name, result in results.items():
        quiet = [s[1] for s in result["quiet"]]
        during = [s[1] for s in result["during"]]
        failed = sum(1 for s in result["quiet"] + result["during"] if s[2] not in (200, 201))
        print(f"{name:<8} {result['import_s']:8.1f}  {pct(quiet, 0.99):14.1f} / "
              f"{pct(quiet, 1.0):7.1f}  {pct(during, 0.99):13.1f} / {pct(during, 1.0):7.1f}  "
              f"{failed:6}")
    for problem in problems:
        print(f"PROBLEM: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
