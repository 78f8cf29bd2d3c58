"""Tenants' accounts as plain functions (issue 15), shared by the tenant portal and the coming
housing queue (one account for both).

* Who may have one: a person of the register who is a party to an agreement in force today
  (``tenancy``); a landlord's ``LandlordAccountPolicy.register_from_signing`` lets a signed
  agreement that has not started yet register, with log-in opening on the start day. After the
  last agreement ends, log-in stops with a clear message and the account is deleted
  ``TENANT_ACCOUNT_KEEP_DAYS`` later (``purge_ended``), audited.
* Strong identification first (``identify``: BankID, a Finnish e-identification, the legacy
  PIN; ``identify_at_office`` by staff, who find the person with ``find_tenants``: name,
  kundnummer, address, avtalsnummer or personnummer, the number masked), kept as a
  ``TenantIdentification`` (the person's id, never the number) that one registration uses.
* Legacy PINs come with the invoice import (``set_legacy_pins``; or staff,
  ``set_legacy_pin_by_staff``, audited): an Argon2id hash only, replaced by a re-import, void
  once the person has a password (``void_legacy_pin`` at registration and at every password
  set; ``has_password``).
* People an identification made for the housing queue who never became anything are deleted
  after ``TENANT_ABANDONED_PERSON_DAYS`` (``purge_abandoned_people``, the nightly job in
  ``auth.jobs``; audited count).
* The e-mail address is the username and never changes; the password's rule depends on the
  identification (``password_problems``); activation and reset links are signed tokens
  (itsdangerous) valid ``TENANT_ACTIVATION_HOURS``/``TENANT_RESET_HOURS`` that hold the
  account's id only; a reset link stops working once the password changed.
* A person with no agreement in force who is in the housing queue logs in to the queue only
  (``LoginResult.queue_only``): the queue adds its check with ``allow_queue_applicants`` and
  hears of every log-in through ``on_login`` (auth never imports the queue); such an account is
  not purged while the person is in the queue.
* Log-in within the same attempt limits as staff (``dispatch/auth/lockout.py``), counted under
  ``tenant:<e-mail>`` (and the legacy PIN under ``tenant-pin:<digest>``: never the number).
* Starting a strong identification (a BankID order, a Finnish e-identification) is limited
  per client address (``start_identification``): at most
  ``TENANT_IDENTIFICATION_STARTS_PER_ADDRESS`` starts within
  ``TENANT_IDENTIFICATION_WINDOW_MINUTES``, counted from the audit log like the log-in limits
  (``tenant.identification_started``), so the limit holds across web processes.

Session and values in, values out; the caller commits. Imports core, models and auth.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from rapidfuzz import fuzz
from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from dispatch.auth.identity import Identity
from dispatch.auth.identity.numbers import InvalidNumber, masked, normalise
from dispatch.auth.lockout import Lockout, LockoutPolicy, lockout
from dispatch.auth.passwords import hash_password, hash_pin, verify_no_pin, verify_password
from dispatch.auth.service import normalise_email
from dispatch.core.audit import record
from dispatch.core.database import outside_transaction
from dispatch.models import (
    Agreement,
    AgreementObject,
    AgreementParty,
    AuditEvent,
    Entrance,
    Landlord,
    Person,
    RentalObject,
    utcnow,
)
from dispatch.models.accounts import (
    LandlordAccountPolicy,
    LegacyPin,
    TenantAccount,
    TenantIdentification,
)

IDENTIFICATION_VALID = timedelta(minutes=30)  # from identification to the registration form
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


# --- the housing queue's hooks (registered by dispatch.housing at import) ---------------------

QueueCheck = Callable[[Session, int, date], bool]
LoginHook = Callable[[Session, TenantAccount, date], None]
_queue_checks: list[QueueCheck] = []
_login_hooks: list[LoginHook] = []


def allow_queue_applicants(check: QueueCheck) -> QueueCheck:
    """Register ``check(session, person_id, today)``: True lets a person with no agreement in
    force log in (to the queue only). Usable as a decorator; registering twice is once."""
    if check not in _queue_checks:
        _queue_checks.append(check)
    return check


def on_login(hook: LoginHook) -> LoginHook:
    """Register ``hook(session, account, today)``, called after every successful log-in
    (password or strong identification) before the caller commits."""
    if hook not in _login_hooks:
        _login_hooks.append(hook)
    return hook


def is_queue_applicant(session: Session, person_id: int | None, today: date) -> bool:
    return person_id is not None and any(check(session, person_id, today)
                                         for check in _queue_checks)


def _logged_in(session: Session, account: TenantAccount, today: date) -> None:
    for hook in _login_hooks:
        hook(session, account, today)


# --- who is a tenant -------------------------------------------------------------------------

@dataclass(frozen=True)
class Tenancy:
    """A person's standing: ``current`` (an agreement in force), ``signed`` (one that starts
    on ``starts_on``, registrable where the landlord allows it), ``ended`` or ``none``."""

    state: str
    person_id: int | None = None
    starts_on: date | None = None
    landlord_country: str | None = None


def _from_signing(session: Session, landlord_id: int) -> bool:
    policy = session.get(LandlordAccountPolicy, landlord_id)
    return bool(policy and policy.register_from_signing)


def _agreements_of(session: Session, person_ids: list[int]):
    return session.execute(
        select(AgreementParty.person_id, Agreement)
        .join(Agreement, Agreement.id == AgreementParty.agreement_id)
        .where(AgreementParty.person_id.in_(person_ids))).all()


def _standing(session: Session, rows, today: date) -> Tenancy:
    from dispatch.models import Landlord

    found, signed, ended = None, None, False
    for person_id, agreement in rows:
        if agreement.in_force(today):
            found = found or (person_id, agreement)
        elif agreement.starts_on is not None and agreement.starts_on > today:
            if _from_signing(session, agreement.landlord_id):
                if signed is None or agreement.starts_on < signed[1].starts_on:
                    signed = (person_id, agreement)
        else:
            ended = True
    if found is not None:
        landlord = session.get(Landlord, found[1].landlord_id)
        return Tenancy("current", found[0], landlord_country=landlord.country)
    if signed is not None:
        landlord = session.get(Landlord, signed[1].landlord_id)
        return Tenancy("signed", signed[0], signed[1].starts_on, landlord.country)
    return Tenancy("ended" if ended else "none")


def register_from_signing(session: Session, landlord_id: int) -> bool:
    """A landlord's setting (the default, False, for a landlord without a policy row)."""
    return _from_signing(session, landlord_id)


