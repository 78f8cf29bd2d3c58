"""Plain helpers of the tenant account tests (issue 15): the identity numbers of the register
that ``tests.support.tenant_accounts`` builds, and a page's CSRF token."""

from __future__ import annotations

import re

# Skatteverket's test personnummer (never assigned) and the Finnish test hetu of domain-rules.md
CURRENT = "199001012385"  # Tove Tenant: an agreement in force
SECOND = "201701012393"  # Ulf Ended: his agreement ended last month
SIGNED = "199908072391"  # Siv Signed: an agreement starting next month (landlord allows)
HETU = "010594Y9032"  # Fia Finne: a Finnish landlord's tenant

# --- pages ----------------------------------------------------------------------------------

def csrf_of(client, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf-token" content="([^"]+)"', page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)
