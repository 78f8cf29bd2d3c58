"""``dispatch demo``: realistic, privacy-safe demo data, a night's work on every page, demo
cars kept present without tablets, and the morning mail tried before 06:00 (``--now``)."""

import json
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from dispatch.core.phones import normalise_phone
from dispatch.demo import stamp_demo_cars
from dispatch.demo.data import TEST_PERSONNUMMER, fictional_phone_numbers
from dispatch.jobs.dispatching import assign
from dispatch.jobs.patrols import is_present
from dispatch.models import (
    Entrance,
    IncidentReport,
    Job,
    Landlord,
    MorningMail,
    Patrol,
    PatrolPosition,
    Person,
    RentalObject,
    User,
    utcnow,
)
from dispatch.reports.nights import morning_of, morning_window, night_of


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
    assert result.exit_code == 1 and "har redan hyresvärdar" in result.output


# -- a night's work, so that every page has content (issue 13) --------------------------------


def demo_logins(output: str) -> dict[str, str]:
    """The printed log-ins: e-mail → password."""
    return {parts[0]: parts[2] for parts in (line.split() for line in output.splitlines())
            if len(parts) == 3 and "@" in parts[0]}


def test_demo_seeds_a_night_of_done_jobs_with_reports_before_now_and_open_jobs(runner,
                                                                             db_session):
    before = utcnow()
    assert runner.invoke(args=["demo"]).exit_code == 0
    reports = db_session.scalars(select(IncidentReport)).all()
    released = [r for r in reports if r.status == "released"]
    waiting = [r for r in reports if r.status == "submitted"]
    open_jobs = db_session.scalars(select(Job).where(Job.status != "done")).all()

    assert len(released) >= 6 and len(waiting) >= 1
    # Every landlord's contact has released reports to read.
    assert {r.landlord_id for r in released} == set(db_session.scalars(select(Landlord.id)))
    assert all(r.released_at <= utcnow() and r.released_by_id for r in released)
    assert {j.status for j in open_jobs} == {"queued", "accepted", "en_route"}
    for job in db_session.scalars(select(Job)):
        called = job.complaint.call_received_at
        assert before - timedelta(hours=9) <= called <= utcnow()
        assert [e.kind for e in job.events][0] == "created"
        if job.status == "done":
            assert called < job.dispatched_at < job.finished_at <= utcnow()
            assert job.complaint.call_id is not None


def test_every_page_of_the_demo_has_content(runner, db_session, client, auth):
    logins = demo_logins(runner.invoke(args=["demo"]).output)
    released = db_session.scalars(select(IncidentReport)
                                  .where(IncidentReport.status == "released")).all()
    waiting = db_session.scalars(select(IncidentReport)
                                 .where(IncidentReport.status == "submitted")).all()
    first_call = min(j.complaint.call_received_at
                     for j in db_session.scalars(select(Job).where(Job.status == "done")))
    night = night_of(first_call, ZoneInfo("Europe/Stockholm"))

    operator = "operator@demo.storningsjour.se"
    assert auth.login(operator, logins[operator]).status_code == 302
    figures = client.get(f"/console/figures?night={night.isoformat()}").get_data(as_text=True)
    dispatched = re.search(r'id="dispatched">(\d+)<', figures)
    assert dispatched and int(dispatched.group(1)) >= 1
    review = client.get("/reports/review").get_data(as_text=True)
    assert all(f"/reports/{r.id}/edit" in review for r in waiting)
    client.post("/logout", data={"csrf_token": auth.csrf_token("/console/figures")})

    contact = "kontakt@sthlmhem.demo.se"
    landlord = db_session.scalar(select(Landlord).where(Landlord.code == "STHLMHEM"))
    assert auth.login(contact, logins[contact]).status_code == 302
    index = client.get("/reports/").get_data(as_text=True)
    mornings = set(re.findall(r'/reports/morning/(\d{4}-\d\d-\d\d)', index))
    assert mornings
    pages = "".join(client.get(f"/reports/morning/{day}").get_data(as_text=True)
                    for day in mornings)
    ours = [r for r in released if r.landlord_id == landlord.id]
    assert ours and all(f"/reports/{r.id}" in pages for r in ours)