def set_register_from_signing(session: Session, landlord_id: int, value: bool, *,
                              user_id: int | None = None,
                              ip: str | None = None) -> LandlordAccountPolicy:
    """A landlord's setting: may a signed agreement register before it starts? Audited with
    who changed it (a staff member's id; none from the command line) and the value before."""
    policy = session.get(LandlordAccountPolicy, landlord_id)
    before = bool(policy and policy.register_from_signing)
    if policy is None:
        policy = LandlordAccountPolicy(landlord_id=landlord_id)
        session.add(policy)
    policy.register_from_signing = value
    session.flush()
    record(session, "tenant.policy_changed", subject=f"landlord-id:{landlord_id}", ip=ip,
           user_id=user_id, details={"register_from_signing": value, "before": before})
    return policy


def tenancy_of_number(session: Session, number: str, today: date) -> Tenancy:
    """The standing of whoever of the register has this identity number (stored form)."""
    ids = list(session.scalars(select(Person.id).where(Person.personnummer == number)))
    return _standing(session, _agreements_of(session, ids), today) if ids else Tenancy("none")


def tenancy_of_person(session: Session, person_id: int | None, today: date) -> Tenancy:
    """The standing of the account's person (and of the register's other rows with the same
    number: a re-import or a second landlord may hold the person twice)."""
    if person_id is None:
        return Tenancy("none")
    person = session.get(Person, person_id)
    if person is None:
        return Tenancy("none")
    ids = [person_id]
    if person.personnummer:
        ids = list(session.scalars(select(Person.id).where(
            Person.personnummer == person.personnummer)))
    standing = _standing(session, _agreements_of(session, ids), today)
    if standing.person_id is not None and standing.person_id != person_id:
        # Keep the account's own person when it is a tenant too.
        own = _standing(session, _agreements_of(session, [person_id]), today)
        if own.state == standing.state:
            return own
    return standing


# --- finding a tenant at the office ---------------------------------------------------------

@dataclass(frozen=True)
class TenantMatch:
    """A person the office search found: what staff need to tell people apart (the number
    masked), and their standing (``current`` or ``signed``)."""

    person_id: int
    name: str
    masked_number: str
    kundnummer: str
    landlord: str
    avtalsnummer: tuple[str, ...]
    address: str
    state: str
    landlord_id: int | None = None


