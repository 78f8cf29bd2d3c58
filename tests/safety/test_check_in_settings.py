"""Check-in intervals per landlord and category (issue 19): an admin's overrides decide how
often a car on site is asked "all well?" (the landlord's row for the category, then the
category's, then the fight-or-threat default, then the landlord's, then the default); the
server's timer and the tablet's job use the same interval. The admin page keeps what was typed
when it refuses it, says why beside the field, and every change is audited."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from dispatch.jobs.checkins import Defaults, interval_s, set_interval
from dispatch.jobs.safety import check_on_site
from dispatch.models import AuditEvent, Delivery
from dispatch.models.safety import CheckInSetting
from tests.callcenter.test_api import _job, acme, operator, patrols, sockets  # noqa: F401
from tests.safety.test_check_in import on_site  # noqa: F401

TIMES = {"default_s": 600, "fight_threat_s": 300, "grace_s": 120}
DEFAULTS = Defaults(600, 300)


@pytest.fixture
def admin(auth, create_user):
    user = create_user(role="admin", email="admin@example.se")
    auth.login("admin@example.se")
    return user


def test_without_overrides_fight_or_threat_is_five_minutes_and_the_rest_ten(db_session, acme):  # noqa: F811
    assert interval_s(db_session, acme.id, "fight_threat", DEFAULTS) == 300
    assert interval_s(db_session, acme.id, "music", DEFAULTS) == 600


def test_the_most_specific_override_wins_and_a_landlords_own_does_not_lengthen_fights(
        db_session, acme, create_landlord):  # noqa: F811
    other = create_landlord(code="OTHER")
    set_interval(db_session, landlord_id=acme.id, category=None, interval_s=900, user_id=None)
    assert interval_s(db_session, acme.id, "music", DEFAULTS) == 900
    assert interval_s(db_session, acme.id, "fight_threat", DEFAULTS) == 300
    assert interval_s(db_session, other.id, "music", DEFAULTS) == 600
    set_interval(db_session, landlord_id=None, category="party", interval_s=420, user_id=None)
    assert interval_s(db_session, acme.id, "party", DEFAULTS) == 420
    set_interval(db_session, landlord_id=acme.id, category="fight_threat", interval_s=240,
                 user_id=None)
    assert interval_s(db_session, acme.id, "fight_threat", DEFAULTS) == 240
    assert interval_s(db_session, other.id, "fight_threat", DEFAULTS) == 300


def test_the_timer_counts_the_landlords_interval(on_site, db_session, acme):  # noqa: F811
    set_interval(db_session, landlord_id=acme.id, category="music", interval_s=120, user_id=None)
    _tablet, job = on_site("music")
    start = job.arrived_at
    assert check_on_site(db_session, now=start + timedelta(seconds=239), **TIMES) == []
    assert check_on_site(db_session, now=start + timedelta(seconds=241), **TIMES) == [job.id]


def test_the_tablet_is_told_the_jobs_interval(on_site, db_session, acme):  # noqa: F811
    set_interval(db_session, landlord_id=None, category="music", interval_s=180, user_id=None)
    _tablet, job = on_site("music")
    payload = db_session.scalars(select(Delivery.payload).where(
        Delivery.job_id == job.id, Delivery.event == "job.assigned")).first()
    assert payload["check_in_s"] == 180


def test_the_admin_sets_an_interval_and_it_is_audited(client, auth, admin, acme, db_session):  # noqa: F811
    page = client.get("/admin/check-ins")
    assert page.status_code == 200 and f'value="{acme.id}"' in page.get_data(as_text=True)
    answer = client.post("/admin/check-ins", data={
        "csrf_token": auth.csrf_token("/admin/check-ins"), "landlord": str(acme.id),
        "category": "music", "minutes": "7"})
    assert answer.status_code == 302
    row = db_session.scalar(select(CheckInSetting))
    assert (row.landlord_id, row.category, row.interval_s, row.changed_by_id) == (
        acme.id, "music", 420, admin.id)
    event = db_session.scalar(select(AuditEvent).where(
        AuditEvent.action == "checkin.setting_changed"))
    assert event.user_id == admin.id and event.details["interval_s"] == 420
    listed = client.get("/admin/check-ins").get_data(as_text=True)
    assert f'id="checkin-{row.id}"' in listed and "7" in listed


@pytest.mark.parametrize("minutes", ["abc", "0", "1000", ""])
def test_a_bad_interval_is_refused_beside_the_field_and_what_was_typed_stays(
        client, auth, admin, acme, db_session, minutes):  # noqa: F811
    answer = client.post("/admin/check-ins", data={
        "csrf_token": auth.csrf_token("/admin/check-ins"), "landlord": str(acme.id),
        "category": "party", "minutes": minutes})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert 'id="minutes-error"' in html and 'aria-invalid="true"' in html
    assert f'value="{minutes}"' in html
    assert f'<option selected value="{acme.id}">' in html or \
        f'value="{acme.id}" selected' in html
    assert db_session.scalar(select(CheckInSetting)) is None


def test_neither_landlord_nor_category_is_refused_at_the_landlord_field(
        client, auth, admin, acme, db_session):  # noqa: F811
    answer = client.post("/admin/check-ins", data={
        "csrf_token": auth.csrf_token("/admin/check-ins"), "landlord": "", "category": "",
        "minutes": "12"})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400 and 'id="landlord-error"' in html
    assert 'value="12"' in html


def test_removing_an_interval_brings_the_next_rule_back_and_is_audited(
        client, auth, admin, acme, db_session):  # noqa: F811
    row = set_interval(db_session, landlord_id=acme.id, category=None, interval_s=900,
                       user_id=admin.id)
    db_session.commit()
    answer = client.post(f"/admin/check-ins/{row.id}/remove",
                         data={"csrf_token": auth.csrf_token("/admin/check-ins")})
    assert answer.status_code == 302
    db_session.expire_all()
    assert db_session.scalar(select(CheckInSetting)) is None
    assert interval_s(db_session, acme.id, "music", DEFAULTS) == 600
    assert db_session.scalar(select(AuditEvent).where(
        AuditEvent.action == "checkin.setting_removed")) is not None


def test_an_operator_may_not_change_intervals(client, auth, create_user):
    create_user(role="operator", email="op@example.se")
    auth.login("op@example.se")
    assert client.get("/admin/check-ins").status_code in (302, 403)

