"""Log-in limits that slow a guesser without locking the owner out (issue 14, finding 6):
back-off per account and address pair, a much higher limit per address, 429 with
``Retry-After`` and a translated "try again in …", and the client address after ProxyFix."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select
from werkzeug.middleware.proxy_fix import ProxyFix

from dispatch.auth.lockout import LockoutPolicy
from dispatch.models import AuditEvent, utcnow

OWNER = "op@example.se"
ATTACKER = {"REMOTE_ADDR": "198.51.100.7"}
OWNER_ADDRESS = {"REMOTE_ADDR": "203.0.113.9"}


def _login(auth, email=OWNER, password="correct horse battery", address=ATTACKER, **kwargs):
    return auth.login(email, password=password, environ_base=address, **kwargs)


def _fail_five_times(auth, address=ATTACKER):
    for _ in range(5):
        assert _login(auth, password="guess", address=address).status_code == 401


def _audit(db_session, action):
    return db_session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                              .order_by(AuditEvent.id)).all()


def test_five_wrong_passwords_from_one_address_do_not_lock_the_owner_out_elsewhere(
        auth, client, create_user):
    create_user(email=OWNER)
    _fail_five_times(auth)
    owner = _login(auth, address=OWNER_ADDRESS)
    assert owner.status_code == 302 and owner.headers["Location"] == "/"
    assert OWNER in client.get("/").get_data(as_text=True)


def test_the_guessing_address_waits_even_with_the_right_password(auth, create_user, db_session):
    create_user(email=OWNER)
    _fail_five_times(auth)
    locked = _login(auth)
    assert locked.status_code == 429
    assert locked.headers["Retry-After"] == "30"
    assert ("För många misslyckade försök. Försök igen om 30 sekunder."
            in locked.get_data(as_text=True))
    [event] = _audit(db_session, "login.locked")
    assert (event.subject, event.ip, event.details) == (OWNER, "198.51.100.7", {"scope": "pair"})


def test_the_wait_is_said_in_the_users_language(app, auth, client, create_user):
    create_user(email=OWNER)
    _fail_five_times(auth)
    with app.app_context():  # a context of its own, as every request has outside the tests
        client.get("/login?lang=fi")
    with app.app_context():
        finnish = _login(auth)
    assert finnish.status_code == 429
    assert ("Liian monta epäonnistunutta yritystä. Yritä uudelleen 30 sekunnin päästä."
            in finnish.get_data(as_text=True))


def test_the_back_off_doubles_with_each_further_failure_and_is_capped(auth, create_user):
    create_user(email=OWNER)
    with time_machine.travel(utcnow(), tick=False) as clock:
        _fail_five_times(auth)
        waits = []
        for _ in range(7):
            locked = _login(auth, password="guess")
            assert locked.status_code == 429
            wait = int(locked.headers["Retry-After"])
            waits.append(wait)
            clock.shift(timedelta(seconds=wait - 1))
            assert _login(auth, password="guess").status_code == 429  # not yet
            clock.shift(timedelta(seconds=1))
            assert _login(auth, password="guess").status_code == 401  # tried, and wrong
        assert waits == [30, 60, 120, 240, 480, 900, 900]  # capped, not reset by the window
        clock.shift(timedelta(seconds=900))
        assert _login(auth).status_code == 302  # the right password after the wait


def test_a_success_from_the_pair_starts_its_count_afresh(auth, client, create_user):
    create_user(email=OWNER)
    for _ in range(4):
        assert _login(auth, password="guess").status_code == 401
    assert _login(auth).status_code == 302
    client.post("/logout", data={"csrf_token": auth.csrf_token("/")})
    for _ in range(4):
        assert _login(auth, password="guess").status_code == 401
    assert _login(auth).status_code == 302


def test_the_pairs_failures_are_forgotten_after_a_day(auth, create_user):
    create_user(email=OWNER)
    with time_machine.travel(utcnow(), tick=False) as clock:
        _fail_five_times(auth)
        clock.shift(timedelta(hours=24))
        for _ in range(4):  # a fresh allowance: the five are no longer remembered
            assert _login(auth, password="guess").status_code == 401
        assert _login(auth).status_code == 302


def test_one_address_spraying_many_accounts_is_stopped_by_the_per_address_limit(
        app, auth, client, create_user, monkeypatch, db_session):
    assert app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] == 100  # the default
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES_PER_ADDRESS", 12)
    create_user(email="victim@example.se")
    with time_machine.travel(utcnow(), tick=False) as clock:
        for n in range(12):  # never five on one account: the pair rule alone would not stop it
            assert _login(auth, f"user{n % 3}@example.se", "guess").status_code == 401
            clock.shift(timedelta(seconds=10))
        locked = _login(auth, "victim@example.se")
        assert locked.status_code == 429
        # Free again when the first failure leaves the 15-minute window (110 s ago).
        assert locked.headers["Retry-After"] == str(15 * 60 - 120)
        assert _login(auth, "victim@example.se", address=OWNER_ADDRESS).status_code == 302
        client.post("/logout", data={"csrf_token": auth.csrf_token("/")})
        assert _audit(db_session, "login.locked")[-1].details == {"scope": "address"}
        clock.shift(timedelta(seconds=15 * 60 - 120))
        assert _login(auth, "victim@example.se").status_code == 302


def test_the_per_address_limit_is_far_above_the_pairs_free_failures(app):
    policy = LockoutPolicy.from_config(app.config)
    assert policy.failures_before_backoff == 5
    assert policy.max_per_address >= 10 * policy.failures_before_backoff
    assert policy.backoff(4) == timedelta(0)
    assert policy.backoff(5) == timedelta(seconds=30)
    assert policy.backoff(10_000) == timedelta(minutes=15)


# -- the client's address, after ProxyFix ----------------------------------------------------

NGINX = {"REMOTE_ADDR": "10.0.0.1"}


@pytest.fixture
def behind_one_trusted_proxy(app, monkeypatch):
    """The app as ``TRUSTED_PROXIES=1`` sets it up (``dispatch/core/security.py``)."""
    monkeypatch.setattr(app, "wsgi_app", ProxyFix(app.wsgi_app, x_for=1, x_proto=1))


def _via_proxy(auth, forwarded_for, password="correct horse battery"):
    return auth.login(OWNER, password=password, environ_base=NGINX,
                      headers={"X-Forwarded-For": forwarded_for})


def test_behind_a_trusted_proxy_each_client_address_is_its_own_pair(
        auth, create_user, db_session, behind_one_trusted_proxy):
    create_user(email=OWNER)
    for _ in range(5):
        assert _via_proxy(auth, "198.51.100.7", "guess").status_code == 401
    assert _via_proxy(auth, "198.51.100.7").status_code == 429
    assert _via_proxy(auth, "203.0.113.9").status_code == 302  # the owner, same nginx
    assert {e.ip for e in _audit(db_session, "login.failed")} == {"198.51.100.7"}
    assert _audit(db_session, "login.succeeded")[0].ip == "203.0.113.9"


def test_behind_a_trusted_proxy_only_the_address_it_appended_counts(
        auth, create_user, db_session, behind_one_trusted_proxy):
    create_user(email=OWNER)
    # The guesser writes a new address in front each time; nginx appends the real one.
    for n in range(5):
        assert _via_proxy(auth, f"192.0.2.{n}, 198.51.100.7", "guess").status_code == 401
    assert _via_proxy(auth, "192.0.2.99, 198.51.100.7").status_code == 429


def test_without_trusted_proxies_a_forged_x_forwarded_for_does_not_escape_the_limit(
        app, auth, create_user, db_session):
    assert app.config["TRUSTED_PROXIES"] == 0
    create_user(email=OWNER)
    for n in range(5):
        assert _via_proxy(auth, f"192.0.2.{n}", "guess").status_code == 401
    assert _via_proxy(auth, "192.0.2.99").status_code == 429
    assert {e.ip for e in _audit(db_session, "login.failed")} == {"10.0.0.1"}