ADDRESS_RE = re.compile(r"^(?P<street>\D+?)\s*(?P<number>\d+)\s*(?P<letter>[A-Za-zÅÄÖåäö]?)$")
SEARCH_CANDIDATES = 200


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _name_has(word: str):
    """The name contains the word, whatever its case: ILIKE (SQLite folds ASCII letters only,
    so "åsa" also looks for "Åsa" and "ÅSA" as typed)."""
    return or_(*[Person.name.ilike(f"%{_like(w)}%", escape="\\")
                 for w in dict.fromkeys((word, word.capitalize(), word.lower(), word.upper()))])


def find_tenants(session: Session, query: str, today: date, *, limit: int = 20,
                 landlord_ids: list[int] | None = None) -> list[TenantMatch]:
    """The tenants (an agreement in force, or signed where the landlord lets them register)
    that ``query`` names: a personnummer (any common form), a kundnummer, an avtalsnummer, an
    address ("Götgatan 12 B") or the name (every word in it, in any order; the closest names
    first, ranked with rapidfuzz). ``landlord_ids``: only these landlords' tenants."""
    query = " ".join((query or "").split())[:100]
    if len(query) < 2:
        return []
    ids: list[int] = []

    def add(rows) -> None:
        ids.extend(i for i in rows if i not in ids)

    try:
        number = normalise(query)
    except InvalidNumber:
        number = None
    if number:
        add(session.scalars(select(Person.id).where(Person.personnummer == number)
                            .limit(SEARCH_CANDIDATES)))
    lowered = query.lower()
    add(session.scalars(select(Person.id).where(func.lower(Person.kundnummer) == lowered)
                        .limit(SEARCH_CANDIDATES)))
    add(session.scalars(
        select(AgreementParty.person_id)
        .join(Agreement, Agreement.id == AgreementParty.agreement_id)
        .where(func.lower(Agreement.avtalsnummer) == lowered).limit(SEARCH_CANDIDATES)))
    address = ADDRESS_RE.match(query)
    if address:
        where = [Entrance.street.ilike(_like(address["street"].strip()) + "%", escape="\\"),
                 Entrance.street_number == int(address["number"])]
        if address["letter"]:
            where.append(func.upper(Entrance.street_letter) == address["letter"].upper())
        add(session.scalars(
            select(AgreementParty.person_id)
            .join(AgreementObject, AgreementObject.agreement_id == AgreementParty.agreement_id)
            .join(RentalObject, RentalObject.id == AgreementObject.object_id)
            .join(Entrance, Entrance.id == RentalObject.entrance_id)
            .where(*where).distinct().limit(SEARCH_CANDIDATES)))
    words = [w for w in query.split() if not any(c.isdigit() for c in w)]
    if words and not ids:
        rows = session.execute(
            select(Person.id, Person.name).where(
                Person.landlord_id.is_not(None), *[_name_has(w) for w in words])
            .limit(SEARCH_CANDIDATES)).all()
        rows.sort(key=lambda row: -fuzz.WRatio(query, row.name))
        add(row.id for row in rows)
    found = []
    for person_id in ids:
        match = tenant_match(session, person_id, today)
        if match is not None and (landlord_ids is None or match.landlord_id in landlord_ids):
            found.append(match)
            if len(found) >= limit:
                break
    return found


def tenant_match(session: Session, person_id: int, today: date) -> TenantMatch | None:
    """The office search's line for a person; None unless they are a tenant (current, or
    signed where the landlord lets them register)."""
    person = session.get(Person, person_id)
    if person is None:
        return None
    rows = _agreements_of(session, [person_id])
    standing = _standing(session, rows, today)
    if standing.state not in ("current", "signed"):
        return None
    agreements = [a for _p, a in rows if a.in_force(today) or (
        a.starts_on is not None and a.starts_on > today)]
    entrance = session.execute(
        select(Entrance).join(RentalObject, RentalObject.entrance_id == Entrance.id)
        .join(AgreementObject, AgreementObject.object_id == RentalObject.id)
        .where(AgreementObject.agreement_id.in_([a.id for a in agreements]))
        .order_by(RentalObject.object_type != "lägenhet").limit(1)).scalar()
    address = ""
    if entrance is not None:
        address = f"{entrance.street} {entrance.street_number or ''}{entrance.street_letter}"
        address = f"{address.strip()}, {entrance.ort}"
    landlord = session.get(Landlord, person.landlord_id) if person.landlord_id else None
    return TenantMatch(
        person_id=person.id, name=person.name, masked_number=masked(person.personnummer),
        kundnummer=person.kundnummer or "", landlord=landlord.name if landlord else "",
        avtalsnummer=tuple(sorted(a.avtalsnummer for a in agreements if a.avtalsnummer)),
        address=address, state=standing.state, landlord_id=person.landlord_id)


