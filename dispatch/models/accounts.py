"""Tenants' (and housing applicants') accounts: one account per e-mail address, tied to a person
of the register (issue 15). Imports only models and core."""

from __future__ import annotations
