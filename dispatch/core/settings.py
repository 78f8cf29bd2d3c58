"""Settings read from the environment (12-factor), each with a default that works on one machine.

One flat module with small parse helpers, so that every knob the product has is listed here
and nowhere else. Names and defaults follow ../shared/CONTRACT.md.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path


def env_str(name: str, default: str | None = None) -> str | None:
    """Return the variable, or the default when it is unset or empty."""
    value = os.environ.get(name, "").strip()
    return value or default


def env_int(name: str, default: int) -> int:
    """Return the variable as an integer; a malformed value is a start-up error, not a guess."""
    raw = env_str(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise RuntimeError(f"{name} must be an integer, got {raw!r}") from exc


def env_bool(name: str, default: bool) -> bool:
    """Return the variable as a boolean (1/true/yes/on)."""
    raw = env_str(name)
    if raw is None:
        return default
    return raw.lower() in {"1", "true", "yes", "on"}


def _secret_key(instance_path: Path) -> str:
    """SECRET_KEY from the environment, else one generated once and kept in the instance folder.

    Keeping it on disk means sessions survive a restart on one machine without any set-up;
    several machines must share SECRET_KEY through the environment.
    """
    key = env_str("SECRET_KEY")
    if key:
        return key
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


def load(instance_path: Path) -> dict:
    """Build the Flask config mapping from the environment."""
    database_url = env_str("DATABASE_URL") or f"sqlite:///{instance_path / 'dispatch.db'}"
    # Heroku-style URLs say postgres://; SQLAlchemy wants a driver name.
    if database_url.startswith("postgres://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgres://") :]
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://") :]
    base_url = env_str("BASE_URL", "http://localhost:5000")
    return {
        "SECRET_KEY": _secret_key(instance_path),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": env_str("REDIS_URL"),
        "SMTP_URL": env_str("SMTP_URL"),
        "MAIL_FROM": env_str("MAIL_FROM", "Störningsjouren <noreply@storningsjour.example>"),
        "OUTBOX_DIR": str(instance_path / "outbox"),
        "BASE_URL": base_url.rstrip("/"),
        "DISPATCH_TZ": env_str("DISPATCH_TZ", "Europe/Stockholm"),
        "REPORT_RETENTION_DAYS": env_int("REPORT_RETENTION_DAYS", 90),
        # How a landlord reaches the service in the daytime (office hours, phone, e-mail),
        # printed in the morning mail and every report; empty: not printed.
        "DAYTIME_CONTACT": env_str(
            "DAYTIME_CONTACT", "info@storningsjour.example, 08-123 456 00 (8–16)"),
        # Where the accessibility statement's feedback form sends what a user reports.
        "ACCESSIBILITY_FEEDBACK_TO": env_str("ACCESSIBILITY_FEEDBACK_TO",
                                             "tillganglighet@storningsjour.example"),
        "SESSION_COOKIE_SECURE": base_url.startswith("https://"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": base_url.startswith("https://"),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "BABEL_DEFAULT_LOCALE": "sv",
        "BABEL_DEFAULT_TIMEZONE": env_str("DISPATCH_TZ", "Europe/Stockholm"),
        "LANGUAGES": ["sv", "en", "fi"],
        # Log-in attempt limits (dispatch/auth/lockout.py): one account from one address may
        # fail this many times freely, then waits LOGIN_BACKOFF_BASE_S after the next failure,
        # twice that after the one after, ... at most LOGIN_BACKOFF_MAX_S; other addresses are
        # not held up. The pair's failures are remembered LOGIN_BACKOFF_MEMORY_HOURS (or until
        # it logs in). One address failing LOGIN_MAX_FAILURES_PER_ADDRESS times within the
        # window (over any accounts) waits until its failures age out of it.
        "LOGIN_FAILURES_BEFORE_BACKOFF": env_int("LOGIN_FAILURES_BEFORE_BACKOFF", 5),
        "LOGIN_BACKOFF_BASE_S": env_int("LOGIN_BACKOFF_BASE_S", 30),
        "LOGIN_BACKOFF_MAX_S": env_int("LOGIN_BACKOFF_MAX_S", 15 * 60),
        "LOGIN_BACKOFF_MEMORY_HOURS": env_int("LOGIN_BACKOFF_MEMORY_HOURS", 24),
        "LOGIN_MAX_FAILURES_PER_ADDRESS": env_int("LOGIN_MAX_FAILURES_PER_ADDRESS", 100),
        "LOGIN_FAILURE_WINDOW_MINUTES": env_int("LOGIN_FAILURE_WINDOW_MINUTES", 15),
        # Reverse proxies in front of the web processes (nginx: 1); their X-Forwarded-For and
        # -Proto are believed, so many users behind one proxy are not one address. 0: none.
        "TRUSTED_PROXIES": env_int("TRUSTED_PROXIES", 0),
        "CORS_ALLOWED_ORIGINS": [o for o in (env_str("CORS_ALLOWED_ORIGINS") or "").split() if o],
        "SOCKETIO_ASYNC_MODE": env_str("SOCKETIO_ASYNC_MODE", "threading"),
        "GEOCODER": env_str("GEOCODER"),  # e.g. "nominatim"; unset: no geocoding on import
        # Register files (imports/limits.py): an upload larger than this is answered 413; a
        # register of 1,000,000 rows is about 250 MB as CSV. The rest bound what a file may
        # hold, so that a hostile one costs neither memory (< 1 GiB) nor hours.
        "MAX_CONTENT_LENGTH": env_int("IMPORT_MAX_UPLOAD_BYTES", 512 << 20),
        "IMPORT_MAX_ROWS": env_int("IMPORT_MAX_ROWS", 2_000_000),
        "IMPORT_MAX_CELL_CHARS": env_int("IMPORT_MAX_CELL_CHARS", 32_767),
        "IMPORT_MAX_LINE_BYTES": env_int("IMPORT_MAX_LINE_BYTES", 1 << 20),
        "IMPORT_MAX_XLSX_BYTES": env_int("IMPORT_MAX_XLSX_BYTES", 4 << 30),
        "IMPORT_MAX_XLSX_PART_BYTES": env_int("IMPORT_MAX_XLSX_PART_BYTES", 256 << 20),
        "IMPORT_MAX_XLSX_RATIO": env_int("IMPORT_MAX_XLSX_RATIO", 100),
        # Patrols whose last position is older than this are not recommended.
        "PATROL_POSITION_MAX_AGE_S": env_int("PATROL_POSITION_MAX_AGE_S", 300),
        # A car is recommended only while a tablet of it is connected, or was (or sent a
        # position) within this many seconds: a tunnel or a web process restarting is not
        # the end of a shift; a tablet that is gone is.
        "PRESENCE_GRACE_S": env_int("PRESENCE_GRACE_S", 60),
        # The acknowledgement timer (jobs/ack_timer.py), counted from the job's dispatch to a
        # car: not accepted by a person on the car within ACK_ALARM_AFTER_S, an alarm on
        # every console (and in /healthz, the log); within ACK_REDISPATCH_AFTER_S, the server
        # sends it to the next nearest available car itself. Every web process checks every
        # ACK_CHECK_S seconds (0: never, as in the in-process tests).
        "ACK_ALARM_AFTER_S": env_int("ACK_ALARM_AFTER_S", 60),
        "ACK_REDISPATCH_AFTER_S": env_int("ACK_REDISPATCH_AFTER_S", 120),
        "ACK_CHECK_S": env_int("ACK_CHECK_S", 5),
        # The check-in timer on site (jobs/safety.py, issue 19): the tablet asks "allt väl?"
        # every CHECKIN_INTERVAL_S (CHECKIN_FIGHT_THREAT_S for a fight or threat); silent past
        # that plus CHECKIN_GRACE_S, an alarm on every console.
        "CHECKIN_INTERVAL_S": env_int("CHECKIN_INTERVAL_S", 600),
        "CHECKIN_FIGHT_THREAT_S": env_int("CHECKIN_FIGHT_THREAT_S", 300),
        "CHECKIN_GRACE_S": env_int("CHECKIN_GRACE_S", 120),
        # Unacknowledged messages to tablets are sent again this often, by a loop in each web
        # process that also stamps its tablets' presence; 0: no such loop (in-process tests).
        "DELIVERY_RESEND_S": env_int("DELIVERY_RESEND_S", 10),
        # A tablet's shift log-in (device token) lasts this long unless an admin revokes it.
        "FIELD_SESSION_DAYS": env_int("FIELD_SESSION_DAYS", 7),
        # A connected tablet's token is checked again this often (revocation takes effect).
        "TOKEN_RECHECK_S": env_int("TOKEN_RECHECK_S", 30),
        # SQLite: how long a write waits for its turn (one writer at a time: another thread
        # of this process, or another process such as an import) before it gives up.
        "SQLITE_WRITE_WAIT_S": env_int("SQLITE_WRITE_WAIT_S", 30),
        # The address search's index (register/index_files.py): its files (unset:
        # <instance>/search-index; web processes on one machine that share it share the
        # files), and how often each web process looks for a new register version itself.
        "SEARCH_INDEX_DIR": env_str("SEARCH_INDEX_DIR"),
        "SEARCH_INDEX_POLL_S": env_int("SEARCH_INDEX_POLL_S", 5),
        # Map tiles for the console's map; empty: no tiles (markers on a blank map).
        "MAP_TILE_URL": env_str("MAP_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png"),
        "MAP_ATTRIBUTION": env_str("MAP_ATTRIBUTION", "© OpenStreetMap"),
        "LOG_LEVEL": env_str("LOG_LEVEL", "INFO"),
        "LOG_FORMAT": env_str("LOG_FORMAT", "text" if sys.stderr.isatty() else "json"),
        "WTF_CSRF_TIME_LIMIT": None,  # tied to the session; an operator's shift outlasts an hour
        # Tenant identity (issue 15, dispatch/auth/identity). BankID RP API v6: the service's
        # base URL (…/rp/v6.0/), our client certificate and key (PEM) and the CA its server
        # certificate is checked against; unset URL or certificate: no BankID button.
        "BANKID_URL": env_str("BANKID_URL"),
        "BANKID_CERT": env_str("BANKID_CERT"),
        "BANKID_KEY": env_str("BANKID_KEY"),
        "BANKID_CA": env_str("BANKID_CA"),
        # OpenID Connect for Finnish e-identification (an FTN broker): the issuer (its
        # /.well-known/openid-configuration is read), our client id and secret; unset: no button.
        "OIDC_FI_ISSUER": env_str("OIDC_FI_ISSUER"),
        "OIDC_FI_CLIENT_ID": env_str("OIDC_FI_CLIENT_ID"),
        "OIDC_FI_CLIENT_SECRET": env_str("OIDC_FI_CLIENT_SECRET"),
        # Tenant accounts: how long the activation and the reset link work, and how long an
        # account is kept after the tenant's last agreement ended.
        "TENANT_ACTIVATION_HOURS": env_int("TENANT_ACTIVATION_HOURS", 24),
        "TENANT_RESET_HOURS": env_int("TENANT_RESET_HOURS", 24),
        "TENANT_ACCOUNT_KEEP_DAYS": env_int("TENANT_ACCOUNT_KEEP_DAYS", 90),
        # People an identification made for the housing queue (no landlord) who never became
        # an account or an application are deleted this many days after it (issue 15).
        "TENANT_ABANDONED_PERSON_DAYS": env_int("TENANT_ABANDONED_PERSON_DAYS", 30),
        # Strong identifications (BankID orders, Finnish e-identifications) one client address
        # may start within the window; more answer 429.
        "TENANT_IDENTIFICATION_STARTS_PER_ADDRESS": env_int(
            "TENANT_IDENTIFICATION_STARTS_PER_ADDRESS", 20),
        "TENANT_IDENTIFICATION_WINDOW_MINUTES": env_int("TENANT_IDENTIFICATION_WINDOW_MINUTES",
                                                        10),
        # Mina sidor (issue 15): a tenant's future laundry bookings at most, how many days
        # ahead passes can be booked, and the largest photo a fault report takes (bytes).
        "PORTAL_LAUNDRY_MAX_BOOKINGS": env_int("PORTAL_LAUNDRY_MAX_BOOKINGS", 2),
        "PORTAL_LAUNDRY_DAYS_AHEAD": env_int("PORTAL_LAUNDRY_DAYS_AHEAD", 14),
        "PORTAL_PHOTO_MAX_BYTES": env_int("PORTAL_PHOTO_MAX_BYTES", 8 << 20),
        # The housing queue (issue 16): whose queue /bostad shows (a landlord's code; unset:
        # the only landlord there is), how many days a vacant flat is published, how many
        # applicants an offer round takes at most (1-5) and the days they have to answer.
        "HOUSING_LANDLORD": env_str("HOUSING_LANDLORD"),
        "HOUSING_PUBLISH_DAYS": env_int("HOUSING_PUBLISH_DAYS", 7),
        "HOUSING_MAX_OFFERS": env_int("HOUSING_MAX_OFFERS", 5),
        "HOUSING_ANSWER_DAYS": env_int("HOUSING_ANSWER_DAYS", 5),
        # SMS escalation (issue 19, jobs/escalation.py, core/sms.py): an alarm on the consoles
        # that nobody handles (a job not accepted, a missed check-in, a car's alarm) goes by
        # SMS to the car's phone ESCALATE_CAR_AFTER_S after the alarm, and to the duty
        # supervisor (SMS_SUPERVISOR_TO, E.164 or a Swedish number) ESCALATE_SUPERVISOR_AFTER_S
        # after it. SMS_BACKEND "log" (the default) sends nothing and logs that it would have
        # (no number, no text); "http" posts to a 46elks-style gateway: SMS_GATEWAY_URL/sms with
        # basic auth, the sender name SMS_FROM, SMS_GATEWAY_TIMEOUT_S per request, at most
        # SMS_MAX_ATTEMPTS tries SMS_RETRY_S apart (times the attempt). Texts in SMS_LOCALE.
        "SMS_BACKEND": env_str("SMS_BACKEND", "log"),
        "SMS_GATEWAY_URL": env_str("SMS_GATEWAY_URL", "https://api.46elks.com/a1"),
        "SMS_GATEWAY_USER": env_str("SMS_GATEWAY_USER"),
        "SMS_GATEWAY_PASSWORD": env_str("SMS_GATEWAY_PASSWORD"),
        "SMS_FROM": env_str("SMS_FROM", "Jouren"),
        "SMS_GATEWAY_TIMEOUT_S": env_int("SMS_GATEWAY_TIMEOUT_S", 10),
        "SMS_MAX_ATTEMPTS": env_int("SMS_MAX_ATTEMPTS", 3),
        "SMS_RETRY_S": env_int("SMS_RETRY_S", 30),
        "SMS_SUPERVISOR_TO": env_str("SMS_SUPERVISOR_TO"),
        "SMS_LOCALE": env_str("SMS_LOCALE", "sv"),
        "ESCALATE_CAR_AFTER_S": env_int("ESCALATE_CAR_AFTER_S", 30),
        "ESCALATE_SUPERVISOR_AFTER_S": env_int("ESCALATE_SUPERVISOR_AFTER_S", 120),
    }
