"""Mina sidor: the logged-in tenant's pages."""

from __future__ import annotations