# --- identification --------------------------------------------------------------------------

IDENTIFICATION_STARTED = "tenant.identification_started"


def start_identification(session: Session, method: str, *, ip: str | None, limit: int,
                         window: timedelta, now: datetime | None = None) -> Lockout | None:
    """Record that ``ip`` starts a strong identification (``bankid`` or ``oidc``), or, when
    the address started ``limit`` of them within ``window``, refuse: the ``Lockout`` says
    until when (the oldest start that counts leaves the window). Audited either way."""
    now = now or utcnow()
    if ip:
        since = now - window
        starts = select(AuditEvent.at).where(AuditEvent.action == IDENTIFICATION_STARTED,
                                             AuditEvent.ip == ip, AuditEvent.at > since)
        count = session.scalar(select(func.count()).select_from(starts.subquery())) or 0
        if count >= limit:
            # A limit of 0 (no starts at all): a whole window from now.
            oldest = session.scalar(starts.order_by(AuditEvent.at).offset(count - limit)
                                    .limit(1)) if limit > 0 else None
            record(session, "tenant.identification_limited", ip=ip,
                   details={"method": method})
            return Lockout("address", (oldest or now) + window)
    event = record(session, IDENTIFICATION_STARTED, ip=ip, details={"method": method})
    event.at = now
    session.flush()
    return None


@dataclass(frozen=True)
class IdentificationResult:
    identification: TenantIdentification | None
    reason: str | None = None  # "none", "ended" (not a tenant), "account" (has one already)
    tenancy: Tenancy | None = None


def identify(session: Session, identity: Identity, method: str, *, today: date,
             ip: str | None) -> IdentificationResult:
    """Record a strong identification of a tenant of the register (or of a person in the
    housing queue: ``queue_applicant_of_number``); why not otherwise."""
    standing = tenancy_of_number(session, identity.number, today)
    if standing.state not in ("current", "signed"):
        applicant = queue_applicant_of_number(session, identity.number, today)
        if applicant is None:
            record(session, "tenant.identification_refused", ip=ip,
                   details={"method": method, "reason": standing.state})
            return IdentificationResult(None, standing.state, standing)
        standing = Tenancy(standing.state, applicant)
    found = TenantIdentification(person_id=standing.person_id, method=method)
    session.add(found)
    session.flush()
    record(session, "tenant.identified", subject=f"person:{standing.person_id}", ip=ip,
           details={"method": method, "identification_id": found.id})
    return IdentificationResult(found, None, standing)


def queue_applicant_of_number(session: Session, number: str, today: date) -> int | None:
    """The person with this number (stored form) who is in the housing queue (the one with an
    account first), or None."""
    ids = list(session.scalars(select(Person.id).where(Person.personnummer == number)
                               .order_by(Person.id)))
    with_account = set(session.scalars(select(TenantAccount.person_id).where(
        TenantAccount.person_id.in_(ids)))) if ids else set()
    for person_id in sorted(ids, key=lambda i: i not in with_account):
        if is_queue_applicant(session, person_id, today):
            return person_id
    return None


def usable_identification(session: Session, identification_id: int | None,
                          now: datetime | None = None) -> TenantIdentification | None:
    if not isinstance(identification_id, int):
        return None
    found = session.get(TenantIdentification, identification_id)
    now = now or utcnow()
    if found is None or found.used_at is not None or found.created_at + IDENTIFICATION_VALID < now:
        return None
    return found


def account_of_person(session: Session, person_id: int) -> TenantAccount | None:
    return session.scalar(select(TenantAccount).where(TenantAccount.person_id == person_id)
                          .order_by(TenantAccount.activated_at.is_(None), TenantAccount.id)
                          .limit(1))


# --- passwords -------------------------------------------------------------------------------