def test_demo_cars_are_kept_recommended_while_no_tablet_reports(runner, db_session):
    runner.invoke(args=["demo"])
    later = utcnow() + timedelta(minutes=10)  # long past the grace and the position's age
    patrols = db_session.scalars(select(Patrol).where(Patrol.status == "available")).all()
    assert patrols and not any(is_present(p, now=later) for p in patrols)

    stamped = stamp_demo_cars(db_session, now=later)

    assert stamped == len(patrols) + sum(  # the busy cars too: they are on duty
        1 for p in db_session.scalars(select(Patrol).where(Patrol.status == "busy")))
    assert all(is_present(p, now=later) and p.position_at == later for p in patrols)


def test_a_demo_car_without_a_tablet_accepts_what_it_is_sent_before_the_alarm(
        runner, db_session):
    runner.invoke(args=["demo"])
    now = utcnow()
    car = db_session.scalars(select(Patrol).where(Patrol.status == "available")).first()
    queued = db_session.scalars(select(Job).where(Job.status == "queued")).first()
    assign(db_session, queued, car, user_id=None)
    queued.dispatched_at = now - timedelta(seconds=10)
    db_session.flush()

    stamp_demo_cars(db_session, now=now)  # the car was just stamped: still, it accepts

    assert queued.status == "accepted" and queued.patrol_id == car.id
    assert queued.events[-1].kind == "accepted"


def test_a_demo_car_with_a_tablet_leaves_accepting_to_its_crew(runner, db_session):
    runner.invoke(args=["demo"])
    now = utcnow()
    car = db_session.scalars(select(Patrol).where(Patrol.status == "available")).first()
    db_session.add(PatrolPosition(patrol_id=car.id, lat=car.lat, lon=car.lon, at=now))
    queued = db_session.scalars(select(Job).where(Job.status == "queued")).first()
    assign(db_session, queued, car, user_id=None)
    queued.dispatched_at = now - timedelta(seconds=10)
    db_session.flush()

    stamp_demo_cars(db_session, now=now)

    assert queued.status == "assigned"


def test_a_car_whose_tablet_sends_positions_is_left_to_it(runner, db_session):
    runner.invoke(args=["demo"])
    now = utcnow()
    car = db_session.scalars(select(Patrol).where(Patrol.status == "available")).first()
    car.position_at = now - timedelta(seconds=5)  # a tablet's report, just now
    car.last_seen_at = None
    db_session.flush()

    stamp_demo_cars(db_session, now=now)

    assert car.position_at == now - timedelta(seconds=5) and car.last_seen_at is None


def test_send_morning_reports_now_sends_the_coming_mornings_mail_before_its_0600(
        runner, db_session, app):
    runner.invoke(args=["demo"])
    tz = ZoneInfo(app.config["DISPATCH_TZ"])
    coming = morning_of(utcnow(), tz)
    refused = runner.invoke(args=["send-morning-reports", "--date", coming.isoformat()])
    assert refused.exit_code == 2 and "har inte kommit än" in refused.output

    result = runner.invoke(args=["send-morning-reports", "--now", "--json"])

    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["morning"] == coming.isoformat()
    start, end = morning_window(coming, tz)
    landlords_with_news = set(db_session.scalars(
        select(IncidentReport.landlord_id).where(IncidentReport.status == "released",
                                                 IncidentReport.released_at >= start,
                                                 IncidentReport.released_at < end)))
    mails = db_session.scalars(select(MorningMail).where(MorningMail.morning == coming)).all()
    assert {m.landlord_id for m in mails} >= landlords_with_news
    assert all(m.status == "sent" for m in mails)


def test_send_morning_reports_takes_either_a_date_or_now(runner):
    result = runner.invoke(args=["send-morning-reports", "--now", "--date", "2026-11-26"])
    assert result.exit_code == 2 and "--date och --now" in result.output
