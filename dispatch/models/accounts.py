"""Tenants' (and housing applicants') accounts: one account per e-mail address, tied to a person
of the register (issue 15). Imports only models and core.

* ``TenantAccount``: the e-mail address is the username and never changes (a new address is a
  new registration); the password's rule depends on how the person was identified
  (``password_rule``: ``eid`` or ``office``). It points at the register's person (``people.id``)
  whose identity number the identification proved; the number itself is kept once, on the
  person, never here.
* ``TenantIdentification``: a proof that a person identified themselves (BankID, a Finnish
  e-identification through OpenID Connect, the office, or the legacy PIN), used once by a
  registration. It holds the person's id, never the number.
* ``LegacyPin``: the old PIN printed on earlier invoices (its hash), for the legacy log-in.
* ``LandlordAccountPolicy``: a landlord's settings for its tenants' accounts (registration from
  the signing of the agreement rather than its start).
* ``PendingIdentification``: a strong identification under way in a browser (a BankID order
  with its QR secret; a Finnish e-identification's state, nonce and PKCE verifier), kept here
  so that the browser's session cookie carries only its random id; deleted when the
  identification completes or is cancelled, and swept once expired.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dispatch.models.base import Base, utcnow
from dispatch.models.people import Person

IDENTIFICATION_METHODS = ("bankid", "oidc", "office", "pin")
PASSWORD_RULES = ("eid", "office")


class TenantAccount(Base):
    """A tenant's log-in for the portal and the housing queue."""

    __tablename__ = "tenant_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # lower-case; never changes
    # The register's person; None when a re-import removed them (the account stays, log-in
    # then finds no agreement and says so).
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), index=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    password_rule: Mapped[str] = mapped_column(String(10), default="eid")
    identified_by: Mapped[str] = mapped_column(String(10))  # one of IDENTIFICATION_METHODS
    # True until the tenant chose a password of their own (the legacy PIN route, office).
    must_choose_password: Mapped[bool] = mapped_column(default=False)
    activated_at: Mapped[datetime | None]
    locale: Mapped[str | None] = mapped_column(String(5))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    # Set when the tenant's last agreement ended; the account is deleted after
    # TENANT_ACCOUNT_KEEP_DAYS.
    agreement_ended_on: Mapped[datetime | None]

    person: Mapped[Person | None] = relationship()


class TenantIdentification(Base):
    """One strong identification of a person, waiting to be used by a registration."""

    __tablename__ = "tenant_identifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"),
                                           index=True)
    method: Mapped[str] = mapped_column(String(10))  # one of IDENTIFICATION_METHODS
    # The staff member who saw the ID (office identification).
    staff_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    document: Mapped[str | None] = mapped_column(String(20))  # passport, id_card, licence
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None]


class LegacyPin(Base):
    """The PIN printed on a person's earlier invoices (Argon2 hash); used once."""

    __tablename__ = "tenant_legacy_pins"

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"),
                                           primary_key=True)
    pin_hash: Mapped[str] = mapped_column(String(255))
    used_at: Mapped[datetime | None]


class LandlordAccountPolicy(Base):
    """A landlord's rules for tenant accounts; a landlord without a row has the defaults."""

    __tablename__ = "landlord_account_policies"

    landlord_id: Mapped[int] = mapped_column(ForeignKey("landlords.id", ondelete="CASCADE"),
                                             primary_key=True)
    # Heka: a signed agreement may register before it starts (Mina sidor opens on the start).
    register_from_signing: Mapped[bool] = mapped_column(default=False)


class PendingIdentification(Base):
    """A strong identification under way: what the browser must not hold (issue 15)."""

    __tablename__ = "tenant_pending_identifications"

    # A random id (secrets.token_urlsafe): the only thing the session cookie holds.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # bankid, oidc
    data: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