def password_problems(password: str, rule: str) -> list[str]:
    """What the password lacks under the route's rule (``eid``: 6+ with upper, lower, digit and
    special; ``office``: 8+ with upper and special), as translated sentences."""
    problems = []
    minimum = 8 if rule == "office" else 6
    if len(password) < minimum:
        problems.append(_("At least %(count)d characters.", count=minimum))
    if not any(c.isupper() for c in password):
        problems.append(_("At least one upper-case letter."))
    if rule != "office":
        if not any(c.islower() for c in password):
            problems.append(_("At least one lower-case letter."))
        if not any(c.isdigit() for c in password):
            problems.append(_("At least one digit."))
    if not any(not c.isalnum() and not c.isspace() for c in password):
        problems.append(_("At least one special character (such as ! ? # %)."))
    return problems


# --- registration ----------------------------------------------------------------------------

class AccountError(ValueError):
    """A registration refused; ``field`` names the form field the message belongs next to."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def _check_email(session: Session, email: str) -> str:
    """The address, normalised, if no active account has it. An account never activated (its
    link expired, or was never opened) gives way to the new registration: the new link goes
    to the same mailbox, so only its owner can activate either."""
    email = normalise_email(email)
    if not EMAIL_RE.match(email) or len(email) > 254:
        raise AccountError("email", _("Not a valid e-mail address."))
    existing = session.scalar(select(TenantAccount).where(TenantAccount.email == email))
    if existing is not None and existing.activated_at is None:
        record(session, "tenant.registration_replaced", subject=f"tenant:{email}",
               details={"account_id": existing.id})
        session.delete(existing)
        session.flush()
    elif existing is not None:
        raise AccountError("email", _(
            "This e-mail address already has an account. Log in, or reset the password."))
    return email


RESETS_PER_DAY = 3


def may_mail_reset(session: Session, account: TenantAccount, *, ip: str | None,
                   now: datetime | None = None) -> bool:
    """At most RESETS_PER_DAY reset mails per account a day (audited ``tenant.reset_sent``),
    so that the form cannot be used to flood someone's mailbox."""
    now = now or utcnow()
    subject = f"tenant:{account.email}"
    sent = session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "tenant.reset_sent", AuditEvent.subject == subject,
        AuditEvent.at > now - timedelta(days=1))) or 0
    if sent >= RESETS_PER_DAY:
        record(session, "tenant.reset_refused", subject=subject, ip=ip)
        return False
    record(session, "tenant.reset_sent", subject=subject, ip=ip,
           details={"account_id": account.id})
    return True


def register(session: Session, identification: TenantIdentification, *, email: str,
             password: str, locale: str | None, ip: str | None) -> TenantAccount:
    """An account for the identified person, waiting for activation by the link mailed."""
    rule = "office" if identification.method == "office" else "eid"
    email = _check_email(session, email)
    problems = password_problems(password, rule)
    if problems:
        raise AccountError("password", " ".join(problems))
    with outside_transaction(session):
        hashed = hash_password(password)
    account = TenantAccount(email=email, person_id=identification.person_id,
                            password_hash=hashed, password_rule=rule,
                            identified_by=identification.method, locale=locale)
    session.add(account)
    identification.used_at = utcnow()
    void_legacy_pin(session, identification.person_id)
    session.flush()
    record(session, "tenant.registered", subject=f"tenant:{email}", ip=ip,
           details={"account_id": account.id, "method": identification.method})
    return account


def identify_at_office(session: Session, *, person_id: int, staff_user_id: int, document: str,
                       email: str, today: date, ip: str | None) -> TenantAccount:
    """Staff saw the person's ID: an account for them (office rule), waiting for the tenant to
    choose a password through the link mailed. Audited with the staff member."""
    standing = tenancy_of_person(session, person_id, today)
    if standing.state not in ("current", "signed"):
        raise AccountError("person", _("This person has no agreement in force."))
    email = _check_email(session, email)
    found = TenantIdentification(person_id=person_id, method="office",
                                 staff_user_id=staff_user_id, document=document,
                                 used_at=utcnow())
    account = TenantAccount(email=email, person_id=person_id, password_hash=None,
                            password_rule="office", identified_by="office",  # noqa: S106
                            must_choose_password=True)
    session.add_all([found, account])
    session.flush()
    record(session, "tenant.office_identified", subject=f"person:{person_id}", ip=ip,
           user_id=staff_user_id, details={"document": document, "account_id": account.id,
                                           "identification_id": found.id})
    return account


# --- links -----------------------------------------------------------------------------------

def _serializer(secret_key: str, purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=f"tenant-{purpose}")


