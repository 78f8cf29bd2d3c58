"""Landlords and their on-call numbers and contact persons, as plain functions."""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from dispatch.auth.service import AuthError, upsert_user
from dispatch.core.phones import normalise_phone
from dispatch.models import Landlord, OncallNumber, User


class LandlordError(ValueError):
    """Input that cannot make a landlord; the message (translated when shown) says which value
    and why."""


def get_landlord(session: Session, code: str) -> Landlord | None:
    """The landlord with this code (codes are compared case-insensitively, stored upper-case)."""
    return session.scalar(select(Landlord).where(Landlord.code == code.strip().upper()))


def upsert_landlord(
    session: Session,
    *,
    code: str,
    name: str,
    oncall_numbers: Iterable[str] = (),
    contacts: Iterable[str] = (),
) -> Landlord:
    """Create the landlord, or update it: the same code again renames it and adds numbers
    and contacts."""
    code = code.strip().upper()
    if not code or not code.replace("-", "").replace("_", "").isalnum() or len(code) > 40:
        raise LandlordError(_l("the landlord's code must be letters, digits, - or _: "
                                "%(code)s", code=repr(code)))
    if not name.strip():
        raise LandlordError(_l("the landlord's name must not be empty"))
    numbers = []
    for raw in oncall_numbers:
        number = normalise_phone(raw)
        if number is None:
            raise LandlordError(_l("not a phone number: %(value)s", value=repr(raw)))
        owner = session.scalar(select(OncallNumber).where(OncallNumber.number == number))
        if owner is not None and owner.landlord.code != code:
            raise LandlordError(_l("%(number)s is already the on-call number of %(code)s",
                                     number=raw, code=owner.landlord.code))
        numbers.append(number)
    landlord = get_landlord(session, code)
    if landlord is None:
        landlord = Landlord(code=code, name=name.strip())
        session.add(landlord)
    landlord.name = name.strip()
    known = {n.number for n in landlord.oncall_numbers}
    for number in numbers:
        if number not in known:
            landlord.oncall_numbers.append(OncallNumber(number=number))
            known.add(number)
    session.flush()
    for email in contacts:
        try:
            existing = session.scalar(select(User).where(User.email == email.strip().lower()))
            if existing is not None and existing.role != "landlord":
                raise LandlordError(_l("%(email)s is already a user with the role %(role)s",
                                     email=email, role=existing.role))
            upsert_user(session, email=email, role="landlord", landlord=landlord)
        except AuthError as exc:
            raise LandlordError(*exc.args) from exc
    return landlord


def list_landlords(session: Session) -> list[Landlord]:
    """Every landlord, by name, with its on-call numbers loaded."""
    return list(
        session.scalars(
            select(Landlord).options(selectinload(Landlord.oncall_numbers)).order_by(Landlord.name)
        )
    )


def landlord_for_number(session: Session, dialled: str) -> Landlord | None:
    """The landlord whose on-call number was dialled, in whatever format the switch sends it."""
    number = normalise_phone(dialled)
    if number is None:
        return None
    row = session.scalar(select(OncallNumber).where(OncallNumber.number == number))
    return row.landlord if row else None


def contacts_of(session: Session, landlord: Landlord) -> list[User]:
    """The landlord's contact persons who receive the morning mail."""
    return list(
        session.scalars(
            select(User)
            .where(User.landlord_id == landlord.id, User.role == "landlord", User.active)
            .where(User.receives_reports)
            .order_by(User.email)
        )
    )


def landlord_json(landlord: Landlord) -> dict:
    """The contract's shape: ``{code, name, oncall_numbers}``."""
    return {
        "code": landlord.code,
        "name": landlord.name,
        "oncall_numbers": [n.number for n in landlord.oncall_numbers],
    }
