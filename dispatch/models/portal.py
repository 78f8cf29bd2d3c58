"""The tenant portal's own data: invoices and payments, fault reports, laundry rooms and
bookings, notices and messages (issue 15). Imports only models and core."""

from __future__ import annotations