def _stamp(account: TenantAccount) -> str:
    """Changes with the password, so that a reset or activation link works once."""
    return hashlib.sha256((account.password_hash or "-").encode()).hexdigest()[:16]


def make_link_token(secret_key: str, purpose: str, account: TenantAccount) -> str:
    """``activate`` or ``reset``: the account's id and a stamp of its password, signed."""
    return _serializer(secret_key, purpose).dumps({"a": account.id, "s": _stamp(account)})


def account_for_link(session: Session, secret_key: str, purpose: str, token: str,
                     max_age: timedelta) -> tuple[TenantAccount | None, str | None]:
    """The account a link is for, or why not: ``expired`` or ``invalid``."""
    try:
        data = _serializer(secret_key, purpose).loads(token, max_age=int(max_age.total_seconds()))
    except SignatureExpired:
        return None, "expired"
    except BadSignature:
        return None, "invalid"
    account = session.get(TenantAccount, data.get("a")) if isinstance(data, dict) else None
    if account is None or not hmac.compare_digest(str(data.get("s")), _stamp(account)):
        return None, "invalid"
    return account, None


def activate(session: Session, account: TenantAccount, *, ip: str | None) -> None:
    if account.activated_at is None:
        account.activated_at = utcnow()
        record(session, "tenant.activated", subject=f"tenant:{account.email}", ip=ip,
               details={"account_id": account.id})


def set_password(session: Session, account: TenantAccount, password: str, *,
                 ip: str | None) -> None:
    """A new password under the account's rule (AccountError otherwise); the account is active
    afterwards (the link came through its mailbox)."""
    problems = password_problems(password, account.password_rule)
    if problems:
        raise AccountError("password", " ".join(problems))
    with outside_transaction(session):
        account.password_hash = hash_password(password)
    account.must_choose_password = False
    if account.activated_at is None:
        account.activated_at = utcnow()
    void_legacy_pin(session, account.person_id)
    record(session, "tenant.password_set", subject=f"tenant:{account.email}", ip=ip,
           details={"account_id": account.id})


# --- log-in ----------------------------------------------------------------------------------

@dataclass
class LoginResult:
    """The account, or why not: ``invalid``, ``locked`` (with ``retry_after``),
    ``not_activated``, ``ended`` (no agreement in force), ``not_started`` (with
    ``starts_on``), ``choose_password``. ``queue_only``: no agreement in force, but the person
    is in the housing queue (the queue's pages only)."""

    account: TenantAccount | None
    reason: str | None = None
    retry_after: int | None = None
    starts_on: date | None = None
    identification: TenantIdentification | None = None
    queue_only: bool = False


def subject_of(email: str) -> str:
    return f"tenant:{normalise_email(email)}"


def may_log_in(session: Session, account: TenantAccount, today: date) -> LoginResult:
    """Whether the account's person may be in the portal today (checked at every log-in)."""
    if account.activated_at is None:
        return LoginResult(None, "not_activated")
    standing = tenancy_of_person(session, account.person_id, today)
    if standing.state != "current" and is_queue_applicant(session, account.person_id, today):
        account.agreement_ended_on = None
        return LoginResult(account, queue_only=True)
    if standing.state == "signed":
        return LoginResult(None, "not_started", starts_on=standing.starts_on)
    if standing.state != "current":
        if account.agreement_ended_on is None:
            account.agreement_ended_on = utcnow()
        return LoginResult(None, "ended")
    if standing.person_id != account.person_id:
        account.person_id = standing.person_id  # the register holds the person anew
    account.agreement_ended_on = None
    return LoginResult(account)


def authenticate(session: Session, email: str, password: str, *, ip: str | None,
                 policy: LockoutPolicy, today: date) -> LoginResult:
    """E-mail and password within the attempt limits; audited."""
    subject = subject_of(email)
    locked = lockout(session, subject, ip, policy)
    if locked is not None:
        record(session, "login.locked", subject=subject, ip=ip, details={"scope": locked.scope})
        return LoginResult(None, "locked", retry_after=locked.retry_after())
    account = session.scalar(select(TenantAccount).where(
        TenantAccount.email == normalise_email(email)))
    with outside_transaction(session):
        ok = verify_password(account.password_hash if account else None, password)
    if not ok or account is None:
        record(session, "login.failed", subject=subject, ip=ip)
        return LoginResult(None, "invalid")
    result = may_log_in(session, account, today)
    if result.account is None:
        record(session, "tenant.login_refused", subject=subject, ip=ip,
               details={"reason": result.reason})
        return result
    account.last_login_at = utcnow()
    record(session, "login.succeeded", subject=subject, ip=ip,
           details={"account_id": account.id})
    _logged_in(session, account, today)
    return result


