"""Password hashing with Argon2id (argon2-cffi's defaults follow RFC 9106's recommendation)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()
# Verified against when the account does not exist, so that a wrong e-mail and a wrong password
# take the same time and the log-in form cannot be used to find out who has an account.
_DUMMY_HASH = _hasher.hash("not a real password")


# A legacy PIN (four to eight digits, from earlier invoices) is guarded by the log-in limits,
# not by its hash's cost: so few possibilities fall offline whatever the cost. It gets
# Argon2id with OWASP's minimum (19 MiB, 2 passes), a sixth of a password's cost, because an
# invoice import may set tens of thousands of them.
_pin_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)


_DUMMY_PIN_HASH = _pin_hasher.hash("not a PIN")


def hash_pin(pin: str) -> str:
    """Return the Argon2id hash of a legacy PIN (``verify_password`` checks it)."""
    return _pin_hasher.hash(pin)


def verify_no_pin(pin: str) -> None:
    """Spend one PIN verification (a person with no PIN takes as long as one with a wrong
    PIN, so the PIN log-in does not tell who has one)."""
    verify_password(_DUMMY_PIN_HASH, pin)


def hash_password(password: str) -> str:
    """Return the Argon2id hash of ``password``."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check ``password`` against ``password_hash``; an absent hash still costs one verify."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(password_hash)
