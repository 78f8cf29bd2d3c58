"""Plain data factories for tests (the fixtures that write to the database are in conftest)."""

from __future__ import annotations


def flat_row(street: str, lagenhetsnummer: str, **columns) -> dict:
    """One register row for a flat in Stockholm 118 46 (objektsnummer ``1-<lgh>``); more
    columns as keyword arguments."""
    return {"objektsnummer": f"1-{lagenhetsnummer}", "gatuadress": street,
            "postnummer": "118 46", "ort": "Stockholm", "lagenhetsnummer": lagenhetsnummer,
            **columns}