def log_in_identified(session: Session, account: TenantAccount, *, method: str,
                      ip: str | None, today: date) -> LoginResult:
    """A log-in through strong identification (BankID, OIDC) of the account's person."""
    result = may_log_in(session, account, today)
    subject = subject_of(account.email)
    if result.account is None:
        record(session, "tenant.login_refused", subject=subject, ip=ip,
               details={"reason": result.reason, "method": method})
        return result
    account.last_login_at = utcnow()
    record(session, "login.succeeded", subject=subject, ip=ip,
           details={"account_id": account.id, "method": method})
    _logged_in(session, account, today)
    return result


PIN_RE = re.compile(r"^\d{4,8}$")


def set_legacy_pin(session: Session, person_id: int, pin: str, *,
                   pin_hash: str | None = None) -> None:
    """Keep a person's old invoice PIN (its Argon2id hash only; ``pin_hash`` when the caller
    hashed it already, outside its transaction) for the legacy log-in; a PIN set before is
    replaced (and works again)."""
    hashed = pin_hash or hash_pin(pin)
    existing = session.get(LegacyPin, person_id)
    if existing is None:
        session.add(LegacyPin(person_id=person_id, pin_hash=hashed))
    else:
        existing.pin_hash, existing.used_at = hashed, None
    session.flush()


def set_legacy_pins(session: Session, hashes: dict[int, str]) -> None:
    """Many people's PINs at once (an invoice import): person id → Argon2id hash; earlier
    PINs are replaced (and work again)."""
    ids = sorted(hashes)
    existing: dict[int, LegacyPin] = {}
    for start in range(0, len(ids), 5000):
        existing.update({pin.person_id: pin for pin in session.scalars(
            select(LegacyPin).where(LegacyPin.person_id.in_(ids[start:start + 5000])))})
    for person_id in ids:
        row = existing.get(person_id)
        if row is None:
            session.add(LegacyPin(person_id=person_id, pin_hash=hashes[person_id]))
        else:
            row.pin_hash, row.used_at = hashes[person_id], None
    session.flush()


def has_password(session: Session, person_ids: list[int]) -> set[int]:
    """The people among ``person_ids`` who registered with a password of their own (their
    legacy PIN is void)."""
    found: set[int] = set()
    for start in range(0, len(person_ids), 5000):
        found.update(session.scalars(select(TenantAccount.person_id).where(
            TenantAccount.person_id.in_(person_ids[start:start + 5000]),
            TenantAccount.password_hash.is_not(None))))
    return found


def void_legacy_pin(session: Session, person_id: int | None) -> None:
    """The person chose a password: their legacy PIN stops working for good."""
    if person_id is not None:
        session.execute(delete(LegacyPin).where(LegacyPin.person_id == person_id))


def set_legacy_pin_by_staff(session: Session, person_id: int, pin: str, *, user_id: int,
                            ip: str | None, pin_hash: str | None = None) -> None:
    """Staff give a person a legacy PIN (AccountError on a PIN that is not 4-8 digits or a
    person who registered with a password already); audited, never the PIN."""
    if not PIN_RE.match(pin or ""):
        raise AccountError("pin", _("A PIN code is 4 to 8 digits."))
    if has_password(session, [person_id]):
        raise AccountError("pin", _("This person has registered with a password: a PIN code "
                                    "would not be used."))
    set_legacy_pin(session, person_id, pin, pin_hash=pin_hash)
    record(session, "tenant.pin_set", subject=f"person:{person_id}", ip=ip, user_id=user_id,
           details={"by": "staff"})


def _pin_subject(secret_key: str, number: str) -> str:
    digest = hmac.new(secret_key.encode(), number.encode(), hashlib.sha256).hexdigest()[:24]
    return f"tenant-pin:{digest}"


