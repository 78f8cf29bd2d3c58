"""Credit checks (kreditupplysning) behind one interface: before an offer goes out, the
applicant's credit is checked for rent debt and major payment remarks (seed 004). Applicants
consent when they register (the registration says so); every check is audited with that
consent, ids only.

``provider(config)`` gives the configured provider: ``HOUSING_CREDIT_PROVIDER`` (an object
with ``check``, set by the deployment: a real credit bureau's client) or the local fake, which
finds remarks only for the personnummer listed in ``HOUSING_CREDIT_REMARKS`` (tests, demos).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class CreditResult:
    rent_debt: bool
    major_remarks: bool

    @property
    def approved(self) -> bool:
        return not (self.rent_debt or self.major_remarks)


class CreditProvider(Protocol):
    def check(self, personnummer: str) -> CreditResult: ...


class LocalCreditCheck:
    """The fake: remarks for the numbers it was given, a clean record for everyone else."""

    def __init__(self, remarks: frozenset[str] = frozenset()):
        self.remarks = remarks

    def check(self, personnummer: str) -> CreditResult:
        found = personnummer in self.remarks
        return CreditResult(rent_debt=found, major_remarks=found)


def provider(config) -> CreditProvider:
    configured = config.get("HOUSING_CREDIT_PROVIDER")
    if configured is not None:
        return configured
    return LocalCreditCheck(frozenset(config.get("HOUSING_CREDIT_REMARKS") or ()))