def legacy_pin_login(session: Session, number: str, pin: str, *, ip: str | None,
                     policy: LockoutPolicy, secret_key: str, today: date) -> LoginResult:
    """Personnummer (stored form) and the old PIN: an identification (method ``pin``) for the
    first-time choice of e-mail and password; the PIN works once. ``reason`` as for
    ``authenticate``; on success ``account`` is None and the caller uses
    ``LoginResult.identification``."""
    subject = _pin_subject(secret_key, number)
    locked = lockout(session, subject, ip, policy)
    if locked is not None:
        record(session, "login.locked", subject=subject, ip=ip, details={"scope": locked.scope})
        return LoginResult(None, "locked", retry_after=locked.retry_after())
    people = list(session.scalars(select(Person.id).where(Person.personnummer == number)))
    registered = has_password(session, people)  # a PIN is void once a password is chosen
    pins = [pin for pin in session.scalars(select(LegacyPin).where(
        LegacyPin.person_id.in_(people), LegacyPin.used_at.is_(None)))
        if pin.person_id not in registered]
    with outside_transaction(session):
        matched = next((p for p in pins if verify_password(p.pin_hash, pin)), None)
        if not pins:
            verify_no_pin(pin)  # the same time whether or not a PIN exists
    if matched is None:
        record(session, "login.failed", subject=subject, ip=ip)
        return LoginResult(None, "invalid")
    standing = tenancy_of_number(session, number, today)
    if standing.state == "signed":
        return LoginResult(None, "not_started", starts_on=standing.starts_on)
    if standing.state != "current":
        record(session, "tenant.login_refused", subject=subject, ip=ip,
               details={"reason": "ended"})
        return LoginResult(None, "ended")
    matched.used_at = utcnow()
    found = TenantIdentification(person_id=standing.person_id, method="pin")
    session.add(found)
    session.flush()
    record(session, "login.succeeded", subject=subject, ip=ip,
           details={"identification_id": found.id, "method": "pin"})
    return LoginResult(None, identification=found)


# --- retention -------------------------------------------------------------------------------

def purge_abandoned_people(session: Session, *, older_than_days: int,
                           now: datetime | None = None) -> int:
    """Delete the people that an identification made (no landlord, no kundnummer: someone who
    began joining the housing queue) and that never became anything: identified last more than
    ``older_than_days`` ago, with no agreement, account, queue application, fault report,
    message, laundry booking or contact details. Audited with the count (no one's name)."""
    from dispatch.models.housing import HousingApplicant
    from dispatch.models.portal import FaultReport, LaundryBooking, PortalMessage, TenantContact

    now = now or utcnow()
    cutoff = now - timedelta(days=older_than_days)

    def none_in(model, column="person_id"):
        return ~select(getattr(model, column)).where(
            getattr(model, column) == Person.id).exists()

    found = list(session.scalars(select(Person.id).where(
        Person.landlord_id.is_(None), Person.kundnummer.is_(None), Person.created_at < cutoff,
        select(TenantIdentification.id).where(
            TenantIdentification.person_id == Person.id).exists(),
        ~select(TenantIdentification.id).where(
            TenantIdentification.person_id == Person.id,
            TenantIdentification.created_at >= cutoff).exists(),
        none_in(AgreementParty), none_in(TenantAccount), none_in(HousingApplicant),
        none_in(FaultReport), none_in(PortalMessage), none_in(LaundryBooking),
        none_in(TenantContact))))
    for start in range(0, len(found), 5000):
        chunk = found[start:start + 5000]
        session.execute(delete(TenantIdentification).where(
            TenantIdentification.person_id.in_(chunk)))
        session.execute(delete(LegacyPin).where(LegacyPin.person_id.in_(chunk)))
        session.execute(delete(Person).where(Person.id.in_(chunk))
                        .execution_options(synchronize_session=False))
    record(session, "tenant.abandoned_people_deleted",
           details={"deleted": len(found), "older_than_days": older_than_days})
    session.flush()
    return len(found)


def purge_ended(session: Session, *, today: date, keep_days: int) -> int:
    """Delete the accounts whose person has had no agreement for ``keep_days``; audited."""
    gone = []
    for account in session.scalars(select(TenantAccount)):
        standing = tenancy_of_person(session, account.person_id, today)
        if standing.state in ("current", "signed") or is_queue_applicant(
                session, account.person_id, today):
            account.agreement_ended_on = None
            continue
        if account.agreement_ended_on is None:
            account.agreement_ended_on = utcnow()
        if account.agreement_ended_on + timedelta(days=keep_days) <= utcnow():
            gone.append(account.id)
            record(session, "tenant.account_deleted", subject=f"tenant:{account.email}",
                   details={"account_id": account.id, "reason": "agreement_ended"})
    if gone:
        session.execute(delete(TenantAccount).where(TenantAccount.id.in_(gone)))
    session.flush()
    return len(gone)
